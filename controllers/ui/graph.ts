// The dependency graph: every object of a kind with spec.dependsOn (Kustomization, HelmRelease) and the
// sources they read, each edge saying whether it holds and why not. dependsOn edges are judged by the
// controllers' own rule (runtime/dependencies.ts: Ready at the current generation, readyExpr) plus
// kustomize-controller's revision rule; source edges by the source's artifact and Ready condition.

import { SOURCE_GROUP } from '../api/kinds.ts';
import { ConditionTypes } from '../api/names.ts';
import { checkDependencies } from '../runtime/dependencies.ts';
import { isReconcileError } from '../runtime/errors.ts';
import type { KubeObject } from '../runtime/object.ts';
import type { Viewer } from './access.ts';
import { type KindInfo, type Row, rowKey, States } from './model/rows.ts';
import type { EdgeState, Graph, GraphEdge, GraphNode } from './model/views.ts';

/** What the graph reads: rows, cached objects and kinds. */
export interface GraphSource {
  rows(): Row[];
  row(key: string): Row | undefined;
  object(kind: string, namespace: string, name: string): KubeObject | undefined;
  kindInfo(kind: string): KindInfo | undefined;
}

const readyOf = (o: KubeObject) =>
  (
    o.status?.conditions as { type: string; status: string; reason?: string; message?: string }[] | undefined
  )?.find((c) => c.type === ConditionTypes.Ready);

/** Why dep's Ready does not satisfy a dependent, in words. */
function notReadyDetail(dep: KubeObject): string {
  const r = readyOf(dep);
  const parts: string[] = [];
  const generation = dep.metadata.generation;
  const observed = dep.status?.observedGeneration;
  if (r?.status === 'True' && generation !== observed)
    parts.push(`generation ${generation} not reconciled yet`);
  else if (r)
    parts.push(`Ready=${r.status}${r.reason ? ` ${r.reason}` : ''}${r.message ? `: ${r.message}` : ''}`);
  else parts.push('no Ready condition yet');
  if (dep.spec?.suspend === true) parts.push('it is suspended');
  return parts.join('; ');
}

/** The source revision a Kustomization would apply now: its source's artifact. */
function sourceRevision(src: GraphSource, obj: KubeObject): string | undefined {
  const ref = obj.spec?.sourceRef;
  if (!ref) return undefined;
  return src.object(ref.kind, ref.namespace || obj.metadata.namespace || '', ref.name)?.status?.artifact
    ?.revision;
}

const sameSource = (a: KubeObject, b: KubeObject) => {
  const key = (o: KubeObject) =>
    `${o.spec?.sourceRef?.kind}/${o.spec?.sourceRef?.namespace || o.metadata.namespace}/${o.spec?.sourceRef?.name}`;
  return Boolean(a.spec?.sourceRef && b.spec?.sourceRef) && key(a) === key(b);
};

/** One dependsOn edge of `obj` (a `kind` object) to `d`. */
export function dependencyEdge(
  src: GraphSource,
  kind: string,
  obj: KubeObject,
  d: { namespace: string; name: string; readyExpr?: string },
): GraphEdge {
  const from = rowKey(kind, obj.metadata.namespace ?? '', obj.metadata.name ?? '');
  const to = rowKey(kind, d.namespace, d.name);
  const edge = (state: EdgeState, reason: string): GraphEdge => ({
    from,
    to,
    type: 'dependsOn',
    state,
    reason,
  });
  const dep = src.object(kind, d.namespace, d.name);
  if (!dep) return edge('blocked', `dependency '${d.namespace}/${d.name}' not found`);
  const gvk = { group: '', version: '', kind };
  const revision = kind === 'Kustomization' ? sourceRevision(src, obj) : undefined;
  const single = {
    ...obj,
    spec: { ...obj.spec, dependsOn: [{ name: d.name, namespace: d.namespace, readyExpr: d.readyExpr }] },
  };
  try {
    checkDependencies(
      single,
      { cached: (_k, key) => (key === `${d.namespace}/${d.name}` ? dep : undefined) },
      {
        kind: gvk,
        requeueMs: 0,
        // kustomize-controller's rule: a dependency on the same source applied the revision about to apply.
        revisionRule: (x) =>
          revision && sameSource(x, obj) && x.status?.lastAppliedRevision !== revision
            ? 'revision is not up to date'
            : undefined,
      },
    );
  } catch (err) {
    if (!isReconcileError(err)) throw err;
    if (/revision is not up to date/.test(err.message))
      return edge(
        'blocked',
        `revision behind: '${d.namespace}/${d.name}' applied ${dep.status?.lastAppliedRevision || 'nothing yet'}, the source is at ${revision}`,
      );
    if (/is not ready$/.test(err.message)) return edge('blocked', `${err.message}: ${notReadyDetail(dep)}`);
    return edge('blocked', err.message);
  }
  if (dep.spec?.suspend === true)
    return edge('warning', `holds, but '${d.namespace}/${d.name}' is suspended: it applies no new revision`);
  return edge(
    'ok',
    `'${d.namespace}/${d.name}' is ready${dep.status?.lastAppliedRevision ? ` at ${dep.status.lastAppliedRevision}` : ''}`,
  );
}

/** The edge from a consumer to the source it reads. */
export function sourceEdge(src: GraphSource, consumer: Row): GraphEdge | undefined {
  const ref = consumer.source;
  if (!ref) return undefined;
  const to = rowKey(ref.kind, ref.namespace, ref.name);
  const edge = (state: EdgeState, reason: string): GraphEdge => ({
    from: consumer.key,
    to,
    type: 'source',
    state,
    reason,
  });
  const source = src.object(ref.kind, ref.namespace, ref.name);
  const row = src.row(to);
  if (!source || !row) return edge('blocked', `source '${to}' not found`);
  const artifact = source.status?.artifact?.revision as string | undefined;
  // Flux sources hand out artifacts; other referenced kinds (ImageRepository, Provider) only a status.
  if (src.kindInfo(ref.kind)?.group !== SOURCE_GROUP) {
    if (row.state === States.Failing) return edge('blocked', `'${to}' is failing: ${row.message}`);
    if (row.suspended) return edge('warning', `'${to}' is suspended`);
    return edge(row.state === States.Ready ? 'ok' : 'warning', row.message || row.state);
  }
  if (!artifact)
    return edge('blocked', `source has no artifact yet: ${row.message || 'waiting for the controller'}`);
  if (row.suspended) return edge('warning', `source is suspended${artifact ? ` at ${artifact}` : ''}`);
  if (row.state === States.Failing)
    return edge(
      'warning',
      `source is failing (the last artifact${artifact ? ` ${artifact}` : ''} is still used): ${row.message}`,
    );
  return edge('ok', artifact ? `artifact ${artifact}` : 'ready');
}

/** The graph of the objects the viewer may see. */
export async function buildGraph(src: GraphSource, viewer: Viewer): Promise<Graph> {
  const visible = async (r: Row) => {
    const info = src.kindInfo(r.kind);
    return Boolean(
      info && (viewer.mayList(info, r.namespace) ?? (await viewer.checkList(info, r.namespace))),
    );
  };
  const nodes = new Map<string, GraphNode>();
  const edges: GraphEdge[] = [];
  const addNode = async (key: string, ref?: { kind: string; namespace: string; name: string }) => {
    if (nodes.has(key)) return;
    const row = src.row(key);
    if (row && (await visible(row))) nodes.set(key, { key, row });
    else if (ref) nodes.set(key, { key, missing: ref });
  };
  const consumers = src.rows().filter((r) => src.kindInfo(r.kind)?.hasDependsOn);
  const queue: Row[] = [];
  for (const r of consumers) {
    if (!(await visible(r))) continue;
    await addNode(r.key);
    const obj = src.object(r.kind, r.namespace, r.name);
    if (!obj) continue;
    for (const d of r.dependsOn ?? []) {
      const e = dependencyEdge(src, r.kind, obj, d);
      await addNode(e.to, { kind: r.kind, namespace: d.namespace, name: d.name });
      edges.push(e);
    }
    queue.push(r);
  }
  // Sources, and their own sources (a HelmChart's HelmRepository).
  const seen = new Set<string>();
  while (queue.length) {
    const r = queue.shift() as Row;
    if (seen.has(r.key)) continue;
    seen.add(r.key);
    const e = sourceEdge(src, r);
    if (!e || !r.source) continue;
    await addNode(e.to, r.source);
    edges.push(e);
    const srcRow = src.row(e.to);
    if (srcRow && nodes.get(e.to)?.row) queue.push(srcRow);
  }
  return { nodes: [...nodes.values()], edges };
}
