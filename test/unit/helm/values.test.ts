// HelmRelease values composition and the config digest, against what Flux computes. The expected YAML,
// digests and errors in testdata/values-goldens.json were produced by fluxcd/pkg chartutil v1.27.0
// (ChartValuesFromReferences with a fake client, Encode with SortMapSlice, DigestValues; helm v4.3.1,
// go.yaml.in/yaml/v2 v2.4.3) from the same cases.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import type { ValuesReference } from '../../../controllers/api/meta.ts';
import { isHelmError } from '../../../controllers/runtime/helm/errors.ts';
import { encodeGoYaml } from '../../../controllers/runtime/helm/goyaml.ts';
import {
  composeValues,
  mergeValues,
  parseValues,
  setPathValue,
  type Values,
  type ValuesSourceData,
  valuesDigest,
  valuesSourceKey,
} from '../../../controllers/runtime/helm/values.ts';

interface GoldenCase {
  name: string;
  values?: string;
  valuesJSON?: Values;
  refs: ValuesReference[];
  configMaps?: Record<string, Record<string, string>>;
  secrets?: Record<string, Record<string, string>>;
}
interface GoldenResult {
  name: string;
  yaml: string;
  digest: string;
  error?: string;
}

const goldens = JSON.parse(
  readFileSync(new URL('testdata/values-goldens.json', import.meta.url), 'utf8'),
) as {
  cases: GoldenCase[];
  results: GoldenResult[];
};

function objectsOf(c: Pick<GoldenCase, 'configMaps' | 'secrets' | 'refs'>): Record<string, ValuesSourceData> {
  const objects: Record<string, ValuesSourceData> = {};
  for (const r of c.refs) objects[valuesSourceKey(r)] = undefined;
  for (const [name, data] of Object.entries(c.configMaps ?? {})) objects[`ConfigMap/${name}`] = data;
  for (const [name, data] of Object.entries(c.secrets ?? {})) objects[`Secret/${name}`] = data;
  return objects;
}

const compose = (c: GoldenCase) =>
  composeValues({
    namespace: 'ns',
    valuesFrom: c.refs,
    values: c.valuesJSON ?? (c.values === undefined ? undefined : parseValues(c.values, 'values')),
    objects: objectsOf(c),
  });

describe('runtime/helm/values', () => {
  describe('composeValues and valuesDigest, as Flux computes them', () => {
    goldens.cases.forEach((c, i) => {
      const want = goldens.results[i] as GoldenResult;
      it(c.name, () => {
        if (want.error) {
          assert.throws(
            () => compose(c),
            (err: unknown) => {
              assert.ok(isHelmError(err, 'ValuesReference'), String(err));
              // Flux words a document that is not a map after Go's JSON decoder; Tide says it plainly.
              if (c.name === 'invalid values')
                assert.match(err.message, /^could not resolve ConfigMap .*'values.yaml': .*not a YAML map/);
              else assert.equal(err.message, want.error);
              return true;
            },
          );
          return;
        }
        const { values } = compose(c);
        const yaml = Object.keys(values).length ? encodeGoYaml(values).toString('utf8') : '';
        assert.equal(yaml, want.yaml);
        assert.equal(valuesDigest(values), want.digest);
      });
    });
  });

  it('skips an optional reference to a missing object or key and says so; a required one fails', () => {
    const refs: ValuesReference[] = [
      { kind: 'ConfigMap', name: 'gone', optional: true },
      { kind: 'Secret', name: 'creds', valuesKey: 'nope', optional: true },
      { kind: 'Secret', name: 'creds', valuesKey: 'user', targetPath: 'auth.user' },
    ];
    const got = composeValues({
      namespace: 'apps',
      valuesFrom: refs,
      values: { replicas: 2 },
      objects: { 'ConfigMap/gone': undefined, 'Secret/creds': { user: 'admin' } },
    });
    assert.deepEqual(got.values, { replicas: 2, auth: { user: 'admin' } });
    assert.deepEqual(got.skipped, [
      `could not resolve optional ConfigMap chart values reference 'apps/gone' with key 'values.yaml': configmaps "gone" not found`,
      `could not resolve optional Secret chart values reference 'apps/creds' with key 'nope': key not found`,
    ]);
    assert.throws(
      () => composeValues({ namespace: 'apps', valuesFrom: [{ kind: 'Secret', name: 'gone' }], objects: {} }),
      /could not resolve Secret chart values reference 'apps\/gone' with key 'values.yaml': secrets "gone" not found/,
    );
  });

  it('leaves spec.values as it was, even when a targetPath writes into a map it shares', () => {
    const values = { a: { keep: 1 } };
    const got = composeValues({
      namespace: 'ns',
      valuesFrom: [{ kind: 'ConfigMap', name: 'c', valuesKey: 'v', targetPath: 'a.added' }],
      values,
      objects: { 'ConfigMap/c': { v: 'x' } },
    });
    assert.deepEqual(got.values, { a: { keep: 1, added: 'x' } });
    assert.deepEqual(values, { a: { keep: 1 } });
  });

  it('sets a value at a path: typed, quoted as a string, or taken literally', () => {
    const v: Values = {};
    setPathValue(v, 'image.tag', '1.2');
    setPathValue(v, 'replicas', '3');
    setPathValue(v, 'debug', 'true');
    setPathValue(v, 'version', '"3"');
    setPathValue(v, 'hosts[1]', 'b.example.com');
    setPathValue(v, 'cfg.app\\.yaml', 'a: {x, y}, z', true);
    assert.deepEqual(v, {
      image: { tag: '1.2' },
      replicas: 3,
      debug: true,
      version: '3',
      hosts: [null, 'b.example.com'],
      cfg: { 'app.yaml': 'a: {x, y}, z' },
    });
  });

  it('merges maps recursively, replaces lists and scalars, keeps null, and leaves the inputs alone', () => {
    const a = { image: { repository: 'app', tag: '1.0' }, ports: [80, 443], keep: true };
    const b = { image: { tag: '2.0' }, ports: [8443], extra: null, keep: { now: 'a map' } };
    const aCopy = structuredClone(a);
    assert.deepEqual(mergeValues(a, b), {
      image: { repository: 'app', tag: '2.0' },
      ports: [8443],
      keep: { now: 'a map' },
      extra: null,
    });
    assert.deepEqual(a, aCopy);
  });

  it('digests empty values as the hash of nothing, and equal values equally whatever their key order', () => {
    assert.equal(valuesDigest({}), 'sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855');
    assert.equal(valuesDigest({ a: 1, b: { c: [1, 2] } }), valuesDigest({ b: { c: [1, 2] }, a: 1 }));
    assert.notEqual(valuesDigest({ a: 1 }), valuesDigest({ a: '1' }));
  });

  it('reads a values document as Helm does: empty is {}, a list or scalar is refused', () => {
    assert.deepEqual(parseValues('', 'x'), {});
    assert.deepEqual(parseValues('# only a comment\n', 'x'), {});
    assert.throws(
      () => parseValues('- a\n', 'cm/x'),
      /unmarshaling values from 'cm\/x' failed: not a YAML map/,
    );
    assert.throws(() => parseValues('a: [\n', 'cm/x'), /unmarshaling values from 'cm\/x' failed/);
  });
});
