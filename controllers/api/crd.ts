// Turns kind descriptors into CustomResourceDefinitions (apiextensions.k8s.io/v1). The schema
// is copied through an allowlist of keywords, so anything a structural schema forbids ($ref,
// anyOf, const, patternProperties, ...) fails generation instead of reaching the API server,
// and keys are sorted so the output is byte-for-byte stable.

import { dump } from 'js-yaml';
import type { KindDescriptor } from './meta.ts';
import { Annotations, Labels, PART_OF } from './names.ts';

/** JSON-schema keywords a CRD openAPIV3Schema may carry, besides the nested ones below. */
const SCALAR_KEYWORDS = new Set([
  'description',
  'type',
  'format',
  'enum',
  'default',
  'pattern',
  'minLength',
  'maxLength',
  'minimum',
  'maximum',
  'minItems',
  'maxItems',
  'required',
  'nullable',
  'x-kubernetes-preserve-unknown-fields',
  'x-kubernetes-validations',
  'x-kubernetes-list-type',
  'x-kubernetes-list-map-keys',
  'x-kubernetes-map-type',
  'x-kubernetes-int-or-string',
]);

export type JsonSchema = { [key: string]: unknown };

export class SchemaError extends Error {
  override name = 'SchemaError';
}

function sortedObject(entries: [string, unknown][]): JsonSchema {
  return Object.fromEntries(entries.sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
}

/** Sorts the keys of plain data (defaults, CEL rules) so their rendering does not depend on source order. */
function canonical(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(canonical);
  if (value && typeof value === 'object') {
    return sortedObject(Object.entries(value).map(([k, v]) => [k, canonical(v)]));
  }
  return value;
}

/**
 * Copies a TypeBox/JSON schema into a structural schema: allowlisted keywords only, sorted keys,
 * and a type (or x-kubernetes-preserve-unknown-fields) on every node. Throws SchemaError with the
 * path of the first offending node.
 */
export function structural(schema: unknown, path = '<root>'): JsonSchema {
  if (!schema || typeof schema !== 'object' || Array.isArray(schema)) {
    throw new SchemaError(`${path}: schema node is not an object`);
  }
  const out = Object.entries(schema).map(([key, value]): [string, unknown] => [
    key,
    keyword(key, value, path),
  ]);
  const result = sortedObject(out);
  if (result.type === undefined && result['x-kubernetes-preserve-unknown-fields'] !== true) {
    throw new SchemaError(`${path}: node has no type`);
  }
  if (Array.isArray(result.required) && result.required.length === 0) delete result.required;
  return result;
}

/** The structural form of one keyword of a schema node. */
function keyword(key: string, value: unknown, path: string): unknown {
  switch (key) {
    case 'properties':
      return sortedObject(
        Object.entries(value as JsonSchema).map(([name, sub]): [string, unknown] => [
          name,
          structural(sub, `${path}.${name}`),
        ]),
      );
    case 'items':
      return structural(value, `${path}[]`);
    case 'additionalProperties':
      if (typeof value === 'boolean') throw new SchemaError(`${path}: additionalProperties must be a schema`);
      return structural(value, `${path}{}`);
    case 'required':
      return [...(value as string[])].sort();
    default:
      if (!SCALAR_KEYWORDS.has(key)) {
        throw new SchemaError(`${path}: keyword '${key}' is not allowed in a structural schema`);
      }
      return canonical(value);
  }
}

/** The CRD name Kubernetes requires: `<plural>.<group>`. */
export const crdName = (d: KindDescriptor): string => `${d.plural}.${d.group}`;

/** File name under crds/, as controller-gen names them: `<group>_<plural>.yaml`. */
export const crdFileName = (d: KindDescriptor): string => `${d.group}_${d.plural}.yaml`;

export function toCRD(d: KindDescriptor, schema: unknown): JsonSchema {
  const version: JsonSchema = {
    name: d.version,
    served: true,
    storage: true,
    schema: { openAPIV3Schema: structural(schema, d.kind) },
  };
  if (d.statusSubresource) version.subresources = { status: {} };
  if (d.printerColumns.length) {
    version.additionalPrinterColumns = d.printerColumns.map((c) => ({
      name: c.name,
      type: c.type,
      jsonPath: c.jsonPath,
      ...(c.priority !== undefined ? { priority: c.priority } : {}),
      ...(c.description !== undefined ? { description: c.description } : {}),
    }));
  }
  const names: JsonSchema = {
    kind: d.kind,
    listKind: d.listKind,
    plural: d.plural,
    singular: d.singular,
  };
  if (d.shortNames.length) names.shortNames = [...d.shortNames];
  if (d.categories.length) names.categories = [...d.categories];
  return {
    apiVersion: 'apiextensions.k8s.io/v1',
    kind: 'CustomResourceDefinition',
    metadata: {
      name: crdName(d),
      // Flux marks its CRDs so that kustomize-controller never substitutes `${...}` inside them.
      annotations: { [Annotations.substitute]: 'disabled' },
      labels: { [Labels.partOf]: PART_OF },
    },
    spec: {
      group: d.group,
      names,
      scope: d.namespaced ? 'Namespaced' : 'Cluster',
      versions: [version],
    },
  };
}

export const CRD_HEADER =
  '# Generated by hack/gen-crds.ts from controllers/api. DO NOT EDIT: change the schema and regenerate.\n';

/** The YAML file of one kind's CRD. */
export function renderCrd(d: KindDescriptor, schema: unknown): string {
  return `${CRD_HEADER}---\n${dump(toCRD(d, schema), { noRefs: true, lineWidth: -1 })}`;
}
