// Helm values: parsing as Helm reads values files, merging as Helm and Flux merge them (maps merge
// recursively, anything else, lists included, is replaced by the later value; `null` stays a value),
// encoding as Helm writes values.yaml, a HelmRelease's values composed from valuesFrom and values as
// Flux's helm-controller does it (fluxcd/pkg chartutil.ChartValuesFromReferences), and the config
// digest Flux records for them (chartutil.DigestValues). All pure: callers read the ConfigMaps and
// Secrets.
import { createHash } from 'node:crypto';
import type { ValuesReference } from '../../api/meta.ts';
import { HelmError, HelmErrorCode } from './errors.ts';
import { encodeGoYaml } from './goyaml.ts';
import { parseInto, parseIntoString } from './strvals.ts';
import { dumpYaml, isMap, parseYaml, yamlErrorMessage } from './yaml.ts';

export type Values = Record<string, unknown>;

/**
 * Deep merge: b wins; maps merge key by key; lists and scalars are replaced. Inputs are not modified,
 * but the result shares what it did not merge with them (as Go's MergeMaps; composeValues relies on it).
 */
export function mergeValues(a: Values, b: Values): Values {
  const out: Values = { ...a };
  for (const [k, v] of Object.entries(b)) {
    const cur = out[k];
    out[k] = isMap(v) && isMap(cur) ? mergeValues(cur, v) : v;
  }
  return out;
}

/** Values as Helm writes them: sorted keys; an empty map gives an empty file. */
export function encodeValues(values: Values): string {
  return Object.keys(values).length === 0 ? '' : dumpYaml(values);
}

/** A values document (`ref` names it in errors); empty or `null` gives `{}`, anything but a map fails. */
export function parseValues(text: string, ref: string): Values {
  let doc: unknown;
  try {
    doc = parseYaml(text);
  } catch (err) {
    throw new HelmError(
      HelmErrorCode.ValuesFiles,
      `unmarshaling values from '${ref}' failed: ${yamlErrorMessage(err)}`,
    );
  }
  if (doc === null) return {};
  if (!isMap(doc))
    throw new HelmError(
      HelmErrorCode.ValuesFiles,
      `unmarshaling values from '${ref}' failed: not a YAML map`,
    );
  return doc;
}

// ---- HelmRelease values composition ------------------------------------------------------------

/** The data of a ConfigMap, or of a Secret decoded from base64; `undefined` when the object does not exist. */
export type ValuesSourceData = Record<string, string> | undefined;

/** Key of a referenced object in ComposeInput.objects: `ConfigMap/<name>` or `Secret/<name>`. */
export const valuesSourceKey = (ref: Pick<ValuesReference, 'kind' | 'name'>) => `${ref.kind}/${ref.name}`;

export interface ComposeInput {
  /** Namespace of the HelmRelease (the referenced objects are in it), for messages. */
  namespace: string;
  /** spec.valuesFrom, in order. */
  valuesFrom?: readonly ValuesReference[];
  /** spec.values (not modified). */
  values?: Values;
  /** Every object valuesFrom names, by valuesSourceKey; read once per reconcile, as Flux does. */
  objects: Record<string, ValuesSourceData>;
}

export interface ComposedValues {
  values: Values;
  /** Optional references that were skipped (missing object or key), as Flux logs them. */
  skipped: string[];
}

/** The key valuesFrom reads when it names none (Flux's default). */
export const DEFAULT_VALUES_KEY = 'values.yaml';

/** Flux's ErrValuesReference text: what could not be resolved, and why. */
function referenceError(ref: ValuesReference, namespace: string, reason: string): HelmError {
  const optional = ref.optional ? ' optional' : '';
  const key = ref.valuesKey || DEFAULT_VALUES_KEY;
  return new HelmError(
    HelmErrorCode.ValuesReference,
    `could not resolve${optional} ${ref.kind} chart values reference '${namespace}/${ref.name}' with key '${key}': ${reason}`,
  );
}

/**
 * Sets one value at targetPath (Flux's ReplacePathValue): the text is parsed as a `--set` value, or
 * kept a string when quoted in ' or "; with `literal` it is taken verbatim (`--set-literal`, with
 * `\.` still escaping dots in the path).
 */
export function setPathValue(values: Values, path: string, text: string, literal = false): void {
  if (literal) {
    parseIntoString(`${path}=${text.replace(/[\\,[\]{}]/g, (c) => `\\${c}`)}`, values);
    return;
  }
  const quoted = (q: string) => text.startsWith(q) && text.endsWith(q);
  if (quoted("'") || quoted('"')) {
    parseIntoString(`${path}=${text.replace(/^['"]+|['"]+$/g, '')}`, values);
    return;
  }
  parseInto(`${path}=${text}`, values);
}

/**
 * A HelmRelease's values: valuesFrom items in order, each document deep-merged (or, with targetPath,
 * one value set at the path after merging spec.values in), then spec.values merged last. An optional
 * reference to a missing object or key is skipped; anything else that cannot be resolved throws a
 * HelmError (ValuesReference) worded like Flux's.
 */
export function composeValues(input: ComposeInput): ComposedValues {
  // Go unmarshals spec.values afresh each time; setPathValue may write into what result shares with it.
  const inline = input.values ? structuredClone(input.values) : {};
  let result: Values = {};
  const skipped: string[] = [];
  for (const ref of input.valuesFrom ?? []) {
    const text = referencedText(input, ref, skipped);
    if (text === undefined) continue;
    if (ref.targetPath) {
      result = mergeValues(result, inline);
      try {
        setPathValue(result, ref.targetPath, text, ref.literal === true);
      } catch (err) {
        throw referenceError(ref, input.namespace, (err as Error).message);
      }
      continue;
    }
    let doc: Values;
    try {
      doc = parseValues(text, `${ref.kind}/${ref.name}`);
    } catch (err) {
      throw referenceError(ref, input.namespace, (err as Error).message);
    }
    result = mergeValues(result, doc);
  }
  return { values: mergeValues(result, inline), skipped };
}

/** The text under the reference's key; undefined (noted in skipped) for an optional one that is missing. */
function referencedText(input: ComposeInput, ref: ValuesReference, skipped: string[]): string | undefined {
  if (ref.kind !== 'ConfigMap' && ref.kind !== 'Secret') {
    throw referenceError(ref, input.namespace, 'unsupported values reference kind');
  }
  const data = input.objects[valuesSourceKey(ref)];
  const key = ref.valuesKey || DEFAULT_VALUES_KEY;
  if (data !== undefined && Object.hasOwn(data, key)) return data[key] as string;
  const missing = data === undefined ? `${ref.kind.toLowerCase()}s "${ref.name}" not found` : 'key not found';
  const err = referenceError(ref, input.namespace, missing);
  if (!ref.optional) throw err;
  skipped.push(err.message);
  return undefined;
}

/**
 * The digest Flux records as status.lastAttemptedConfigDigest and in release history: `sha256:` and
 * the hex SHA-256 of the values encoded by go-yaml v2 with sorted keys; empty values hash as nothing.
 */
export function valuesDigest(values: Values): string {
  const hash = createHash('sha256');
  if (Object.keys(values).length > 0) hash.update(encodeGoYaml(values));
  return `sha256:${hash.digest('hex')}`;
}
