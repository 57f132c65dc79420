// YAML in and out of the build pipeline, read the way Flux's Go code reads it (sigs.k8s.io/yaml over
// YAML 1.1): `yes`/`on` are booleans, `012` is octal, timestamps stay strings. Dumping with the same
// schema quotes every string that would read back as something else, so dump → load is lossless.
import { dump, loadAll, Schema, YAML11_SCHEMA, YAMLException } from 'js-yaml';
import { GenericError } from '../errors.ts';
import type { KubeObject } from '../object.ts';
import { checkAliasExpansion, checkDocumentSizes, decodeUtf8 } from '../yamlguard.ts';

export type { KubeObject };

/** YAML 1.1 minus !!timestamp: Go decodes an untyped `2024-01-01` to a string. */
export const goYamlSchema = new Schema(YAML11_SCHEMA.tags.filter((t) => !t.tagName.endsWith(':timestamp')));

/** Condition/event reason of every failure of the build pipeline, as in kustomize-controller. */
export const BuildFailedReason = 'BuildFailed';

/** A failure of generate, build, decrypt or substitute: Ready=False with reason BuildFailed, retried. */
export class BuildError extends GenericError {
  constructor(message: string, opts?: { cause?: unknown }) {
    super(BuildFailedReason, message, opts);
    this.name = 'BuildError';
  }
}

/**
 * Parses every document of a YAML text (bytes must be UTF-8); empty documents are dropped. Throws
 * js-yaml's error, or YamlLimitError for a document too large or expanding (aliases) too much.
 */
export function parseDocuments(input: string | Uint8Array): unknown[] {
  const text = typeof input === 'string' ? input : decodeUtf8(input);
  checkDocumentSizes(text);
  const docs = loadAll(text, { schema: goYamlSchema }).filter((d) => d !== null && d !== undefined);
  checkAliasExpansion(docs);
  return docs;
}

/** Dumps one value as block YAML, never folding lines (a fold could split a `${var}`). */
export function dumpYaml(value: unknown): string {
  return dump(value, { schema: goYamlSchema, lineWidth: -1, noRefs: true });
}

/**
 * A YAML error as `<reason> at line L, column C`, without js-yaml's excerpt of the source: the text
 * may hold decrypted or substituted secret values, which must not reach conditions or events.
 */
export function describeYamlError(err: unknown): string {
  if (err instanceof YAMLException) {
    return err.mark
      ? `${err.reason} at line ${err.mark.line + 1}, column ${err.mark.column + 1}`
      : err.reason;
  }
  const msg = err instanceof Error ? err.message : String(err);
  return msg.split('\n')[0] ?? msg;
}

export function isMap(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** `Kind/namespace/name` (or `Kind/name`), as Flux formats objects in messages. */
export function objectRef(obj: KubeObject): string {
  const ns = obj.metadata?.namespace;
  return `${obj.kind ?? '<no kind>'}/${ns ? `${ns}/` : ''}${obj.metadata?.name ?? '<no name>'}`;
}
