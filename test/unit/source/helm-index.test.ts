import assert from 'node:assert/strict';
import { isHelmError } from '../../../controllers/runtime/helm/errors.ts';
import {
  type HelmIndex,
  parseIndex,
  resolveChartUrl,
  selectChartVersion,
  serializeIndex,
} from '../../../controllers/source/helm/index.ts';
import { indexUrl } from '../../../controllers/source/helm/repository.ts';

const INDEX = `apiVersion: v1
generated: "2025-01-01T00:00:00Z"
entries:
  app:
    - name: app
      version: 1.0.0
      urls: [app-1.0.0.tgz]
      created: "2025-01-01T00:00:00Z"
    - name: app
      version: 2.0.0-rc.1
      urls: [app-2.0.0-rc.1.tgz]
    - name: app
      version: 1.2.0
      apiVersion: v2
      urls: [https://cdn.example.com/app-1.2.0.tgz]
    - name: app
      version: "1.1"
      urls: [app-1.1.tgz]
    - name: app
      version: latest
      urls: [app-latest.tgz]
    - name: app
      urls: [app-none.tgz]
    - name: ../escape
      version: 9.9.9
      urls: [x.tgz]
    - name: app
      version: 1.1.5
      urls: [app-1.1.5.tgz]
  empty: []
`;

const versionsOf = (idx: HelmIndex, name: string) => idx.entries[name]?.map((cv) => cv.version);

function rejects(fn: () => unknown, code: string, message: RegExp) {
  assert.throws(fn, (err: unknown) => {
    assert.ok(isHelmError(err), `not a HelmError: ${err}`);
    assert.equal(err.code, code);
    assert.match(err.message, message);
    return true;
  });
}

describe('source/helm/index', () => {
  describe('parseIndex', () => {
    it('drops invalid versions, defaults apiVersion and sorts highest first', () => {
      const idx = parseIndex(INDEX);
      // "latest", a missing version and a name with a path separator are dropped; "1.1" is lenient semver.
      assert.deepEqual(versionsOf(idx, 'app'), ['2.0.0-rc.1', '1.2.0', '1.1.5', '1.1', '1.0.0']);
      assert.equal(idx.entries.app?.find((cv) => cv.version === '1.0.0')?.apiVersion, 'v1');
      assert.equal(idx.entries.app?.find((cv) => cv.version === '1.2.0')?.apiVersion, 'v2');
      assert.deepEqual(idx.entries.empty, []);
    });

    it('reads the JSON form of an index', () => {
      const json = JSON.stringify({
        apiVersion: 'v1',
        entries: { a: [{ name: 'a', version: '0.1.0', urls: ['a.tgz'] }] },
      });
      assert.deepEqual(versionsOf(parseIndex(json), 'a'), ['0.1.0']);
    });

    it('reads YAML 1.1 as Helm does: timestamps stay strings', () => {
      const idx = parseIndex(
        'apiVersion: v1\nentries:\n  a:\n  - {name: a, version: 1.0.0, created: 2025-01-01}\n',
      );
      assert.equal(idx.entries.a?.[0]?.created, '2025-01-01');
    });

    it('explains what is wrong with something that is not an index', () => {
      rejects(
        () => parseIndex('', 'http://h/index.yaml'),
        'InvalidIndex',
        /empty repository index \(http:\/\/h\/index.yaml\)/,
      );
      rejects(() => parseIndex('entries: {a: [}'), 'InvalidIndex', /not valid YAML/);
      rejects(() => parseIndex('<html><body>Not here</body></html>'), 'InvalidIndex', /not a YAML map/);
      rejects(() => parseIndex('entries: {}\n'), 'InvalidIndex', /no apiVersion/);
      rejects(() => parseIndex('apiVersion: v1\nkind: ConfigMap\n'), 'InvalidIndex', /no entries/);
      rejects(() => parseIndex('apiVersion: v1\nentries: [a]\n'), 'InvalidIndex', /entries is not a map/);
    });
  });

  describe('serializeIndex', () => {
    it('gives the same bytes for the same index served in another order', () => {
      const a = parseIndex(INDEX);
      const reordered = INDEX.replace('  empty: []\n', '').replace('entries:\n', 'entries:\n  empty: []\n');
      assert.notEqual(reordered, INDEX);
      assert.ok(serializeIndex(a).equals(serializeIndex(parseIndex(reordered))));
    });

    it('stores the validated, sorted index as JSON that reads back the same', () => {
      const stored = serializeIndex(parseIndex(INDEX));
      const parsed = JSON.parse(stored.toString());
      assert.deepEqual(
        parsed.entries.app.map((cv: { version: string }) => cv.version),
        ['2.0.0-rc.1', '1.2.0', '1.1.5', '1.1', '1.0.0'],
      );
      assert.deepEqual(parseIndex(stored), parseIndex(INDEX));
    });
  });

  describe('selectChartVersion', () => {
    const idx = parseIndex(INDEX);
    const pick = (range?: string) => selectChartVersion(idx, 'app', range).version;

    it('takes the latest stable version for * (the default)', () => {
      assert.equal(pick(), '1.2.0');
      assert.equal(pick('*'), '1.2.0');
    });

    it('takes the highest version in a range', () => {
      assert.equal(pick('~1.1'), '1.1.5');
      assert.equal(pick('<1.1.0'), '1.0.0');
      assert.equal(pick('1.0.x || 1.1.x'), '1.1.5');
    });

    it('includes prereleases only when the range names one', () => {
      assert.equal(pick('>=1.0.0'), '1.2.0');
      assert.equal(pick('>=1.0.0-0'), '2.0.0-rc.1');
    });

    it('matches an exact version string first, even one that is not strict semver', () => {
      assert.equal(pick('2.0.0-rc.1'), '2.0.0-rc.1');
      assert.equal(pick('1.1'), '1.1');
      // In a range, "1.1" takes no part (Flux considers strict semver only).
      rejects(() => pick('>=1.1.0 <1.1.1'), 'ChartReference', /no 'app' chart with version matching/);
    });

    it('prefers the newest created among versions equal but for build metadata', () => {
      const meta = parseIndex(`apiVersion: v1
entries:
  m:
  - {name: m, version: 1.0.0+a, created: "2025-01-01T00:00:00Z", urls: [a.tgz]}
  - {name: m, version: 1.0.0+b, created: "2025-03-01T00:00:00Z", urls: [b.tgz]}
  - {name: m, version: 1.0.0+c, created: "2025-02-01T00:00:00Z", urls: [c.tgz]}
`);
      assert.equal(selectChartVersion(meta, 'm', '^1').version, '1.0.0+b');
    });

    it('fails like Flux for an unknown chart, no match or a bad range', () => {
      rejects(() => selectChartVersion(idx, 'nope'), 'ChartReference', /^no chart name found 'nope'$/);
      rejects(() => selectChartVersion(idx, 'empty'), 'ChartReference', /no chart version found for 'empty'/);
      rejects(() => pick('>=9'), 'ChartReference', /^no 'app' chart with version matching '>=9' found$/);
      rejects(() => pick('>>1'), 'ChartReference', /invalid version range '>>1' for chart 'app'/);
    });
  });

  describe('URLs', () => {
    it('resolves relative chart URLs under the repository path, with or without a trailing slash', () => {
      for (const base of ['https://h.example/charts', 'https://h.example/charts/']) {
        assert.equal(resolveChartUrl(base, 'app-1.0.0.tgz'), 'https://h.example/charts/app-1.0.0.tgz');
        assert.equal(
          resolveChartUrl(base, 'sub/app-1.0.0.tgz'),
          'https://h.example/charts/sub/app-1.0.0.tgz',
        );
        assert.equal(resolveChartUrl(base, '/root/app.tgz'), 'https://h.example/root/app.tgz');
      }
      assert.equal(resolveChartUrl('https://h.example', 'app.tgz'), 'https://h.example/app.tgz');
    });

    it('keeps absolute chart URLs, and the repository query string on relative ones', () => {
      assert.equal(
        resolveChartUrl('https://h.example/r', 'https://cdn.example/a.tgz'),
        'https://cdn.example/a.tgz',
      );
      assert.equal(
        resolveChartUrl('https://h.example/r?sig=abc', 'a.tgz'),
        'https://h.example/r/a.tgz?sig=abc',
      );
    });

    it('builds the index URL from the repository URL', () => {
      assert.equal(indexUrl('https://h.example/charts'), 'https://h.example/charts/index.yaml');
      assert.equal(indexUrl('https://h.example/charts/'), 'https://h.example/charts/index.yaml');
      assert.equal(indexUrl('https://h.example'), 'https://h.example/index.yaml');
      assert.equal(indexUrl('https://h.example/c?token=1'), 'https://h.example/c/index.yaml?token=1');
      rejects(() => indexUrl('oci://ghcr.io/x'), 'InvalidUrl', /unsupported scheme 'oci'/);
      rejects(() => indexUrl('not a url'), 'InvalidUrl', /invalid repository URL/);
    });
  });
});
