// biome-ignore-all lint/suspicious/noTemplateCurlyInString: Go's ${name} expansions are the subject of these tests
// ImagePolicy's tag selection. Every expected pick and message below is what image-reflector-
// controller's own policy code (internal/policy with Masterminds semver v3.5) returned for the same
// tags, listed as the tag store keeps them.
import assert from 'node:assert/strict';
import type { ImagePolicySpec } from '../../../controllers/api/image.ts';
import { expandTemplate, goRegExp } from '../../../controllers/image-reflector/goregexp.ts';
import {
  compilePolicy,
  InvalidPolicyError,
  parseGoFloat,
} from '../../../controllers/image-reflector/policy.ts';

/** Tags in the store's order: descending byte order. */
const stored = (tags: string[]) => [...tags].sort().reverse();

const tags = stored([
  '1.0.0',
  '1.1.0',
  '1.2.0-rc.1',
  '1.2.0',
  'v1.3.0',
  '1.4.0-alpha',
  '2.0.0-rc.1',
  'latest',
  '1.10.0',
  '1.9.0',
  'v2025.07.03',
  'sha-abc123',
  '1.2',
]);

type Spec = Pick<ImagePolicySpec, 'policy' | 'filterTags'>;
const semver = (range: string, filterTags?: Spec['filterTags']): Spec => ({
  policy: { semver: { range } },
  filterTags,
});
const alpha = (order?: 'asc' | 'desc', filterTags?: Spec['filterTags']): Spec => ({
  policy: { alphabetical: order ? { order } : {} },
  filterTags,
});
const num = (order: 'asc' | 'desc', filterTags?: Spec['filterTags']): Spec => ({
  policy: { numerical: { order } },
  filterTags,
});

function pick(spec: Spec, list: string[]): string {
  try {
    return `OK ${compilePolicy(spec)(list)}`;
  } catch (err) {
    return `${err instanceof InvalidPolicyError ? 'INVALID' : 'ERR'} ${(err as Error).message}`;
  }
}

describe('image-reflector/policy: the tag Flux picks', () => {
  const table: [string, Spec, string[], string][] = [
    ['semver 1.x: numeric order, not text order', semver('1.x'), tags, 'OK 1.10.0'],
    ['semver ~1.2: no pre-release without a pre-release comparator', semver('~1.2'), tags, 'OK 1.2.0'],
    ['semver range with an upper bound', semver('>=1.0.0 <2.0.0'), tags, 'OK 1.10.0'],
    ['semver range admitting pre-releases', semver('>=1.4.0-0 <1.5.0'), tags, 'OK 1.4.0-alpha'],
    ['semver with a v prefix', semver('>=1.3.0 <1.5.0'), tags, 'OK v1.3.0'],
    ['semver caret to a pre-release', semver('^2.0.0-0'), tags, 'OK 2.0.0-rc.1'],
    ['semver *: CalVer with leading zeros counts', semver('*'), tags, 'OK v2025.07.03'],
    [
      'semver: invalid range',
      semver('not a range'),
      ['1.0.0'],
      'INVALID invalid policy: improper constraint: "not a range"',
    ],
    [
      'semver: nothing matches',
      semver('<0.1.0'),
      tags,
      'ERR unable to determine latest version from provided list',
    ],
    ['alphabetical asc picks the last in byte order', alpha('asc'), tags, 'OK v2025.07.03'],
    ['alphabetical desc picks the first', alpha('desc'), tags, 'OK 1.0.0'],
    ['alphabetical defaults to asc', alpha(), stored(['b', 'a', 'c']), 'OK c'],
    [
      'numerical asc: a later equal value wins',
      num('asc'),
      stored(['1', '10', '9', '2.5', '100', '1e2']),
      'OK 100',
    ],
    ['numerical desc', num('desc'), stored(['1', '10', '9', '2.5', '100', '0.5']), 'OK 0.5'],
    [
      'numerical: a tag that is no number fails',
      num('asc'),
      stored(['1', '10', 'latest']),
      "ERR failed to parse invalid numeric value 'latest'",
    ],
    [
      'filter with a named group extracting a timestamp, numerical',
      num('asc', { pattern: '^main-[a-f0-9]+-(?P<ts>[0-9]+)', extract: '$ts' }),
      stored([
        'main-abc123-1700000000',
        'main-def456-1700000100',
        'feature-aaa-1800000000',
        'main-0aa-1600000000',
        'latest',
      ]),
      'OK main-def456-1700000100',
    ],
    [
      "Flux's documented minio example, alphabetical",
      alpha('asc', { pattern: '^RELEASE\\.(?P<timestamp>.*)Z$', extract: '$timestamp' }),
      stored([
        'RELEASE.2023-01-01T00-00-00Z',
        'RELEASE.2024-06-15T10-00-00Z',
        'RELEASE.2024-01-01T00-00-00Z',
        'latest',
      ]),
      'OK RELEASE.2024-06-15T10-00-00Z',
    ],
    [
      'filter without extract',
      semver('*', { pattern: '^1\\.' }),
      stored(['1.0.0', '1.10.0', '2.0.0', '1.9.0']),
      'OK 1.10.0',
    ],
    [
      'filter with a numbered group in braces',
      num('asc', { pattern: '^build-(\\d+)$', extract: '${1}' }),
      stored(['build-7', 'build-12', 'build-9', 'build-x']),
      'OK build-12',
    ],
    [
      'semver of an extracted version',
      semver('>=1.0.0', { pattern: '^v?(?P<v>[0-9.]+)-debian$', extract: '$v' }),
      stored(['1.2.0-debian', '1.10.0-debian', '1.11.0-alpine', 'v1.9.0-debian']),
      'OK 1.10.0-debian',
    ],
    [
      'filter matching nothing',
      semver('*', { pattern: '^9' }),
      ['1.0.0'],
      'ERR version list argument cannot be empty',
    ],
  ];
  for (const [name, spec, list, want] of table) it(name, () => assert.equal(pick(spec, list), want));

  it('refuses an invalid order or pattern before looking at any tag', () => {
    assert.throws(
      () => compilePolicy({ policy: { alphabetical: { order: 'sideways' as 'asc' } } }),
      (err: unknown) =>
        err instanceof InvalidPolicyError &&
        err.message ===
          "invalid policy: invalid order argument provided: 'SIDEWAYS', must be one of: ASC, DESC",
    );
    assert.throws(
      () => compilePolicy(semver('*', { pattern: '(' })),
      (err: unknown) =>
        err instanceof InvalidPolicyError &&
        /^failed to filter tags: invalid regular expression pattern '\(': /.test(err.message),
    );
  });
});

describe('image-reflector/goregexp: RE2 patterns', () => {
  it('translates named groups, leading flags, \\A, \\z and POSIX classes', () => {
    assert.deepEqual({ ...goRegExp('^(?P<ts>[[:digit:]]+)\\z').exec('123')?.groups }, { ts: '123' });
    assert.ok(goRegExp('(?i)^RELEASE').test('release-1'));
    assert.ok(goRegExp('\\Av[[:alnum:]_]+').test('v1_a'));
    assert.ok(!goRegExp('^a\\z').test('ab'));
  });

  it('refuses what JavaScript would read differently', () => {
    for (const p of ['(?U)a+', 'a(?i)b', '\\Qa.b\\E', '\\pL', '[[:foo:]]', '[[:^alpha:]]'])
      assert.throws(() => goRegExp(p), /not supported by Tide/, p);
  });

  it("expands templates as Go's Regexp.Expand", () => {
    const m = /(?<ts>\d+)-(\w+)/.exec('123-abc')!;
    assert.equal(expandTemplate('$ts/${2}/$$/$1x/${ts}x/$9/$', m), '123/abc/$//123x//$');
  });

  it('parses numbers as strconv.ParseFloat', () => {
    assert.equal(parseGoFloat('1e2'), 100);
    assert.equal(parseGoFloat('0x1p-2'), 0.25);
    assert.equal(parseGoFloat('-Inf'), Number.NEGATIVE_INFINITY);
    for (const bad of ['', ' 1', '1_000', '0x10', 'latest', '1.2.3'])
      assert.equal(parseGoFloat(bad), undefined, bad);
  });
});
