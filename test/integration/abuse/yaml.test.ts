// Hostile YAML in a repository a Kustomization builds, both where Tide reads the manifests itself
// (a plain directory) and where kustomize runs (a kustomization.yaml with a namePrefix): a "billion
// laughs" alias bomb, nesting deeper than any manifest, a document larger than the apiserver takes,
// bytes that are not UTF-8 and duplicate keys. Each gives Ready=False (BuildFailed) with a message
// naming the file, the controller stays responsive, and the last good apply stays. Then the same in
// a HelmRelease's valuesFrom: Ready=False naming the ConfigMap or Secret, and no new release.

import assert from 'node:assert/strict';
import { Annotations, ConditionTypes, Reasons } from '../../../controllers/api/names.ts';
import { MAX_DOCUMENT_BYTES } from '../../../controllers/runtime/yamlguard.ts';
import { yamlBomb } from '../../support/hostile.ts';
import { annotateHr, cond, helmHistory, useDemoSuite, waitHr, waitReady } from '../helm/support.ts';
import {
  configMap,
  type DataObject,
  ready,
  useKustomizeEnv,
  yaml,
} from '../kustomize/kustomization-support.ts';

const head = (name: string) => `apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: ${name}\ndata:\n`;

/** The hostile files, each a ConfigMap named `bad`, with what the message must say about it. */
const cases: Array<[string, string | Uint8Array, RegExp]> = [
  ['a billion laughs', `${head('bad')}${yamlBomb(9, '  ')}`, /excessive aliasing/],
  ['deep nesting', `${head('bad')}  deep: ${'['.repeat(20_000)}${']'.repeat(20_000)}\n`, /depth/i],
  ['a huge document', `${head('bad')}  big: "${'x'.repeat(MAX_DOCUMENT_BYTES + 1)}"\n`, /larger than/],
  [
    'invalid UTF-8',
    Buffer.concat([Buffer.from(`${head('bad')}  v: "`), Buffer.from([0xff, 0xfe, 0xc0]), Buffer.from('"\n')]),
    /UTF-8/,
  ],
  ['duplicate keys', `${head('bad')}  a: "1"\n  a: "2"\n`, /duplicated mapping key|already defined/],
];

describe('abuse: hostile YAML in a Kustomization', function () {
  this.timeout(600_000);
  const env = useKustomizeEnv('abuse-yaml');

  it('refuses each with BuildFailed naming the file, in the in-process build and with kustomize, and keeps the last apply', async () => {
    const ns = env.ns();
    const kustomization = (files: string[]) => `namePrefix: k-\nresources: [${files.join(', ')}]\n`;
    const repo = await env.repo('hostile', {
      'plain/cm.yaml': yaml(configMap('kept', { v: '1' })),
      'kbin/cm.yaml': yaml(configMap('kept', { v: '1' })),
      'kbin/kustomization.yaml': kustomization(['cm.yaml']),
    });
    await env.createKs('plain', repo, { path: './plain', targetNamespace: ns });
    await env.createKs('kbin', repo, { path: './kbin', targetNamespace: ns });
    const [plain, kbin] = await Promise.all([env.waitReady('plain'), env.waitReady('kbin')]);
    const good = plain.status?.lastAppliedRevision;
    assert.equal(kbin.status?.lastAppliedRevision, good);

    for (const [what, content, pattern] of cases) {
      await repo.commit({
        'plain/cm.yaml': yaml(configMap('kept', { v: '2' })),
        'plain/bad.yaml': content,
        'kbin/cm.yaml': yaml(configMap('kept', { v: '2' })),
        'kbin/bad.yaml': content,
        'kbin/kustomization.yaml': kustomization(['cm.yaml', 'bad.yaml']),
      });
      for (const [name, file] of [
        ['plain', 'plain/bad.yaml'],
        ['kbin', 'kbin/bad.yaml'],
      ] as const) {
        // The file, then why: the message of this case, not the one before it.
        const ks = await env.waitNotReady(
          name,
          new RegExp(`${file.replace('.', '\\.')}'[:;].*(?:${pattern.source})`, 'i'),
        );
        const r = ready(ks);
        assert.equal(r?.reason, Reasons.BuildFailed, `${what} (${name}): ${r?.message}`);
        assert.equal(ks.status?.lastAppliedRevision, good, `${what} (${name}): the last good apply stays`);
      }
      for (const cm of ['kept', 'k-kept']) {
        const kept = await env.get<DataObject>({
          apiVersion: 'v1',
          kind: 'ConfigMap',
          namespace: ns,
          name: cm,
        });
        assert.deepEqual(kept.data, { v: '1' }, `${what}: nothing of the refused revision was applied`);
      }
      for (const bad of ['bad', 'k-bad']) {
        assert.equal(
          await env.tryGet({ apiVersion: 'v1', kind: 'ConfigMap', namespace: ns, name: bad }),
          undefined,
        );
      }
    }

    // Still responsive: the fixed repository applies.
    const fixed = await repo.commit({
      'plain/bad.yaml': null,
      'kbin/bad.yaml': null,
      'kbin/kustomization.yaml': kustomization(['cm.yaml']),
    });
    await Promise.all([env.waitReady('plain', fixed), env.waitReady('kbin', fixed)]);
    const kept = await env.get<DataObject>({
      apiVersion: 'v1',
      kind: 'ConfigMap',
      namespace: ns,
      name: 'k-kept',
    });
    assert.deepEqual(kept.data, { v: '2' });
  });
});

describe('abuse: hostile YAML in HelmRelease valuesFrom', function () {
  this.timeout(300_000);
  const suite = useDemoSuite('abuse-values');

  it('refuses an alias bomb, deep nesting and bytes that are not UTF-8, naming the source; the release stays', async () => {
    const ns = suite.ns();
    const c = suite.hc.client;
    const cmRef = { apiVersion: 'v1', kind: 'ConfigMap', namespace: ns, name: 'vals' };
    const secretRef = { apiVersion: 'v1', kind: 'Secret', namespace: ns, name: 'svals' };
    const b64 = (b: string | Uint8Array) => Buffer.from(b).toString('base64');
    await c.create({
      apiVersion: 'v1',
      kind: 'ConfigMap',
      metadata: { name: 'vals', namespace: ns },
      data: { 'values.yaml': 'a: 1\n' },
    });
    await c.create({
      apiVersion: 'v1',
      kind: 'Secret',
      metadata: { name: 'svals', namespace: ns },
      data: { 'values.yaml': b64('b: 1\n') },
    });
    await suite.create('vals', {
      valuesFrom: [
        { kind: 'ConfigMap', name: 'vals' },
        { kind: 'Secret', name: 'svals' },
      ],
    });
    await waitReady(c, ns, 'vals');
    const released = await helmHistory((a) => suite.helm(a), ns, 'vals');

    const cases: Array<[string, () => Promise<unknown>, RegExp]> = [
      [
        'a billion laughs',
        () => c.patch(cmRef, 'merge', { data: { 'values.yaml': yamlBomb() } }),
        /ConfigMap\/vals' failed: document contains excessive aliasing/,
      ],
      [
        'deep nesting',
        () =>
          c.patch(cmRef, 'merge', { data: { 'values.yaml': `a: ${'['.repeat(5000)}${']'.repeat(5000)}\n` } }),
        /ConfigMap\/vals' failed: .*maxDepth/,
      ],
      [
        'invalid UTF-8',
        async () => {
          await c.patch(cmRef, 'merge', { data: { 'values.yaml': 'a: 2\n' } });
          await c.patch(secretRef, 'merge', {
            data: { 'values.yaml': b64(Buffer.from([0x62, 0x3a, 0x20, 0xff, 0x0a])) },
          });
        },
        new RegExp(`'Secret/${ns}/svals' key 'values.yaml' failed: invalid UTF-8`),
      ],
    ];
    let n = 0;
    for (const [what, change, pattern] of cases) {
      await change();
      await annotateHr(c, ns, 'vals', { [Annotations.reconcileRequestedAt]: `abuse-${++n}` });
      await waitHr(c, ns, 'vals', `refusing ${what}`, (o) => {
        const r = cond(o, ConditionTypes.Ready);
        return r?.status === 'False' && pattern.test(r.message);
      });
      assert.deepEqual(
        await helmHistory((a) => suite.helm(a), ns, 'vals'),
        released,
        `${what}: no new release`,
      );
    }
  });
});
