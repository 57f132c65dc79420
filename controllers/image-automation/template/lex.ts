// The lexer of Go's text/template: text between actions, and the tokens inside `{{ … }}`, with the
// `{{- ` and ` -}}` trim markers applied to the neighbouring text and comments dropped.

/** A template Go would reject too. */
export class TemplateSyntaxError extends Error {}

export type TokenType =
  | 'text'
  | 'left'
  | 'right'
  | 'space'
  | 'field'
  | 'variable'
  | 'identifier'
  | 'dot'
  | 'string'
  | 'char'
  | 'number'
  | 'pipe'
  | 'lparen'
  | 'rparen'
  | 'declare'
  | 'assign'
  | 'comma'
  | 'eof';

export interface Token {
  type: TokenType;
  pos: number;
  value: string;
}

export const isSpace = (c: string | undefined) => c === ' ' || c === '\t' || c === '\r' || c === '\n';
const isAlnum = (c: string | undefined) => c !== undefined && /[\p{L}\p{Nd}_]/u.test(c);

/** The 1-based line of a byte offset. */
export function lineOf(text: string, pos: number): number {
  let n = 1;
  for (let i = 0; i < pos && i < text.length; i++) if (text[i] === '\n') n++;
  return n;
}

const simpleEscapes: Record<string, string> = {
  a: '\x07',
  b: '\b',
  f: '\f',
  n: '\n',
  r: '\r',
  t: '\t',
  v: '\v',
  '\\': '\\',
};
const numericEscapes: Record<string, { len: number; re: RegExp; base: number }> = {
  x: { len: 2, re: /^[0-9a-fA-F]{2}$/, base: 16 },
  u: { len: 4, re: /^[0-9a-fA-F]{4}$/, base: 16 },
  U: { len: 8, re: /^[0-9a-fA-F]{8}$/, base: 16 },
};

/** Go's strconv.Unquote of the body of a "…" or '…' literal; undefined when it is malformed. */
export function unquote(body: string, quote: string): string | undefined {
  let out = '';
  for (let i = 0; i < body.length; i++) {
    if (body[i] !== '\\') {
      out += body[i];
      continue;
    }
    const e = body[++i] ?? '';
    const numeric = numericEscapes[e];
    if (e in simpleEscapes) out += simpleEscapes[e];
    else if (e === quote) out += quote;
    else if (numeric) {
      const digits = body.slice(i + 1, i + 1 + numeric.len);
      if (!numeric.re.test(digits)) return undefined;
      out += String.fromCodePoint(Number.parseInt(digits, numeric.base));
      i += numeric.len;
    } else if (/^[0-7]{3}$/.test(body.slice(i, i + 3))) {
      out += String.fromCharCode(Number.parseInt(body.slice(i, i + 3), 8));
      i += 2;
    } else return undefined;
  }
  return out;
}

interface Lexer {
  input: string;
  tokens: Token[];
  fail(pos: number, msg: string): never;
}

const single: Record<string, TokenType> = { '=': 'assign', '|': 'pipe', ',': 'comma' };

/** ` -}}` at i: a space, the trim marker, the delimiter. */
const rightTrimAt = (input: string, i: number) =>
  isSpace(input[i]) && input[i + 1] === '-' && input.startsWith('}}', i + 2);

function push(lx: Lexer, type: TokenType, from: number, to: number): number {
  lx.tokens.push({ type, pos: from, value: lx.input.slice(from, to) });
  return to;
}

/** A run of spaces, stopping before a ` -}}` trim marker. */
function lexSpace(lx: Lexer, i: number): number {
  let j = i + 1;
  while (isSpace(lx.input[j]) && !rightTrimAt(lx.input, j)) j++;
  return push(lx, 'space', i, j);
}

function lexQuote(lx: Lexer, i: number): number {
  const { input } = lx;
  const q = input[i]!;
  let j = i + 1;
  while (j < input.length && input[j] !== q) {
    if (q !== '`' && input[j] === '\\') j++;
    if (q !== '`' && input[j] === '\n') break;
    j++;
  }
  if (input[j] !== q) {
    const what = { '"': 'unterminated quoted string', '`': 'unterminated raw quoted string' }[q];
    lx.fail(i, what ?? 'unterminated character constant');
  }
  return push(lx, q === "'" ? 'char' : 'string', i, j + 1);
}

/** `$name`, `.Field` or a lone `.`. */
function lexName(lx: Lexer, i: number): number {
  const c = lx.input[i];
  let j = i + 1;
  while (isAlnum(lx.input[j])) j++;
  return push(lx, c === '$' ? 'variable' : j === i + 1 ? 'dot' : 'field', i, j);
}

function lexNumber(lx: Lexer, i: number): number {
  const { input } = lx;
  let j = i + 1;
  while (j < input.length && /[0-9a-zA-Z_.+-]/.test(input[j]!)) {
    // A sign belongs to the number only right after an exponent letter.
    if ((input[j] === '+' || input[j] === '-') && !/[eEpP]/.test(input[j - 1]!)) break;
    j++;
  }
  return push(lx, 'number', i, j);
}

function lexIdentifier(lx: Lexer, i: number): number {
  let j = i;
  while (isAlnum(lx.input[j])) j++;
  return push(lx, 'identifier', i, j);
}

function lexParen(lx: Lexer, i: number, depth: { n: number }): number {
  const open = lx.input[i] === '(';
  depth.n += open ? 1 : -1;
  if (depth.n < 0) lx.fail(i, 'unexpected right paren');
  return push(lx, open ? 'lparen' : 'rparen', i, i + 1);
}

function lexDeclare(lx: Lexer, i: number): number {
  if (lx.input[i + 1] !== '=') lx.fail(i, 'expected :=');
  return push(lx, 'declare', i, i + 2);
}

/** One token inside an action at i; returns where the next starts. */
function lexToken(lx: Lexer, i: number, depth: { n: number }): number {
  const c = lx.input[i]!;
  if (isSpace(c)) return lexSpace(lx, i);
  if (single[c]) return push(lx, single[c], i, i + 1);
  if (c === ':') return lexDeclare(lx, i);
  if (c === '(' || c === ')') return lexParen(lx, i, depth);
  if (c === '"' || c === '`' || c === "'") return lexQuote(lx, i);
  if (c === '$' || (c === '.' && !/[0-9]/.test(lx.input[i + 1] ?? ''))) return lexName(lx, i);
  if (/[0-9+\-.]/.test(c)) return lexNumber(lx, i);
  if (isAlnum(c)) return lexIdentifier(lx, i);
  return lx.fail(i, `unrecognized character in action: ${JSON.stringify(c)}`);
}

/** The tokens of one action, from after `{{` to its `}}`; returns the end and whether it trims. */
function lexAction(lx: Lexer, start: number): { next: number; trimRight: boolean } {
  const depth = { n: 0 };
  let i = start;
  for (;;) {
    if (i >= lx.input.length) lx.fail(start, 'unclosed action');
    const trimRight = rightTrimAt(lx.input, i);
    if (trimRight || lx.input.startsWith('}}', i)) {
      if (depth.n > 0) lx.fail(i, 'unclosed left paren');
      if (trimRight) push(lx, 'space', i, i + 1);
      const at = trimRight ? i + 2 : i;
      lx.tokens.push({ type: 'right', pos: at, value: '}}' });
      return { next: at + 2, trimRight };
    }
    i = lexToken(lx, i, depth);
  }
}

/** `{{/* … *\/}}` starting at `i` (after `{{` and a trim marker); returns the end and its trim. */
function lexComment(lx: Lexer, open: number, i: number): { next: number; trimRight: boolean } {
  const end = lx.input.indexOf('*/', i + 2);
  if (end < 0) lx.fail(open, 'unclosed comment');
  let j = end + 2;
  const trimRight = rightTrimAt(lx.input, j);
  if (trimRight) j += 2;
  if (!lx.input.startsWith('}}', j)) lx.fail(open, 'comment ends before closing delimiter');
  return { next: j + 2, trimRight };
}

/** Splits a template into text and action tokens. */
export function lex(name: string, input: string): Token[] {
  const lx: Lexer = {
    input,
    tokens: [],
    fail: (pos, msg) => {
      throw new TemplateSyntaxError(`template: ${name}:${lineOf(input, pos)}: ${msg}`);
    },
  };
  let pos = 0;
  let trimLead = false;
  for (;;) {
    const found = input.indexOf('{{', pos);
    const open = found < 0 ? input.length : found;
    let text = input.slice(pos, open);
    if (trimLead) text = text.replace(/^[ \t\r\n]+/, '');
    const trimLeft = found >= 0 && input[open + 2] === '-' && isSpace(input[open + 3]);
    if (trimLeft) text = text.replace(/[ \t\r\n]+$/, '');
    if (text) lx.tokens.push({ type: 'text', pos, value: text });
    if (found < 0) break;
    const inside = open + 2 + (trimLeft ? 2 : 0);
    let r: { next: number; trimRight: boolean };
    if (input.startsWith('/*', inside)) r = lexComment(lx, open, inside);
    else {
      lx.tokens.push({ type: 'left', pos: open, value: '{{' });
      r = lexAction(lx, inside);
    }
    pos = r.next;
    trimLead = r.trimRight;
  }
  lx.tokens.push({ type: 'eof', pos: input.length, value: '' });
  return lx.tokens;
}
