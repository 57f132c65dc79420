// Repository URLs of remote chart dependencies, as Flux's DependencyManager reads them. Fetching
// is in test/integration/source/helmchart-oci.test.ts.
import assert from 'node:assert/strict';
import {
  normalizeRepositoryUrl,
  validateDependencyUrl,
} from '../../../controllers/source/helm/dependencies.ts';

describe('source/helm/dependencies: repository URLs', () => {
  it("normalizes as Flux's NormalizeURL: one trailing slash for http(s), none for oci", () => {
    assert.equal(normalizeRepositoryUrl('https://charts.example/stable'), 'https://charts.example/stable/');
    assert.equal(normalizeRepositoryUrl('https://charts.example/stable//'), 'https://charts.example/stable/');
    assert.equal(normalizeRepositoryUrl('http://127.0.0.1:8080'), 'http://127.0.0.1:8080/');
    assert.equal(normalizeRepositoryUrl('oci://r.example/charts/'), 'oci://r.example/charts');
  });

  it('accepts http(s) and oci only; helm repo aliases are refused by name', () => {
    for (const ok of ['https://c.example', 'http://c.example', 'oci://r.example/c'])
      validateDependencyUrl(ok);
    assert.throws(
      () => validateDependencyUrl('@bitnami'),
      /^Error: aliased repository dependency is not supported: @bitnami$/,
    );
    assert.throws(
      () => validateDependencyUrl('ftp://c.example'),
      /^Error: invalid dependency repository URL: ftp:\/\/c.example$/,
    );
  });
});
