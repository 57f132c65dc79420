import assert from 'node:assert/strict';
import { kustomizeBuild, parseBuildOutput } from '../../../controllers/runtime/kustomize/build.ts';
import { yamlBomb } from '../../support/hostile.ts';
import { manifest, useTempDir, writeTree } from './support.ts';

describe('kustomize/build', () => {
  it('parseBuildOutput requires apiVersion, kind and metadata.name on every object', () => {
    const ok =
      'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: a\n---\napiVersion: v1\nkind: Secret\nmetadata:\n  name: b\n';
    assert.deepEqual(
      parseBuildOutput(ok).map((o) => o.metadata.name),
      ['a', 'b'],
    );
    assert.throws(
      () => parseBuildOutput('apiVersion: v1\nkind: ConfigMap\nmetadata: {}\n'),
      /failed to decode Kubernetes apiVersion, kind and name from: ConfigMap\/<no name>/,
    );
    assert.throws(() => parseBuildOutput('- a\n- b\n'), /failed to decode/);
  });

  describe('refuses YAML over the limits before kustomize runs', () => {
    const dir = useTempDir();
    // Never started: a refusal that came from running it would say it could not be spawned.
    const opts = { kustomizeBin: '/nonexistent/kustomize' };
    const bomb = `${manifest('ConfigMap', 'bomb')}data:\n${yamlBomb(9, '  ')}`;
    const cases: Array<[string, Record<string, string>, RegExp]> = [
      [
        'a resource file',
        {
          'app/kustomization.yaml': 'resources: [ok.yaml, sub]\n',
          'app/ok.yaml': manifest('ConfigMap', 'ok'),
          'app/sub/kustomization.yaml': 'resources: [bomb.yaml]\n',
          'app/sub/bomb.yaml': bomb,
        },
        /^refused YAML in 'app\/sub\/bomb\.yaml': document contains excessive aliasing$/,
      ],
      [
        'a patch file',
        {
          'app/kustomization.yaml': 'resources: [ok.yaml]\npatches: [{path: patch.yaml}]\n',
          'app/ok.yaml': manifest('ConfigMap', 'ok'),
          'app/patch.yaml': bomb,
        },
        /^refused YAML in 'app\/patch\.yaml': document contains excessive aliasing$/,
      ],
      [
        'an inline patch',
        {
          'app/kustomization.yaml': `resources: [ok.yaml]\npatches:\n- patch: ${JSON.stringify(bomb)}\n`,
          'app/ok.yaml': manifest('ConfigMap', 'ok'),
        },
        /^refused YAML in inline patch in 'app\/kustomization\.yaml': document contains excessive aliasing$/,
      ],
      [
        'a generator config',
        {
          'app/kustomization.yaml': 'resources: [ok.yaml]\ngenerators: [gen.yaml]\n',
          'app/ok.yaml': manifest('ConfigMap', 'ok'),
          'app/gen.yaml': bomb,
        },
        /^kustomization 'app\/kustomization\.yaml': refused plugin config: document contains excessive aliasing$/,
      ],
    ];
    for (const [what, files, pattern] of cases) {
      it(`in ${what}`, async () => {
        await writeTree(dir(), files);
        await assert.rejects(kustomizeBuild(dir(), './app', opts), (e: Error) => pattern.test(e.message));
      });
    }
  });
});
