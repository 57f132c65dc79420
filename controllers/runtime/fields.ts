// Spec fields the CRD accepts but Tide does not implement (or implements only for some values). A
// controller lists them in its definition; the runner refuses an object that sets one with
// Stalled=True, reason UnsupportedField and a message naming the field, before any other work, so a
// field is never silently ignored. test/unit/api/fields.test.ts checks that every spec field of an
// implemented kind is either read by its controller or listed here.
import { Reasons } from '../api/names.ts';
import { StallingError } from './errors.ts';
import type { KubeObject } from './object.ts';

export interface UnsupportedField {
  /** Dotted path from the object root, e.g. `spec.provider` or `spec.verify.provider`; `[]` walks arrays. */
  path: string;
  /**
   * Values that are accepted; any other value set is refused. Without it, any value is refused
   * (`false` and empty strings, arrays and objects count as unset).
   */
  allowed?: readonly unknown[];
  /** Why, for the message: e.g. "cloud identity providers need a cloud". */
  why: string;
}

const isSet = (v: unknown): boolean =>
  v !== undefined &&
  v !== null &&
  v !== false &&
  v !== '' &&
  !(Array.isArray(v) && v.length === 0) &&
  !(typeof v === 'object' && !Array.isArray(v) && Object.keys(v).length === 0);

/** Values at a dotted path; `a.b[].c` yields one value per array item. */
export function valuesAt(obj: unknown, path: string): unknown[] {
  let current: unknown[] = [obj];
  for (const part of path.split('.')) {
    const many = part.endsWith('[]');
    const key = many ? part.slice(0, -2) : part;
    const next: unknown[] = [];
    for (const c of current) {
      if (c === null || typeof c !== 'object') continue;
      const v = (c as Record<string, unknown>)[key];
      if (many) {
        if (Array.isArray(v)) next.push(...v);
      } else if (v !== undefined) next.push(v);
    }
    current = next;
  }
  return current;
}

/** The first unsupported field the object sets, as a message; undefined when there is none. */
export function unsupportedFieldMessage(
  obj: KubeObject,
  fields: readonly UnsupportedField[],
): string | undefined {
  for (const f of fields) {
    for (const v of valuesAt(obj, f.path)) {
      if (!isSet(v)) continue;
      if (f.allowed?.some((a) => a === v)) continue;
      const shown = typeof v === 'string' ? `'${v}'` : '';
      return `${f.path}${shown ? ` ${shown}` : ''} is not supported by Tide: ${f.why}`;
    }
  }
  return undefined;
}

/** Throws StallingError(UnsupportedField) when the object sets an unsupported field. */
export function refuseUnsupported(obj: KubeObject, fields: readonly UnsupportedField[]): void {
  const message = unsupportedFieldMessage(obj, fields);
  if (message) throw new StallingError(Reasons.UnsupportedField, message);
}
