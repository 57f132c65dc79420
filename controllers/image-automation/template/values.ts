// The Go values a commit message template sees, modelled closely enough to behave as Go's
// text/template does with them: each composite value carries its Go type name (for error messages and
// the `can't evaluate field` checks Flux relies on), maps iterate in Go's sorted key order, and
// printing follows fmt's %v.

/** text/template's invalid value: a missing map key. Printed as `<no value>`, false in `if`. */
export const NO_VALUE: unique symbol = Symbol('no value');

export type GoValue = string | number | boolean | null | typeof NO_VALUE | GoList | GoMap | GoStruct;

export class GoList {
  /** e.g. `[]update.Change`. */
  readonly type: string;
  readonly items: GoValue[];

  constructor(type: string, items: GoValue[]) {
    this.type = type;
    this.items = items;
  }
}

export class GoMap {
  /** e.g. `map[string]string`, `update.ObjectChanges`. */
  readonly type: string;
  readonly entries: [GoValue, GoValue][];
  /** The zero value of the element type (what `index` gives for a missing key). */
  readonly zero: () => GoValue;
  /** The key type; `.key` field syntax looks keys up only in string-keyed maps. */
  readonly keyType: string;

  constructor(type: string, keyType: string, entries: [GoValue, GoValue][], zero: () => GoValue) {
    this.type = type;
    this.keyType = keyType;
    // Go visits map keys in sorted order (fmtsort), in range and when printing.
    this.entries = [...entries].sort((a, b) => compareKeys(a[0], b[0]));
    this.zero = zero;
  }

  get(key: GoValue): GoValue | undefined {
    return this.entries.find(([k]) => goEqual(k, key))?.[1];
  }
}

export interface StructOptions {
  /** Methods without arguments, by name (e.g. Result.Changes). */
  methods?: Record<string, () => GoValue>;
  /** A String() method: fmt prints its result. */
  stringer?: () => string;
  /** Names of embedded fields, whose own fields are reachable directly. */
  embedded?: readonly string[];
  /** Printing it is refused with this message: Tide cannot reproduce how Go would print it. */
  unprintable?: string;
}

export class GoStruct {
  /** e.g. `update.Change`. */
  readonly type: string;
  /** Fields in declaration order. */
  readonly fields: [string, GoValue][];
  readonly methods: Record<string, () => GoValue>;
  readonly stringer?: () => string;
  readonly embedded: readonly string[];
  readonly unprintable?: string;

  constructor(type: string, fields: [string, GoValue][], opts: StructOptions = {}) {
    this.type = type;
    this.fields = fields;
    this.methods = opts.methods ?? {};
    this.stringer = opts.stringer;
    this.embedded = opts.embedded ?? [];
    this.unprintable = opts.unprintable;
  }

  field(name: string): GoValue | undefined {
    const own = this.fields.find(([n]) => n === name);
    if (own) return own[1];
    for (const e of this.embedded) {
      const inner = this.fields.find(([n]) => n === e)?.[1];
      if (inner instanceof GoStruct) {
        const found = inner.field(name);
        if (found !== undefined) return found;
      }
    }
    return undefined;
  }
}

/** A failure to print a value Tide cannot print as Go would. */
export class UnprintableError extends Error {}

/** The Go type name of a value, as text/template's messages show it. */
export function typeName(v: GoValue): string {
  if (v === null) return '<nil>';
  if (v === NO_VALUE) return '<no value>';
  if (typeof v === 'string') return 'string';
  if (typeof v === 'number') return 'int';
  if (typeof v === 'boolean') return 'bool';
  return v.type;
}

/** Go's template truth: false, 0, nil, empty string, slice and map are false; structs are true. */
export function truth(v: GoValue): boolean {
  if (v === null || v === NO_VALUE) return false;
  if (typeof v === 'boolean') return v;
  if (typeof v === 'string') return v.length > 0;
  if (typeof v === 'number') return v !== 0;
  if (v instanceof GoList) return v.items.length > 0;
  if (v instanceof GoMap) return v.entries.length > 0;
  return true;
}

/** Go's == on comparable values; lists and maps are not comparable (callers check). */
export function goEqual(a: GoValue, b: GoValue): boolean {
  if (a instanceof GoStruct && b instanceof GoStruct) {
    return (
      a.type === b.type &&
      a.fields.length === b.fields.length &&
      a.fields.every(([n, v], i) => b.fields[i]?.[0] === n && goEqual(v, b.fields[i]![1]))
    );
  }
  if (a instanceof GoList && b instanceof GoList)
    return a.items.length === b.items.length && a.items.every((x, i) => goEqual(x, b.items[i]!));
  if (a instanceof GoMap && b instanceof GoMap)
    return (
      a.entries.length === b.entries.length &&
      a.entries.every(([k, v], i) => goEqual(k, b.entries[i]![0]) && goEqual(v, b.entries[i]![1]))
    );
  return a === b;
}

/** fmtsort's order: numbers and strings by value, structs field by field. */
export function compareKeys(a: GoValue, b: GoValue): number {
  if (typeof a === 'string' && typeof b === 'string') return a < b ? -1 : a > b ? 1 : 0;
  if (typeof a === 'number' && typeof b === 'number') return a - b;
  if (a instanceof GoStruct && b instanceof GoStruct) {
    for (let i = 0; i < a.fields.length; i++) {
      const d = compareKeys(a.fields[i]![1], b.fields[i]?.[1] ?? null);
      if (d !== 0) return d;
    }
    return 0;
  }
  return 0;
}

/** fmt's %v. */
export function formatValue(v: GoValue): string {
  if (v === null) return '<nil>';
  if (v === NO_VALUE) return '<no value>';
  if (typeof v === 'string') return v;
  if (typeof v === 'number' || typeof v === 'boolean') return String(v);
  if (v instanceof GoList) return `[${v.items.map(formatValue).join(' ')}]`;
  if (v instanceof GoMap)
    return `map[${v.entries.map(([k, x]) => `${formatValue(k)}:${formatValue(x)}`).join(' ')}]`;
  if (v.stringer) return v.stringer();
  if (v.unprintable) throw new UnprintableError(v.unprintable);
  return `{${v.fields.map(([, x]) => formatValue(x)).join(' ')}}`;
}
