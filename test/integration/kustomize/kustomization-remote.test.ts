// spec.kubeConfig: a Kustomization applies, prunes, health-checks and finalizes on the remote cluster of
// the kubeconfig in its Secret (a second control plane next to the test bed), impersonating its
// serviceAccountName there; a bad kubeconfig says what is wrong with it.

import assert from 'node:assert/strict';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { dump } from 'js-yaml';
import { Labels } from '../../../controllers/api/names.ts';
import type { Client } from '../../../controllers/runtime/client.ts';
import { freePort } from '../../../hack/testbed/proc.ts';
import { useSecondCluster } from '../../support/secondcluster.ts';
import { testbed } from '../../support/testbed.ts';
import {
  configMap,
  type DataObject,
  ksApiVersion,
  ready,
  useKustomizeEnv,
  yaml,
} from './kustomization-support.ts';

describe('kustomize-controller: Kustomization on a remote cluster (kubeConfig)', function () {
  this.timeout(300_000);
  const env = useKustomizeEnv('ks-remote');
  const discoveryBinding = {
    apiVersion: 'rbac.authorization.k8s.io/v1',
    kind: 'ClusterRoleBinding',
    metadata: { name: `tide-test-oidc-discovery-${process.pid}` },
  };
  // The second cluster trusts the test bed's ServiceAccount tokens for the audience below (Kubernetes
  // OIDC, the generic workload identity provider), finding the signing keys through the test bed's
  // discovery endpoints, which anonymous users may read for this.
  const audience = `tide-remote-${process.pid}`;
  const second = useSecondCluster(async (dir) => {
    const tb = testbed();
    await env.client().apply(
      {
        ...discoveryBinding,
        roleRef: {
          apiGroup: 'rbac.authorization.k8s.io',
          kind: 'ClusterRole',
          name: 'system:service-account-issuer-discovery',
        },
        subjects: [{ apiGroup: 'rbac.authorization.k8s.io', kind: 'Group', name: 'system:unauthenticated' }],
      },
      { fieldManager: 'tide-test' },
    );
    const file = join(dir, 'authentication.yaml');
    await writeFile(
      file,
      dump({
        apiVersion: 'apiserver.config.k8s.io/v1',
        kind: 'AuthenticationConfiguration',
        jwt: [
          {
            issuer: {
              url: 'https://kubernetes.default.svc.cluster.local',
              discoveryURL: `${tb.controlPlane.server}/.well-known/openid-configuration`,
              certificateAuthority: await readFile(tb.controlPlane.pki.caCert, 'utf8'),
              audiences: [audience],
            },
            claimMappings: { username: { claim: 'sub', prefix: 'oidc:' } },
          },
        ],
      }),
    );
    return {
      extraArgs: { 'kube-apiserver': [`--authentication-config=${file}`] },
      serviceAccountIssuer: 'https://second.tide.test',
    };
  });
  after(async () => {
    await env.client().delete({ ...discoveryBinding, name: discoveryBinding.metadata.name });
  });
  const ns = () => env.ns();
  const remote = () => second().client;
  const cmRef = (name: string) => ({ apiVersion: 'v1', kind: 'ConfigMap', namespace: ns(), name });
  const ksRef = (name: string) => ({
    apiVersion: ksApiVersion,
    kind: 'Kustomization',
    namespace: ns(),
    name,
  });
  const goneFrom = (c: Client, name: string) =>
    env.until(`ConfigMap ${name} deleted on the remote cluster`, async () =>
      (await c.tryGet(cmRef(name))) === undefined ? true : undefined,
    );
  const kubeconfigSecret = (name: string, data: Record<string, string>, labels?: Record<string, string>) => ({
    apiVersion: 'v1',
    kind: 'Secret',
    metadata: { name, namespace: ns(), ...(labels ? { labels } : {}) },
    stringData: data,
  });

  before(async () => {
    // The namespace of the Kustomization exists on both clusters, as Flux requires for impersonation.
    await remote().create({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: ns() } });
    await env
      .client()
      .create(kubeconfigSecret('remote-kubeconfig', { 'value.yaml': second().kubeconfigYaml }));
  });

  it('applies, prunes and finalizes on the remote cluster only, with wait: true checking there', async () => {
    const repo = await env.repo('remote', {
      'app/a.yaml': yaml(configMap('remote-a', { v: '1' })),
      'app/b.yaml': yaml(configMap('remote-b', { v: '1' })),
    });
    await env.createKs('remote', repo, {
      path: './app',
      targetNamespace: ns(),
      wait: true,
      kubeConfig: { secretRef: { name: 'remote-kubeconfig' } },
    });
    const ks = await env.waitReady('remote');
    assert.equal(ks.status?.inventory?.entries.length, 2);
    assert.equal((await remote().get<DataObject>(cmRef('remote-a'))).data?.v, '1');
    assert.equal((await remote().get<DataObject>(cmRef('remote-b'))).data?.v, '1');
    assert.equal(await env.tryGet(cmRef('remote-a')), undefined, 'nothing lands on the local cluster');
    assert.equal(await env.tryGet(cmRef('remote-b')), undefined, 'nothing lands on the local cluster');

    const rev = await repo.commit({ 'app/b.yaml': null });
    await env.waitReady('remote', rev);
    await goneFrom(remote(), 'remote-b');
    assert.equal((await remote().get<DataObject>(cmRef('remote-a'))).data?.v, '1');

    await env.client().delete(ksRef('remote'));
    await env.until('Kustomization remote finalized', async () =>
      (await env.tryGet(ksRef('remote'))) === undefined ? true : undefined,
    );
    await goneFrom(remote(), 'remote-a');
  });

  it('impersonates serviceAccountName on the remote cluster, where its RBAC lives', async () => {
    await remote().create({
      apiVersion: 'v1',
      kind: 'ServiceAccount',
      metadata: { name: 'remote-deployer', namespace: ns() },
    });
    const repo = await env.repo('remote-sa', { 'app/cm.yaml': yaml(configMap('remote-sa', { v: '1' })) });
    await env.createKs('remote-sa', repo, {
      path: './app',
      targetNamespace: ns(),
      serviceAccountName: 'remote-deployer',
      retryInterval: '2s',
      kubeConfig: { secretRef: { name: 'remote-kubeconfig' } },
    });
    const denied = await env.waitNotReady('remote-sa', /forbidden/i);
    assert.match(ready(denied)?.message ?? '', new RegExp(`system:serviceaccount:${ns()}:remote-deployer`));

    // The grant exists on the remote cluster only.
    await remote().create({
      apiVersion: 'rbac.authorization.k8s.io/v1',
      kind: 'Role',
      metadata: { name: 'remote-deployer', namespace: ns() },
      rules: [
        {
          apiGroups: [''],
          resources: ['configmaps'],
          verbs: ['get', 'list', 'watch', 'create', 'update', 'patch', 'delete'],
        },
      ],
    });
    await remote().create({
      apiVersion: 'rbac.authorization.k8s.io/v1',
      kind: 'RoleBinding',
      metadata: { name: 'remote-deployer', namespace: ns() },
      roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: 'remote-deployer' },
      subjects: [{ kind: 'ServiceAccount', name: 'remote-deployer', namespace: ns() }],
    });
    await env.waitReady('remote-sa');
    assert.equal((await remote().get<DataObject>(cmRef('remote-sa'))).data?.v, '1');
    assert.equal(await env.tryGet(cmRef('remote-sa')), undefined);
  });

  it('reports a kubeconfig it cannot use, and applies as soon as the watched Secret is fixed', async () => {
    const closed = await freePort();
    const unreachable = second().kubeconfigYaml.replace(
      /server: https:\/\/127\.0\.0\.1:\d+/,
      `server: https://127.0.0.1:${closed}`,
    );
    const watched = { [Labels.watch]: 'Enabled' };
    await env.client().create(kubeconfigSecret('bad-kubeconfig', { config: unreachable }, watched));
    const repo = await env.repo('remote-bad', { 'app/cm.yaml': yaml(configMap('remote-fixed', { v: '1' })) });

    // The kubeconfig is under a key the spec does not name.
    // retryInterval 10m: only the Secret's watch can bring the reconcile that succeeds within the test.
    await env.createKs('remote-bad', repo, {
      path: './app',
      targetNamespace: ns(),
      retryInterval: '10m',
      kubeConfig: { secretRef: { name: 'bad-kubeconfig' } },
    });
    const noKey = await env.waitNotReady('remote-bad', /does not contain a 'value' key/);
    assert.equal(ready(noKey)?.reason, 'ReconciliationFailed');
    assert.match(ready(noKey)?.message ?? '', new RegExp(`KubeConfig secret '${ns()}/bad-kubeconfig'`));

    // The key is right, the server is not listening.
    await env.patchKs('remote-bad', { kubeConfig: { secretRef: { name: 'bad-kubeconfig', key: 'config' } } });
    const down = await env.waitNotReady('remote-bad', /cannot reach the cluster/);
    assert.match(
      ready(down)?.message ?? '',
      new RegExp(`https://127.0.0.1:${closed} of KubeConfig secret '${ns()}/bad-kubeconfig'`),
    );
    assert.equal(await remote().tryGet(cmRef('remote-fixed')), undefined);

    // Fixing the Secret is enough: its watch label reconciles the Kustomization (interval is 10m).
    await env
      .client()
      .patch({ apiVersion: 'v1', kind: 'Secret', namespace: ns(), name: 'bad-kubeconfig' }, 'merge', {
        stringData: { config: second().kubeconfigYaml },
      });
    await env.waitReady('remote-bad');
    assert.equal((await remote().get<DataObject>(cmRef('remote-fixed'))).data?.v, '1');
    assert.equal(await env.tryGet(cmRef('remote-fixed')), undefined);
  });

  it('reaches the remote cluster with a ServiceAccount token it trusts (configMapRef, provider generic)', async () => {
    const c = env.client();
    await c.create({
      apiVersion: 'v1',
      kind: 'ServiceAccount',
      metadata: { name: 'wi-remote', namespace: ns() },
    });
    await c.create({
      apiVersion: 'v1',
      kind: 'ConfigMap',
      metadata: { name: 'wi', namespace: ns() },
      data: {
        provider: 'generic',
        address: second().state.server,
        'ca.crt': await readFile(second().state.pki.caCert, 'utf8'),
        audiences: audience,
        serviceAccountName: 'wi-remote',
      },
    });
    const repo = await env.repo('remote-wi', { 'app/cm.yaml': yaml(configMap('remote-wi', { v: '1' })) });
    await env.createKs('remote-wi', repo, {
      path: './app',
      targetNamespace: ns(),
      retryInterval: '2s',
      kubeConfig: { configMapRef: { name: 'wi' } },
    });
    // The remote cluster knows the token's subject, but has granted it nothing yet.
    const user = `oidc:system:serviceaccount:${ns()}:wi-remote`;
    const denied = await env.waitNotReady('remote-wi', /forbidden/i);
    assert.match(ready(denied)?.message ?? '', new RegExp(`User "${user}"`));

    await remote().create({
      apiVersion: 'rbac.authorization.k8s.io/v1',
      kind: 'RoleBinding',
      metadata: { name: 'wi-remote', namespace: ns() },
      roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: 'edit' },
      subjects: [{ apiGroup: 'rbac.authorization.k8s.io', kind: 'User', name: user }],
    });
    await env.waitReady('remote-wi');
    assert.equal((await remote().get<DataObject>(cmRef('remote-wi'))).data?.v, '1');
    assert.equal(await env.tryGet(cmRef('remote-wi')), undefined);
  });

  it('refuses a workload identity provider that needs a cloud, saying which one works', async () => {
    await env.client().create({
      apiVersion: 'v1',
      kind: 'ConfigMap',
      metadata: { name: 'wi-aws', namespace: ns() },
      data: { provider: 'aws', cluster: 'arn:aws:eks:eu-central-1:123456789012:cluster/prod' },
    });
    const repo = await env.repo('remote-aws', { 'app/cm.yaml': yaml(configMap('remote-aws', { v: '1' })) });
    await env.createKs('remote-aws', repo, {
      path: './app',
      targetNamespace: ns(),
      kubeConfig: { configMapRef: { name: 'wi-aws' } },
    });
    const ks = await env.waitNotReady('remote-aws', /provider 'aws' is not supported by Tide/);
    assert.equal(ready(ks)?.reason, 'ReconciliationFailed');
    assert.match(ready(ks)?.message ?? '', new RegExp(`ConfigMap '${ns()}/wi-aws'.*only 'generic'`));
  });
});
