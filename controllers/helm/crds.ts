// The CustomResourceDefinitions in a chart's crds/ directories, applied by the controller before the
// Helm action runs (helm itself is always told --skip-crds), with the install or upgrade `crds` policy,
// as Flux's helm-controller does (internal/action/crds.go):
//   Skip          — none are applied;
//   Create        — those that do not exist are created (the default of install);
//   CreateReplace — all are created or updated.
// Subcharts count when their Chart.yaml dependency is enabled by its condition or tags. The CRDs carry
// the origin labels, and are waited for until Established.
import { loadAll } from 'js-yaml';
import { applyAll } from '../runtime/apply/index.ts';
import type { Client } from '../runtime/client.ts';
import type { Chart } from '../runtime/helm/chart.ts';
import { mergeValues, parseValues, type Values } from '../runtime/helm/values.ts';
import { isMap } from '../runtime/helm/yaml.ts';
import type { KubeObject } from '../runtime/object.ts';
import { checkAliasExpansion, checkDocumentSizes, YamlLimitError } from '../runtime/yamlguard.ts';
import { HELM_FIELD_MANAGER } from './drift.ts';

export const CrdPolicies = { Skip: 'Skip', Create: 'Create', CreateReplace: 'CreateReplace' } as const;
export type CrdPolicy = (typeof CrdPolicies)[keyof typeof CrdPolicies];

const manifestExt = /\.(ya?ml|json)$/;

function lookup(values: Values, path: string): unknown {
  let cur: unknown = values;
  for (const k of path.split('.')) {
    if (!isMap(cur)) return undefined;
    cur = cur[k];
  }
  return cur;
}

/** Helm's ProcessDependencyConditions/Tags for one dependency: enabled unless they say otherwise. */
function dependencyEnabled(dep: Record<string, unknown>, values: Values, topValues: Values): boolean {
  const condition = typeof dep.condition === 'string' ? dep.condition : '';
  for (const path of condition.split(',').map((p) => p.trim())) {
    if (!path) continue;
    const v = lookup(values, path);
    if (typeof v === 'boolean') return v;
  }
  const tags = Array.isArray(dep.tags) ? (dep.tags as unknown[]) : [];
  const tagValues = tags
    .map((t) => lookup(topValues, `tags.${String(t)}`))
    .filter((v) => typeof v === 'boolean');
  if (tagValues.length > 0) return tagValues.includes(true);
  return true;
}

/** The CustomResourceDefinitions in one chart's crds/ directory. */
// Tide applies these itself, before helm runs: an alias bomb must not reach the apply.
function crdFileDocs(name: string, text: string): (KubeObject | null)[] {
  try {
    checkDocumentSizes(text);
    const docs = loadAll(text) as (KubeObject | null)[];
    checkAliasExpansion(docs);
    return docs;
  } catch (err) {
    if (!(err instanceof YamlLimitError)) throw err;
    throw new YamlLimitError(`chart file '${name}': ${err.message}`);
  }
}

function crdDocs(c: Chart): KubeObject[] {
  return c.files
    .filter((f) => f.name.startsWith('crds/') && manifestExt.test(f.name))
    .flatMap((f) => crdFileDocs(f.name, f.data.toString('utf8')))
    .filter(
      (o): o is KubeObject =>
        o?.kind === 'CustomResourceDefinition' && (o.apiVersion ?? '').startsWith('apiextensions.k8s.io/'),
    );
}

/** The CRD documents of the chart and its enabled subcharts. */
export function chartCrds(chart: Chart, userValues: Values): KubeObject[] {
  const out: KubeObject[] = [];
  const walk = (c: Chart, values: Values, top: Values) => {
    out.push(...crdDocs(c));
    const deps = (c.metadata.dependencies ?? []) as Record<string, unknown>[];
    for (const sub of c.dependencies) {
      const dep = deps.find((d) => d.name === sub.metadata.name);
      if (dep && !dependencyEnabled(dep, values, top)) continue;
      const key = String(dep?.alias || sub.metadata.name);
      const subDefaults = sub.values ? parseValues(sub.values.toString('utf8'), `${key} values`) : {};
      const own = isMap(values[key]) ? (values[key] as Values) : {};
      walk(sub, mergeValues(subDefaults, own), top);
    }
  };
  const defaults = chart.values ? parseValues(chart.values.toString('utf8'), 'values.yaml') : {};
  const values = mergeValues(defaults, userValues);
  walk(chart, values, values);
  return out;
}

/**
 * Applies the chart's CRDs with the policy; returns how many were written. Throws an Error naming the
 * CRDs that failed.
 */
export async function applyCrds(
  client: Client,
  crds: readonly KubeObject[],
  policy: CrdPolicy,
  labels: Record<string, string>,
): Promise<number> {
  if (crds.length === 0 || policy === CrdPolicies.Skip) return 0;
  let todo = [...crds];
  if (policy === CrdPolicies.Create) {
    const missing: KubeObject[] = [];
    for (const crd of crds) {
      const live = await client.tryGet({
        apiVersion: crd.apiVersion ?? '',
        kind: crd.kind ?? '',
        name: crd.metadata.name ?? '',
      });
      if (!live) missing.push(crd);
    }
    todo = missing;
  }
  if (todo.length === 0) return 0;
  await applyAll(client, todo, { fieldManager: HELM_FIELD_MANAGER, labels });
  return todo.length;
}
