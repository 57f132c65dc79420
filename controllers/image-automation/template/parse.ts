// The parser of Go's text/template language, for commit message templates: text and actions;
// pipelines of commands joined by `|`; fields, variables (`$x :=`, `$x =`, `$i, $v :=` in range),
// literals, parenthesized pipelines; if/else if/else, range/else with break and continue,
// with/else with/else. Errors read like Go's. What Go accepts but this renderer cannot render
// (`define`, `template`, `block`, floating-point constants, functions it does not implement) is
// refused with UnsupportedTemplateError naming the construct.
import { lex, lineOf, TemplateSyntaxError, type Token, type TokenType, unquote } from './lex.ts';

/** Valid Go that this renderer does not render. */
export class UnsupportedTemplateError extends Error {}

export type Arg =
  | { kind: 'field'; pos: number; text: string; ident: string[] }
  | { kind: 'variable'; pos: number; text: string; ident: string[] }
  | { kind: 'dot'; pos: number; text: string }
  | { kind: 'nil'; pos: number; text: string }
  | { kind: 'identifier'; pos: number; text: string; name: string }
  | { kind: 'chain'; pos: number; text: string; node: Arg; field: string[] }
  | { kind: 'pipe'; pos: number; text: string; pipe: Pipe }
  | { kind: 'string'; pos: number; text: string; value: string }
  | { kind: 'number'; pos: number; text: string; value: number }
  | { kind: 'bool'; pos: number; text: string; value: boolean };

export interface Command {
  pos: number;
  text: string;
  args: Arg[];
}

export interface Pipe {
  pos: number;
  text: string;
  /** Declared or assigned variables, `$x`. */
  decl: string[];
  isAssign: boolean;
  cmds: Command[];
}

interface ControlFields {
  pos: number;
  pipe: Pipe;
  list: Node[];
  elseList?: Node[];
}

export type ControlNode =
  | ({ kind: 'if' } & ControlFields)
  | ({ kind: 'with' } & ControlFields)
  | ({ kind: 'range' } & ControlFields);

export type Node =
  | { kind: 'text'; text: string }
  | { kind: 'action'; pos: number; pipe: Pipe }
  | ControlNode
  | { kind: 'break'; pos: number }
  | { kind: 'continue'; pos: number };

const keywords = new Set([
  'if',
  'else',
  'end',
  'range',
  'with',
  'break',
  'continue',
  'define',
  'template',
  'block',
]);

const intLiteral = /^([+-]?)(0[xX][0-9a-fA-F]+|0[oO][0-7]+|0[bB][01]+|0[0-7]*|[1-9][0-9]*)$/;
const floatLiteral = /^[+-]?(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][+-]?[0-9]+)?i?$|^[+-]?0[xX].*[pP]/;

/** An integer literal as Go reads it (base prefixes, `_` separators); floats are refused. */
function parseNumber(text: string, fail: (m: string) => never): number {
  const clean = text.replace(/_/g, '');
  const m = intLiteral.exec(clean);
  if (!m) {
    if (floatLiteral.test(clean))
      throw new UnsupportedTemplateError(
        `the number ${text} is not supported by Tide: only integer constants are`,
      );
    return fail(`bad number syntax: "${text}"`);
  }
  const [, sign, body = ''] = m;
  const prefixed = /^0[xXoObB]/.test(body);
  const base = prefixed
    ? { x: 16, o: 8, b: 2 }[body[1]!.toLowerCase() as 'x' | 'o' | 'b']
    : body.length > 1 && body.startsWith('0')
      ? 8
      : 10;
  const n = Number.parseInt(prefixed ? body.slice(2) : body, base);
  if (!Number.isSafeInteger(n))
    throw new UnsupportedTemplateError(`the number ${text} is too large for Tide`);
  return sign === '-' ? -n : n;
}

type Lookup = (fn: string) => 'ok' | 'unsupported' | undefined;

type Stop = { kind: 'end' | 'else' | 'eof'; pos: number; elseOf?: 'if' | 'with' };

/** The parse of one template: a cursor over its tokens and the variables in scope. */
class Parser {
  private p = 0;
  private readonly vars: string[][] = [['$']];
  private readonly tokens: Token[];
  private readonly name: string;
  private readonly input: string;
  private readonly functions: Lookup;

  constructor(name: string, input: string, functions: Lookup) {
    this.name = name;
    this.input = input;
    this.functions = functions;
    this.tokens = lex(name, input);
  }

  fail(pos: number, msg: string): never {
    throw new TemplateSyntaxError(`template: ${this.name}:${lineOf(this.input, pos)}: ${msg}`);
  }

  private peek = () => this.tokens[this.p]!;
  private next = () => this.tokens[this.p++]!;

  private nonSpace(): Token {
    while (this.peek().type === 'space') this.p++;
    return this.next();
  }

  private peekNonSpace(): Token {
    const save = this.p;
    const t = this.nonSpace();
    this.p = save;
    return t;
  }

  private checkVariable(pos: number, v: string): void {
    if (!this.vars.some((scope) => scope.includes(v))) this.fail(pos, `undefined variable "${v}"`);
  }

  private identifier(t: Token): Arg {
    if (t.value === 'true' || t.value === 'false')
      return { kind: 'bool', pos: t.pos, text: t.value, value: t.value === 'true' };
    if (t.value === 'nil') return { kind: 'nil', pos: t.pos, text: t.value };
    if (keywords.has(t.value)) this.fail(t.pos, `unexpected <${t.value}> in command`);
    const known = this.functions(t.value);
    if (known === undefined) this.fail(t.pos, `function "${t.value}" not defined`);
    if (known === 'unsupported')
      throw new UnsupportedTemplateError(`the function "${t.value}" is not supported by Tide`);
    return { kind: 'identifier', pos: t.pos, text: t.value, name: t.value };
  }

  private literal(t: Token): Arg {
    const body = t.value.slice(1, -1);
    if (t.type === 'char') {
      const s = unquote(body, "'");
      if (s === undefined || [...s].length !== 1)
        return this.fail(t.pos, `malformed character constant: ${t.value}`);
      return { kind: 'number', pos: t.pos, text: t.value, value: s.codePointAt(0)! };
    }
    const value = t.value.startsWith('`') ? body : unquote(body, '"');
    if (value === undefined) return this.fail(t.pos, `invalid syntax: ${t.value}`);
    return { kind: 'string', pos: t.pos, text: t.value, value };
  }

  private term(): Arg | undefined {
    const t = this.nonSpace();
    switch (t.type) {
      case 'identifier':
        return this.identifier(t);
      case 'dot':
        return { kind: 'dot', pos: t.pos, text: '.' };
      case 'field':
        return { kind: 'field', pos: t.pos, text: t.value, ident: [t.value.slice(1)] };
      case 'variable':
        this.checkVariable(t.pos, t.value);
        return { kind: 'variable', pos: t.pos, text: t.value, ident: [t.value] };
      case 'string':
      case 'char':
        return this.literal(t);
      case 'number':
        return {
          kind: 'number',
          pos: t.pos,
          text: t.value,
          value: parseNumber(t.value, (m) => this.fail(t.pos, m)),
        };
      case 'lparen': {
        const pipe = this.pipeline('parenthesized pipeline', 'rparen');
        return { kind: 'pipe', pos: t.pos, text: `(${pipe.text})`, pipe };
      }
      default:
        this.p--;
        return undefined;
    }
  }

  /** A term and the fields chained to it without space: `.A.B`, `$x.A`, `(…).A`. */
  private operand(): Arg | undefined {
    const node = this.term();
    if (!node) return undefined;
    // Go positions a chain at its second element.
    const pos = this.peek().pos;
    const fields: string[] = [];
    while (this.peek().type === 'field') fields.push(this.next().value.slice(1));
    if (fields.length === 0) return node;
    const text = `${node.text}.${fields.join('.')}`;
    if (node.kind === 'field' || node.kind === 'variable')
      return { ...node, pos, ident: [...node.ident, ...fields], text };
    if (node.kind === 'pipe') return { kind: 'chain', pos, text, node, field: fields };
    return this.fail(node.pos, `unexpected . after term "${node.text}"`);
  }

  private command(end: TokenType): Command {
    const start = this.peekNonSpace().pos;
    const args: Arg[] = [];
    for (;;) {
      const a = this.operand();
      if (a) args.push(a);
      const t = this.peek();
      if (t.type === 'space') {
        this.p++;
        continue;
      }
      if (t.type === end || t.type === 'pipe') break;
      if (t.type === 'right' || t.type === 'rparen') this.fail(t.pos, `unexpected "${t.value}" in operand`);
      this.fail(t.pos, a ? 'missing space?' : `unexpected "${t.value}" in command`);
    }
    if (args.length === 0) this.fail(start, 'empty command');
    return { pos: start, text: args.map((a) => a.text).join(' '), args };
  }

  /** `$x :=`, `$x =` and, in range, `$i, $v :=`; nothing (and no tokens used) otherwise. */
  private declarations(context: string, allowMulti: boolean): { decl: string[]; isAssign: boolean } {
    const save = this.p;
    const v = this.nonSpace();
    const after = v.type === 'variable' ? this.nonSpace() : undefined;
    if (after?.type === 'declare' || after?.type === 'assign') {
      const isAssign = after.type === 'assign';
      if (isAssign) this.checkVariable(v.pos, v.value);
      return { decl: [v.value], isAssign };
    }
    if (after?.type === 'comma') {
      if (!allowMulti) this.fail(after.pos, `too many declarations in ${context}`);
      const v2 = this.nonSpace();
      const op = this.nonSpace();
      if (v2.type !== 'variable' || (op.type !== 'declare' && op.type !== 'assign'))
        this.fail(v.pos, 'range can only initialize variables');
      const isAssign = op.type === 'assign';
      if (isAssign) for (const x of [v, v2]) this.checkVariable(x.pos, x.value);
      return { decl: [v.value, v2.value], isAssign };
    }
    this.p = save;
    return { decl: [], isAssign: false };
  }

  pipeline(context: string, end: TokenType, allowMulti = false): Pipe {
    const start = this.peekNonSpace().pos;
    const { decl, isAssign } = this.declarations(context, allowMulti);
    if (!isAssign) this.vars.at(-1)!.push(...decl);
    const cmds: Command[] = [];
    while (this.peekNonSpace().type !== end) {
      if (this.peekNonSpace().type === 'eof') this.fail(this.peekNonSpace().pos, 'unclosed action');
      cmds.push(this.command(end));
      if (this.peek().type === 'pipe') {
        this.p++;
        if (this.peekNonSpace().type === end) this.fail(this.peek().pos, 'missing command after |');
      }
    }
    this.nonSpace();
    if (cmds.length === 0) this.fail(start, `missing value for ${context}`);
    cmds.slice(1).forEach((c, i) => {
      if (!['identifier', 'field', 'variable', 'chain'].includes(c.args[0]!.kind))
        this.fail(c.pos, `non executable command in pipeline stage ${i + 2}`);
    });
    return { pos: start, text: cmds.map((c) => c.text).join(' | '), decl, isAssign, cmds };
  }

  private expectRight(what: string): void {
    const t = this.nonSpace();
    if (t.type !== 'right') this.fail(t.pos, `unexpected "${t.value}" in ${what}`);
  }

  /** A keyword action: a control structure added to `nodes`, or the Stop that ends this list. */
  private keyword(k: Token, inRange: boolean, nodes: Node[]): Stop | undefined {
    this.nonSpace();
    switch (k.value) {
      case 'end':
        this.expectRight('end');
        return { kind: 'end', pos: k.pos };
      case 'else': {
        const after = this.peekNonSpace();
        if (after.type === 'identifier' && (after.value === 'if' || after.value === 'with'))
          return { kind: 'else', pos: k.pos, elseOf: after.value };
        this.expectRight('else');
        return { kind: 'else', pos: k.pos };
      }
      case 'if':
      case 'with':
      case 'range':
        nodes.push(this.control(k.value, k.pos, inRange));
        return undefined;
      case 'break':
      case 'continue':
        if (!inRange) this.fail(k.pos, `{{${k.value}}} outside {{range}}`);
        this.expectRight(k.value);
        nodes.push({ kind: k.value, pos: k.pos });
        return undefined;
      default:
        throw new UnsupportedTemplateError(
          `{{${k.value}}} is not supported by Tide: write the message as one template`,
        );
    }
  }

  /** Nodes until {{end}}, {{else …}} or the end of the input. */
  list(inRange: boolean): { nodes: Node[]; stop: Stop } {
    const nodes: Node[] = [];
    for (;;) {
      const t = this.next();
      if (t.type === 'eof') return { nodes, stop: { kind: 'eof', pos: t.pos } };
      if (t.type === 'text') {
        nodes.push({ kind: 'text', text: t.value });
        continue;
      }
      const k = this.peekNonSpace();
      if (k.type === 'identifier' && keywords.has(k.value)) {
        const stop = this.keyword(k, inRange, nodes);
        if (stop) return { nodes, stop };
        continue;
      }
      const pipe = this.pipeline('command', 'right');
      nodes.push({ kind: 'action', pos: pipe.pos, pipe });
    }
  }

  /** What follows {{else}} up to the shared {{end}}. */
  private elseList(kind: ControlNode['kind'], stop: Stop, inRange: boolean): Node[] {
    if (stop.elseOf) {
      if (kind === 'range') this.fail(stop.pos, `unexpected <${stop.elseOf}> in range`);
      // {{else if …}} and {{else with …}}: a nested structure that ends with this one's {{end}}.
      const nested = this.nonSpace();
      return [this.control(stop.elseOf, nested.pos, inRange)];
    }
    const rest = this.list(inRange);
    if (rest.stop.kind === 'eof') this.fail(rest.stop.pos, 'unexpected EOF');
    if (rest.stop.kind === 'else') this.fail(rest.stop.pos, 'expected end; found {{else}}');
    return rest.nodes;
  }

  private control(kind: ControlNode['kind'], pos: number, inRange: boolean): ControlNode {
    this.vars.push([]);
    try {
      const pipe = this.pipeline(kind, 'right', kind === 'range');
      const body = this.list(kind === 'range' || inRange);
      if (body.stop.kind === 'eof') this.fail(body.stop.pos, 'unexpected EOF');
      const elseList = body.stop.kind === 'else' ? this.elseList(kind, body.stop, inRange) : undefined;
      return { kind, pos, pipe, list: body.nodes, ...(elseList ? { elseList } : {}) };
    } finally {
      this.vars.pop();
    }
  }
}

/**
 * Parses a template. `functions` says which function names exist: 'ok' (rendered), 'unsupported'
 * (Go has it but Tide does not render it), or undefined (Go's `function "x" not defined`).
 */
export function parseTemplate(name: string, input: string, functions: Lookup): Node[] {
  const parser = new Parser(name, input, functions);
  const top = parser.list(false);
  if (top.stop.kind === 'end') parser.fail(top.stop.pos, 'unexpected {{end}}');
  if (top.stop.kind === 'else') parser.fail(top.stop.pos, 'unexpected {{else}}');
  return top.nodes;
}
