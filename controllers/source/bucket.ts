// Bucket (S3-compatible, GCS and Azure Blob sources) is served for Flux compatibility but not
// implemented: every Bucket is refused with a condition that says so, rather than sitting without
// status where `kubectl wait --for=condition=Ready` would hang with no reason given.

import { BucketKind } from '../api/kinds.ts';
import type { Bucket } from '../api/source-bucket.ts';
import type { UnsupportedField } from '../runtime/fields.ts';
import { defineController } from '../runtime/reconciler.ts';
import { sourceConditionPolicy } from './common.ts';

/** `spec.bucketName` is required, so this refuses every Bucket, which covers every field of it. */
export const bucketUnsupportedFields: readonly UnsupportedField[] = [
  {
    path: 'spec.bucketName',
    why: 'Bucket sources are not implemented; serve the files from a GitRepository or an OCIRepository',
  },
];

export function bucketController() {
  return defineController<Bucket>({
    name: 'bucket',
    kind: BucketKind,
    conditionPolicy: sourceConditionPolicy,
    unsupportedFields: bucketUnsupportedFields,

    /** Never runs: the runner refuses every Bucket first (Stalled=True, Ready=False, UnsupportedField). */
    async reconcile() {
      return undefined;
    },
  });
}
