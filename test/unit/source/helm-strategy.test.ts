import assert from 'node:assert/strict';
import { isHelmError } from '../../../controllers/runtime/helm/errors.ts';
import { chartVersionForStrategy, revisionHash } from '../../../controllers/source/helm/strategy.ts';

const sha1 = '4e5cbb7b97d00a8039b8810b90b922f4256fd3bd';
const sha256 = '4e5cbb7b97d00a8039b8810b90b922f4256fd3bd8f78b934b4892dae13f7ca87';

describe('source/helm/strategy', () => {
  it('extracts the hash from Git and Bucket revisions', () => {
    assert.equal(revisionHash(`main@sha1:${sha1}`), sha1);
    assert.equal(revisionHash(`refs/heads/feature/x@sha1:${sha1}`), sha1);
    assert.equal(revisionHash(`sha1:${sha1}`), sha1);
    assert.equal(revisionHash(`sha256:${sha256}`), sha256);
    assert.equal(revisionHash(`main/${sha1}`), sha1);
    assert.equal(revisionHash(sha1), sha1);
  });

  it('keeps the chart version for ChartVersion', () => {
    assert.equal(chartVersionForStrategy('1.2.3', 'ChartVersion', `main@sha1:${sha1}`), '1.2.3');
    assert.equal(chartVersionForStrategy('v1.2', undefined, `main@sha1:${sha1}`), 'v1.2');
  });

  it('appends the first 12 hex of a Git or Bucket revision for Revision', () => {
    assert.equal(chartVersionForStrategy('6.0.3', 'Revision', `main@sha1:${sha1}`), '6.0.3+4e5cbb7b97d0');
    assert.equal(
      chartVersionForStrategy('6.0.3', 'Revision', `sha256:${sha256}`, { sourceKind: 'Bucket' }),
      '6.0.3+4e5cbb7b97d0',
    );
    // Existing build metadata is replaced and the version normalized, as Masterminds SetMetadata does.
    assert.equal(chartVersionForStrategy('v1.2+old', 'Revision', `sha1:${sha1}`), '1.2.0+4e5cbb7b97d0');
    assert.equal(
      chartVersionForStrategy('1.0.0-rc.1', 'Revision', `sha1:${sha1}`),
      '1.0.0-rc.1+4e5cbb7b97d0',
    );
  });

  it('ignores Revision for HelmRepository sources', () => {
    assert.equal(
      chartVersionForStrategy('6.0.3', 'Revision', `sha256:${sha256}`, { sourceKind: 'HelmRepository' }),
      '6.0.3',
    );
  });

  it('appends the generation when values files are set', () => {
    assert.equal(
      chartVersionForStrategy('6.0.3', 'ChartVersion', undefined, {
        sourceKind: 'HelmRepository',
        valuesFilesGeneration: 1,
      }),
      '6.0.3+1',
    );
    assert.equal(
      chartVersionForStrategy('6.0.3', 'Revision', `main@sha1:${sha1}`, { valuesFilesGeneration: 4 }),
      '6.0.3+4e5cbb7b97d0.4',
    );
  });

  it('fails clearly when the chart version is not semver', () => {
    assert.throws(
      () => chartVersionForStrategy('latest', 'Revision', `sha1:${sha1}`),
      (err: unknown) => isHelmError(err, 'Version') && /failed to parse version 'latest'/.test(err.message),
    );
  });
});
