// A Kustomization over several revisions: prune, a malformed revision, immutable fields with and without
// force, drift correction and suspend, with the source- and kustomize-controller running as processes
// against the test bed's Git server. Each test has its own repository and Kustomization.

import assert from 'node:assert/strict';
import { Annotations } from '../../../controllers/api/names.ts';
import {
  configMap,
  type DataObject,
  deployment,
  ready,
  useKustomizeEnv,
  yaml,
} from './kustomization-support.ts';

const job = (name: string, image: string) => ({
  apiVersion: 'batch/v1',
  kind: 'Job',
  metadata: { name },
  spec: {
    backoffLimit: 0,
    template: { spec: { restartPolicy: 'Never', containers: [{ name: 'run', image }] } },
  },
});

describe('kustomize-controller: Kustomization lifecycle', function () {
  this.timeout(240_000);
  const env = useKustomizeEnv('ks-life');
  const ns = () => env.ns();
  const cmRef = (name: string) => ({ apiVersion: 'v1', kind: 'ConfigMap', namespace: ns(), name });
  const cm = (name: string) => env.get<DataObject>(cmRef(name));
  const gone = (name: string) =>
    env.until(`ConfigMap ${name} deleted`, async () =>
      (await env.tryGet(cmRef(name))) === undefined ? true : undefined,
    );
  const target = () => ({ targetNamespace: ns() });

  it('prunes an object whose file left Git, sparing one annotated prune: disabled', async () => {
    const repo = await env.repo('prune', {
      'app/keep.yaml': yaml(configMap('stays', { v: '1' })),
      'app/leaves.yaml': yaml(configMap('leaves', { v: '1' })),
      'app/protected.yaml': yaml(
        configMap('protected', { v: '1' }, { annotations: { [Annotations.prune]: 'disabled' } }),
      ),
    });
    await env.createKs('prune', repo, { path: './app', ...target() });
    const first = await env.waitReady('prune');
    assert.equal(first.status?.inventory?.entries.length, 3);

    const rev = await repo.commit({ 'app/leaves.yaml': null, 'app/protected.yaml': null });
    const ks = await env.waitReady('prune', rev);
    await gone('leaves');
    assert.equal((await cm('stays')).data?.v, '1');
    assert.equal((await cm('protected')).data?.v, '1', 'prune: disabled survives');
    assert.deepEqual(
      ks.status?.inventory?.entries.map((e) => e.id),
      [`${ns()}_stays__ConfigMap`],
    );
  });

  it('keeps every object of the last good revision when a revision has malformed YAML', async () => {
    const repo = await env.repo('malformed', {
      'app/one.yaml': yaml(configMap('good-one', { v: '1' })),
      'app/two.yaml': yaml(deployment('good-two')),
    });
    await env.createKs('malformed', repo, { path: './app', ...target() });
    const good = await env.waitReady('malformed');

    const rev = await repo.commit({
      'app/two.yaml': null,
      'app/broken.yaml': 'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: broken\n data: [oops\n',
    });
    const ks = await env.waitNotReady('malformed', /broken\.yaml/);
    assert.equal(ks.status?.lastAttemptedRevision, rev);
    assert.equal(ks.status?.lastAppliedRevision, good.status?.lastAppliedRevision);
    assert.deepEqual(ks.status?.inventory, good.status?.inventory, 'inventory unchanged');
    // Nothing was pruned although two.yaml left Git in the same revision.
    await cm('good-one');
    await env.get({ apiVersion: 'apps/v1', kind: 'Deployment', namespace: ns(), name: 'good-two' });
  });

  it('recreates an object whose immutable field changed when spec.force is true', async () => {
    const repo = await env.repo('force', {
      'job/job.yaml': yaml(job('migrate-forced', 'registry.example/migrate:1')),
    });
    await env.createKs('force', repo, { path: './job', ...target(), force: true });
    await env.waitReady('force');
    const ref = { apiVersion: 'batch/v1', kind: 'Job', namespace: ns(), name: 'migrate-forced' };
    const before = await env.get(ref);

    const rev = await repo.commit({
      'job/job.yaml': yaml(job('migrate-forced', 'registry.example/migrate:2')),
    });
    await env.waitReady('force', rev);
    const after = await env.get(ref);
    assert.notEqual(after.metadata.uid, before.metadata.uid, 'a new object');
    assert.equal(after.spec.template.spec.containers[0].image, 'registry.example/migrate:2');
  });

  it('refuses an immutable-field change without force, saying the field is immutable', async () => {
    const repo = await env.repo('noforce', {
      'job/job.yaml': yaml(job('migrate-kept', 'registry.example/migrate:1')),
    });
    await env.createKs('noforce', repo, { path: './job', ...target() });
    await env.waitReady('noforce');
    const ref = { apiVersion: 'batch/v1', kind: 'Job', namespace: ns(), name: 'migrate-kept' };
    const before = await env.get(ref);

    await repo.commit({ 'job/job.yaml': yaml(job('migrate-kept', 'registry.example/migrate:2')) });
    const ks = await env.waitNotReady('noforce', /immutable/);
    assert.match(ready(ks)?.message ?? '', new RegExp(`Job/${ns()}/migrate-kept`));
    assert.equal(ready(ks)?.reason, 'ReconciliationFailed');
    const after = await env.get(ref);
    assert.equal(after.metadata.uid, before.metadata.uid, 'the object was left alone');
    assert.equal(after.spec.template.spec.containers[0].image, 'registry.example/migrate:1');
  });

  it('reverts a manual change of a managed field on the next reconcile', async () => {
    const repo = await env.repo('drift', {
      'app/deploy.yaml': yaml(deployment('drifty', { replicas: 1 })),
      'app/cm.yaml': yaml(configMap('drifty', { mode: 'git' })),
    });
    await env.createKs('drift', repo, { path: './app', ...target() });
    await env.waitReady('drift');
    const dRef = { apiVersion: 'apps/v1', kind: 'Deployment', namespace: ns(), name: 'drifty' };
    const manual = { fieldManager: 'manual-edit' };
    await env.client().patch(dRef, 'merge', { spec: { replicas: 3 } }, manual);
    await env.client().patch(cmRef('drifty'), 'merge', { data: { mode: 'hand-edited' } }, manual);
    assert.equal((await env.get(dRef)).spec.replicas, 3);

    await env.requestKs('drift');
    const ks = await env.waitReady('drift');
    assert.equal((await env.get(dRef)).spec.replicas, 1);
    assert.equal((await cm('drifty')).data?.mode, 'git');
    assert.equal(ready(ks)?.status, 'True');
  });

  it('keeps ignored fields (spec.ignore) at their live value, and lets another applier own them', async () => {
    const repo = await env.repo('ignore', {
      'app/deploy.yaml': yaml(deployment('scaled', { replicas: 1 })),
      'app/ignored.yaml': yaml(configMap('ignored', { mode: 'git', other: 'git' })),
      'app/reverted.yaml': yaml(configMap('reverted', { mode: 'git' })),
    });
    await env.createKs('ignore', repo, {
      path: './app',
      ...target(),
      ignore: [
        { paths: ['/spec/replicas'], target: { kind: 'Deployment' } },
        { paths: ['/data/mode'], target: { kind: 'ConfigMap', name: 'ignored' } },
      ],
    });
    await env.waitReady('ignore');
    const dRef = { apiVersion: 'apps/v1', kind: 'Deployment', namespace: ns(), name: 'scaled' };
    const manual = { fieldManager: 'manual-edit' };
    await env.client().patch(dRef, 'merge', { spec: { replicas: 3 } }, manual);
    await env.client().patch(cmRef('ignored'), 'merge', { data: { mode: 'hand', other: 'hand' } }, manual);
    await env.client().patch(cmRef('reverted'), 'merge', { data: { mode: 'hand' } }, manual);

    await env.requestKs('ignore');
    await env.waitReady('ignore');
    assert.equal((await env.get(dRef)).spec.replicas, 3, 'ignored: the manual scale stays');
    assert.deepEqual(
      (await cm('ignored')).data,
      { mode: 'hand', other: 'git' },
      'only the ignored key stays',
    );
    assert.equal((await cm('reverted')).data?.mode, 'git', 'a rule for another object does not apply here');

    // An autoscaler server-side applies replicas: a new revision (changing replicas in Git too) leaves
    // them to it, and the controller no longer claims the field.
    await env.client().apply(
      {
        apiVersion: 'apps/v1',
        kind: 'Deployment',
        metadata: { name: 'scaled', namespace: ns() },
        spec: { replicas: 5 },
      },
      { fieldManager: 'autoscaler', force: true },
    );
    const rev = await repo.commit({
      'app/deploy.yaml': yaml(deployment('scaled', { replicas: 2, image: 'registry.example/app:2.0.0' })),
    });
    await env.waitReady('ignore', rev);
    const d = await env.get(dRef);
    assert.equal(d.spec.replicas, 5);
    assert.equal(d.spec.template.spec.containers[0].image, 'registry.example/app:2.0.0');
    const ours = (
      d.metadata.managedFields as { manager?: string; operation?: string; fieldsV1?: { 'f:spec'?: object } }[]
    ).find((m) => m.manager === 'kustomize-controller' && m.operation === 'Apply');
    assert.ok(ours, 'the controller still applies the Deployment');
    assert.equal(
      'f:replicas' in (ours.fieldsV1?.['f:spec'] ?? {}),
      false,
      'replicas belong to the autoscaler alone',
    );
  });

  it('does not apply a new revision while suspended, reporting the revisions it applied and attempted', async () => {
    const repo = await env.repo('suspend', { 'app/cm.yaml': yaml(configMap('paused', { v: 'one' })) });
    await env.createKs('suspend', repo, { path: './app', ...target() });
    const first = await env.waitReady('suspend');
    const firstRev = first.status?.lastAppliedRevision;
    await env.patchKs('suspend', { suspend: true });

    // The controller sees the new revision (it logs that the object is suspended) and leaves it.
    const { kustomize } = env.controllers();
    const suspendedLogs = () =>
      kustomize
        .logs()
        .split('\n')
        .filter((l) => l.includes('suspended') && l.includes('"name":"suspend"')).length;
    await env.until('suspend seen', async () => (suspendedLogs() > 0 ? true : undefined));
    const seen = suspendedLogs();
    const rev = await repo.commit({ 'app/cm.yaml': yaml(configMap('paused', { v: 'two' })) });
    await env.until('new revision seen while suspended', async () =>
      suspendedLogs() > seen ? true : undefined,
    );
    const held = await env.getKs('suspend');
    assert.equal((await cm('paused')).data?.v, 'one');
    assert.equal(held.status?.lastAppliedRevision, firstRev);
    assert.equal(held.status?.lastAttemptedRevision, firstRev);

    await env.patchKs('suspend', { suspend: false });
    const resumed = await env.waitReady('suspend', rev);
    assert.equal(resumed.status?.lastAttemptedRevision, rev);
    assert.equal((await cm('paused')).data?.v, 'two');
  });

  it('deletes what it applied when deleted with prune: true, and leaves it with deletionPolicy: Orphan', async () => {
    const repo = await env.repo('finalize', {
      'pruned/cm.yaml': yaml(configMap('finalized', { v: '1' })),
      'orphaned/cm.yaml': yaml(configMap('orphaned', { v: '1' })),
    });
    await env.createKs('finalize-prune', repo, { path: './pruned', ...target() });
    await env.createKs('finalize-orphan', repo, {
      path: './orphaned',
      ...target(),
      deletionPolicy: 'Orphan',
    });
    await Promise.all([env.waitReady('finalize-prune'), env.waitReady('finalize-orphan')]);

    const ref = (name: string) => ({
      apiVersion: 'kustomize.toolkit.fluxcd.io/v1',
      kind: 'Kustomization',
      namespace: ns(),
      name,
    });
    await env.client().delete(ref('finalize-prune'));
    await env.client().delete(ref('finalize-orphan'));
    for (const name of ['finalize-prune', 'finalize-orphan'])
      await env.until(`${name} deleted`, async () => ((await env.tryGet(ref(name))) ? undefined : true));
    await gone('finalized');
    assert.equal((await cm('orphaned')).data?.v, '1');
  });

  it('creates an object annotated ssa: IfNotPresent once, then neither overwrites nor prunes it', async () => {
    const once = (v: string) =>
      yaml(configMap('once', { v }, { annotations: { [Annotations.ssa]: 'IfNotPresent' } }));
    const repo = await env.repo('ifnotpresent', { 'app/once.yaml': once('git') });
    await env.createKs('ifnotpresent', repo, { path: './app', ...target() });
    await env.waitReady('ifnotpresent');
    await env
      .client()
      .patch(cmRef('once'), 'merge', { data: { v: 'mine' } }, { fieldManager: 'manual-edit' });

    const rev = await repo.commit({ 'app/once.yaml': once('git-2') });
    await env.waitReady('ifnotpresent', rev);
    // A second reconcile would recreate it from Git had the first one pruned it.
    const ks = await env.requestKs('ifnotpresent');
    const o = await cm('once');
    assert.equal(o.data?.v, 'mine');
    assert.deepEqual(
      ks.status?.inventory?.entries.map((e) => e.id),
      [`${ns()}_once__ConfigMap`],
    );
  });
});
