// Edges of the dependency graph and the reasons they give.
import assert from 'node:assert/strict';
import type { Client } from '../../../controllers/runtime/client.ts';
import type { KubeObject } from '../../../controllers/runtime/object.ts';
import { localViewer } from '../../../controllers/ui/access.ts';
import { buildGraph, dependencyEdge, type GraphSource, sourceEdge } from '../../../controllers/ui/graph.ts';
import { kindInfo, uiKinds } from '../../../controllers/ui/kinds.ts';
import { summarize } from '../../../controllers/ui/model/rows.ts';

const rev = (c: string) => `main@sha1:${c.repeat(40)}`;
const ready = (status = 'True', reason = 'ReconciliationSucceeded', message = '') => ({
  type: 'Ready',
  status,
  reason,
  message,
  lastTransitionTime: '2025-01-01T00:00:00Z',
});

function ks(
  name: string,
  opts: {
    deps?: string[];
    applied?: string;
    ready?: object;
    suspend?: boolean;
    generation?: number;
    source?: string;
  } = {},
): KubeObject {
  return {
    apiVersion: 'kustomize.toolkit.fluxcd.io/v1',
    kind: 'Kustomization',
    metadata: { name, namespace: 'apps', generation: opts.generation ?? 1 },
    spec: {
      sourceRef: { kind: 'GitRepository', name: opts.source ?? 'repo' },
      ...(opts.deps ? { dependsOn: opts.deps.map((d) => ({ name: d })) } : {}),
      ...(opts.suspend ? { suspend: true } : {}),
    },
    status: { observedGeneration: 1, lastAppliedRevision: opts.applied, conditions: [opts.ready ?? ready()] },
  };
}

function git(name: string, revision?: string, cond = ready('True', 'Succeeded')): KubeObject {
  return {
    apiVersion: 'source.toolkit.fluxcd.io/v1',
    kind: 'GitRepository',
    metadata: { name, namespace: 'apps', generation: 1 },
    spec: {},
    status: { observedGeneration: 1, conditions: [cond], ...(revision ? { artifact: { revision } } : {}) },
  };
}

function source(objs: KubeObject[]): GraphSource {
  const infos = new Map(uiKinds().map((d) => [d.kind, kindInfo(d)]));
  const byKey = new Map(objs.map((o) => [`${o.kind}/${o.metadata.namespace}/${o.metadata.name}`, o]));
  const rows = new Map(
    objs.map((o) => {
      const r = summarize(o, infos.get(o.kind ?? '') ?? { kind: o.kind ?? '', hasStatus: true });
      return [r.key, r];
    }),
  );
  return {
    rows: () => [...rows.values()],
    row: (k) => rows.get(k),
    object: (kind, ns, name) => byKey.get(`${kind}/${ns}/${name}`),
    kindInfo: (k) => infos.get(k),
  };
}

const edge = (src: GraphSource, from: KubeObject, dep: string) =>
  dependencyEdge(src, 'Kustomization', from, { namespace: 'apps', name: dep });

describe('ui/graph', () => {
  it('says a dependency is missing', () => {
    const b = ks('b', { deps: ['a'] });
    assert.deepEqual(edge(source([b, git('repo', rev('1'))]), b, 'a'), {
      from: 'Kustomization/apps/b',
      to: 'Kustomization/apps/a',
      type: 'dependsOn',
      state: 'blocked',
      reason: "dependency 'apps/a' not found",
    });
  });

  it('says why a dependency is not ready: its Ready condition, and that it is suspended', () => {
    const a = ks('a', {
      ready: ready('False', 'ArtifactFailed', "kustomization path not found: './x'"),
      suspend: true,
    });
    const b = ks('b', { deps: ['a'] });
    const e = edge(source([a, b, git('repo', rev('1'))]), b, 'a');
    assert.equal(e.state, 'blocked');
    assert.equal(
      e.reason,
      "dependency 'apps/a' is not ready: Ready=False ArtifactFailed: kustomization path not found: './x'; it is suspended",
    );
  });

  it('says a dependency has not reconciled its new generation', () => {
    const a = ks('a', { generation: 2, applied: rev('1') });
    const b = ks('b', { deps: ['a'] });
    assert.match(
      edge(source([a, b, git('repo', rev('1'))]), b, 'a').reason,
      /generation 2 not reconciled yet/,
    );
  });

  it('says a dependency on the same source is behind the revision about to be applied', () => {
    const a = ks('a', { applied: rev('1') });
    const b = ks('b', { deps: ['a'] });
    const e = edge(source([a, b, git('repo', rev('2'))]), b, 'a');
    assert.equal(e.state, 'blocked');
    assert.equal(e.reason, `revision behind: 'apps/a' applied ${rev('1')}, the source is at ${rev('2')}`);
    // Another source's revision is no reason to wait.
    const c = ks('c', { deps: ['a'], source: 'other' });
    assert.equal(edge(source([a, c, git('repo', rev('2')), git('other', rev('3'))]), c, 'a').state, 'ok');
  });

  it('holds with a warning when the ready dependency is suspended, and holds plainly otherwise', () => {
    const a = ks('a', { applied: rev('1'), suspend: true });
    const b = ks('b', { deps: ['a'] });
    assert.equal(edge(source([a, b, git('repo', rev('1'))]), b, 'a').state, 'warning');
    const a2 = ks('a', { applied: rev('1') });
    assert.deepEqual(
      (({ state, reason }) => ({ state, reason }))(edge(source([a2, b, git('repo', rev('1'))]), b, 'a')),
      { state: 'ok', reason: `'apps/a' is ready at ${rev('1')}` },
    );
  });

  it('follows readyExpr as the controllers do', () => {
    const a = ks('a', { ready: ready('False', 'X') });
    const b = ks('b');
    const src = source([a, b, git('repo', rev('1'))]);
    const yes = dependencyEdge(src, 'Kustomization', b, {
      namespace: 'apps',
      name: 'a',
      readyExpr: "dep.metadata.name == 'a'",
    });
    assert.equal(yes.state, 'ok');
    const no = dependencyEdge(src, 'Kustomization', b, { namespace: 'apps', name: 'a', readyExpr: 'false' });
    assert.equal(no.reason, "dependency 'apps/a' is not ready according to readyExpr eval");
  });

  it('judges the source edge by its artifact and state', () => {
    const b = ks('b');
    const row = (objs: KubeObject[]) => {
      const s = source(objs);
      return sourceEdge(s, s.row('Kustomization/apps/b') as NonNullable<ReturnType<GraphSource['row']>>);
    };
    assert.equal(row([b])?.reason, "source 'GitRepository/apps/repo' not found");
    assert.match(
      row([b, git('repo', undefined, ready('False', 'GitOperationFailed', 'auth failed'))])?.reason ?? '',
      /no artifact yet: auth failed/,
    );
    assert.equal(
      row([b, git('repo', rev('1'), ready('False', 'GitOperationFailed', 'auth failed'))])?.state,
      'warning',
    );
    assert.deepEqual(row([b, git('repo', rev('1'))])?.state, 'ok');
  });

  it('builds nodes for every dependsOn kind and the sources they read, with missing ends', async () => {
    const a = ks('a', { applied: rev('1') });
    const b = ks('b', { deps: ['a', 'ghost'] });
    const viewer = localViewer({} as Client, { user: 'me', groups: [] });
    const g = await buildGraph(source([a, b, git('repo', rev('1'))]), viewer);
    assert.deepEqual(g.nodes.map((n) => n.key).sort(), [
      'GitRepository/apps/repo',
      'Kustomization/apps/a',
      'Kustomization/apps/b',
      'Kustomization/apps/ghost',
    ]);
    assert.deepEqual(g.nodes.find((n) => n.key === 'Kustomization/apps/ghost')?.missing, {
      kind: 'Kustomization',
      namespace: 'apps',
      name: 'ghost',
    });
    assert.deepEqual(g.edges.map((e) => `${e.from} -> ${e.to}: ${e.state}`).sort(), [
      'Kustomization/apps/a -> GitRepository/apps/repo: ok',
      'Kustomization/apps/b -> GitRepository/apps/repo: ok',
      'Kustomization/apps/b -> Kustomization/apps/a: ok',
      'Kustomization/apps/b -> Kustomization/apps/ghost: blocked',
    ]);
  });
});
