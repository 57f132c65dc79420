// tide check, install and uninstall on an empty cluster (a second control plane: uninstall deletes the
// CRDs every other test needs). kwok's node makes the controllers' Deployments Available; no
// controller runs, so Tide objects left with a finalizer would hang the CRDs' deletion unless
// uninstall removes the finalizers first.
import assert from 'node:assert/strict';
import { FINALIZER, Labels, PART_OF } from '../../../controllers/api/names.ts';
import { chartComponents, selectComponents } from '../../../controllers/cli/install/components.ts';
import { useSecondCluster } from '../../support/secondcluster.ts';
import { tide } from '../../support/tide.ts';

const ns = 'flux-system';
const crdKind = { group: 'apiextensions.k8s.io', version: 'v1', kind: 'CustomResourceDefinition' };

describe('tide install, check and uninstall', function () {
  this.timeout(300_000);
  const cluster = useSecondCluster();
  const kubeconfig = () => cluster().state.kubeconfig;
  const client = () => cluster().client;
  const expected = selectComponents(chartComponents(), undefined).selected.map((k) => `${k}-controller`);
  const toolkitCrds = async () =>
    (await client().listAll(crdKind)).items
      .map((c) => c.metadata.name ?? '')
      .filter((n) => n.endsWith('.toolkit.fluxcd.io'));

  it('check --pre passes on an empty cluster; check fails until Tide is installed', async () => {
    const pre = await tide(['check', '--pre'], kubeconfig());
    assert.equal(pre.code, 0, pre.stderr);
    assert.match(pre.stderr, /✔ Kubernetes 1\.\d+\.\d+ >=1\.33\.0-0\n✔ prerequisites checks passed\n$/);
    const check = await tide(['check'], kubeconfig());
    assert.equal(check.code, 1);
    assert.match(check.stderr, /✗ source-controller: deployment not found in "flux-system"\n/);
    assert.match(check.stderr, /✗ gitrepositories\.source\.toolkit\.fluxcd\.io: not installed\n/);
  });

  it('install applies the CRDs first, then the controllers, and waits for their rollout', async () => {
    const r = await tide(['install', '--poll-interval', '500ms'], kubeconfig());
    assert.equal(r.code, 0, r.stderr);
    const lines = r.stderr.split('\n');
    const created = lines.filter((l) => l.endsWith(' created'));
    const lastCrd = created.map((l) => l.startsWith('CustomResourceDefinition/')).lastIndexOf(true);
    const firstDeployment = created.findIndex((l) => l.startsWith('Deployment/'));
    assert.ok(lastCrd >= 0 && lastCrd < firstDeployment, 'CRDs are applied before the controllers');
    for (const name of expected) assert.ok(lines.includes(`✔ ${name}: deployment ready`), name);
    assert.equal(lines.at(-2), '✔ install finished');
    assert.equal((await toolkitCrds()).length, 13);
    for (const name of expected) {
      const d = await client().get({ apiVersion: 'apps/v1', kind: 'Deployment', name, namespace: ns });
      assert.equal(d.status?.availableReplicas, 1, name);
    }
    const check = await tide(['check'], kubeconfig());
    assert.equal(check.code, 0, check.stderr);
    assert.match(check.stderr, /✔ all checks passed\n$/);
  });

  it('install again changes nothing', async () => {
    const r = await tide(['install', '--poll-interval', '500ms'], kubeconfig());
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(
      r.stderr.split('\n').filter((l) => / (created|configured)$/.test(l)),
      [],
    );
  });

  it('uninstall removes every Tide object, even with finalizers and no controller, and keeps what was applied', async () => {
    // Objects a controller would have finalized, and an object a Kustomization applied.
    const git = await client().create({
      apiVersion: 'source.toolkit.fluxcd.io/v1',
      kind: 'GitRepository',
      metadata: { name: 'app', namespace: ns, finalizers: [FINALIZER] },
      spec: { url: 'https://git.example.com/app.git', interval: '1m', ref: { branch: 'main' } },
    });
    await client().create({
      apiVersion: 'kustomize.toolkit.fluxcd.io/v1',
      kind: 'Kustomization',
      metadata: { name: 'app', namespace: 'default', finalizers: [FINALIZER] },
      spec: {
        interval: '1m',
        path: './',
        prune: true,
        sourceRef: { kind: 'GitRepository', name: 'app', namespace: ns },
      },
    });
    await client().create({
      apiVersion: 'v1',
      kind: 'ConfigMap',
      metadata: {
        name: 'applied',
        namespace: 'default',
        labels: { [Labels.kustomizeName]: 'app', [Labels.kustomizeNamespace]: 'default' },
      },
      data: { a: 'b' },
    });
    assert.deepEqual(git.metadata.finalizers, [FINALIZER]);

    const r = await tide(
      ['uninstall', '--silent', '--poll-interval', '500ms', '--timeout', '2m'],
      kubeconfig(),
    );
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stderr, /✔ GitRepository\/flux-system\/app finalizers deleted\n/);
    assert.match(r.stderr, /✔ uninstall finished\n$/);
    assert.deepEqual(await toolkitCrds(), []);
    assert.equal(await client().tryGet({ apiVersion: 'v1', kind: 'Namespace', name: ns }), undefined);
    const selector = `${Labels.partOf}=${PART_OF}`;
    for (const kind of ['ClusterRole', 'ClusterRoleBinding'])
      assert.deepEqual(
        (
          await client().listAll(
            { group: 'rbac.authorization.k8s.io', version: 'v1', kind },
            { labelSelector: selector },
          )
        ).items,
        [],
      );
    assert.ok(
      await client().tryGet({ apiVersion: 'v1', kind: 'ConfigMap', name: 'applied', namespace: 'default' }),
    );
    const check = await tide(['check'], kubeconfig());
    assert.equal(check.code, 1);
  });
});
