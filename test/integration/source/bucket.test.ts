// Bucket is served (Flux repositories declare it) but not implemented: the source-controller, run as
// its own process, refuses one with a condition a person can act on instead of leaving it without status.
import assert from 'node:assert/strict';
import { ConditionTypes, Reasons } from '../../../controllers/api/names.ts';
import type { Bucket } from '../../../controllers/api/source-bucket.ts';
import { sourceApiVersion as apiVersion, cond, useSourceController } from '../../support/sources.ts';
import { useNamespace } from '../../support/testbed.ts';

describe('source-controller: Bucket', function () {
  this.timeout(120_000);
  const ns = useNamespace('bucket');
  const source = useSourceController(['--concurrent=2']);
  const { waitNotReady } = source.kind<Bucket>('Bucket', ns);

  it('is Stalled with UnsupportedField, saying Bucket sources are not implemented, and stores nothing', async () => {
    await source.client.create({
      apiVersion,
      kind: 'Bucket',
      metadata: { name: 'minio', namespace: ns() },
      spec: { bucketName: 'manifests', endpoint: 'minio.example.com', interval: '5m' },
    });
    const o = await waitNotReady('minio', /Bucket sources are not implemented/);
    assert.equal(cond(o, ConditionTypes.Stalled)?.status, 'True');
    assert.equal(cond(o, ConditionTypes.Stalled)?.reason, Reasons.UnsupportedField);
    assert.equal(cond(o, ConditionTypes.Ready)?.reason, Reasons.UnsupportedField);
    assert.match(
      cond(o, ConditionTypes.Ready)?.message ?? '',
      /spec\.bucketName 'manifests' is not supported by Tide/,
    );
    assert.equal(o.status?.artifact, undefined);
  });
});
