// biome-ignore-all lint/suspicious/noTemplateCurlyInString: Flux ${var} expressions are the subject of these tests
import assert from 'node:assert/strict';
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { load } from 'js-yaml';
import {
  applyOverlays,
  generateKustomization,
  listManifests,
  setCommonMetadata,
} from '../../../controllers/runtime/kustomize/generate.ts';
import type { KubeObject } from '../../../controllers/runtime/kustomize/objects.ts';
import { manifest, useTempDir, writeTree } from './support.ts';

describe('kustomize/build/generate', () => {
  const tmp = useTempDir();

  describe('listManifests', () => {
    it('lists every YAML file below the path in name order; a directory with its own kustomization once', async () => {
      await writeTree(tmp(), {
        'app/b.yaml': manifest('ConfigMap', 'b'),
        'app/a.yml': manifest('ConfigMap', 'a'),
        'app/README.md': '# not a manifest',
        'app/script.sh': 'echo ${X}',
        'app/nested/deep/c.yaml': manifest('ConfigMap', 'c'),
        'app/nested/deep/notes.txt': 'x',
        'app/sub/kustomization.yaml': 'resources: [d.yaml]\n',
        'app/sub/d.yaml': manifest('ConfigMap', 'd'),
        'app/sub/ignored-by-kustomization.yaml': 'not: [valid',
        'app/multi.yaml': `${manifest('ConfigMap', 'm1')}---\n${manifest('ConfigMap', 'm2')}`,
        'outside.yaml': manifest('ConfigMap', 'outside'),
      });
      assert.deepEqual(await listManifests(tmp(), join(tmp(), 'app')), [
        'a.yml',
        'b.yaml',
        'multi.yaml',
        'nested/deep/c.yaml',
        'sub',
      ]);
    });

    it('names a malformed YAML file and the line of the error', async () => {
      await writeTree(tmp(), {
        'app/good.yaml': manifest('ConfigMap', 'good'),
        'app/bad.yaml': 'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: bad\ndata:\n  a: [1, 2\n',
      });
      await assert.rejects(
        listManifests(tmp(), join(tmp(), 'app')),
        /failed to decode Kubernetes YAML from 'app\/bad.yaml': .* at line \d+, column \d+/,
      );
    });

    it('refuses YAML that is not a Kubernetes object, naming the file', async () => {
      await writeTree(tmp(), { 'app/values.yaml': 'replicaCount: 2\n' });
      await assert.rejects(
        listManifests(tmp(), join(tmp(), 'app')),
        /'app\/values.yaml': document 1 is not a Kubernetes object/,
      );
    });
  });

  describe('applyOverlays', () => {
    const base = {
      resources: ['deploy.yaml'],
      namespace: 'old',
      namePrefix: 'old-',
      patches: [{ path: 'p.yaml' }],
      images: [
        { name: 'nginx', newTag: '1.0' },
        { name: 'redis', newTag: '7' },
      ],
      components: ['../c1'],
    };

    it('writes the spec overlays in the way Flux does', () => {
      const out = applyOverlays(base, {
        targetNamespace: 'apps',
        namePrefix: 'pre-',
        nameSuffix: '-suf',
        patches: [
          {
            patch: '- op: replace\n  path: /spec/replicas\n  value: 2',
            target: { kind: 'Deployment', name: 'web' },
          },
          { patch: 'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: x' },
        ],
        images: [
          { name: 'nginx', newName: 'ghcr.io/nginx', digest: 'sha256:abc' },
          { name: 'podinfo', newTag: '6.5.0' },
        ],
        components: ['../c1', '../c2'],
        buildMetadata: ['originAnnotations'],
      });
      assert.deepEqual(out, {
        resources: ['deploy.yaml'],
        namespace: 'apps',
        namePrefix: 'pre-',
        nameSuffix: '-suf',
        patches: [
          { path: 'p.yaml' },
          {
            patch: '- op: replace\n  path: /spec/replicas\n  value: 2',
            target: { kind: 'Deployment', name: 'web' },
          },
          { patch: 'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: x' },
        ],
        images: [
          { name: 'nginx', newName: 'ghcr.io/nginx', digest: 'sha256:abc' },
          { name: 'redis', newTag: '7' },
          { name: 'podinfo', newTag: '6.5.0' },
        ],
        components: ['../c1', '../c2'],
        buildMetadata: ['originAnnotations'],
      });
    });

    it('leaves the kustomization as it is without overlays, and does not modify its input', () => {
      const before = structuredClone(base);
      assert.deepEqual(applyOverlays(base, {}), base);
      applyOverlays(base, { targetNamespace: 'x', images: [{ name: 'nginx', newTag: '2' }] });
      assert.deepEqual(base, before);
    });
  });

  describe('generateKustomization', () => {
    it('generates a kustomization.yaml with every manifest and the overlays when the path has none', async () => {
      await writeTree(tmp(), {
        'deploy/web.yaml': manifest('Deployment', 'web', 'apps/v1'),
        'deploy/svc/service.yaml': manifest('Service', 'web'),
      });
      const res = await generateKustomization(tmp(), { path: './deploy', targetNamespace: 'apps' });
      assert.equal(res.generated, true);
      assert.equal(res.dir, join(tmp(), 'deploy'));
      assert.equal(res.file, join(tmp(), 'deploy/kustomization.yaml'));
      assert.deepEqual(load(await readFile(res.file, 'utf8')), {
        apiVersion: 'kustomize.config.k8s.io/v1beta1',
        kind: 'Kustomization',
        resources: ['svc/service.yaml', 'web.yaml'],
        namespace: 'apps',
      });
    });

    it('edits an existing kustomization file in place, whatever its recognised name', async () => {
      await writeTree(tmp(), {
        'app/kustomization.yml': 'resources: [cm.yaml]\nnamespace: old\n',
        'app/cm.yaml': manifest('ConfigMap', 'cm'),
      });
      const res = await generateKustomization(tmp(), {
        path: 'app',
        namePrefix: 'dev-',
        targetNamespace: 'dev',
      });
      assert.equal(res.generated, false);
      assert.equal(res.file, join(tmp(), 'app/kustomization.yml'));
      assert.deepEqual(load(await readFile(res.file, 'utf8')), {
        resources: ['cm.yaml'],
        namespace: 'dev',
        namePrefix: 'dev-',
      });
      assert.deepEqual((await readdir(join(tmp(), 'app'))).sort(), ['cm.yaml', 'kustomization.yml']);
    });

    it('does not rewrite an existing kustomization when there is nothing to add', async () => {
      const text = '# keep my comment\nresources: [cm.yaml]\n';
      await writeTree(tmp(), { 'app/kustomization.yaml': text, 'app/cm.yaml': manifest('ConfigMap', 'cm') });
      await generateKustomization(tmp(), { path: 'app' });
      assert.equal(await readFile(join(tmp(), 'app/kustomization.yaml'), 'utf8'), text);
    });

    it('refuses a spec.path that escapes the root', async () => {
      await assert.rejects(generateKustomization(tmp(), { path: '../' }), /points outside/);
    });

    it('components: missing ones fail unless ignoreMissingComponents; remote or escaping ones fail', async () => {
      await writeTree(tmp(), {
        'app/kustomization.yaml': 'resources: []\n',
        'components/ingress/kustomization.yaml': 'kind: Component\n',
      });
      await assert.rejects(
        generateKustomization(tmp(), {
          path: 'app',
          components: ['../components/ingress', '../components/tls'],
        }),
        /component '..\/components\/tls' not found/,
      );
      const res = await generateKustomization(tmp(), {
        path: 'app',
        components: ['../components/ingress', '../components/tls'],
        ignoreMissingComponents: true,
      });
      assert.deepEqual((load(await readFile(res.file, 'utf8')) as { components: string[] }).components, [
        '../components/ingress',
      ]);
      await assert.rejects(
        generateKustomization(tmp(), { path: 'app', components: ['https://github.com/org/repo//c'] }),
        /is remote/,
      );
      await assert.rejects(generateKustomization(tmp(), { path: 'app', components: ['../../x'] }), /outside/);
    });
  });

  describe('setCommonMetadata', () => {
    it('sets labels and annotations on top-level metadata only, overriding existing keys', () => {
      const deploy: KubeObject = {
        apiVersion: 'apps/v1',
        kind: 'Deployment',
        metadata: { name: 'web', labels: { app: 'web', team: 'a' } },
        spec: {
          selector: { matchLabels: { app: 'web' } },
          template: { metadata: { labels: { app: 'web' } } },
        },
      };
      const [out] = setCommonMetadata([deploy], {
        labels: { team: 'b', env: 'dev' },
        annotations: { owner: 'ops' },
      });
      assert.deepEqual(out?.metadata, {
        name: 'web',
        labels: { app: 'web', team: 'b', env: 'dev' },
        annotations: { owner: 'ops' },
      });
      assert.deepEqual(out?.spec, deploy.spec);
      assert.deepEqual(deploy.metadata.labels, { app: 'web', team: 'a' });
    });
  });
});
