// Helm's `--set` syntax (helm.sh/helm/v4 pkg/strvals), which Flux uses for a ValuesReference's
// targetPath: `a.b=v`, list indexes `a[0].b=v`, nested lists `a[0][1]=v`, `\.` and `\,` escapes, `{x,y}`
// lists and typed values (true/false/null, integers; everything as a string with ParseIntoString). The
// parse writes into `dest` in place, as Go does: maps and lists that `dest` shares with other values
// change for them too, which Flux's values composition relies on.

/** Helm's limits. */
const MAX_INDEX = 65536;
const MAX_NESTED_NAME_LEVEL = 30;

type Values = Record<string, unknown>;

/** End of input; a clean end of the parse wherever it surfaces (Go's io.EOF, also when wrapped). */
class Eof extends Error {}
class NotList extends Error {}
/** A failed type assertion, which Go's parser recovers from as "unable to parse key". */
class Panic extends Error {}

/** The Go type name of a value, for the messages of failed type assertions. */
function goType(v: unknown): string {
  if (v === null || v === undefined) return 'nil';
  if (Array.isArray(v)) return '[]interface {}';
  const names: Record<string, string> = {
    object: 'map[string]interface {}',
    string: 'string',
    boolean: 'bool',
  };
  return names[typeof v] ?? (Number.isInteger(v) ? 'int64' : 'float64');
}

function assertList(v: unknown): unknown[] {
  if (Array.isArray(v)) return v;
  throw new Panic(
    v === null || v === undefined
      ? 'interface conversion: interface is nil, not []interface {}'
      : `interface conversion: interface {} is ${goType(v)}, not []interface {}`,
  );
}

function assertMap(v: unknown): Values {
  if (typeof v === 'object' && v !== null && !Array.isArray(v)) return v as Values;
  throw new Panic(
    v === null || v === undefined
      ? 'interface conversion: interface is nil, not map[string]interface {}'
      : `interface conversion: interface {} is ${goType(v)}, not map[string]interface {}`,
  );
}

const quote = (s: string) => JSON.stringify(s);

function wrap(prefix: string, err: unknown): Error {
  const e = err as Error;
  return e instanceof Eof ? new Eof(`${prefix}${e.message}`) : new Error(`${prefix}${e.message}`);
}

class Scanner {
  private readonly runes: string[];
  private pos = 0;
  constructor(s: string) {
    this.runes = [...s];
  }
  read(): string | undefined {
    const r = this.runes[this.pos];
    if (r !== undefined) this.pos++;
    return r;
  }
  unread(): void {
    this.pos--;
  }
}

/** Runes up to one of `stop` (consumed, returned as `last`), with `\x` giving x; `last` undefined at EOF. */
function runesUntil(sc: Scanner, stop: string): { text: string; last: string | undefined } {
  let text = '';
  for (;;) {
    const r = sc.read();
    if (r === undefined) return { text, last: undefined };
    if (stop.includes(r)) return { text, last: r };
    if (r === '\\') {
      const next = sc.read();
      if (next === undefined) return { text, last: undefined };
      text += next;
    } else text += r;
  }
}

function parseInt64(s: string): number | undefined {
  if (!/^[+-]?[0-9]+$/.test(s)) return undefined;
  const n = BigInt(s);
  // int64 beyond ±2^53 loses precision as a JS number.
  return n >= -(2n ** 63n) && n < 2n ** 63n ? Number(n) : undefined;
}

function typedVal(v: string, asString: boolean): unknown {
  if (asString) return v;
  const lower = v.toLowerCase();
  if (lower === 'true') return true;
  if (lower === 'false') return false;
  if (lower === 'null') return null;
  if (v === '0') return 0;
  if (v !== '' && v[0] !== '0') {
    const n = parseInt64(v);
    if (n !== undefined) return n;
  }
  return v;
}

function atoi(s: string): number {
  if (!/^[+-]?[0-9]+$/.test(s)) throw new Error(`strconv.Atoi: parsing ${quote(s)}: invalid syntax`);
  const n = BigInt(s);
  if (n < -(2n ** 63n) || n >= 2n ** 63n)
    throw new Error(`strconv.Atoi: parsing ${quote(s)}: value out of range`);
  return Number(n);
}

const has = (data: Values, key: string) => Object.hasOwn(data, key);

function set(data: Values, key: string, val: unknown): void {
  // defineProperty: a key named __proto__ is a key, not the prototype.
  if (key !== '')
    Object.defineProperty(data, key, { value: val, enumerable: true, writable: true, configurable: true });
}

/** Sets list[index], in place when the list is long enough, else in a longer copy (Go's append-less copy). */
function setIndex(list: unknown[], index: number, val: unknown): unknown[] {
  if (index < 0) throw new Error(`negative ${index} index not allowed`);
  if (index > MAX_INDEX) {
    throw new Error(`index of ${index} is greater than maximum supported index of ${MAX_INDEX}`);
  }
  let out = list;
  if (list.length <= index) {
    out = new Array(index + 1).fill(null);
    for (let i = 0; i < list.length; i++) out[i] = list[i];
  }
  out[index] = val;
  return out;
}

class Parser {
  private readonly sc: Scanner;
  private readonly data: Values;
  private readonly asString: boolean;
  constructor(sc: Scanner, data: Values, asString: boolean) {
    this.sc = sc;
    this.data = data;
    this.asString = asString;
  }

  parse(): void {
    for (;;) {
      try {
        this.key(this.data, 0);
      } catch (err) {
        if (err instanceof Eof) return;
        throw err;
      }
    }
  }

  private key(data: Values, level: number): void {
    try {
      this.keyOf(data, level);
    } catch (err) {
      if (err instanceof Panic) throw new Error(`unable to parse key: ${err.message}`);
      throw err;
    }
  }

  private keyOf(data: Values, level: number): void {
    const { text: k, last } = runesUntil(this.sc, '=[,.');
    if (last === undefined) {
      if (k.length === 0) throw new Eof('EOF');
      throw new Error(`key ${quote(k)} has no value`);
    }
    if (last === '[') {
      let i: number;
      try {
        i = this.keyIndex();
      } catch (err) {
        throw wrap('error parsing index: ', err);
      }
      const list = has(data, k) ? assertList(data[k]) : [];
      const { list: out, error } = this.listItem(list, i, level);
      set(data, k, out);
      if (error) throw error;
      return;
    }
    if (last === '=') {
      this.assign(data, k);
      return;
    }
    if (last === ',') {
      set(data, k, '');
      throw new Error(`key ${quote(k)} has no value (cannot end with ,)`);
    }
    // last === '.'
    if (level + 1 > MAX_NESTED_NAME_LEVEL) {
      throw new Error(
        `value name nested level is greater than maximum supported nested level of ${MAX_NESTED_NAME_LEVEL}`,
      );
    }
    const inner = has(data, k) ? assertMap(data[k]) : {};
    let error: unknown;
    try {
      this.key(inner, level + 1);
    } catch (err) {
      error = err;
    }
    const empty = Object.keys(inner).length === 0;
    if (!error && empty) throw new Error(`key map ${quote(k)} has no value`);
    if (!empty) set(data, k, inner);
    if (error) throw error;
  }

  /** `k=` seen: a `{a,b}` list or a single value. */
  private assign(data: Values, k: string): void {
    let list: unknown[];
    try {
      list = this.valList();
    } catch (err) {
      if (err instanceof Eof) {
        set(data, k, '');
        throw err;
      }
      if (!(err instanceof NotList)) throw err;
      // Go drops the end of input here; the next key() finds it.
      set(data, k, typedVal(runesUntil(this.sc, ',').text, this.asString));
      return;
    }
    set(data, k, list);
  }

  private keyIndex(): number {
    const { text, last } = runesUntil(this.sc, ']');
    if (last === undefined) throw new Eof('EOF');
    return atoi(text);
  }

  private listItem(list: unknown[], i: number, level: number): { list: unknown[]; error?: Error } {
    try {
      return { list: this.listItemOf(list, i, level) };
    } catch (err) {
      if (err instanceof Panic) throw err;
      return { list, error: err as Error };
    }
  }

  private listItemOf(list: unknown[], i: number, level: number): unknown[] {
    if (i < 0) throw new Error(`negative ${i} index not allowed`);
    const { text: k, last } = runesUntil(this.sc, '[.=');
    if (k.length > 0) throw new Error(`unexpected data at end of array index: ${quote(k)}`);
    if (last === undefined) throw new Eof('EOF');
    if (last === '=') return setIndex(list, i, this.itemValue());
    if (last === '[') return setIndex(list, i, this.nestedList(list, i, level));
    // last === '.': a map in the list; an item of another type is replaced by an empty map.
    let inner: Values = {};
    if (list.length > i) {
      const item = list[i];
      if (typeof item === 'object' && item !== null && !Array.isArray(item)) inner = item as Values;
      else list[i] = inner;
    }
    this.key(inner, level);
    return setIndex(list, i, inner);
  }

  /** The value after `[i]=`: a list, a single value, or '' at the end of input. */
  private itemValue(): unknown {
    try {
      return this.valList();
    } catch (err) {
      if (err instanceof Eof) return '';
      if (!(err instanceof NotList)) throw err;
      return typedVal(runesUntil(this.sc, ',').text, this.asString);
    }
  }

  /** `[i][j]…`: the list at list[i] (created when absent) with its item set. */
  private nestedList(list: unknown[], i: number, level: number): unknown[] {
    let next: number;
    try {
      next = this.keyIndex();
    } catch (err) {
      throw wrap('error parsing index: ', err);
    }
    const existed = list.length > i ? list[i] : undefined;
    const current = existed === null || existed === undefined ? [] : assertList(existed);
    const { list: inner, error } = this.listItem(current, next, level);
    if (error) throw error;
    return inner;
  }

  /** `{a,b,c}` after `=`; NotList when the value does not start with `{`. */
  private valList(): unknown[] {
    const r = this.sc.read();
    if (r === undefined) throw new Eof('EOF');
    if (r !== '{') {
      this.sc.unread();
      throw new NotList();
    }
    const list: unknown[] = [];
    for (;;) {
      const { text, last } = runesUntil(this.sc, ',}');
      if (last === undefined) throw new Error("list must terminate with '}'");
      list.push(typedVal(text, this.asString));
      if (last === '}') {
        const after = this.sc.read();
        if (after !== undefined && after !== ',') this.sc.unread();
        return list;
      }
    }
  }
}

/** Parses `name=value[,name=value…]` into dest (strvals.ParseInto): values are typed. */
export function parseInto(s: string, dest: Values): void {
  new Parser(new Scanner(s), dest, false).parse();
}

/** Like parseInto, but every value stays a string (strvals.ParseIntoString, `--set-string`). */
export function parseIntoString(s: string, dest: Values): void {
  new Parser(new Scanner(s), dest, true).parse();
}
