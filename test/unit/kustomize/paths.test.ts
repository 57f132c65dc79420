import assert from 'node:assert/strict';
import { mkdir, symlink } from 'node:fs/promises';
import { join } from 'node:path';
import { isReconcileError } from '../../../controllers/runtime/errors.ts';
import { isRemoteRef, resolveBuildDir } from '../../../controllers/runtime/kustomize/paths.ts';
import { scanKustomizationTree } from '../../../controllers/runtime/kustomize/scan.ts';
import { manifest, useTempDir, writeTree } from './support.ts';

describe('kustomize/build/paths and scan', () => {
  const tmp = useTempDir();

  describe('isRemoteRef', () => {
    const remote = [
      'https://github.com/stefanprodan/podinfo//kustomize?ref=6.5.0',
      'http://example.com/deploy.yaml',
      'ssh://git@github.com/org/repo.git//base',
      'git@github.com:org/repo.git//base',
      'git::https://example.com/org/repo',
      'github.com/kubernetes-sigs/kustomize/examples/multibases?ref=v1.0.6',
      'gh:org/repo',
      'file:///etc/kubernetes',
      'gitlab.com/org/repo//base',
      'example.com/org/repo//base',
      'repo//base?ref=main',
    ];
    for (const r of remote) it(`remote: ${r}`, () => assert.ok(isRemoteRef(r)));
    const local = ['../base', 'deployment.yaml', './apps/podinfo', 'sub/dir', '../../components/ingress'];
    for (const r of local) it(`local: ${r}`, () => assert.ok(!isRemoteRef(r)));
    it('a host-like path is local when it exists locally', () => {
      assert.ok(isRemoteRef('example.com/app/'));
      assert.ok(!isRemoteRef('example.com/app/', true));
    });
  });

  describe('resolveBuildDir', () => {
    it('resolves spec.path inside the root; empty and leading-slash paths are root-relative', async () => {
      await mkdir(join(tmp(), 'apps/podinfo'), { recursive: true });
      assert.equal(await resolveBuildDir(tmp(), './apps/podinfo'), join(tmp(), 'apps/podinfo'));
      assert.equal(await resolveBuildDir(tmp(), '/apps/podinfo'), join(tmp(), 'apps/podinfo'));
      assert.equal(await resolveBuildDir(tmp(), undefined), tmp());
      assert.equal(await resolveBuildDir(tmp(), 'apps/../apps/podinfo/'), join(tmp(), 'apps/podinfo'));
    });

    it('refuses a path that climbs out of the root', async () => {
      await mkdir(join(tmp(), 'apps'), { recursive: true });
      for (const p of ['../', '..', 'apps/../../etc', '../../../../etc']) {
        await assert.rejects(resolveBuildDir(tmp(), p), /points outside the source artifact/, p);
      }
    });

    it('refuses a symlink pointing outside the root', async () => {
      await symlink('/etc', join(tmp(), 'etc'));
      await assert.rejects(resolveBuildDir(tmp(), 'etc'), /points outside the source artifact/);
    });

    it('a missing directory fails with reason ArtifactFailed', async () => {
      await assert.rejects(
        resolveBuildDir(tmp(), 'nope'),
        (e: unknown) =>
          isReconcileError(e) && e.reason === 'ArtifactFailed' && /not found: 'nope'/.test(e.message),
      );
    });
  });

  describe('scanKustomizationTree', () => {
    it('refuses a remote base reached through a local overlay, naming the file that lists it', async () => {
      await writeTree(tmp(), {
        'clusters/dev/kustomization.yaml': 'resources: [../../apps/podinfo]\n',
        'apps/podinfo/kustomization.yaml':
          'resources:\n- deploy.yaml\n- https://github.com/stefanprodan/podinfo//kustomize?ref=6.5.0\n',
        'apps/podinfo/deploy.yaml': manifest('ConfigMap', 'a'),
      });
      await assert.rejects(
        scanKustomizationTree(tmp(), join(tmp(), 'clusters/dev')),
        /kustomization 'apps\/podinfo\/kustomization.yaml': remote resources entry 'https:\/\/github.com\/stefanprodan.*' is not allowed/,
      );
    });

    for (const [field, value] of [
      ['bases', '[git@github.com:org/repo.git//base]'],
      ['components', '[github.com/org/repo/components/x]'],
      ['transformers', '[ssh://git@example.com/org/repo.git//fn]'],
    ] as const) {
      it(`refuses a remote ${field} entry`, async () => {
        await writeTree(tmp(), { 'kustomization.yaml': `${field}: ${value}\n` });
        await assert.rejects(scanKustomizationTree(tmp(), tmp()), new RegExp(`remote ${field} entry`));
      });
    }

    it('refuses http(s) URLs in file-valued fields (patches, generators, crds)', async () => {
      for (const k of [
        'patches:\n- path: https://example.com/patch.yaml\n',
        'configMapGenerator:\n- name: x\n  files: [key=http://127.0.0.1:8080/metrics]\n',
        'crds: [https://example.com/crd.yaml]\n',
      ]) {
        await writeTree(tmp(), { 'kustomization.yaml': k });
        await assert.rejects(scanKustomizationTree(tmp(), tmp()), /remote file '.*' is not allowed/, k);
      }
    });

    it('refuses URLs inside plugin config files listed as transformers', async () => {
      await writeTree(tmp(), {
        'kustomization.yaml': 'transformers: [patcher.yaml]\n',
        'patcher.yaml':
          'apiVersion: builtin\nkind: PatchTransformer\nmetadata: {name: p}\npath: http://localhost:9090/x\n',
      });
      await assert.rejects(scanKustomizationTree(tmp(), tmp()), /remote file 'http:\/\/localhost:9090\/x'/);
    });

    it('refuses local entries that leave the root, or are absolute', async () => {
      await writeTree(tmp(), { 'a/kustomization.yaml': 'resources: [../../outside]\n' });
      await assert.rejects(
        scanKustomizationTree(tmp(), join(tmp(), 'a')),
        /points outside the source artifact/,
      );
      await writeTree(tmp(), { 'a/kustomization.yaml': 'resources: [/etc/kubernetes]\n' });
      await assert.rejects(scanKustomizationTree(tmp(), join(tmp(), 'a')), /is an absolute path/);
      await symlink('/etc', join(tmp(), 'a/link'));
      await writeTree(tmp(), { 'a/kustomization.yaml': 'resources: [link]\n' });
      await assert.rejects(scanKustomizationTree(tmp(), join(tmp(), 'a')), /'link' points outside/);
    });

    it('walks local bases and components and lists the resource files', async () => {
      await writeTree(tmp(), {
        'overlay/kustomization.yaml': 'resources: [../base, extra.yaml]\ncomponents: [../comp]\n',
        'overlay/extra.yaml': manifest('ConfigMap', 'extra'),
        'base/kustomization.yaml': 'resources: [cm.yaml]\n',
        'base/cm.yaml': manifest('ConfigMap', 'base'),
        'comp/kustomization.yaml': 'apiVersion: kustomize.config.k8s.io/v1alpha1\nkind: Component\n',
      });
      const scan = await scanKustomizationTree(tmp(), join(tmp(), 'overlay'));
      assert.deepEqual(
        scan.kustomizations.map((k) => k.file),
        ['overlay', 'base', 'comp'].map((d) => join(tmp(), d, 'kustomization.yaml')),
      );
      assert.deepEqual(scan.resourceFiles.sort(), [
        join(tmp(), 'base/cm.yaml'),
        join(tmp(), 'overlay/extra.yaml'),
      ]);
    });

    it('names a malformed kustomization file with its line', async () => {
      await writeTree(tmp(), { 'a/kustomization.yaml': 'resources:\n- x.yaml\n  bad: [\n' });
      await assert.rejects(
        scanKustomizationTree(tmp(), join(tmp(), 'a')),
        /invalid kustomization file 'a\/kustomization.yaml': .* at line \d+/,
      );
    });
  });
});
