// biome-ignore-all lint/suspicious/noTemplateCurlyInString: Flux ${var} expressions are the subject of these tests
// Kustomization build features, postBuild substitution, SOPS and CRDs, with the source- and
// kustomize-controller running as processes against the test bed's Git server. Every Kustomization of a
// describe block is created in its before hook so that they reconcile in parallel; each test then checks
// its own, as a user would with kubectl.

import assert from 'node:assert/strict';
import { Annotations, ConditionTypes, Labels } from '../../../controllers/api/names.ts';
import type { KubeObject } from '../../../controllers/runtime/object.ts';
import {
  ageKeyPair,
  configMap,
  type DataObject,
  deployment,
  type Repo,
  ready,
  sopsEncrypt,
  useKustomizeEnv,
  yaml,
} from './kustomization-support.ts';

const kustomizationFile = (body: Record<string, unknown>) =>
  yaml({ apiVersion: 'kustomize.config.k8s.io/v1beta1', kind: 'Kustomization', ...body });

describe('kustomize-controller: Kustomization build and postBuild', function () {
  this.timeout(240_000);
  const env = useKustomizeEnv('ks-build');
  const ns = () => env.ns();
  const cm = (name: string, namespace = ns()) =>
    env.get<DataObject>({ apiVersion: 'v1', kind: 'ConfigMap', namespace, name });
  const deploy = (name: string) =>
    env.get({ apiVersion: 'apps/v1', kind: 'Deployment', namespace: ns(), name });
  const pid = process.pid;
  const otherNs = `ks-build-elsewhere-${pid}`;
  const crdGroup = `g${pid}.tide.test`;
  let repo: Repo;
  const key = ageKeyPair();

  before(async () => {
    const encrypted = await sopsEncrypt(
      yaml({
        apiVersion: 'v1',
        kind: 'Secret',
        metadata: { name: 'db-credentials' },
        type: 'Opaque',
        stringData: { password: 'hunter2-plaintext' },
      }),
      key.recipient,
    );
    repo = await env.repo('build', {
      // Plain YAML, no kustomization.yaml: one file per object and a subdirectory.
      'plain/a.yaml': yaml(configMap('plain-a', { k: 'a' }), configMap('plain-b', { k: 'b' })),
      'plain/sub/c.yml': yaml(configMap('plain-c', { k: 'c' })),
      'plain/notes.txt': 'not a manifest\n',
      // An app with a kustomization.yaml, a component, and manifests in another namespace.
      'app/kustomization.yaml': kustomizationFile({ resources: ['deploy.yaml', 'cm.yaml'] }),
      'app/deploy.yaml': yaml(deployment('web', { namespace: otherNs })),
      'app/cm.yaml': yaml(configMap('settings', { color: 'blue' }, { namespace: otherNs })),
      'components/extra/kustomization.yaml': yaml({
        apiVersion: 'kustomize.config.k8s.io/v1alpha1',
        kind: 'Component',
        resources: ['extra.yaml'],
        patches: [
          {
            target: { kind: 'ConfigMap', name: 'settings' },
            patch: yaml([{ op: 'add', path: '/data/fromComponent', value: 'yes' }]),
          },
        ],
      }),
      'components/extra/extra.yaml': yaml(configMap('extra', { k: 'component' })),
      'vars/cm.yaml': yaml(
        configMap('vars', {
          plain: '${app}',
          braces: 'prefix-${app}-suffix',
          defaulted: '${unset_var:=fallback}',
          escaped: '$${app}',
          fromConfigMap: '${cm_only}',
          fromSecret: '${secret_only}',
          laterWins: '${both_from}',
          inlineWins: '${everywhere}',
        }),
        configMap(
          'vars-off',
          { text: '${app}' },
          {
            annotations: { [Annotations.substitute]: 'disabled' },
          },
        ),
      ),
      'strict/cm.yaml': yaml(configMap('strict', { v: '${app} and ${not_defined_anywhere}' })),
      'sops/secret.yaml': encrypted,
      'crd/crd.yaml': yaml({
        apiVersion: 'apiextensions.k8s.io/v1',
        kind: 'CustomResourceDefinition',
        metadata: { name: `gizmos.${crdGroup}` },
        spec: {
          group: crdGroup,
          scope: 'Namespaced',
          names: { plural: 'gizmos', singular: 'gizmo', kind: 'Gizmo', listKind: 'GizmoList' },
          versions: [
            {
              name: 'v1',
              served: true,
              storage: true,
              schema: {
                openAPIV3Schema: {
                  type: 'object',
                  properties: { spec: { type: 'object', properties: { size: { type: 'integer' } } } },
                },
              },
            },
          ],
        },
      }),
      'crd/gizmo.yaml': yaml({
        apiVersion: `${crdGroup}/v1`,
        kind: 'Gizmo',
        metadata: { name: 'g1' },
        spec: { size: 3 },
      }),
    });
    const c = env.client();
    await Promise.all([
      c.create(
        configMap(
          'vars-cm',
          { cm_only: 'from-configmap', both_from: 'first', everywhere: 'cm' },
          { namespace: ns() },
        ),
      ),
      c.create({
        apiVersion: 'v1',
        kind: 'Secret',
        metadata: { name: 'vars-secret', namespace: ns() },
        stringData: { secret_only: 'from-secret', both_from: 'second', everywhere: 'secret' },
      }),
      c.create({
        apiVersion: 'v1',
        kind: 'Secret',
        metadata: { name: 'sops-age', namespace: ns() },
        stringData: { 'identity.agekey': `${key.identity}\n` },
      }),
      c.create({
        apiVersion: 'v1',
        kind: 'Secret',
        metadata: { name: 'sops-pgp', namespace: ns() },
        stringData: { 'identity.asc': '-----BEGIN PGP PRIVATE KEY BLOCK-----\n...\n' },
      }),
    ]);
    const target = { targetNamespace: ns() };
    await Promise.all([
      env.createKs('plain', repo, { path: './plain', ...target }),
      env.createKs('renamed', repo, {
        path: './app',
        targetNamespace: ns(),
        namePrefix: 'pre-',
        nameSuffix: '-suf',
      }),
      env.createKs('overlays', repo, {
        path: './app',
        ...target,
        commonMetadata: { labels: { team: 'blue' }, annotations: { 'tide.test/owner': 'ops' } },
        patches: [
          {
            target: { kind: 'Deployment', name: 'web' },
            patch: yaml([{ op: 'replace', path: '/spec/replicas', value: 2 }]),
          },
        ],
        images: [{ name: 'registry.example/app', newName: 'registry.example/other', newTag: '2.0.0' }],
        components: ['../components/extra'],
      }),
      env.createKs('vars', repo, {
        path: './vars',
        ...target,
        postBuild: {
          substitute: { app: 'podinfo', everywhere: 'inline' },
          substituteFrom: [
            { kind: 'ConfigMap', name: 'vars-cm' },
            { kind: 'Secret', name: 'vars-secret' },
            { kind: 'ConfigMap', name: 'no-such-configmap', optional: true },
          ],
        },
      }),
      env.createKs('strict', repo, {
        path: './strict',
        ...target,
        postBuild: { substitute: { app: 'podinfo' } },
      }),
      env.createKs('sops', repo, {
        path: './sops',
        ...target,
        decryption: { provider: 'sops', secretRef: { name: 'sops-age' } },
      }),
      env.createKs('sops-pgp', repo, {
        path: './sops',
        ...target,
        decryption: { provider: 'sops', secretRef: { name: 'sops-pgp' } },
      }),
      env.createKs('crd', repo, { path: './crd', ...target }),
    ]);
  });

  const owned = (o: KubeObject, name: string) => {
    assert.equal(
      o.metadata.labels?.[Labels.kustomizeName],
      name,
      `${o.kind}/${o.metadata.name} owner name label`,
    );
    assert.equal(
      o.metadata.labels?.[Labels.kustomizeNamespace],
      ns(),
      `${o.kind}/${o.metadata.name} owner ns label`,
    );
  };

  it('applies every YAML file below a path without kustomization.yaml, labelled with the Kustomization', async () => {
    const ks = await env.waitReady('plain');
    assert.match(
      ks.status?.conditions?.find((x) => x.type === ConditionTypes.Ready)?.message ?? '',
      /^Applied revision: main@sha1:/,
    );
    for (const [name, k] of [
      ['plain-a', 'a'],
      ['plain-b', 'b'],
      ['plain-c', 'c'],
    ] as const) {
      const o = await cm(name);
      assert.equal(o.data?.k, k);
      owned(o, 'plain');
    }
    assert.deepEqual(
      ks.status?.inventory?.entries.map((e) => e.id).sort(),
      ['plain-a', 'plain-b', 'plain-c'].map((n) => `${ns()}_${n}__ConfigMap`),
    );
  });

  it('targetNamespace, namePrefix and nameSuffix move and rename every object', async () => {
    await env.waitReady('renamed');
    const d = await deploy('pre-web-suf');
    const c = await cm('pre-settings-suf');
    assert.equal(c.data?.color, 'blue');
    owned(d, 'renamed');
    owned(c, 'renamed');
    // Nothing landed in the namespace the manifests name.
    const elsewhere = await env.tryGet({
      apiVersion: 'v1',
      kind: 'ConfigMap',
      namespace: otherNs,
      name: 'settings',
    });
    assert.equal(elsewhere, undefined);
  });

  it('commonMetadata, patches with a target, images and components change the applied objects', async () => {
    await env.waitReady('overlays');
    const d = await deploy('web');
    const settings = await cm('settings');
    const extra = await cm('extra');
    for (const o of [d, settings, extra]) {
      assert.equal(o.metadata.labels?.team, 'blue', `${o.kind}/${o.metadata.name} commonMetadata label`);
      assert.equal(o.metadata.annotations?.['tide.test/owner'], 'ops');
      owned(o, 'overlays');
    }
    // commonMetadata is not a selector label.
    assert.deepEqual(d.spec.selector.matchLabels, { app: 'web' });
    assert.equal(d.spec.replicas, 2, 'patch targeted at the Deployment');
    assert.equal(d.spec.template.spec.containers[0].image, 'registry.example/other:2.0.0');
    assert.equal(extra.data?.k, 'component', 'resource of the component');
    assert.equal(settings.data?.fromComponent, 'yes', 'patch of the component');
  });

  it('substitutes ${var} and ${var:=default} from substitute and substituteFrom, honouring $${var} and the precedence rules', async () => {
    await env.waitReady('vars');
    const o = await cm('vars');
    assert.deepEqual(o.data, {
      plain: 'podinfo',
      braces: 'prefix-podinfo-suffix',
      defaulted: 'fallback',
      escaped: '${app}',
      fromConfigMap: 'from-configmap',
      fromSecret: 'from-secret',
      laterWins: 'second',
      inlineWins: 'inline',
    });
    const off = await cm('vars-off');
    assert.equal(off.data?.text, '${app}', 'kustomize.toolkit.fluxcd.io/substitute: disabled');
  });

  it('fails in strict mode on an unset variable, naming it, and applies nothing', async () => {
    const ks = await env.waitNotReady('strict', /not_defined_anywhere/);
    assert.equal(ks.status?.conditions?.find((x) => x.type === ConditionTypes.Ready)?.reason, 'BuildFailed');
    assert.equal(
      await env.tryGet({ apiVersion: 'v1', kind: 'ConfigMap', namespace: ns(), name: 'strict' }),
      undefined,
    );
  });

  it('applies a SOPS-encrypted Secret decrypted with the age key of decryption.secretRef', async () => {
    await env.waitReady('sops');
    const s = await env.get<KubeObject & { data?: Record<string, string> }>({
      apiVersion: 'v1',
      kind: 'Secret',
      namespace: ns(),
      name: 'db-credentials',
    });
    assert.equal(Buffer.from(s.data?.password ?? '', 'base64').toString(), 'hunter2-plaintext');
    assert.equal(s.metadata.annotations?.sops, undefined);
    assert.ok(!Object.keys(s.data ?? {}).includes('sops'), 'no sops metadata in the data');
  });

  it('fails the build, saying only age keys work, when the decryption Secret holds only a PGP key', async () => {
    const ks = await env.waitNotReady('sops-pgp', /holds only keys Tide cannot use \(identity\.asc\)/);
    assert.equal(ready(ks)?.reason, 'BuildFailed');
    assert.match(ready(ks)?.message ?? '', /only age keys \(\*\.agekey\) are supported/);
  });

  it('applies a CRD and a custom resource of it from one revision in one reconcile', async () => {
    const ks = await env.waitReady('crd');
    const crd = await env.get({
      apiVersion: 'apiextensions.k8s.io/v1',
      kind: 'CustomResourceDefinition',
      name: `gizmos.${crdGroup}`,
    });
    owned(crd, 'crd');
    const g = await env.get({ apiVersion: `${crdGroup}/v1`, kind: 'Gizmo', namespace: ns(), name: 'g1' });
    assert.equal(g.spec.size, 3);
    // One reconcile: no failed attempt (kubectl events shows no Warning for the Kustomization).
    const events = await env
      .client()
      .list(
        { group: '', version: 'v1', kind: 'Event' },
        { namespace: ns(), fieldSelector: `involvedObject.kind=Kustomization,involvedObject.name=crd` },
      );
    const warnings = events.items.filter((e) => (e as KubeObject & { type?: string }).type === 'Warning');
    assert.deepEqual(
      warnings.map((e) => (e as KubeObject & { message?: string }).message),
      [],
    );
    assert.equal(ks.status?.inventory?.entries.length, 2);
  });
});
