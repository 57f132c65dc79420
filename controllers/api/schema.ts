// Small builders over TypeBox that only produce what a Kubernetes structural schema allows:
// enums instead of unions of literals, maps as additionalProperties, free-form values marked
// x-kubernetes-preserve-unknown-fields. Every builder takes the field description first, since
// descriptions become `kubectl explain` text.
import {
  type Static,
  type TArray,
  type TBoolean,
  type TInteger,
  type TObject,
  type TProperties,
  type TSchema,
  type TString,
  type TUnsafe,
  Type,
} from '@sinclair/typebox';

export type { Static, TSchema };

/** A CEL rule as the API server evaluates it (x-kubernetes-validations item). */
export interface CelRule {
  rule: string;
  message: string;
}

interface StringOptions {
  pattern?: string;
  minLength?: number;
  maxLength?: number;
  default?: string;
  format?: 'date-time';
}

/** Options shared by object and array builders. */
interface NodeOptions {
  default?: unknown;
  rules?: CelRule[];
}

/** Turns our option names into the JSON-schema keywords the API server reads. */
function keywords(opts: NodeOptions | undefined): Record<string, unknown> {
  if (!opts) return {};
  const { rules, ...rest } = opts;
  return rules?.length ? { ...rest, 'x-kubernetes-validations': rules } : rest;
}

export const optional = <T extends TSchema>(schema: T) => Type.Optional(schema);

export function str(description: string, opts: StringOptions = {}): TString {
  return Type.String({ description, ...opts });
}

export function bool(description: string, opts: { default?: boolean } = {}): TBoolean {
  return Type.Boolean({ description, ...opts });
}

export function int(description: string, opts: { minimum?: number; maximum?: number } = {}): TInteger {
  return Type.Integer({ description, ...opts });
}

/** A 64-bit integer, as Kubernetes marks generation counters and sizes. */
export function int64(description: string): TInteger {
  return Type.Integer({ description, format: 'int64' });
}

export function dateTime(description: string): TString {
  return Type.String({ description, format: 'date-time' });
}

/** A string restricted to a fixed set of values, rendered as `enum` (never anyOf/const). */
export function enumOf<const V extends readonly string[]>(
  values: V,
  description: string,
  opts: { default?: V[number] } = {},
): TUnsafe<V[number]> {
  return Type.Unsafe<V[number]>({ type: 'string', enum: [...values], description, ...opts });
}

export function obj<P extends TProperties>(
  properties: P,
  description: string,
  opts?: NodeOptions,
): TObject<P> {
  return Type.Object(properties, { description, ...keywords(opts) });
}

export function arr<T extends TSchema>(
  items: T,
  description: string,
  opts: NodeOptions & { maxItems?: number; minItems?: number; listMapKeys?: string[] } = {},
): TArray<T> {
  const { listMapKeys, ...rest } = opts;
  const list = listMapKeys
    ? { 'x-kubernetes-list-type': 'map', 'x-kubernetes-list-map-keys': listMapKeys }
    : {};
  return Type.Array(items, { description, ...list, ...keywords(rest) });
}

/** A map of string keys to string values (labels, annotations, substitutions). */
export function stringMap(description: string): TUnsafe<Record<string, string>> {
  return Type.Unsafe<Record<string, string>>({
    type: 'object',
    additionalProperties: { type: 'string' },
    description,
  });
}

/** A map of string keys to values of one schema. */
export function mapOf<T extends TSchema>(values: T, description: string): TUnsafe<Record<string, Static<T>>> {
  return Type.Unsafe<Record<string, Static<T>>>({
    type: 'object',
    additionalProperties: values,
    description,
  });
}

/**
 * A free-form JSON object kept as given (for example Helm values). It carries `type: object`:
 * recent API servers refuse a property with preserve-unknown-fields but no type.
 */
export function freeForm(description: string): TUnsafe<Record<string, unknown>> {
  return Type.Unsafe<Record<string, unknown>>({
    type: 'object',
    description,
    'x-kubernetes-preserve-unknown-fields': true,
  });
}
