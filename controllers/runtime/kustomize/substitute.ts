// postBuild variable substitution, as Flux's kustomize.SubstituteVariables: each object is
// serialised to YAML, `${...}` expressions are expanded in that text, and the text is parsed back,
// so a value substituted into an unquoted position takes the YAML type it reads as
// (`replicas: ${REPLICAS}` with "3" gives the number 3). Quotes in the source do not survive
// kustomize build, so Flux's advice applies: wrap numbers meant as strings in a `${quote}` variable.
import { Annotations } from '../../api/names.ts';
import type { KubeObject } from '../object.ts';
import { EnvsubstError, envsubst } from './envsubst.ts';
import { BuildError, describeYamlError, dumpYaml, isMap, objectRef, parseDocuments } from './objects.ts';

/** Variable names Flux accepts: `^[_[:alpha:]][_[:alpha:][:digit:]]*$`. */
export const varNamePattern = /^[_a-zA-Z][_a-zA-Z0-9]*$/;

/** A `postBuild.substituteFrom` entry with the object the controller read for it. */
export interface VarSource {
  kind: 'ConfigMap' | 'Secret';
  name: string;
  optional?: boolean;
  /**
   * The object's `.data` as the API returns it (base64 values for a Secret, plain for a
   * ConfigMap); undefined when the object does not exist.
   */
  data: Record<string, string> | undefined;
}

/**
 * The variables for substitution: the `substituteFrom` sources in order (a later source wins), then
 * the inline `substitute` map over all of them. A missing source is skipped when `optional`, an
 * error otherwise. Newlines are removed from every value, as Flux does. The result has no prototype,
 * so names like `constructor` are plain keys.
 */
export function resolveVars(
  substitute: Record<string, string> | undefined,
  sources: readonly VarSource[] = [],
): Record<string, string> {
  const vars: Record<string, string> = Object.create(null);
  for (const src of sources) {
    if (src.data === undefined) {
      if (src.optional) continue;
      throw new BuildError(`substitute from '${src.kind}/${src.name}' error: ${src.kind} not found`);
    }
    for (const [k, v] of Object.entries(src.data)) {
      const value = src.kind === 'Secret' ? Buffer.from(v, 'base64').toString('utf8') : v;
      vars[k] = value.replaceAll('\n', '');
    }
  }
  for (const [k, v] of Object.entries(substitute ?? {})) vars[k] = v.replaceAll('\n', '');
  return vars;
}

export interface SubstituteOptions {
  /**
   * A `${var}` with no value and no default operator is an error naming the variable (Flux's
   * StrictPostBuildSubstitutions, on by default). When false it expands to the empty string.
   */
  strict?: boolean;
  /**
   * `substituteStrategy: Always`: substitute even when no variable is defined, so defaults apply.
   * By default (`WithVariables`) objects are returned untouched when `vars` is empty.
   */
  always?: boolean;
}

/**
 * Substitutes `vars` into every object not labelled or annotated
 * `kustomize.toolkit.fluxcd.io/substitute: disabled`, returning new objects (in order). Variable
 * names must match `varNamePattern`. A syntax error, an unset variable in strict mode, or a result
 * that is not one YAML mapping is a BuildError naming the object (never the substituted text).
 */
export function substituteObjects(
  objects: readonly KubeObject[],
  vars: Readonly<Record<string, string>>,
  opts: SubstituteOptions = {},
): KubeObject[] {
  const names = Object.keys(vars);
  if (names.length === 0 && !opts.always) return [...objects];
  for (const n of names) {
    if (!varNamePattern.test(n)) {
      throw new BuildError(`'${n}' var name is invalid, must match '^[_[:alpha:]][_[:alpha:][:digit:]]*$'`);
    }
  }
  const strict = opts.strict ?? true;
  const lookup = (name: string) =>
    Object.hasOwn(vars, name) ? { value: vars[name] ?? '', set: true } : { value: '', set: !strict };
  return objects.map((obj) => (isExempt(obj) ? obj : substituteOne(obj, lookup)));
}

function isExempt(obj: KubeObject): boolean {
  const meta = obj.metadata ?? {};
  return (
    meta.labels?.[Annotations.substitute] === 'disabled' ||
    meta.annotations?.[Annotations.substitute] === 'disabled'
  );
}

function substituteOne(obj: KubeObject, lookup: Parameters<typeof envsubst>[1]): KubeObject {
  const fail = (why: string, cause?: unknown) =>
    new BuildError(`post build failed for '${objectRef(obj)}': ${why}`, { cause });
  let text: string;
  try {
    text = envsubst(dumpYaml(obj), lookup);
  } catch (err) {
    if (err instanceof EnvsubstError) throw fail(`variable substitution failed: ${err.message}`, err);
    throw err;
  }
  let docs: unknown[];
  try {
    docs = parseDocuments(text);
  } catch (err) {
    throw fail(`the substituted YAML is invalid: ${describeYamlError(err)}`);
  }
  const [doc] = docs;
  if (docs.length !== 1 || !isMap(doc)) throw fail('the substituted YAML is not a single object');
  return doc as KubeObject;
}
