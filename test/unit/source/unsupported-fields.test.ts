// The spec fields and values the source kinds refuse: the runner stalls such an object with reason
// UnsupportedField and a message naming the field (controllers/runtime/fields.ts).
import assert from 'node:assert/strict';
import { unsupportedFieldMessage } from '../../../controllers/runtime/fields.ts';
import type { KubeObject } from '../../../controllers/runtime/object.ts';
import { helmChartUnsupportedFields } from '../../../controllers/source/helmchart.ts';
import { helmRepositoryUnsupportedFields } from '../../../controllers/source/helmrepository.ts';
import { ociRepositoryUnsupportedFields } from '../../../controllers/source/ocirepository.ts';

const obj = (spec: Record<string, unknown>): KubeObject => ({ metadata: { name: 'x' }, spec });

describe('source: unsupported spec fields', () => {
  it('OCIRepository: cloud providers and signature verification', () => {
    const refused = (spec: Record<string, unknown>) =>
      unsupportedFieldMessage(obj(spec), ociRepositoryUnsupportedFields);
    assert.equal(refused({ url: 'oci://r/a', provider: 'generic', insecure: true }), undefined);
    assert.match(
      refused({ provider: 'aws' }) ?? '',
      /^spec.provider 'aws' is not supported by Tide: cloud workload identity/,
    );
    assert.match(refused({ provider: 'gcp' }) ?? '', /^spec.provider 'gcp'/);
    assert.match(
      refused({ verify: { provider: 'cosign' } }) ?? '',
      /^spec.verify is not supported by Tide: signature verification/,
    );
  });

  it('HelmRepository: cloud providers and accessFrom, which Flux does not implement either', () => {
    const refused = (spec: Record<string, unknown>) =>
      unsupportedFieldMessage(obj(spec), helmRepositoryUnsupportedFields);
    assert.equal(refused({ type: 'oci', provider: 'generic', insecure: true }), undefined);
    assert.match(
      refused({ accessFrom: { namespaceSelectors: [{}] } }) ?? '',
      /^spec.accessFrom is not supported by Tide: Flux reserves it/,
    );
    assert.match(
      refused({ type: 'oci', provider: 'azure' }) ?? '',
      /^spec.provider 'azure' is not supported by Tide/,
    );
  });

  it('HelmChart: signature verification', () => {
    const refused = (spec: Record<string, unknown>) =>
      unsupportedFieldMessage(obj(spec), helmChartUnsupportedFields);
    assert.equal(
      refused({ chart: 'app', ignoreMissingValuesFiles: true, valuesFiles: ['a.yaml'] }),
      undefined,
    );
    assert.match(
      refused({ verify: { provider: 'notation' } }) ?? '',
      /^spec.verify is not supported by Tide/,
    );
  });
});
