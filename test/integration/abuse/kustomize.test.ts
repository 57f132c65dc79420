// Kustomizations that try to reach outside their artifact (`..`, absolute paths, spec.path), to load
// remote bases, or to make the controller run a program (exec and container KRM functions, legacy
// plugins, helmCharts), and a HelmRelease post-renderer that names a program. Each is refused with
// Ready=False and a message saying why; nothing of it is applied, no program runs, and a Kustomization
// that applied before keeps its last apply.

import assert from 'node:assert/strict';
import { stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Reasons } from '../../../controllers/api/names.ts';
import {
  configMap,
  type DataObject,
  ready,
  useKustomizeEnv,
  yaml,
} from '../kustomize/kustomization-support.ts';

describe('abuse: kustomizations reaching outside or running programs', function () {
  this.timeout(300_000);
  const env = useKustomizeEnv('abuse-ks');
  // A file the exec function would create if it ran.
  const marker = join(tmpdir(), `tide-abuse-exec-${process.pid}`);
  const fn = (spec: string) =>
    yaml({
      apiVersion: 'example.com/v1',
      kind: 'Pwn',
      metadata: { name: 'pwn', annotations: { 'config.kubernetes.io/function': spec } },
    });

  /** Directory → its kustomization.yaml (and extra files), and what the message must say. */
  const cases: Record<string, { files: Record<string, string>; pattern: RegExp }> = {
    dotdot: {
      files: { 'kustomization.yaml': 'resources: [cm.yaml, ../../../etc]\n' },
      pattern: /'\.\.\/\.\.\/\.\.\/etc' points outside the source artifact/,
    },
    absolute: {
      files: { 'kustomization.yaml': 'resources: [cm.yaml, /etc/passwd]\n' },
      pattern: /'\/etc\/passwd' is an absolute path/,
    },
    'remote-https': {
      files: {
        'kustomization.yaml':
          'resources: [cm.yaml, "https://github.com/fluxcd/flux2//manifests/install?ref=main"]\n',
      },
      pattern: /remote resources entry .* is not allowed, remote bases are disabled/,
    },
    'remote-git': {
      files: {
        'kustomization.yaml':
          'resources: [cm.yaml, "github.com/fluxcd/flux2/manifests/install?ref=v2.0.0"]\n',
      },
      pattern: /remote bases are disabled/,
    },
    'remote-patch': {
      files: {
        'kustomization.yaml': 'resources: [cm.yaml]\npatches: [{path: "https://example.com/patch.yaml"}]\n',
      },
      pattern: /remote file 'https:\/\/example\.com\/patch\.yaml' is not allowed/,
    },
    exec: {
      files: {
        'kustomization.yaml': 'resources: [cm.yaml]\ntransformers: [fn.yaml]\n',
        'fn.yaml': fn(`exec:\n  path: /usr/bin/touch\n  args: [${marker}]\n`),
      },
      pattern: /external plugins disabled; unable to load external plugin 'Pwn'/,
    },
    container: {
      files: {
        'kustomization.yaml': 'resources: [cm.yaml]\ngenerators: [fn.yaml]\n',
        'fn.yaml': fn('container:\n  image: registry.example/pwn:latest\n'),
      },
      pattern: /external plugins disabled/,
    },
    legacy: {
      files: {
        'kustomization.yaml': 'resources: [cm.yaml]\ntransformers: [plugin.yaml]\n',
        'plugin.yaml': yaml({
          apiVersion: 'someteam.example.com/v1',
          kind: 'Pwner',
          metadata: { name: 'p' },
        }),
      },
      pattern: /external plugins disabled; unable to load external plugin 'Pwner'/,
    },
    helm: {
      files: {
        'kustomization.yaml':
          'resources: [cm.yaml]\nhelmCharts: [{name: app, repo: "http://127.0.0.1:9/charts", version: 1.0.0}]\n',
      },
      pattern: /must specify --enable-helm/,
    },
  };

  it('refuses each with BuildFailed and applies nothing, runs nothing', async () => {
    const ns = env.ns();
    const files: Record<string, string> = {};
    for (const [dir, c] of Object.entries(cases)) {
      files[`${dir}/cm.yaml`] = yaml(configMap(`not-${dir}`, { v: '1' }));
      for (const [name, text] of Object.entries(c.files)) files[`${dir}/${name}`] = text;
    }
    const repo = await env.repo('hostile', files);
    await Promise.all(
      Object.keys(cases).map((dir) => env.createKs(dir, repo, { path: `./${dir}`, targetNamespace: ns })),
    );
    await env.createKs('climb', repo, { path: '../../..', targetNamespace: ns });
    for (const [dir, c] of Object.entries(cases)) {
      const ks = await env.waitNotReady(dir, c.pattern);
      assert.equal(ready(ks)?.reason, Reasons.BuildFailed, `${dir}: ${ready(ks)?.message}`);
      assert.equal(ks.status?.lastAppliedRevision, undefined, dir);
      assert.equal(ks.status?.inventory?.entries?.length ?? 0, 0, dir);
      assert.equal(
        await env.tryGet({ apiVersion: 'v1', kind: 'ConfigMap', namespace: ns, name: `not-${dir}` }),
        undefined,
        `${dir}: nothing applied`,
      );
    }
    const climb = await env.waitNotReady(
      'climb',
      /spec\.path '\.\.\/\.\.\/\.\.' points outside the source artifact/,
    );
    assert.equal(ready(climb)?.reason, Reasons.BuildFailed);
    await assert.rejects(stat(marker), { code: 'ENOENT' }, 'the exec function never ran');
  });

  it('keeps the last apply when a revision adds a remote base', async () => {
    const ns = env.ns();
    const repo = await env.repo('turns', {
      'app/kustomization.yaml': 'resources: [cm.yaml]\n',
      'app/cm.yaml': yaml(configMap('turns', { v: '1' })),
    });
    await env.createKs('turns', repo, { path: './app', targetNamespace: ns });
    const good = (await env.waitReady('turns')).status?.lastAppliedRevision;
    await repo.commit({
      'app/kustomization.yaml':
        'resources: [cm.yaml, "https://github.com/fluxcd/flux2//manifests/install?ref=main"]\n',
      'app/cm.yaml': yaml(configMap('turns', { v: '2' })),
    });
    const ks = await env.waitNotReady('turns', /remote bases are disabled/);
    assert.equal(ks.status?.lastAppliedRevision, good);
    const cm = await env.get<DataObject>({
      apiVersion: 'v1',
      kind: 'ConfigMap',
      namespace: ns,
      name: 'turns',
    });
    assert.deepEqual(cm.data, { v: '1' });
  });

  it('has no HelmRelease post-renderer that runs a program: the CRD takes kustomize patches and images only', async () => {
    const ns = env.ns();
    const body = {
      apiVersion: 'helm.toolkit.fluxcd.io/v2',
      kind: 'HelmRelease',
      metadata: { name: 'exec-postrender', namespace: ns },
      spec: {
        interval: '10m',
        chart: { spec: { chart: 'app', sourceRef: { kind: 'HelmRepository', name: 'none' } } },
        postRenderers: [{ exec: { command: '/bin/sh', args: ['-c', 'touch /tmp/pwned'] } }],
      },
    };
    const path = `/apis/helm.toolkit.fluxcd.io/v2/namespaces/${ns}/helmreleases`;
    // As kubectl sends it (strict field validation): refused, naming the field.
    await assert.rejects(
      env.client().request('POST', `${path}?fieldValidation=Strict`, body),
      /unknown field "spec\.postRenderers\[0\]\.exec"/,
    );
    // Any other client: the field is pruned, so no controller can ever read it.
    await env.client().request('POST', path, body);
    const stored = await env.get<DataObject & { spec: { postRenderers: unknown[] } }>({
      apiVersion: 'helm.toolkit.fluxcd.io/v2',
      kind: 'HelmRelease',
      namespace: ns,
      name: 'exec-postrender',
    });
    assert.deepEqual(stored.spec.postRenderers, [{}]);
  });
});
