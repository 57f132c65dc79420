// Bash-style `${var}` expansion with the grammar and quirks of fluxcd/pkg/envsubst (a fork of
// drone/envsubst), which Flux's postBuild substitution uses:
//   ${var}  ${#var}  ${var^} ${var^^} ${var,} ${var,,}  ${var:n} ${var:n:len}
//   ${var#glob} ${var##glob} ${var%glob} ${var%%glob}
//   ${var=d} ${var:=d} ${var:-d} (also :? and :+, which Flux treats as defaults too)
//   ${var/p/r} ${var//p/r} ${var/#p/r} ${var/%p/r}
// `$$` is an escaped `$` (so `$${var}` stays a literal `${var}`); `$var` without braces is left alone.
// Defaults may nest `${...}`; `${var-default}` is not supported (a parse error, as in Flux).
// The whole text is parsed before anything is evaluated, so a syntax error anywhere fails it.

import { MAX_DOCUMENT_BYTES } from '../yamlguard.ts';

/** A syntax error, or an unset variable in strict mode. */
export class EnvsubstError extends Error {
  /** The unset variable, for strict-mode errors. */
  readonly variable: string | undefined;
  constructor(message: string, variable?: string) {
    super(message);
    this.name = 'EnvsubstError';
    this.variable = variable;
  }
}

/** Looks a variable up: its value and whether it is set. */
export type Lookup = (name: string) => { value: string; set: boolean };

type Node = { text: string } | Func;
interface Func {
  name: string;
  op: string;
  args: Node[];
}

const errBad = 'bad substitution';
const errBrace = 'missing closing brace';
const errName = 'unable to parse variable name';
const errFunc = 'unable to parse substitution within function';
const errDefault = 'unable to parse default function';

type Accept = (c: string, i: number) => boolean;
interface Escapes {
  dollar: boolean;
  backslash: boolean;
}
const noEscapes: Escapes = { dollar: false, backslash: false };
const allEscapes: Escapes = { dollar: true, backslash: true };

const isIdent: Accept = (c) => /^[\p{L}\p{Nd}_]$/u.test(c);
const anyChar: Accept = () => true;
const notClosing: Accept = (c) => c !== '}';
const notColonOrClosing: Accept = (c) => c !== ':' && c !== '}';
const notSlash: Accept = (c) => c !== '/';

function parse(src: string): Node[] {
  let pos = 0;
  const peek = (off = 0) => src[pos + off];
  const atOpen = () => src[pos] === '$' && src[pos + 1] === '{';

  // One token of characters `accept` takes (i = 1-based index in the token), stopping before `${`
  // when `stopAtOpen`; `$$`, `\/` and `\\` are escapes where enabled. Undefined when nothing matched.
  const run = (accept: Accept, esc: Escapes, stopAtOpen: boolean): string | undefined => {
    let out = '';
    let matched = false;
    while (pos < src.length) {
      if (stopAtOpen && matched && atOpen()) break;
      const c = String.fromCodePoint(src.codePointAt(pos) ?? 0);
      const next = src[pos + c.length];
      if (
        (esc.dollar && c === '$' && next === '$') ||
        (esc.backslash && c === '\\' && (next === '/' || next === '\\'))
      ) {
        out += next;
        pos += 2;
        matched = true;
        continue;
      }
      if (!accept(c, out.length + 1)) break;
      out += c;
      pos += c.length;
      matched = true;
    }
    return matched ? out : undefined;
  };

  const closing = () => {
    if (peek() !== '}') throw new EnvsubstError(errBad);
    pos++;
  };

  // A function argument: a nested ${...}, or one run of text.
  const param = (accept: Accept, esc: Escapes): Node => {
    if (atOpen()) {
      pos += 2;
      return func();
    }
    const text = run(accept, esc, true);
    if (text === undefined) throw new EnvsubstError(errFunc);
    return { text };
  };

  const op = (accept: Accept, err = errBad): string => {
    const o = run(accept, noEscapes, false);
    if (o === undefined) throw new EnvsubstError(err);
    return o;
  };

  const func = (): Func => {
    if (peek() === '#') {
      const o = op((c, i) => c === '#' && i === 1);
      const name = run(isIdent, noEscapes, false);
      if (name === undefined) throw new EnvsubstError(errBad);
      closing();
      return { name, op: o, args: [] };
    }
    const name = run(isIdent, noEscapes, false);
    if (name === undefined) throw new EnvsubstError(errName);
    switch (peek()) {
      case ':':
        return '=-?+'.includes(peek(1) ?? '\0') ? defaults(name) : substring(name);
      case '=':
        return defaults(name);
      case ',':
      case '^': {
        const o = op((c, i) => (c === ',' || c === '^') && i < 3);
        closing();
        return { name, op: o, args: [] };
      }
      case '/':
        return replace(name);
      case '#':
        return trim(name, '#');
      case '%':
        return trim(name, '%');
      case '}':
        pos++;
        return { name, op: '', args: [] };
      default:
        throw new EnvsubstError(errBrace);
    }
  };

  const defaults = (name: string): Func => {
    const o =
      peek() === '='
        ? op((c, i) => c === '=' && i === 1, errDefault)
        : op((c, i) => (i === 1 && c === ':') || (i === 2 && '=-?+'.includes(c)), errDefault);
    const args: Node[] = [];
    while (peek() !== '}') args.push(param(notClosing, noEscapes));
    pos++;
    return { name, op: o, args };
  };

  const substring = (name: string): Func => {
    const o = op((c, i) => c === ':' && i === 1);
    const args = [param(notColonOrClosing, noEscapes)];
    if (peek() === '}') {
      pos++;
      return { name, op: o, args };
    }
    if (run((c) => c === ':', noEscapes, false) === undefined) throw new EnvsubstError(errBad);
    args.push(param(notClosing, noEscapes));
    closing();
    return { name, op: o, args };
  };

  const trim = (name: string, ch: string): Func => {
    const o = op((c, i) => c === ch && i < 3);
    const args = [param(notClosing, noEscapes)];
    closing();
    return { name, op: o, args };
  };

  const replace = (name: string): Func => {
    const o = op((c, i) => (i === 1 && c === '/') || (i === 2 && '/#%'.includes(c)));
    const args: Node[] = [peek() === '/' ? { text: '' } : param(notSlash, allEscapes)];
    if (run((c) => c === '/', noEscapes, false) === undefined) throw new EnvsubstError(errBad);
    if (peek() === '}') {
      pos++;
      return { name, op: o, args };
    }
    args.push(param(notClosing, allEscapes));
    closing();
    return { name, op: o, args };
  };

  const nodes: Node[] = [];
  while (pos < src.length) {
    if (atOpen()) {
      pos += 2;
      nodes.push(func());
    } else {
      nodes.push({ text: run(anyChar, { dollar: true, backslash: false }, true) ?? '' });
    }
  }
  return nodes;
}

// Operators that supply a value for an unset variable, so strict mode lets them through.
const defaultOps = new Set(['-', '+', '=', '?', ':-', ':+', ':=', ':?']);

function evaluate(nodes: readonly Node[], lookup: Lookup): string {
  let out = '';
  for (const n of nodes) {
    out += 'text' in n ? n.text : call(n, lookup);
    // A large value referenced many times multiplies: stop long before memory does.
    if (out.length > MAX_DOCUMENT_BYTES) {
      throw new EnvsubstError(`the substituted text is larger than ${MAX_DOCUMENT_BYTES} bytes`);
    }
  }
  return out;
}

function call(f: Func, lookup: Lookup): string {
  const args = f.args.map((a) => evaluate([a], lookup));
  const { value, set } = lookup(f.name);
  if (!set && !defaultOps.has(f.op)) {
    throw new EnvsubstError(`variable not set (strict mode): "${f.name}"`, f.name);
  }
  return apply(f.op, value, args);
}

// Operators that transform the value (Flux's lookupFunc); anything else is a default operator.
const ops: Record<string, (s: string, a: string | undefined, b: string | undefined) => string> = {
  ',': (s) => s.slice(0, firstLen(s)).toLowerCase() + s.slice(firstLen(s)),
  ',,': (s) => s.toLowerCase(),
  '^': (s) => s.slice(0, firstLen(s)).toUpperCase() + s.slice(firstLen(s)),
  '^^': (s) => s.toUpperCase(),
  '#': (s, a) => (a === undefined ? String(Buffer.byteLength(s)) : trimPrefix(s, a, false)),
  '##': (s, a) => (a === undefined ? s : trimPrefix(s, a, true)),
  '%': (s, a) => (a === undefined ? s : trimSuffix(s, a, false)),
  '%%': (s, a) => (a === undefined ? s : trimSuffix(s, a, true)),
  ':': (s, a, b) => substr(s, a, b),
  '/#': (s, a, b) => (a !== undefined && b !== undefined && s.startsWith(a) ? b + s.slice(a.length) : s),
  '/%': (s, a, b) =>
    a !== undefined && b !== undefined && s.endsWith(a) ? s.slice(0, s.length - a.length) + b : s,
  '/': (s, a, b) => (a === undefined ? s : replaceFirst(s, a, b ?? '')),
  '//': (s, a, b) => (a === undefined ? s : replaceAll(s, a, b ?? '')),
};

function apply(op: string, s: string, args: readonly string[]): string {
  const fn = Object.hasOwn(ops, op) ? ops[op] : undefined;
  if (fn) return fn(s, args[0], args[1]);
  // '' (plain ${var}) and every default operator: the value, or the joined args when it is empty.
  return s === '' && args.length > 0 ? args.join('') : s;
}

function firstLen(s: string): number {
  return s === '' ? 0 : String.fromCodePoint(s.codePointAt(0) ?? 0).length;
}

function replaceFirst(s: string, from: string, to: string): string {
  const i = s.indexOf(from);
  return i < 0 ? s : s.slice(0, i) + to + s.slice(i + from.length);
}

// Go's strings.Replace(s, from, to, -1): an empty `from` matches before every character and at the end.
function replaceAll(s: string, from: string, to: string): string {
  if (from !== '') return s.split(from).join(to);
  return s === '' ? to : to + [...s].join(to) + to;
}

// Go's strconv.Atoi: an optional sign and decimal digits only.
function atoi(v: string | undefined): number | undefined {
  return v !== undefined && /^[+-]?\d+$/.test(v) ? Number.parseInt(v, 10) : undefined;
}

function substr(s: string, posArg: string | undefined, lenArg: string | undefined): string {
  let pos = atoi(posArg);
  if (pos === undefined) return s;
  if (pos < 0) pos = Math.max(0, s.length + pos);
  if (lenArg === undefined) return pos < s.length ? s.slice(pos) : '';
  const len = atoi(lenArg);
  if (len === undefined) return s;
  if (len < 0) {
    const end = s.length + len;
    return end < pos ? '' : s.slice(pos, end);
  }
  return s.slice(pos, pos + len);
}

/**
 * Go's path.Match as a RegExp: `*` any run of non-`/` characters, `?` one non-`/` character,
 * `[...]` a class (`^` negates), `\` escapes. Undefined for a malformed pattern.
 */
export function globToRegExp(pattern: string): RegExp | undefined {
  let re = '';
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i] as string;
    if (c === '[') {
      const cls = globClass(pattern, i);
      if (!cls) return undefined;
      re += cls.re;
      i = cls.end;
    } else if (c === '\\') {
      const next = pattern[++i];
      if (next === undefined) return undefined;
      re += escapeRe(next);
    } else re += c === '*' ? '[^/]*' : c === '?' ? '[^/]' : escapeRe(c);
  }
  try {
    return new RegExp(`^${re}$`, 's');
  } catch {
    return undefined;
  }
}

// The `[...]` class starting at `start`: its RegExp and the index of its `]`.
function globClass(pattern: string, start: number): { re: string; end: number } | undefined {
  const end = pattern.indexOf(']', start + 2);
  if (end < 0) return undefined;
  let body = pattern.slice(start + 1, end);
  const negate = body.startsWith('^');
  if (negate) body = body.slice(1);
  return { re: `[${negate ? '^' : ''}${body.replace(/[\]\\]/g, '\\$&')}]`, end };
}

function escapeRe(c: string): string {
  return c.replace(/[.*+?^${}()|[\]\\/-]/g, '\\$&');
}

// Strips the shortest (or longest) non-empty prefix matching the glob; unchanged on no match or a
// malformed pattern, as Flux's trimShortest/trimLongest.
function trimPrefix(s: string, pattern: string, longest: boolean): string {
  const re = globToRegExp(pattern);
  if (!re) return s;
  for (let n = longest ? s.length : 1; longest ? n >= 1 : n <= s.length; n += longest ? -1 : 1) {
    if (re.test(s.slice(0, n))) return s.slice(n);
  }
  return s;
}

// As trimPrefix, from the end. (Flux reverses the string and the pattern, which breaks `[...]`
// classes; matching suffixes directly gives the bash result for them and the same result otherwise.)
function trimSuffix(s: string, pattern: string, longest: boolean): string {
  const re = globToRegExp(pattern);
  if (!re) return s;
  for (let n = longest ? s.length : 1; longest ? n >= 1 : n <= s.length; n += longest ? -1 : 1) {
    if (re.test(s.slice(s.length - n))) return s.slice(0, s.length - n);
  }
  return s;
}

/**
 * Expands every `${...}` in `text` with values from `lookup`. Throws an EnvsubstError for a syntax
 * error, or for a variable that `lookup` reports unset and that has no default operator.
 */
export function envsubst(text: string, lookup: Lookup): string {
  return evaluate(parse(text), lookup);
}
