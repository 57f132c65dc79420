// Renders a parsed commit message template against its data the way Go's text/template executes
// it: pipelines pass their value as the last argument of the next command, variables live until the
// end of the enclosing block, missing map keys are `<no value>`, `and`/`or` short-circuit, range
// visits map keys in sorted order. Execution errors read like Go's
// (`template: <name>:<line>:<col>: executing "<name>" at <…>: …`).
import {
  type ArgKind,
  convertArg,
  type Func,
  FuncError,
  functions,
  lookupFunction,
  UnsupportedFunctionUse,
} from './funcs.ts';
import { lineOf } from './lex.ts';
import {
  type Arg,
  type Command,
  type ControlNode,
  type Node,
  type Pipe,
  parseTemplate,
  UnsupportedTemplateError,
} from './parse.ts';
import {
  formatValue,
  GoList,
  GoMap,
  GoStruct,
  type GoValue,
  NO_VALUE,
  truth,
  typeName,
  UnprintableError,
} from './values.ts';

/** A failure Go's executor would report too. */
export class TemplateExecError extends Error {}

/** The longest message rendered; a template that writes more fails. */
const maxOutput = 1024 * 1024;

const MISSING: unique symbol = Symbol('missing');
type Final = GoValue | typeof MISSING;

class BreakSignal {}
class ContinueSignal {}

export interface Template {
  /** Renders with `data` as dot; throws TemplateExecError or UnsupportedTemplateError. */
  render(data: GoValue): string;
}

/** Parses `text` (throws TemplateSyntaxError or UnsupportedTemplateError) into a renderable template. */
export function compileTemplate(name: string, text: string): Template {
  const nodes = parseTemplate(name, text, lookupFunction);
  return { render: (data) => execute(name, text, nodes, data) };
}

type At = { pos: number; text: string };
type FunctionNode = Extract<Arg, { kind: 'identifier' }>;

/** The state of one rendering: the output, the variables in scope and how errors are located. */
class Executor {
  private readonly vars: { name: string; value: GoValue }[];
  private out = '';
  private size = 0;
  private readonly name: string;
  private readonly text: string;

  constructor(name: string, text: string, data: GoValue) {
    this.name = name;
    this.text = text;
    this.vars = [{ name: '$', value: data }];
  }

  output(): string {
    return this.out;
  }

  private location(pos: number): string {
    const nl = this.text.slice(0, pos).lastIndexOf('\n');
    return `${this.name}:${lineOf(this.text, pos)}:${nl < 0 ? pos : pos - nl - 1}`;
  }

  private fail(node: At, msg: string): never {
    throw new TemplateExecError(
      `template: ${this.location(node.pos)}: executing "${this.name}" at <${node.text}>: ${msg}`,
    );
  }

  private unsupported(node: At, msg: string): never {
    throw new UnsupportedTemplateError(`${msg} (at ${this.location(node.pos)}: ${node.text})`);
  }

  private write(s: string): void {
    this.size += Buffer.byteLength(s);
    if (this.size > maxOutput)
      throw new TemplateExecError(`template: ${this.name}: the message exceeds ${maxOutput} bytes`);
    this.out += s;
  }

  private findVar(node: At, v: string): { value: GoValue } {
    for (let i = this.vars.length - 1; i >= 0; i--) if (this.vars[i]!.name === v) return this.vars[i]!;
    return this.fail(node, `undefined variable: ${v}`);
  }

  private printValue(node: At, v: GoValue): string {
    try {
      return formatValue(v);
    } catch (err) {
      if (err instanceof UnprintableError) return this.unsupported(node, err.message);
      throw err;
    }
  }

  private structField(
    node: Arg,
    fieldName: string,
    hasArgs: number,
    receiver: GoStruct,
  ): GoValue | undefined {
    const method = receiver.methods[fieldName];
    if (method) {
      if (hasArgs > 0) this.fail(node, `wrong number of args for ${fieldName}: want 0 got ${hasArgs}`);
      return method();
    }
    const value = receiver.field(fieldName);
    if (value !== undefined && hasArgs > 0)
      this.fail(node, `${fieldName} has arguments but cannot be invoked as function`);
    return value;
  }

  /** `.fieldName` of `receiver`; `extra` counts the arguments given to it. */
  private field(node: Arg, fieldName: string, extra: number, receiver: GoValue): GoValue {
    if (receiver === NO_VALUE) return NO_VALUE;
    if (receiver === null) return this.fail(node, `nil pointer evaluating interface {}.${fieldName}`);
    if (receiver instanceof GoStruct) {
      const value = this.structField(node, fieldName, extra, receiver);
      if (value !== undefined) return value;
    }
    if (receiver instanceof GoMap && receiver.keyType === 'string') {
      if (extra > 0) this.fail(node, `${fieldName} is not a method but has arguments`);
      return receiver.get(fieldName) ?? NO_VALUE;
    }
    return this.fail(node, `can't evaluate field ${fieldName} in type ${typeName(receiver)}`);
  }

  private fieldChain(receiver: GoValue, node: Arg, ident: string[], args: Arg[], final: Final): GoValue {
    let r = receiver;
    for (const f of ident.slice(0, -1)) r = this.field(node, f, 0, r);
    return this.field(node, ident.at(-1)!, args.length - 1 + (final !== MISSING ? 1 : 0), r);
  }

  private notAFunction(args: Arg[], final: Final): void {
    if (args.length > 1 || final !== MISSING)
      this.fail(args[0]!, `can't give argument to non-function ${args[0]!.text}`);
  }

  private arg(dot: GoValue, arg: Arg): GoValue {
    switch (arg.kind) {
      case 'dot':
        return dot;
      case 'nil':
        return null;
      case 'field':
        return this.fieldChain(dot, arg, arg.ident, [arg], MISSING);
      case 'variable':
        return this.variable(arg, [arg], MISSING);
      case 'pipe':
        return this.pipeline(dot, arg.pipe);
      case 'identifier':
        return this.call(dot, arg, { pos: arg.pos, text: arg.text, args: [arg] }, MISSING);
      case 'chain':
        return this.fieldChain(this.arg(dot, arg.node), arg, arg.field, [arg], MISSING);
      default:
        return arg.value;
    }
  }

  /** A function argument: a literal of the wrong kind is reported as Go's evalArg reports it. */
  private argValue(dot: GoValue, a: Arg, kind: ArgKind): GoValue {
    if ((a.kind === 'string' || a.kind === 'number' || a.kind === 'bool') && kind !== 'any') {
      const want = { string: 'string', int: 'number', bool: 'bool' }[kind];
      if (want !== a.kind)
        throw new FuncError(`expected ${kind === 'int' ? 'integer' : kind}; found ${a.text}`);
    }
    return convertArg(this.arg(dot, a), kind);
  }

  private variable(v: Extract<Arg, { kind: 'variable' }>, args: Arg[], final: Final): GoValue {
    const value = this.findVar(v, v.ident[0]!).value;
    if (v.ident.length === 1) {
      this.notAFunction(args, final);
      return value;
    }
    return this.fieldChain(value, v, v.ident.slice(1), args, final);
  }

  private checked(node: At, fn: () => GoValue): GoValue {
    try {
      return fn();
    } catch (err) {
      if (err instanceof FuncError) return this.fail(node, err.message);
      throw err;
    }
  }

  /** `and` and `or` evaluate their arguments in order and stop at the deciding one. */
  private andOr(dot: GoValue, node: FunctionNode, args: Arg[], final: Final): GoValue {
    if (args.length === 0 && final === MISSING)
      this.fail(node, `wrong number of args for ${node.name}: want at least 1 got 0`);
    let v: GoValue = null;
    for (const a of args) {
      v = this.checked(a, () => convertArg(this.arg(dot, a), 'any'));
      if (truth(v) === (node.name === 'or')) return v;
    }
    return final === MISSING ? v : convertArg(final, 'any');
  }

  private checkArity(node: FunctionNode, f: Func, count: number): void {
    const want = f.params.length;
    if (f.variadic ? count >= want : count === want) return;
    this.fail(
      node,
      `wrong number of args for ${node.name}: want ${f.variadic ? 'at least ' : ''}${want} got ${count}`,
    );
  }

  private call(dot: GoValue, node: FunctionNode, cmd: Command, final: Final): GoValue {
    const args = cmd.args.slice(1);
    if (node.name === 'and' || node.name === 'or') return this.andOr(dot, node, args, final);
    const f = functions[node.name]!;
    this.checkArity(node, f, args.length + (final !== MISSING ? 1 : 0));
    const kindAt = (i: number) => f.params[i] ?? f.variadic!;
    const values = args.map((a, i) => this.checked(a, () => this.argValue(dot, a, kindAt(i))));
    if (final !== MISSING) values.push(this.checked(node, () => convertArg(final, kindAt(values.length))));
    try {
      return f.fn(...values);
    } catch (err) {
      if (err instanceof FuncError) return this.fail(cmd, `error calling ${node.name}: ${err.message}`);
      if (err instanceof UnsupportedFunctionUse || err instanceof UnprintableError)
        return this.unsupported(node, err.message);
      throw err;
    }
  }

  private command(dot: GoValue, cmd: Command, final: Final): GoValue {
    const first = cmd.args[0]!;
    switch (first.kind) {
      case 'field':
        return this.fieldChain(dot, first, first.ident, cmd.args, final);
      case 'chain':
        return this.fieldChain(this.arg(dot, first.node), first, first.field, cmd.args, final);
      case 'identifier':
        return this.call(dot, first, cmd, final);
      case 'variable':
        return this.variable(first, cmd.args, final);
      case 'nil':
        return this.fail(first, 'nil is not a command');
      default:
        this.notAFunction(cmd.args, final);
        return this.arg(dot, first);
    }
  }

  /** Runs the commands, each given the previous one's value last; declares or assigns its variables. */
  private pipeline(dot: GoValue, pipe: Pipe): GoValue {
    let value: Final = MISSING;
    for (const cmd of pipe.cmds) value = this.command(dot, cmd, value);
    const result = value === MISSING ? null : value;
    for (const d of pipe.decl) {
      if (pipe.isAssign) this.findVar(pipe, d).value = result;
      else this.vars.push({ name: d, value: result });
    }
    return result;
  }

  /** The (index, element) pairs range visits: slices, maps in key order, and 0…n-1 for an int. */
  private rangePairs(node: ControlNode, val: GoValue): [GoValue, GoValue][] {
    // Go reports range errors at the value's node: the last command's first word.
    const at = node.pipe.cmds.at(-1)!.args[0]!;
    if (val instanceof GoList) return val.items.map((e, i) => [i, e]);
    if (val instanceof GoMap) return val.entries;
    if (val === null || val === NO_VALUE) return [];
    if (typeof val !== 'number') return this.fail(at, `range can't iterate over ${this.printValue(at, val)}`);
    if (node.pipe.decl.length > 1) this.fail(at, `can't use ${val} to iterate over more than one variable`);
    return Array.from({ length: Math.max(0, val) }, (_, i) => [i, i]);
  }

  /** Sets the range variables of one iteration: the element last, the index (if any) before it. */
  private iterationVars(pipe: Pipe, index: GoValue, elem: GoValue): void {
    const { decl } = pipe;
    if (decl.length === 0) return;
    if (pipe.isAssign) {
      this.findVar(pipe, decl.at(-1)!).value = elem;
      if (decl.length > 1) this.findVar(pipe, decl[0]!).value = index;
      return;
    }
    this.vars[this.vars.length - 1]!.value = elem;
    if (decl.length > 1) this.vars[this.vars.length - 2]!.value = index;
  }

  private range(dot: GoValue, node: ControlNode): void {
    const mark = this.vars.length;
    try {
      const pairs = this.rangePairs(node, this.pipeline(dot, node.pipe));
      if (pairs.length === 0 && node.elseList) this.walk(dot, node.elseList);
      for (const [index, elem] of pairs) {
        const inner = this.vars.length;
        this.iterationVars(node.pipe, index, elem);
        try {
          this.walk(elem, node.list);
        } catch (signal) {
          if (signal instanceof BreakSignal) break;
          if (!(signal instanceof ContinueSignal)) throw signal;
        } finally {
          this.vars.length = inner;
        }
      }
    } finally {
      this.vars.length = mark;
    }
  }

  private ifOrWith(dot: GoValue, node: ControlNode): void {
    const mark = this.vars.length;
    try {
      const v = this.pipeline(dot, node.pipe);
      if (truth(v)) this.walk(node.kind === 'with' ? v : dot, node.list);
      else if (node.elseList) this.walk(dot, node.elseList);
    } finally {
      this.vars.length = mark;
    }
  }

  walk(dot: GoValue, list: Node[]): void {
    for (const node of list) {
      if (node.kind === 'text') this.write(node.text);
      else if (node.kind === 'action') {
        const v = this.pipeline(dot, node.pipe);
        if (node.pipe.decl.length === 0) this.write(this.printValue(node.pipe, v));
      } else if (node.kind === 'range') this.range(dot, node);
      else if (node.kind === 'if' || node.kind === 'with') this.ifOrWith(dot, node);
      else throw node.kind === 'break' ? new BreakSignal() : new ContinueSignal();
    }
  }
}

function execute(name: string, text: string, nodes: Node[], data: GoValue): string {
  const ex = new Executor(name, text, data);
  ex.walk(data, nodes);
  return ex.output();
}
