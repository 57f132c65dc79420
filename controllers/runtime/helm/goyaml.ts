// YAML exactly as Go's go-yaml v2 (go.yaml.in/yaml/v2 v2.4) encodes JSON-like values, for digests that
// must equal Flux's: fluxcd/pkg chartutil.DigestValues hashes this encoding of a HelmRelease's values
// (keys sorted, sigs.k8s.io/yaml's JSONObjectToYAMLObject number rules). A port of the emitter's
// scalar analysis, style selection and writers (plain, quoted, literal; lines folded past 80
// columns), and of the resolver that decides which strings need quotes. Only what JSON-like values
// produce is covered: maps with string keys, lists, strings, numbers, booleans and null.

const BEST_INDENT = 2;
const BEST_WIDTH = 80;

type Style = 'plain' | 'single' | 'double' | 'literal';

interface Emitter {
  out: number[];
  column: number;
  indent: number;
  indents: number[];
  whitespace: boolean;
  indention: boolean;
  flowLevel: number;
  mappingContext: boolean;
  simpleKeyContext: boolean;
}

interface Analysis {
  multiline: boolean;
  flowPlainAllowed: boolean;
  blockPlainAllowed: boolean;
  singleQuotedAllowed: boolean;
  blockAllowed: boolean;
}

// ---- characters (over UTF-8 bytes, as the emitter reads them) -------------------------------------

function width(b: number): number {
  if ((b & 0x80) === 0) return 1;
  if ((b & 0xe0) === 0xc0) return 2;
  if ((b & 0xf0) === 0xe0) return 3;
  if ((b & 0xf8) === 0xf0) return 4;
  return 0;
}

const isSpace = (b: Uint8Array, i: number) => b[i] === 0x20;
const isBlank = (b: Uint8Array, i: number) => b[i] === 0x20 || b[i] === 0x09;

function isBreak(b: Uint8Array, i: number): boolean {
  return (
    b[i] === 0x0d ||
    b[i] === 0x0a ||
    (b[i] === 0xc2 && b[i + 1] === 0x85) ||
    (b[i] === 0xe2 && b[i + 1] === 0x80 && (b[i + 2] === 0xa8 || b[i + 2] === 0xa9))
  );
}

const isBlankz = (b: Uint8Array, i: number) => isBlank(b, i) || isBreak(b, i) || b[i] === 0 || i >= b.length;

function isPrintable(b: Uint8Array, i: number): boolean {
  const c = b[i] as number;
  const n = b[i + 1] as number;
  return (
    c === 0x0a ||
    (c >= 0x20 && c <= 0x7e) ||
    (c === 0xc2 && n >= 0xa0) ||
    (c > 0xc2 && c < 0xed) ||
    (c === 0xed && n < 0xa0) ||
    c === 0xee ||
    (c === 0xef &&
      !(n === 0xbb && b[i + 2] === 0xbf) &&
      !(n === 0xbf && (b[i + 2] === 0xbe || b[i + 2] === 0xbf)))
  );
}

// The emitter's is_bom looks at the start of the value whatever the index (sic).
const isBom = (b: Uint8Array) => b[0] === 0xef && b[1] === 0xbb && b[2] === 0xbf;

// ---- output ------------------------------------------------------------------------------------

function put(e: Emitter, byte: number): void {
  e.out.push(byte);
  e.column++;
}

function putBreak(e: Emitter): void {
  e.out.push(0x0a);
  e.column = 0;
}

/** Copies one character; the column counts characters, not bytes. */
function write(e: Emitter, s: Uint8Array, i: number): number {
  const w = width(s[i] as number);
  for (let k = 0; k < w; k++) e.out.push(s[i + k] as number);
  e.column++;
  return i + w;
}

function writeAll(e: Emitter, s: string): void {
  const b = Buffer.from(s);
  for (let i = 0; i < b.length; ) i = write(e, b, i);
}

function writeBreak(e: Emitter, s: Uint8Array, i: number): number {
  if (s[i] === 0x0a) {
    putBreak(e);
    return i + 1;
  }
  const next = write(e, s, i);
  e.column = 0;
  return next;
}

function writeIndent(e: Emitter): void {
  const indent = Math.max(e.indent, 0);
  if (!e.indention || e.column > indent || (e.column === indent && !e.whitespace)) putBreak(e);
  while (e.column < indent) put(e, 0x20);
  e.whitespace = true;
  e.indention = true;
}

function writeIndicator(
  e: Emitter,
  indicator: string,
  needWhitespace: boolean,
  isWhitespace: boolean,
  isIndention: boolean,
): void {
  if (needWhitespace && !e.whitespace) put(e, 0x20);
  writeAll(e, indicator);
  e.whitespace = isWhitespace;
  e.indention = e.indention && isIndention;
}

function increaseIndent(e: Emitter, flow: boolean, indentless: boolean): void {
  e.indents.push(e.indent);
  if (e.indent < 0) e.indent = flow ? BEST_INDENT : 0;
  else if (!indentless) e.indent += BEST_INDENT;
}

function popIndent(e: Emitter): void {
  e.indent = e.indents.pop() as number;
}

// ---- scalars -----------------------------------------------------------------------------------

/** The indicators a character is: at the start of a value, or after its first character. */
function charIndicators(c: string, first: boolean, followedByWs: boolean, precededByWs: boolean) {
  if (first && '#,[]{}&*!|>\'"%@`'.includes(c)) return { block: true, flow: true };
  if (c === ':' || (first && c === '?')) return { block: followedByWs, flow: true };
  if (first) return { block: c === '-' && followedByWs, flow: c === '-' && followedByWs };
  if (',?[]{}'.includes(c)) return { block: false, flow: true };
  return { block: c === '#' && precededByWs, flow: c === '#' && precededByWs };
}

/** Whether the value holds YAML indicators that a plain scalar in block (or flow) context cannot. */
function indicators(value: Uint8Array): { block: boolean; flow: boolean } {
  const head = String.fromCharCode(value[0] as number, value[1] ?? 0, value[2] ?? 0);
  let block = value.length >= 3 && (head === '---' || head === '...');
  let flow = block;
  let precededByWs = true;
  for (let i = 0, w = 0; i < value.length; i += w) {
    w = width(value[i] as number);
    const followedByWs = i + w >= value.length || isBlank(value, i + w);
    const ind = charIndicators(String.fromCharCode(value[i] as number), i === 0, followedByWs, precededByWs);
    block ||= ind.block;
    flow ||= ind.flow;
    precededByWs = isBlankz(value, i);
  }
  return { block, flow };
}

/** Where spaces and line breaks sit, and whether anything must be escaped. */
function spacing(value: Uint8Array) {
  const f = { lineBreaks: false, special: false, leadingSpace: false, leadingBreak: false };
  const g = { trailingSpace: false, trailingBreak: false, breakSpace: false, spaceBreak: false };
  let previousSpace = false;
  let previousBreak = false;
  for (let i = 0, w = 0; i < value.length; i += w) {
    w = width(value[i] as number);
    const last = i + w === value.length;
    if (!isPrintable(value, i)) f.special = true;
    if (isSpace(value, i)) {
      f.leadingSpace ||= i === 0;
      g.trailingSpace ||= last;
      g.breakSpace ||= previousBreak;
      [previousSpace, previousBreak] = [true, false];
    } else if (isBreak(value, i)) {
      f.lineBreaks = true;
      f.leadingBreak ||= i === 0;
      g.trailingBreak ||= last;
      g.spaceBreak ||= previousSpace;
      [previousSpace, previousBreak] = [false, true];
    } else {
      [previousSpace, previousBreak] = [false, false];
    }
  }
  return { ...f, ...g };
}

/** The emitter's yaml_emitter_analyze_scalar: which styles can carry the value. */
function analyze(value: Uint8Array): Analysis {
  if (value.length === 0) {
    return {
      multiline: false,
      flowPlainAllowed: false,
      blockPlainAllowed: true,
      singleQuotedAllowed: true,
      blockAllowed: false,
    };
  }
  const ind = indicators(value);
  const sp = spacing(value);
  const edges = sp.leadingSpace || sp.leadingBreak || sp.trailingSpace || sp.trailingBreak;
  const unquotable = sp.spaceBreak || sp.special;
  const plain = !edges && !sp.breakSpace && !unquotable && !sp.lineBreaks;
  return {
    multiline: sp.lineBreaks,
    flowPlainAllowed: plain && !ind.flow,
    blockPlainAllowed: plain && !ind.block,
    singleQuotedAllowed: !sp.breakSpace && !unquotable,
    blockAllowed: !sp.trailingSpace && !unquotable,
  };
}

function selectStyle(e: Emitter, requested: Style, value: Uint8Array, a: Analysis): Style {
  let style = requested;
  if (e.simpleKeyContext && a.multiline) style = 'double';
  if (style === 'plain') {
    if ((e.flowLevel > 0 && !a.flowPlainAllowed) || (e.flowLevel === 0 && !a.blockPlainAllowed))
      style = 'single';
    if (value.length === 0 && (e.flowLevel > 0 || e.simpleKeyContext)) style = 'single';
  }
  if (style === 'single' && !a.singleQuotedAllowed) style = 'double';
  if (style === 'literal' && (!a.blockAllowed || e.flowLevel > 0 || e.simpleKeyContext)) style = 'double';
  return style;
}

/** A space of a plain or single-quoted scalar: past the width, a single space becomes a line fold. */
function writeSpace(e: Emitter, v: Uint8Array, i: number, mayFold: boolean): number {
  if (mayFold && e.column > BEST_WIDTH && i > 0 && i < v.length - 1 && !isSpace(v, i + 1)) {
    writeIndent(e);
    return i + 1;
  }
  return write(e, v, i);
}

function openFlowText(e: Emitter, quoted: boolean): void {
  if (quoted) writeIndicator(e, "'", true, false, false);
  else if (!e.whitespace) put(e, 0x20);
}

/**
 * A plain or single-quoted scalar: long lines fold at a single space past the width, line breaks are
 * doubled. (The writers differ only in quoting: a plain scalar never starts or ends with a space.)
 */
function writeFlowText(e: Emitter, v: Uint8Array, allowBreaks: boolean, quoted: boolean): void {
  openFlowText(e, quoted);
  let spaces = false;
  let breaks = false;
  for (let i = 0; i < v.length; ) {
    if (isSpace(v, i)) {
      i = writeSpace(e, v, i, allowBreaks && !spaces);
      spaces = true;
    } else if (isBreak(v, i)) {
      // A single line break would read back as a space: the first one is doubled.
      if (!breaks && v[i] === 0x0a) putBreak(e);
      i = writeBreak(e, v, i);
      e.indention = true;
      breaks = true;
    } else {
      if (breaks) writeIndent(e);
      const doubled = quoted && v[i] === 0x27;
      if (doubled) put(e, 0x27);
      i = write(e, v, i);
      e.indention = false;
      spaces = false;
      breaks = false;
    }
  }
  if (quoted) writeIndicator(e, "'", false, false, false);
  e.whitespace = false;
  e.indention = false;
}

const ESCAPES: Record<number, string> = {
  0: '0',
  7: 'a',
  8: 'b',
  9: 't',
  10: 'n',
  11: 'v',
  12: 'f',
  13: 'r',
  27: 'e',
  34: '"',
  92: '\\',
  133: 'N',
  160: '_',
  8232: 'L',
  8233: 'P',
};

function writeEscape(e: Emitter, v: Uint8Array, i: number): number {
  const w = width(v[i] as number);
  const cp = Buffer.from(v.subarray(i, i + w))
    .toString('utf8')
    .codePointAt(0) as number;
  put(e, 0x5c);
  const short = ESCAPES[cp];
  if (short) writeAll(e, short);
  else {
    const [letter, digits] = cp <= 0xff ? ['x', 2] : cp <= 0xffff ? ['u', 4] : ['U', 8];
    writeAll(
      e,
      `${letter}${cp
        .toString(16)
        .toUpperCase()
        .padStart(digits as number, '0')}`,
    );
  }
  return i + w;
}

function writeDoubleQuoted(e: Emitter, v: Uint8Array, allowBreaks: boolean): void {
  let spaces = false;
  writeIndicator(e, '"', true, false, false);
  for (let i = 0; i < v.length; ) {
    // The encoder allows unicode, so only unprintable characters (and quotes, breaks) are escaped.
    if (!isPrintable(v, i) || isBom(v) || isBreak(v, i) || v[i] === 0x22 || v[i] === 0x5c) {
      i = writeEscape(e, v, i);
      spaces = false;
    } else if (isSpace(v, i)) {
      if (allowBreaks && !spaces && e.column > BEST_WIDTH && i > 0 && i < v.length - 1) {
        writeIndent(e);
        if (isSpace(v, i + 1)) put(e, 0x5c);
        i += 1;
      } else i = write(e, v, i);
      spaces = true;
    } else {
      i = write(e, v, i);
      spaces = false;
    }
  }
  writeIndicator(e, '"', false, false, false);
  e.whitespace = false;
  e.indention = false;
}

function lastCharStart(v: Uint8Array, end: number): number {
  let i = end;
  while (i > 0 && ((v[i] as number) & 0xc0) === 0x80) i--;
  return i;
}

function writeLiteral(e: Emitter, v: Uint8Array): void {
  writeIndicator(e, '|', true, false, false);
  if (isSpace(v, 0) || isBreak(v, 0)) writeIndicator(e, String(BEST_INDENT), false, false, false);
  let chomp = '';
  if (v.length === 0) chomp = '-';
  else {
    let i = lastCharStart(v, v.length - 1);
    if (!isBreak(v, i)) chomp = '-';
    else if (i === 0) chomp = '+';
    else {
      i = lastCharStart(v, i - 1);
      if (isBreak(v, i)) chomp = '+';
    }
  }
  if (chomp) writeIndicator(e, chomp, false, false, false);
  putBreak(e);
  e.indention = true;
  e.whitespace = true;
  let breaks = true;
  for (let i = 0; i < v.length; ) {
    if (isBreak(v, i)) {
      i = writeBreak(e, v, i);
      e.indention = true;
      breaks = true;
    } else {
      if (breaks) writeIndent(e);
      i = write(e, v, i);
      e.indention = false;
      breaks = false;
    }
  }
}

function emitScalar(e: Emitter, text: string, requested: Style, ctx: Context): void {
  const v = Buffer.from(text);
  setContext(e, ctx);
  const style = selectStyle(e, requested, v, analyze(v));
  increaseIndent(e, true, false);
  const allowBreaks = !e.simpleKeyContext;
  if (style === 'plain' || style === 'single') writeFlowText(e, v, allowBreaks, style === 'single');
  else if (style === 'double') writeDoubleQuoted(e, v, allowBreaks);
  else writeLiteral(e, v);
  popIndent(e);
}

// ---- the resolver: what a plain scalar reads back as --------------------------------------------

const RESERVED = new Map<string, unknown>();
for (const [value, words] of [
  [true, 'y Y yes Yes YES true True TRUE on On ON'],
  [false, 'n N no No NO false False FALSE off Off OFF'],
  [null, '~ null Null NULL'],
  [Number.NaN, '.nan .NaN .NAN'],
  [Number.POSITIVE_INFINITY, '.inf .Inf .INF +.inf +.Inf +.INF'],
  [Number.NEGATIVE_INFINITY, '-.inf -.Inf -.INF'],
] as const) {
  for (const w of words.split(' ')) RESERVED.set(w, value);
}

const yamlStyleFloat = /^[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?$/;
const base60Float = /^[-+]?[0-9][0-9_]*(?::[0-5]?[0-9])+(?:\.[0-9_]*)?$/;

/** Go's strconv.ParseInt(s, 0, 64), else ParseUint(s, 0, 64); undefined when both fail. */
function goInt(s: string): bigint | undefined {
  const m = /^([+-]?)(0[xX][0-9a-fA-F]+|0[oO][0-7]+|0[bB][01]+|0[0-7]*|[1-9][0-9]*)$/.exec(s);
  if (!m) return undefined;
  const body = m[2] as string;
  const n = BigInt(/^0[0-7]+$/.test(body) ? `0o${body.slice(1)}` : body);
  const signed = m[1] === '-' ? -n : n;
  if (signed >= -(2n ** 63n) && signed < 2n ** 63n) return signed;
  return m[1] === '' && n < 2n ** 64n ? n : undefined;
}

/** Go's ParseFloat: no overflow to infinity. */
const goFloat = (s: string): number | undefined => {
  const f = Number(s);
  return Number.isFinite(f) ? f : undefined;
};

const daysIn = (month: number, year: number) => new Date(Date.UTC(year, month, 0)).getUTCDate();

/** One of the timestamp layouts go-yaml v2 recognizes, with Go's time.Parse range checks. */
function isTimestamp(s: string): boolean {
  if (!/^[0-9]{4}-/.test(s)) return false;
  const m =
    /^([0-9]{4})-([0-9]{1,2})-([0-9]{1,2})(?:(?:[Tt]([0-9]{1,2}):([0-9]{1,2}):([0-9]{1,2})(?:[.,][0-9]+)?(Z|[+-][0-9]{2}:[0-9]{2}))|(?: ([0-9]{1,2}):([0-9]{1,2}):([0-9]{1,2})(?:[.,][0-9]+)?))?$/.exec(
      s,
    );
  if (!m) return false;
  const [year, month, day] = [Number(m[1]), Number(m[2]), Number(m[3])];
  if (month < 1 || month > 12 || day < 1 || day > daysIn(month, year)) return false;
  const [h, min, sec] = m[4] !== undefined ? [m[4], m[5], m[6]] : [m[8], m[9], m[10]];
  if (h !== undefined && (Number(h) > 23 || Number(min) > 59 || Number(sec) > 59)) return false;
  const zone = m[7];
  if (zone && zone !== 'Z' && (Number(zone.slice(1, 3)) > 24 || Number(zone.slice(4, 6)) > 60)) return false;
  return true;
}

export type GoScalarTag = 'str' | 'null' | 'bool' | 'int' | 'float' | 'timestamp';

/**
 * What go-yaml v2 makes of a plain scalar (its resolve()): the tag, and the value as it reaches a
 * JSON-like tree through sigs.k8s.io/yaml (integers become float64 numbers; timestamps stay strings).
 */
export function resolveGoScalar(s: string): { tag: GoScalarTag; value: unknown } {
  const str = { tag: 'str' as const, value: s };
  const hint = hintOf(s);
  if (!hint) return str;
  if (s === '') return { tag: 'null', value: null };
  if (RESERVED.has(s)) {
    const value = RESERVED.get(s);
    return { tag: typeof value === 'boolean' ? 'bool' : value === null ? 'null' : 'float', value };
  }
  if (hint === 'M') return str;
  if (hint === '.') {
    const f = /^\.[0-9]+([eE][-+]?[0-9]+)?$/.test(s) ? goFloat(s) : undefined;
    return f === undefined ? str : { tag: 'float', value: f };
  }
  return resolveNumeric(s) ?? str;
}

/** go-yaml's resolve table: the first character says which kinds a plain scalar may be. */
function hintOf(s: string): string {
  const c = s[0] ?? '';
  if (s === '') return 'N';
  if (c === '+' || c === '-') return 'S';
  if (c >= '0' && c <= '9') return 'D';
  if ('yYnNtTfFoO~'.includes(c)) return 'M';
  return c === '.' ? '.' : '';
}

/** A scalar starting with a digit or sign: timestamp, integer (any base, `_` ignored) or float. */
function resolveNumeric(s: string): { tag: GoScalarTag; value: unknown } | undefined {
  if (isTimestamp(s)) return { tag: 'timestamp', value: s };
  const plain = s.replaceAll('_', '');
  const i = goInt(plain);
  if (i !== undefined) return { tag: 'int', value: Number(i) };
  const f = yamlStyleFloat.test(plain) ? goFloat(plain) : undefined;
  return f === undefined ? undefined : { tag: 'float', value: f };
}

function stringStyle(s: string): Style {
  if (s.includes('\n')) return 'literal';
  return resolveGoScalar(s).tag === 'str' && !base60Float.test(s) ? 'plain' : 'double';
}

// ---- numbers: sigs.k8s.io/yaml turns integral floats into ints, as go-yaml would -------------------

/** strconv.FormatFloat(f, 'g', -1, 64). */
export function formatGoFloat(f: number): string {
  if (Number.isNaN(f)) return '.nan';
  if (!Number.isFinite(f)) return f > 0 ? '.inf' : '-.inf';
  const [mantissa = '', expText = '0'] = Math.abs(f).toExponential().split('e');
  const exp = Number(expText);
  const digits = mantissa.replace('.', '');
  const sign = f < 0 ? '-' : '';
  if (exp < -4 || exp >= 6) {
    const frac = digits.length > 1 ? `.${digits.slice(1)}` : '';
    return `${sign}${digits[0]}${frac}e${exp < 0 ? '-' : '+'}${String(Math.abs(exp)).padStart(2, '0')}`;
  }
  if (exp < 0) return `${sign}0.${'0'.repeat(-exp - 1)}${digits}`;
  const int = digits.slice(0, exp + 1).padEnd(exp + 1, '0');
  const rest = digits.slice(exp + 1);
  return `${sign}${int}${rest ? `.${rest}` : ''}`;
}

function formatNumber(n: number): string {
  if (Number.isInteger(n)) {
    // int64 when it fits, else uint64 when it fits, else a float.
    if (n >= -(2 ** 63) && n < 2 ** 63) return BigInt(n).toString();
    if (n >= 0 && n < 2 ** 64) return BigInt(n).toString();
  }
  return formatGoFloat(n);
}

// ---- nodes -------------------------------------------------------------------------------------

interface Context {
  mapping: boolean;
  simpleKey: boolean;
}

function setContext(e: Emitter, ctx: Context): void {
  e.mappingContext = ctx.mapping;
  e.simpleKeyContext = ctx.simpleKey;
}

const utf8Compare = (a: string, b: string) => Buffer.compare(Buffer.from(a), Buffer.from(b));

function isMapValue(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function emitFlowEmpty(e: Emitter, open: string, close: string, ctx: Context): void {
  setContext(e, ctx);
  writeIndicator(e, open, true, true, false);
  increaseIndent(e, true, false);
  popIndent(e);
  writeIndicator(e, close, false, false, false);
}

function emitSequence(e: Emitter, v: unknown[], ctx: Context): void {
  if (v.length === 0) {
    emitFlowEmpty(e, '[', ']', ctx);
    return;
  }
  setContext(e, ctx);
  // In a mapping, after `key:`, a block sequence is not indented further.
  increaseIndent(e, false, e.mappingContext && !e.indention);
  for (const item of v) {
    writeIndent(e);
    writeIndicator(e, '-', true, false, true);
    emitNode(e, item, { mapping: false, simpleKey: false });
  }
  popIndent(e);
}

function emitMapping(e: Emitter, v: Record<string, unknown>, ctx: Context): void {
  const keys = Object.keys(v).sort(utf8Compare);
  if (keys.length === 0) {
    emitFlowEmpty(e, '{', '}', ctx);
    return;
  }
  setContext(e, ctx);
  increaseIndent(e, false, false);
  for (const key of keys) emitPair(e, key, v[key]);
  popIndent(e);
}

function scalarOf(v: unknown): [string, Style] | undefined {
  if (v === null || v === undefined) return ['null', 'plain'];
  if (typeof v === 'boolean') return [v ? 'true' : 'false', 'plain'];
  if (typeof v === 'number') return [formatNumber(v), 'plain'];
  if (typeof v === 'bigint') return [v.toString(), 'plain'];
  if (typeof v === 'string') return [v, stringStyle(v)];
  return undefined;
}

function emitNode(e: Emitter, v: unknown, ctx: Context): void {
  const scalar = scalarOf(v);
  if (scalar) emitScalar(e, scalar[0], scalar[1], ctx);
  else if (Array.isArray(v)) emitSequence(e, v, ctx);
  else if (isMapValue(v)) emitMapping(e, v, ctx);
  else throw new TypeError(`cannot encode a ${typeof v} as YAML`);
}

function emitPair(e: Emitter, key: string, value: unknown): void {
  writeIndent(e);
  const k = Buffer.from(key);
  const simple = !analyze(k).multiline && k.length <= 128;
  if (simple) {
    emitNode(e, key, { mapping: true, simpleKey: true });
    writeIndicator(e, ':', false, false, false);
  } else {
    writeIndicator(e, '?', true, false, true);
    emitNode(e, key, { mapping: true, simpleKey: false });
    writeIndent(e);
    writeIndicator(e, ':', true, false, true);
  }
  emitNode(e, value, { mapping: true, simpleKey: false });
}

/**
 * The document go-yaml v2's Encoder writes for a map (keys sorted by bytes), as Flux's chartutil.Encode
 * with SortMapSlice produces it.
 */
export function encodeGoYaml(values: Record<string, unknown>): Buffer {
  const e: Emitter = {
    out: [],
    column: 0,
    indent: -1,
    indents: [],
    whitespace: true,
    indention: true,
    flowLevel: 0,
    mappingContext: false,
    simpleKeyContext: false,
  };
  emitNode(e, values, { mapping: false, simpleKey: false });
  writeIndent(e);
  return Buffer.from(e.out);
}
