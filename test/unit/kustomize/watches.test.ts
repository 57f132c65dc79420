// The Kustomization and HelmChart watches: a changed source, dependency or labelled Secret maps to
// exactly the objects that refer to it, found through the indexes of a real informer cache.
import assert from 'node:assert/strict';
import { KubeConfig } from '@kubernetes/client-node';
import { kustomizationController } from '../../../controllers/kustomize/kustomization.ts';
import { createInformer, type Informer } from '../../../controllers/runtime/informer.ts';
import type { KubeObject } from '../../../controllers/runtime/object.ts';
import type { ControllerDefinition } from '../../../controllers/runtime/reconciler.ts';
import { helmChartController } from '../../../controllers/source/helmchart.ts';
import { fakeWatchClient } from '../runtime/fakewatch.ts';

const ks = (name: string, spec: Record<string, unknown>, ns = 'apps'): KubeObject => ({
  apiVersion: 'kustomize.toolkit.fluxcd.io/v1',
  kind: 'Kustomization',
  metadata: { name, namespace: ns, resourceVersion: '1' },
  spec: { interval: '10m', prune: true, sourceRef: { kind: 'GitRepository', name: 'repo' }, ...spec },
});
const source = (kind: string, name: string, ns: string, revision?: string): KubeObject => ({
  apiVersion: 'source.toolkit.fluxcd.io/v1',
  kind,
  metadata: { name, namespace: ns },
  status: revision ? { artifact: { revision } } : {},
});

async function primaryOf(def: ControllerDefinition, objects: KubeObject[]): Promise<Informer> {
  const inf = createInformer({ client: fakeWatchClient(objects).client, kind: def.kind });
  for (const [name, fn] of Object.entries(def.indexes ?? {})) inf.addIndex(name, fn);
  inf.start();
  await inf.waitForSync();
  return inf;
}
const watchOf = (def: ControllerDefinition, kind: string, labelSelector?: string) => {
  const w = def.watches?.find(
    (x) => x.kind.kind === kind && (!labelSelector || x.labelSelector === labelSelector),
  );
  if (!w) throw new Error(`no watch of ${kind}`);
  return w;
};
const mapped = (def: ControllerDefinition, inf: Informer, obj: KubeObject) =>
  watchOf(def, obj.kind ?? '')
    .map(obj, inf)
    .sort();

describe('kustomize/watches', () => {
  const informers: Informer[] = [];
  after(() => Promise.all(informers.map((i) => i.stop())));

  it('maps sources, dependencies and labelled Secrets and ConfigMaps to the Kustomizations using them', async () => {
    const def = kustomizationController({
      kubeConfig: new KubeConfig(),
      fieldManager: 'test',
      kustomizeBin: 'kustomize',
      sopsBin: 'sops',
      requeueDependencyMs: 1000,
    }) as unknown as ControllerDefinition;
    const inf = await primaryOf(def, [
      ks('app', {
        dependsOn: [{ name: 'infra' }],
        postBuild: { substituteFrom: [{ kind: 'ConfigMap', name: 'vars' }] },
      }),
      ks('infra', {
        decryption: { provider: 'sops', secretRef: { name: 'age' } },
        kubeConfig: { configMapRef: { name: 'wi' } },
      }),
      ks('remote', {
        sourceRef: { kind: 'OCIRepository', name: 'repo' },
        kubeConfig: { secretRef: { name: 'kc' } },
      }),
      ks(
        'other',
        {
          sourceRef: { kind: 'GitRepository', name: 'repo', namespace: 'apps' },
          dependsOn: [{ name: 'infra', namespace: 'apps' }],
        },
        'team',
      ),
    ]);
    informers.push(inf);
    assert.deepEqual(mapped(def, inf, source('GitRepository', 'repo', 'apps')), [
      'apps/app',
      'apps/infra',
      'team/other',
    ]);
    assert.deepEqual(mapped(def, inf, source('OCIRepository', 'repo', 'apps')), ['apps/remote']);
    assert.deepEqual(mapped(def, inf, source('GitRepository', 'repo', 'team')), []);
    assert.deepEqual(mapped(def, inf, ks('infra', {})), ['apps/app', 'team/other']);
    assert.deepEqual(mapped(def, inf, ks('app', {})), []);
    const data = (kind: string, name: string): KubeObject => ({
      apiVersion: 'v1',
      kind,
      metadata: { name, namespace: 'apps' },
    });
    assert.deepEqual(mapped(def, inf, data('Secret', 'age')), ['apps/infra']);
    assert.deepEqual(mapped(def, inf, data('Secret', 'kc')), ['apps/remote']);
    assert.deepEqual(mapped(def, inf, data('ConfigMap', 'vars')), ['apps/app']);
    assert.deepEqual(mapped(def, inf, data('ConfigMap', 'wi')), ['apps/infra']);
    assert.deepEqual(mapped(def, inf, data('Secret', 'vars')), []);
    assert.equal(watchOf(def, 'Secret').labelSelector, 'reconcile.fluxcd.io/watch=Enabled');
  });

  it('maps a new source revision to the HelmCharts built from that source that have not seen it', async () => {
    const def = helmChartController({
      storage: {} as never,
      maxSourceBytes: 1,
    }) as unknown as ControllerDefinition;
    const chart = (name: string, kind: string, seen?: string): KubeObject => ({
      apiVersion: 'source.toolkit.fluxcd.io/v1',
      kind: 'HelmChart',
      metadata: { name, namespace: 'apps', resourceVersion: '1' },
      spec: { chart: 'c', interval: '1m', sourceRef: { kind, name: 'repo' } },
      status: seen ? { observedSourceArtifactRevision: seen } : {},
    });
    const inf = await primaryOf(def, [
      chart('fresh', 'HelmRepository'),
      chart('current', 'HelmRepository', 'sha256:2'),
      chart('git', 'GitRepository'),
    ]);
    informers.push(inf);
    assert.deepEqual(mapped(def, inf, source('HelmRepository', 'repo', 'apps', 'sha256:2')), ['apps/fresh']);
    assert.deepEqual(mapped(def, inf, source('HelmRepository', 'repo', 'apps')), []);
    assert.deepEqual(mapped(def, inf, source('GitRepository', 'repo', 'apps', 'main@sha1:1')), ['apps/git']);
    assert.deepEqual(mapped(def, inf, source('GitRepository', 'repo', 'other', 'main@sha1:1')), []);
  });
});
