// Drift ignore rules (Kustomization spec.ignore, HelmRelease driftDetection.ignore), as fluxcd/pkg ssa
// applies them: the JSON pointers a rule names are left out when comparing the dry-run with the live
// object, so a change there alone is no drift; and when the object is applied anyway, each ignored
// field whose value differs is
//   - stripped from the payload when another Apply manager owns it (we let go of it), or
//   - set to the live value when we are its only Apply owner (an Update writer such as kubectl edit or
//     an HPA keeps its value, and we keep the field).
// A rule's target selects objects by group, version, kind, name and namespace (anchored regular
// expressions) and by label and annotation selector expressions; no target selects every object.
import type { Selector } from '../../api/kustomize-types.ts';
import { jsonEqual, type KubeObject, parseApiVersion } from '../object.ts';
import type { ManagedFieldsEntry } from './apply.ts';

export interface IgnoreRule {
  paths: string[];
  target?: Selector;
}

export interface CompiledIgnoreRule {
  paths: string[];
  matches(obj: KubeObject): boolean;
}

/** Compiles the rules; throws an Error naming a bad regular expression, selector or pointer. */
export function compileIgnoreRules(rules: readonly IgnoreRule[] | undefined): CompiledIgnoreRule[] {
  return (rules ?? []).map((r, i) => {
    for (const p of r.paths)
      if (!p.startsWith('/')) throw new Error(`ignore[${i}]: '${p}' is not a JSON pointer (RFC 6901)`);
    try {
      return { paths: r.paths, matches: selectorMatcher(r.target) };
    } catch (err) {
      throw new Error(`ignore[${i}].target: ${(err as Error).message}`);
    }
  });
}

/** The pointers of every rule whose target selects obj. */
export function ignoredPaths(rules: readonly CompiledIgnoreRule[], obj: KubeObject): string[] {
  return rules.filter((r) => r.matches(obj)).flatMap((r) => r.paths);
}

/** A copy of obj without the fields at the pointers (missing ones are fine). */
export function withoutPaths(obj: KubeObject, paths: readonly string[]): KubeObject {
  const out = structuredClone(obj);
  for (const p of paths) removeAt(out, segmentsOf(p));
  return out;
}

/**
 * The payload to apply: for each ignored field whose live and dry-run values differ, stripped (another
 * Apply manager owns it in live) or set to the live value (absent live: stripped).
 */
export function resolveIgnoredDrift(
  payload: KubeObject,
  live: KubeObject,
  dry: KubeObject,
  paths: readonly string[],
  fieldManager: string,
): KubeObject {
  const out = structuredClone(payload);
  const others = ((live.metadata.managedFields ?? []) as ManagedFieldsEntry[]).filter(
    (e) => e.operation === 'Apply' && !e.subresource && e.manager !== fieldManager && e.fieldsV1,
  );
  for (const p of paths) {
    const segs = segmentsOf(p);
    const liveVal = getAt(live, segs);
    if (liveVal.found === getAt(dry, segs).found && jsonEqual(liveVal.value, getAt(dry, segs).value))
      continue;
    const fields = fieldsV1Path(live, segs, others);
    const ownedByOther = fields !== undefined && others.some((e) => fieldsContain(e.fieldsV1 ?? {}, fields));
    if (ownedByOther || !liveVal.found) removeAt(out, segs);
    else setAt(out, segs, structuredClone(liveVal.value));
  }
  return out;
}

// --- JSON pointers -------------------------------------------------------------------------------

const segmentsOf = (pointer: string) =>
  pointer
    .split('/')
    .slice(1)
    .map((s) => s.replaceAll('~1', '/').replaceAll('~0', '~'));

type Json = Record<string, unknown> | unknown[];
const isContainer = (v: unknown): v is Json => typeof v === 'object' && v !== null;
const child = (v: Json, seg: string): unknown => (Array.isArray(v) ? v[Number(seg)] : v[seg]);
const hasChild = (v: Json, seg: string) =>
  Array.isArray(v) ? /^\d+$/.test(seg) && Number(seg) < v.length : Object.hasOwn(v, seg);

function getAt(obj: unknown, segs: string[]): { found: boolean; value?: unknown } {
  let cur = obj;
  for (const s of segs) {
    if (!isContainer(cur) || !hasChild(cur, s)) return { found: false };
    cur = child(cur, s);
  }
  return { found: true, value: cur };
}

function parentOf(obj: unknown, segs: string[]): Json | undefined {
  const parent = getAt(obj, segs.slice(0, -1));
  return parent.found && isContainer(parent.value) ? parent.value : undefined;
}

function removeAt(obj: unknown, segs: string[]): void {
  const parent = parentOf(obj, segs);
  const last = segs.at(-1) ?? '';
  if (!parent || !hasChild(parent, last)) return;
  if (Array.isArray(parent)) parent.splice(Number(last), 1);
  else delete parent[last];
}

// Sets a value where the parent exists in the payload; a parent the payload lacks is left alone, so the
// field stays unmanaged by us, which keeps the live value too.
function setAt(obj: unknown, segs: string[], value: unknown): void {
  const parent = parentOf(obj, segs);
  const last = segs.at(-1) ?? '';
  if (!parent) return;
  if (Array.isArray(parent)) {
    if (hasChild(parent, last)) parent[Number(last)] = value;
  } else parent[last] = value;
}

// --- managedFields ------------------------------------------------------------------------------

/**
 * The FieldsV1 path of a pointer in live (`f:spec`, `f:replicas`; a list index becomes the `k:{...}`
 * key of that item among the given entries), or undefined when it cannot be resolved.
 */
function fieldsV1Path(live: KubeObject, segs: string[], entries: ManagedFieldsEntry[]): string[] | undefined {
  const out: string[] = [];
  for (const [i, s] of segs.entries()) {
    if (!/^\d+$/.test(s)) {
      out.push(`f:${s}`);
      continue;
    }
    const item = getAt(live, segs.slice(0, i + 1));
    if (!item.found || !isContainer(item.value) || Array.isArray(item.value)) return undefined;
    const keys = new Set(
      entries.flatMap((e) =>
        Object.keys(walk(e.fieldsV1 ?? {}, out) ?? {}).filter((k) => k.startsWith('k:')),
      ),
    );
    const key = [...keys].find((k) => matchesKey(item.value as Record<string, unknown>, k));
    if (!key) return undefined;
    out.push(key);
  }
  return out;
}

function matchesKey(item: Record<string, unknown>, key: string): boolean {
  try {
    const kv = JSON.parse(key.slice(2)) as Record<string, unknown>;
    return Object.entries(kv).every(([k, v]) => jsonEqual(item[k], v));
  } catch {
    return false;
  }
}

function walk(fields: Record<string, unknown>, path: string[]): Record<string, unknown> | undefined {
  let cur: unknown = fields;
  for (const p of path) {
    if (!isContainer(cur) || Array.isArray(cur)) return undefined;
    cur = cur[p];
  }
  return isContainer(cur) && !Array.isArray(cur) ? cur : undefined;
}

function fieldsContain(fields: Record<string, unknown>, path: string[]): boolean {
  return path.length > 0 && walk(fields, path.slice(0, -1))?.[path.at(-1) ?? ''] !== undefined;
}

// --- selectors ----------------------------------------------------------------------------------

function selectorMatcher(s: Selector | undefined): (obj: KubeObject) => boolean {
  if (!s) return () => true;
  const re = (what: string, v: string | undefined) => {
    if (!v) return () => true;
    let r: RegExp;
    try {
      r = new RegExp(`^(?:${v})$`);
    } catch (err) {
      throw new Error(`invalid ${what} regex: ${(err as Error).message}`);
    }
    return (x: string) => r.test(x);
  };
  const group = re('group', s.group);
  const version = re('version', s.version);
  const kind = re('kind', s.kind);
  const name = re('name', s.name);
  const namespace = re('namespace', s.namespace);
  const labels = s.labelSelector ? parseLabelSelector(s.labelSelector, 'label') : () => true;
  const annotations = s.annotationSelector
    ? parseLabelSelector(s.annotationSelector, 'annotation')
    : () => true;
  return (obj) => {
    const gv = parseApiVersion(obj.apiVersion ?? '');
    return (
      group(gv.group) &&
      version(gv.version) &&
      kind(obj.kind ?? '') &&
      name(obj.metadata.name ?? '') &&
      namespace(obj.metadata.namespace ?? '') &&
      labels(obj.metadata.labels ?? {}) &&
      annotations(obj.metadata.annotations ?? {})
    );
  };
}

type Labels = Record<string, string>;
type Requirement = (m: Labels) => boolean;

// One requirement of a selector expression each: its syntax and what it checks.
const requirements: [RegExp, (g: string[]) => Requirement][] = [
  [
    /^([^\s!=]+)\s+(in|notin)\s+\(([^)]*)\)$/,
    ([key = '', op, list = '']) => {
      const set = new Set(list.split(',').map((v) => v.trim()));
      return op === 'in'
        ? (l) => key in l && set.has(l[key] ?? '')
        : (l) => !(key in l) || !set.has(l[key] ?? '');
    },
  ],
  [
    /^([^\s!=]+)\s*(==|=|!=)\s*([^\s!=]*)$/,
    ([key = '', op, value = '']) => (op === '!=' ? (l) => l[key] !== value : (l) => l[key] === value),
  ],
  [
    /^!\s*([^\s!=]+)$/,
    ([key = '']) =>
      (l) =>
        !(key in l),
  ],
  [
    /^([^\s!=(),]+)$/,
    ([key = '']) =>
      (l) =>
        key in l,
  ],
];

/**
 * A Kubernetes selector expression: `k=v`, `k==v`, `k!=v`, `k in (a,b)`, `k notin (a,b)`, `k`, `!k`,
 * joined by commas (all must hold).
 */
export function parseLabelSelector(text: string, what = 'label'): Requirement {
  // Commas inside parentheses belong to a set.
  const reqs = (text.match(/(?:[^,(]|\([^)]*\))+/g) ?? []).map((raw) => {
    const p = raw.trim();
    for (const [re, build] of requirements) {
      const m = p.match(re);
      if (m) return build(m.slice(1));
    }
    throw new Error(`invalid ${what} selector '${text}': cannot parse '${p}'`);
  });
  return (m) => reqs.every((r) => r(m));
}
