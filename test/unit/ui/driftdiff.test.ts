// One object's drift: normalization, ignored paths and masked Secrets.
import assert from 'node:assert/strict';
import { maskSecrets, normalize, objectDiff } from '../../../controllers/ui/driftdiff.ts';

const cm = (data: Record<string, string>, meta: Record<string, unknown> = {}) => ({
  apiVersion: 'v1',
  kind: 'ConfigMap',
  metadata: { name: 'c', namespace: 'n', ...meta },
  data,
});

const changed = (hunks: ReturnType<typeof objectDiff>) =>
  hunks.flatMap((h) =>
    h.lines.filter((l) => l.op !== 'same').map((l) => `${l.op === 'add' ? '+' : '-'}${l.text.trim()}`),
  );

describe('ui/driftdiff', () => {
  it('leaves out status and the metadata the server writes', () => {
    const n = normalize({
      ...cm({ a: '1' }),
      metadata: {
        name: 'c',
        resourceVersion: '9',
        uid: 'u',
        generation: 2,
        creationTimestamp: 't',
        managedFields: [{}],
        annotations: { 'kubectl.kubernetes.io/last-applied-configuration': '{}' },
      },
      status: { x: 1 },
    });
    assert.deepEqual(n, { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'c' }, data: { a: '1' } });
  });

  it('shows a changed value as a removed cluster line and an added Git line', () => {
    const live = cm({ a: '1', b: 'edited' }, { resourceVersion: '5' });
    const git = cm({ a: '1', b: 'original' }, { resourceVersion: '5' });
    assert.deepEqual(changed(objectDiff(live, git)), ['-b: edited', '+b: original']);
    assert.deepEqual(objectDiff(git, git), []);
  });

  it('does not report fields under ignore rules', () => {
    const live = { ...cm({ a: '1' }), spec: { replicas: 5 } };
    const git = { ...cm({ a: '1' }), spec: { replicas: 1 } };
    assert.deepEqual(objectDiff(live, git, ['/spec/replicas']), []);
  });

  it('shows a whole object as added when the cluster lacks it', () => {
    const lines = changed(objectDiff(undefined, cm({ a: '1' })));
    assert.ok(lines.includes('+kind: ConfigMap'));
    assert.ok(lines.every((l) => l.startsWith('+')));
  });

  it('never shows Secret values, only which keys changed', () => {
    const secret = (data: Record<string, string>) => ({
      apiVersion: 'v1',
      kind: 'Secret',
      metadata: { name: 's' },
      data,
    });
    const [l, g] = maskSecrets(
      secret({ same: 'c2FtZQ==', diff: 'b2xk', gone: 'eA==' }),
      secret({ same: 'c2FtZQ==', diff: 'bmV3' }),
    );
    assert.deepEqual(l?.data, { same: '***', diff: '*** (cluster value)', gone: '***' });
    assert.deepEqual(g?.data, { same: '***', diff: '*** (Git value)' });
    const hunks = objectDiff(secret({ k: 'c2VjcmV0' }), secret({ k: 'b3RoZXI=' }));
    assert.deepEqual(changed(hunks), ["-k: '*** (cluster value)'", "+k: '*** (Git value)'"]);
    assert.ok(!JSON.stringify(hunks).includes('c2VjcmV0') && !JSON.stringify(hunks).includes('b3RoZXI='));
  });
});
