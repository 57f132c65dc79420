import assert from 'node:assert/strict';
import { load, loadAll } from 'js-yaml';
import {
  appFiles,
  appObjectsIn,
  chartFiles,
  configMapFiles,
  kustomization,
} from '../../../../hack/bench/workload.ts';

describe('bench workload', () => {
  it('the app is the flux-benchmark four: ServiceAccount, Service, Deployment with 0 replicas, Ingress', () => {
    const files = appFiles();
    const k = load(files['app/kustomization.yaml']!) as { resources: string[] };
    const objs = k.resources.map(
      (r) => load(files[`app/${r}`]!) as { kind: string; spec?: { replicas?: number } },
    );
    assert.deepEqual(
      objs.map((o) => o.kind),
      ['ServiceAccount', 'Service', 'Deployment', 'Ingress'],
    );
    assert.equal(objs[2]?.spec?.replicas, 0);
    // The bare apply loop sends the same objects, in the app's namespace.
    assert.deepEqual(
      appObjectsIn('app-0007').map((o) => `${o.kind}/${o.metadata.namespace}/${o.metadata.name}`),
      [
        'ServiceAccount/app-0007/app',
        'Service/app-0007/app',
        'Deployment/app-0007/app',
        'Ingress/app-0007/app',
      ],
    );
  });

  it('the ConfigMap tree carries each version and drops the omitted ones from disk and kustomization', () => {
    const files = configMapFiles(
      4,
      (i) => `v${i}`,
      (i) => i % 2 === 0,
    );
    assert.equal(files['cms/cm-0002.yaml'], null);
    assert.deepEqual((load(files['cms/kustomization.yaml']!) as { resources: string[] }).resources, [
      'cm-0001.yaml',
      'cm-0003.yaml',
    ]);
    assert.equal((load(files['cms/cm-0003.yaml']!) as { data: { version: string } }).data.version, 'v3');
  });

  it('Kustomizations prune and wait, into their target namespace', () => {
    const ks = kustomization({
      name: 'a',
      source: 'a',
      path: './app',
      targetNamespace: 'app-0001',
      interval: '1m',
    });
    assert.deepEqual(
      [ks.spec.prune, ks.spec.wait, ks.spec.targetNamespace, ks.spec.sourceRef.kind],
      [true, true, 'app-0001', 'GitRepository'],
    );
  });

  it('the chart templates name every object after the release', () => {
    const files = chartFiles();
    const dep = files['bench-app/templates/deployment.yaml']!;
    assert.match(dep, /name: \{\{ \.Release\.Name \}\}/);
    assert.match(dep, /replicas: \{\{ \.Values\.replicas \}\}/);
    assert.ok(!Object.values(files).some((t) => t.includes('RELEASE')));
    assert.equal(loadAll(files['bench-app/Chart.yaml']!).length, 1);
  });
});
