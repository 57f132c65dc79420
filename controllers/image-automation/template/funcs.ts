// The functions a commit message template may call: Go's text/template builtins and the part of
// Sprig's hermetic function map (what Flux installs) that Tide implements, each with Go's argument
// checks. The other Sprig functions are known by name, so that a template using one is refused as
// unsupported rather than reported as undefined.
import { posix } from 'node:path';
import {
  formatValue,
  GoList,
  GoMap,
  GoStruct,
  type GoValue,
  goEqual,
  NO_VALUE,
  truth,
  typeName,
} from './values.ts';

/** A runtime failure in a function, reported by the executor with its position. */
export class FuncError extends Error {}

/** The Go parameter types the functions take: string, int, bool, or interface{}. */
export type ArgKind = 'string' | 'int' | 'bool' | 'any';
type Kind = ArgKind;

export interface Func {
  params: Kind[];
  /** Kind of the trailing variadic parameter. */
  variadic?: Kind;
  fn: (...args: GoValue[]) => GoValue;
}

const listOf = (items: GoValue[]) => new GoList('[]interface {}', items);
const strings = (items: string[]) => new GoList('[]string', items);

/** Converts an argument as Go's reflection call would, or throws FuncError. */
export function convertArg(v: GoValue, kind: Kind): GoValue {
  if (kind === 'any') return v === NO_VALUE ? null : v;
  const want = kind;
  if (v === NO_VALUE) throw new FuncError(`invalid value; expected ${want}`);
  if (v === null) throw new FuncError(`cannot assign nil to ${want}`);
  const ok =
    (kind === 'string' && typeof v === 'string') ||
    (kind === 'int' && typeof v === 'number') ||
    (kind === 'bool' && typeof v === 'boolean');
  if (!ok) throw new FuncError(`wrong type for value; expected ${want}; got ${typeName(v)}`);
  return v;
}

const s = (v: GoValue) => v as string;
const n = (v: GoValue) => v as number;

/** Sprig's strval: strings as is, Stringers through String(), the rest as fmt's %v. */
const strval = (v: GoValue): string => (typeof v === 'string' ? v : formatValue(v));

/** The items of a slice (Sprig's reflection over lists); throws for other kinds. */
function itemsOf(v: GoValue, fn: string): GoValue[] {
  if (v instanceof GoList) return v.items;
  throw new FuncError(`Cannot find ${fn} on type ${typeName(v)}`);
}

/** Sprig's strslice. */
function strslice(v: GoValue): string[] {
  if (v instanceof GoList) return v.items.filter((x) => x !== null).map(strval);
  if (v === null) return [];
  return [strval(v)];
}

/** Sprig's empty. */
function empty(v: GoValue): boolean {
  if (v === null || v === NO_VALUE) return true;
  if (v instanceof GoStruct) return false;
  return !truth(v);
}

/** Go's utf8-unaware byte slicing, for strings of ASCII (tags, names) exactly as Go. */
const bytes = (str: string) => Buffer.from(str, 'utf8');

function goQuote(str: string): string {
  let out = '"';
  for (const ch of str) {
    const c = ch.codePointAt(0)!;
    const esc: Record<string, string> = {
      '"': '\\"',
      '\\': '\\\\',
      '\n': '\\n',
      '\t': '\\t',
      '\r': '\\r',
      '\x07': '\\a',
      '\b': '\\b',
      '\f': '\\f',
      '\v': '\\v',
    };
    if (esc[ch]) out += esc[ch];
    else if (c < 0x20 || c === 0x7f) out += `\\x${c.toString(16).padStart(2, '0')}`;
    else out += ch;
  }
  return `${out}"`;
}

function sprint(args: GoValue[]): string {
  // fmt.Sprint: a space between operands when neither is a string.
  let out = '';
  args.forEach((a, i) => {
    if (i > 0 && typeof a !== 'string' && typeof args[i - 1] !== 'string') out += ' ';
    out += formatValue(a);
  });
  return out;
}

const badVerb = (verb: string, a: GoValue) => `%!${verb}(${typeName(a)}=${formatValue(a)})`;

/** One verb of fmt applied to one operand: %v, %s, %d, %q or %t; Go's %!x(type=value) when it does not fit. */
function formatVerb(verb: string, a: GoValue): string {
  switch (verb) {
    case 'v':
      return formatValue(a);
    case 's':
      if (typeof a === 'string') return a;
      return a instanceof GoStruct && a.stringer ? a.stringer() : badVerb(verb, a);
    case 'd':
      return typeof a === 'number' ? String(a) : badVerb(verb, a);
    case 'q':
      return typeof a === 'string' ? goQuote(a) : badVerb(verb, a);
    case 't':
      return typeof a === 'boolean' ? String(a) : badVerb(verb, a);
    default:
      throw new UnsupportedFunctionUse(
        `printf verb %${verb} is not supported by Tide (use %v, %s, %d, %q or %t)`,
      );
  }
}

/** fmt.Sprintf for %v %s %d %q %t and %%; flags, widths and other verbs are refused. */
function sprintf(format: string, args: GoValue[]): string {
  let out = '';
  let argi = 0;
  const parts = format.split(/(%.?)/s);
  for (const part of parts) {
    if (!part.startsWith('%')) out += part;
    else if (part === '%%') out += '%';
    else if (part === '%') out += '%!(NOVERB)';
    else if (!'vsdqt'.includes(part[1]!)) formatVerb(part[1]!, null);
    else if (argi >= args.length) out += `%!${part[1]}(MISSING)`;
    else out += formatVerb(part[1]!, args[argi++]!);
  }
  if (argi < args.length) {
    const extra = args.slice(argi).map((a) => `${typeName(a)}=${formatValue(a)}`);
    out += `%!(EXTRA ${extra.join(', ')})`;
  }
  return out;
}

/** A use of a function that Go accepts but Tide does not render. */
export class UnsupportedFunctionUse extends Error {}

/** text/template's basicKind: the kinds lt, le, gt and ge order; undefined for the others. */
function basicKind(v: GoValue): 'string' | 'int' | 'bool' | undefined {
  if (typeof v === 'string') return 'string';
  if (typeof v === 'number') return 'int';
  if (typeof v === 'boolean') return 'bool';
  return undefined;
}

const incompatible = (a: GoValue, b: GoValue) =>
  new FuncError(`incompatible types for comparison: ${typeName(a)} and ${typeName(b)}`);

function compareBasic(a: GoValue, b: GoValue): number {
  const [ka, kb] = [basicKind(a), basicKind(b)];
  if (!ka || !kb) throw new FuncError('invalid type for comparison');
  if (ka !== kb) throw incompatible(a, b);
  if (ka === 'bool') throw new FuncError('invalid type for comparison');
  const [x, y] = [a as string | number, b as string | number];
  return x < y ? -1 : x > y ? 1 : 0;
}

const valid = (v: GoValue) => v !== null && v !== NO_VALUE;

function eq(a: GoValue, ...rest: GoValue[]): boolean {
  if (rest.length === 0) throw new FuncError('missing argument for comparison');
  for (const b of rest) {
    const [ka, kb] = [basicKind(a), basicKind(b)];
    if (ka !== kb || (ka === undefined && typeName(a) !== typeName(b))) {
      if (valid(a) && valid(b)) throw incompatible(a, b);
      continue;
    }
    if (a instanceof GoList || a instanceof GoMap)
      throw new FuncError(`non-comparable type ${formatValue(b)}: ${typeName(b)}`);
    if (goEqual(a, b)) return true;
  }
  return false;
}

function lengthOf(v: GoValue): number {
  if (typeof v === 'string') return bytes(v).length;
  if (v instanceof GoList) return v.items.length;
  if (v instanceof GoMap) return v.entries.length;
  throw new FuncError(`len of type ${typeName(v)}`);
}

function indexSequence(len: number, k: GoValue, what: string): number {
  if (typeof k !== 'number') throw new FuncError(`cannot index ${what} with type ${typeName(k)}`);
  if (k < 0 || k >= len) throw new FuncError(`index out of range: ${k}`);
  return k;
}

/** One step of `index`: a slice or string by int, a map by a key of its key type. */
function indexOne(cur: GoValue, k: GoValue): GoValue {
  if (cur instanceof GoList) return cur.items[indexSequence(cur.items.length, k, 'slice/array')]!;
  if (typeof cur === 'string') {
    const b = bytes(cur);
    return b[indexSequence(b.length, k, 'string')]!;
  }
  if (cur instanceof GoMap) {
    if (typeName(k) !== cur.keyType)
      throw new FuncError(`value has type ${typeName(k)}; should be ${cur.keyType}`);
    return cur.get(k) ?? cur.zero();
  }
  if (cur === null || cur === NO_VALUE) throw new FuncError('index of untyped nil');
  throw new FuncError(`can't index item of type ${typeName(cur)}`);
}

const index = (item: GoValue, ...keys: GoValue[]): GoValue => keys.reduce(indexOne, item);

function goTitle(str: string): string {
  // strings.Title: the first letter of each word, words separated by non-letters/digits/_.
  return str.replace(/(^|[^\p{L}\p{Nd}_])(\p{L})/gu, (_m, sep: string, c: string) => sep + c.toUpperCase());
}

function uniq(list: GoValue[]): GoValue[] {
  const out: GoValue[] = [];
  for (const v of list) if (!out.some((o) => goEqual(o, v))) out.push(v);
  return out;
}

const toInt = (v: GoValue): number => {
  if (typeof v === 'number') return v;
  if (typeof v === 'boolean') return v ? 1 : 0;
  if (typeof v === 'string') {
    const x = Number.parseInt(v, 10);
    return Number.isNaN(x) || !/^[+-]?\d+$/.test(v.trim()) ? 0 : x;
  }
  return 0;
};

/** The functions Tide renders, by name. `and`, `or` are evaluated lazily by the executor. */
export const functions: Record<string, Func> = {
  // Go's builtins.
  not: { params: ['any'], fn: (a) => !truth(a) },
  len: { params: ['any'], fn: (a) => lengthOf(a) },
  index: { params: ['any'], variadic: 'any', fn: (a, ...k) => index(a, ...k) },
  print: { params: [], variadic: 'any', fn: (...a) => sprint(a) },
  println: { params: [], variadic: 'any', fn: (...a) => `${a.map(formatValue).join(' ')}\n` },
  printf: { params: ['string'], variadic: 'any', fn: (f, ...a) => sprintf(s(f), a) },
  eq: { params: ['any'], variadic: 'any', fn: (a, ...rest) => eq(a, ...rest) },
  ne: { params: ['any', 'any'], fn: (a, b) => !eq(a, b) },
  lt: { params: ['any', 'any'], fn: (a, b) => compareBasic(a, b) < 0 },
  le: { params: ['any', 'any'], fn: (a, b) => compareBasic(a, b) <= 0 },
  gt: { params: ['any', 'any'], fn: (a, b) => compareBasic(a, b) > 0 },
  ge: { params: ['any', 'any'], fn: (a, b) => compareBasic(a, b) >= 0 },

  // Sprig: strings.
  lower: { params: ['string'], fn: (a) => s(a).toLowerCase() },
  upper: { params: ['string'], fn: (a) => s(a).toUpperCase() },
  title: { params: ['string'], fn: (a) => goTitle(s(a)) },
  untitle: {
    params: ['string'],
    fn: (a) => s(a).replace(/(^|\s)(\S)/gu, (_m, p: string, c: string) => p + c.toLowerCase()),
  },
  trim: { params: ['string'], fn: (a) => s(a).trim() },
  trimAll: { params: ['string', 'string'], fn: (cut, str) => trimChars(s(str), s(cut)) },
  trimall: { params: ['string', 'string'], fn: (cut, str) => trimChars(s(str), s(cut)) },
  trimPrefix: {
    params: ['string', 'string'],
    fn: (p, str) => (s(str).startsWith(s(p)) ? s(str).slice(s(p).length) : s(str)),
  },
  trimSuffix: {
    params: ['string', 'string'],
    fn: (x, str) => (s(x) !== '' && s(str).endsWith(s(x)) ? s(str).slice(0, -s(x).length) : s(str)),
  },
  nospace: { params: ['string'], fn: (a) => s(a).replace(/\s+/gu, '') },
  contains: { params: ['string', 'string'], fn: (sub, str) => s(str).includes(s(sub)) },
  hasPrefix: { params: ['string', 'string'], fn: (p, str) => s(str).startsWith(s(p)) },
  hasSuffix: { params: ['string', 'string'], fn: (x, str) => s(str).endsWith(s(x)) },
  replace: { params: ['string', 'string', 'string'], fn: (o, nw, str) => s(str).split(s(o)).join(s(nw)) },
  repeat: {
    params: ['int', 'string'],
    fn: (c, str) => {
      if (n(c) < 0) throw new FuncError('strings: negative Repeat count');
      return s(str).repeat(n(c));
    },
  },
  trunc: {
    params: ['int', 'string'],
    fn: (c, str) => {
      const b = bytes(s(str));
      if (n(c) < 0 && b.length + n(c) > 0) return b.subarray(b.length + n(c)).toString('utf8');
      if (n(c) >= 0 && b.length > n(c)) return b.subarray(0, n(c)).toString('utf8');
      return s(str);
    },
  },
  substr: {
    params: ['int', 'int', 'string'],
    fn: (start, end, str) => {
      const b = bytes(s(str));
      const [a, z] = [n(start), n(end)];
      if (a < 0) return b.subarray(0, z).toString('utf8');
      if (z < 0 || z > b.length) return b.subarray(a).toString('utf8');
      if (a > z) throw new FuncError(`slice bounds out of range [${a}:${z}]`);
      return b.subarray(a, z).toString('utf8');
    },
  },
  quote: {
    params: [],
    variadic: 'any',
    fn: (...a) =>
      a
        .filter((x) => x !== null)
        .map((x) => goQuote(strval(x)))
        .join(' '),
  },
  squote: {
    params: [],
    variadic: 'any',
    fn: (...a) =>
      a
        .filter((x) => x !== null)
        .map((x) => `'${strval(x)}'`)
        .join(' '),
  },
  cat: {
    params: [],
    variadic: 'any',
    fn: (...a) =>
      a
        .filter((x) => x !== null)
        .map(formatValue)
        .join(' '),
  },
  indent: { params: ['int', 'string'], fn: (c, str) => indent(n(c), s(str)) },
  nindent: { params: ['int', 'string'], fn: (c, str) => `\n${indent(n(c), s(str))}` },
  toString: { params: ['any'] as Kind[], fn: (a: GoValue) => strval(a) },
  splitList: { params: ['string', 'string'], fn: (sep, str) => strings(splitGo(s(str), s(sep))) },
  join: { params: ['string', 'any'], fn: (sep, v) => strslice(v).join(s(sep)) },
  sortAlpha: {
    params: ['any'],
    fn: (v) => strings(strslice(v).sort((a, b) => (a < b ? -1 : a > b ? 1 : 0))),
  },

  // Sprig: defaults and flow.
  default: {
    params: ['any'],
    variadic: 'any',
    fn: (d, ...given) => (given.length === 0 || empty(given[0]!) ? d : given[0]!),
  },
  empty: { params: ['any'], fn: (v) => empty(v) },
  coalesce: { params: [], variadic: 'any', fn: (...a) => a.find((x) => !empty(x)) ?? null },
  ternary: { params: ['any', 'any', 'bool'], fn: (t, f, c) => (c ? t : f) },
  fail: {
    params: ['string'],
    fn: (msg) => {
      throw new FuncError(s(msg));
    },
  },

  // Sprig: lists.
  list: { params: [], variadic: 'any', fn: (...a) => listOf(a) },
  tuple: { params: [], variadic: 'any', fn: (...a) => listOf(a) },
  first: { params: ['any'], fn: (v) => itemsOf(v, 'first')[0] ?? null },
  last: { params: ['any'], fn: (v) => itemsOf(v, 'last').at(-1) ?? null },
  rest: {
    params: ['any'],
    fn: (v) => (itemsOf(v, 'rest').length === 0 ? null : listOf(itemsOf(v, 'rest').slice(1))),
  },
  initial: {
    params: ['any'],
    fn: (v) => (itemsOf(v, 'initial').length === 0 ? null : listOf(itemsOf(v, 'initial').slice(0, -1))),
  },
  reverse: { params: ['any'], fn: (v) => listOf([...itemsOf(v, 'reverse')].reverse()) },
  uniq: { params: ['any'], fn: (v) => listOf(uniq(itemsOf(v, 'uniq'))) },
  compact: { params: ['any'], fn: (v) => listOf(itemsOf(v, 'compact').filter((x) => !empty(x))) },
  has: {
    params: ['any', 'any'],
    fn: (needle, hay) => (hay === null ? false : itemsOf(hay, 'has').some((x) => goEqual(x, needle))),
  },

  // Sprig: paths.
  base: {
    params: ['string'],
    fn: (p) => (s(p) === '' ? '.' : posix.basename(s(p).replace(/\/+$/, '')) || '/'),
  },
  dir: { params: ['string'], fn: (p) => goPathDir(s(p)) },
  ext: { params: ['string'], fn: (p) => goPathExt(s(p)) },

  // Sprig: arithmetic on int64.
  add1: { params: ['any'], fn: (a) => toInt(a) + 1 },
  add: { params: [], variadic: 'any', fn: (...a) => a.reduce<number>((x, y) => x + toInt(y), 0) },
  sub: { params: ['any', 'any'], fn: (a, b) => toInt(a) - toInt(b) },
  mul: {
    params: ['any'],
    variadic: 'any',
    fn: (a, ...r) => r.reduce<number>((x, y) => x * toInt(y), toInt(a)),
  },
};

function trimChars(str: string, cut: string): string {
  const set = new Set(cut);
  const chars = [...str];
  let a = 0;
  let z = chars.length;
  while (a < z && set.has(chars[a]!)) a++;
  while (z > a && set.has(chars[z - 1]!)) z--;
  return chars.slice(a, z).join('');
}

function indent(spaces: number, str: string): string {
  const pad = ' '.repeat(Math.max(0, spaces));
  return pad + str.split('\n').join(`\n${pad}`);
}

/** strings.Split: an empty separator splits after each character. */
function splitGo(str: string, sep: string): string[] {
  return sep === '' ? [...str] : str.split(sep);
}

function goPathDir(p: string): string {
  return p === '' ? '.' : posix.dirname(p);
}

/** path.Ext: from the last dot of the last element, or ''. */
function goPathExt(p: string): string {
  for (let i = p.length - 1; i >= 0 && p[i] !== '/'; i--) if (p[i] === '.') return p.slice(i);
  return '';
}

/**
 * Every other function of Go's builtins and Sprig's hermetic map: valid in Flux, refused here. A
 * name outside both sets is undefined, as Go reports it.
 */
const unsupported = new Set([
  'call',
  'html',
  'js',
  'urlquery',
  'slice',
  'hello',
  'ago',
  'durationRound',
  'must_date_modify',
  'mustDateModify',
  'mustToDate',
  'toDate',
  'unixEpoch',
  'abbrev',
  'abbrevboth',
  'initials',
  'swapcase',
  'shuffle',
  'snakecase',
  'camelcase',
  'kebabcase',
  'wrap',
  'wrapWith',
  'plural',
  'sha1sum',
  'sha256sum',
  'adler32sum',
  'atoi',
  'int64',
  'int',
  'float64',
  'toDecimal',
  'split',
  'splitn',
  'toStrings',
  'until',
  'untilStep',
  'div',
  'mod',
  'biggest',
  'max',
  'min',
  'ceil',
  'floor',
  'round',
  'mustCompact',
  'toJson',
  'toPrettyJson',
  'toRawJson',
  'mustToJson',
  'mustToPrettyJson',
  'mustToRawJson',
  'deepCopy',
  'mustDeepCopy',
  'typeOf',
  'typeIs',
  'typeIsLike',
  'kindOf',
  'kindIs',
  'deepEqual',
  'clean',
  'isAbs',
  'b64enc',
  'b64dec',
  'b32enc',
  'b32dec',
  'dict',
  'get',
  'set',
  'unset',
  'hasKey',
  'pluck',
  'keys',
  'pick',
  'omit',
  'merge',
  'mergeOverwrite',
  'mustMerge',
  'mustMergeOverwrite',
  'values',
  'append',
  'push',
  'mustAppend',
  'mustPush',
  'prepend',
  'mustPrepend',
  'mustFirst',
  'mustRest',
  'mustLast',
  'mustInitial',
  'mustReverse',
  'mustUniq',
  'without',
  'mustWithout',
  'mustHas',
  'mustSlice',
  'concat',
  'genPrivateKey',
  'derivePassword',
  'buildCustomCert',
  'genCA',
  'genSelfSignedCert',
  'genSignedCert',
  'encryptAES',
  'decryptAES',
  'semver',
  'semverCompare',
  'regexMatch',
  'mustRegexMatch',
  'regexFindAll',
  'mustRegexFindAll',
  'regexFind',
  'mustRegexFind',
  'regexReplaceAll',
  'mustRegexReplaceAll',
  'regexReplaceAllLiteral',
  'mustRegexReplaceAllLiteral',
  'regexSplit',
  'mustRegexSplit',
  'urlParse',
  'urlJoin',
]);

/** Whether a name is a function Tide renders ('ok'), Go has but Tide does not ('unsupported'), or neither. */
export function lookupFunction(name: string): 'ok' | 'unsupported' | undefined {
  if (name === 'and' || name === 'or' || Object.hasOwn(functions, name)) return 'ok';
  return unsupported.has(name) ? 'unsupported' : undefined;
}
