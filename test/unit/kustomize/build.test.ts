import assert from 'node:assert/strict';
import { parseBuildOutput } from '../../../controllers/runtime/kustomize/build.ts';

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
});
