// Helm values: parsing as Helm reads values files, merging as Helm and Flux merge them (maps merge
// recursively, anything else, lists included, is replaced by the later value; `null` stays a value),
// and encoding as Helm writes values.yaml.
import { HelmError, HelmErrorCode } from './errors.ts';
import { dumpYaml, isMap, parseYaml, yamlErrorMessage } from './yaml.ts';

export type Values = Record<string, unknown>;

/** Deep merge: b wins; maps merge key by key; lists and scalars are replaced. Inputs are not modified. */
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
