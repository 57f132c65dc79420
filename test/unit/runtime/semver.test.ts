import assert from 'node:assert/strict';
import {
  compareVersions,
  formatVersion,
  highestMatch,
  parseConstraint,
  parseStrictVersion,
  parseVersion,
  type SemVer,
  withMetadata,
} from '../../../controllers/runtime/semver.ts';

const v = (s: string): SemVer => {
  const parsed = parseVersion(s);
  assert.ok(parsed, `test version ${s} does not parse`);
  return parsed;
};

describe('runtime/semver', () => {
  describe('parseVersion and parseStrictVersion', () => {
    it('parses leniently like Masterminds NewVersion and formats canonically', () => {
      assert.equal(formatVersion(v('v1.2')), '1.2.0');
      assert.equal(formatVersion(v('1')), '1.0.0');
      assert.equal(formatVersion(v('01.02.3')), '1.2.3', 'leading zeros are coerced (3.4)');
      assert.equal(formatVersion(v('1.2.3-rc.1+build.5')), '1.2.3-rc.1+build.5');
      assert.equal(parseVersion('latest'), undefined);
      assert.equal(parseVersion('1.2.3-01'), undefined, 'numeric prerelease with a leading zero');
      assert.equal(parseVersion('1.2.3-rc..1'), undefined, 'empty prerelease identifier');
    });

    it('reads tags as Flux does: three dot-separated parts, then Masterminds NewVersion', () => {
      assert.ok(parseStrictVersion('1.2.3'));
      assert.ok(parseStrictVersion('v1.2.3-beta.1+meta'));
      assert.ok(parseStrictVersion('v1.2.3-rc1-with-hypen'));
      // CalVer tags with leading zeros (fluxcd/pkg version_test.go).
      assert.equal(formatVersion(parseStrictVersion('v2025.07.03')!), '2025.7.3');
      for (const bad of [
        '1.2',
        'v1',
        '1',
        'v1.2-beta5',
        '\nv1.2',
        '1.2.3.4',
        '',
        'latest',
        'vv1.0.0',
        'V1.0.0',
        'release-1.0.0',
        '1.2.3-',
        '1.2.3+',
        '1.2.3-01',
      ])
        assert.equal(parseStrictVersion(bad), undefined, bad);
      const tagged = parseStrictVersion('v1.2.0-x.Y.0+metadata');
      assert.ok(tagged);
      assert.equal(tagged.prerelease, 'x.Y.0');
      assert.equal(tagged.original, 'v1.2.0-x.Y.0+metadata');
      assert.equal(formatVersion(tagged), '1.2.0-x.Y.0+metadata');
    });

    it('refuses numbers a JS number cannot hold exactly', () => {
      assert.equal(parseVersion('9007199254740993.0.0'), undefined);
      assert.equal(v('9007199254740991.0.0').major, Number.MAX_SAFE_INTEGER);
    });

    it('replaces build metadata and rejects invalid metadata', () => {
      assert.equal(formatVersion(withMetadata(v('1.0.0+old'), 'abc.3')), '1.0.0+abc.3');
      assert.throws(() => withMetadata(v('1.0.0'), 'a_b'), /invalid build metadata/);
    });
  });

  it('orders versions by semver precedence, ignoring build metadata', () => {
    const ordered = [
      '1.0.0-alpha',
      '1.0.0-alpha.1',
      '1.0.0-alpha.beta',
      '1.0.0-beta',
      '1.0.0-beta.2',
      '1.0.0-beta.11',
      '1.0.0-rc.1',
      '1.0.0-rc.9007199254740992',
      '1.0.0-rc.9007199254740993',
      '1.0.0',
      '1.0.1',
      '1.10.0',
      '2.0.0',
    ];
    // A fixed permutation (5 is coprime with the length).
    const shuffled = ordered.map((_, i) => ordered[(i * 5) % ordered.length] as string);
    assert.notDeepEqual(shuffled, ordered);
    shuffled.sort((a, b) => compareVersions(v(a), v(b)));
    assert.deepEqual(shuffled, ordered);
    assert.equal(compareVersions(v('1.0.0+a'), v('1.0.0+b')), 0);
  });

  describe('parseConstraint', () => {
    // [range, version, satisfied]
    const table: [string, string, boolean][] = [
      ['*', '1.0.0', true],
      ['*', '2.0.0-rc.1', false],
      ['>=1.0.0', '2.0.0-rc.1', false],
      ['>=1.0.0-0', '2.0.0-rc.1', true],
      // One prerelease comparator lets the whole AND group see prereleases (Masterminds 3.4)…
      ['>=1.0.0-0 <2.0.0', '1.5.0-beta.1', true],
      // …but not another OR group.
      ['>=1.0.0-0 <1.1.0 || >=3', '3.1.0-rc.1', false],
      ['^1.2.3', '1.9.9', true],
      ['^1.2.3', '2.0.0', false],
      ['^1.2.3', '1.2.2', false],
      ['^0.2.3', '0.2.9', true],
      ['^0.2.3', '0.3.0', false],
      ['^0.0.3', '0.0.3', true],
      ['^0.0.3', '0.0.4', false],
      ['^0', '0.9.0', true],
      ['^0', '1.0.0', false],
      ['~1.2', '1.2.9', true],
      ['~1.2', '1.3.0', false],
      ['~1.2.3', '1.2.2', false],
      ['~1', '1.9.0', true],
      ['~1', '2.0.0', false],
      ['~>1.2', '1.2.5', true],
      ['~>1.2', '1.3.0', false],
      ['1.2.x', '1.2.5', true],
      ['1.2.x', '1.3.0', false],
      ['1.x', '1.9.0', true],
      ['1.X', '2.0.0', false],
      ['1', '1.4.0', true],
      ['>1.2', '1.2.9', false],
      ['>1.2', '1.3.0', true],
      ['>1', '1.9.0', false],
      ['<=1.2', '1.2.9', true],
      ['<=1.2', '1.3.0', false],
      ['=<1.2.3', '1.2.3', true],
      ['=>1.2.3', '1.2.2', false],
      ['<1.2.0', '1.1.9', true],
      ['>=01.2', '1.2.0', true],
      ['1.2.3 - 2.3', '2.3.9', true],
      ['1.2.3 - 2.3', '2.4.0', false],
      ['1.2.3 - 2.3', '1.2.2', false],
      // The rewritten hyphen range ends with a space (3.4), so a comparator may follow it.
      ['1.0.0 - 1.4 <1.3', '1.2.9', true],
      ['1.0.0 - 1.4 <1.3', '1.3.1', false],
      ['>=1.0, <2.0', '1.5.0', true],
      ['>=1.0, <2.0', '2.0.0', false],
      ['>= 1.0 < 2.0', '1.5.0', true],
      ['1.0.0 || >=3', '2.0.0', false],
      ['1.0.0 || >=3', '3.1.0', true],
      ['!=1.2.3', '1.2.3', false],
      ['!=1.2.3', '1.2.4', true],
      ['!=1.2.x', '1.2.7', false],
      ['!=1.2.x', '1.3.0', true],
      ['!=1.x', '1.9.0', false],
      ['=1.2.3', '1.2.3+build', true],
      ['v1.2.3', '1.2.3', true],
      ['1.2.3-rc.1', '1.2.3-rc.1', true],
    ];
    for (const [range, version, want] of table) {
      it(`'${range}' ${want ? 'matches' : 'does not match'} ${version}`, () => {
        assert.equal(parseConstraint(range).check(v(version)), want);
      });
    }

    it('rejects improper constraints with Masterminds messages', () => {
      for (const bad of ['>>1', 'abc', '1.2.3 ||', '~>', '', ' ', '>= foo', '1.2.3.4']) {
        assert.throws(() => parseConstraint(bad), /improper constraint/, bad);
      }
      // `|` passes Masterminds' syntax check but is no version number.
      assert.throws(() => parseConstraint('1.2.3 ||| 2'), /constraint parser error/);
      // A comparator before a hyphen range loses its separator in Masterminds' rewrite.
      assert.throws(() => parseConstraint('<2 1.0.0 - 1.2'), /improper constraint/);
      assert.throws(
        () => parseConstraint(`>=${'1'.repeat(600)}`),
        /constraint string is too long \(max 512 bytes\)/,
      );
      assert.throws(
        () => parseConstraint(Array(33).fill('1.0.0').join(' || ')),
        /too many constraint groups \(max 32\)/,
      );
      assert.throws(() => parseConstraint('not a range'), /^Error: improper constraint: "not a range"$/);
      assert.equal(parseVersion(`1.0.0-${'a'.repeat(260)}`), undefined, 'versions are at most 256 bytes');
    });

    // Exponential backtracking on these would run for minutes: the unit timeout fails it.
    it('rejects pathological ranges in linear time, not by exponential backtracking', () => {
      for (const bad of [
        // Each under Masterminds' 512-byte limit, so the patterns themselves are exercised.
        `${'1  '.repeat(170)}!`,
        `${'>= 1.0.0 , '.repeat(46)}!`,
        `1${' '.repeat(510)}!`,
        `${'1-1-'.repeat(127)}!`,
        `${'1.'.repeat(255)}!`,
      ]) {
        assert.throws(() => parseConstraint(bad), /improper constraint/);
      }
    });
  });

  describe('highestMatch', () => {
    const pick = (range: string, tags: string[]) => highestMatch(tags, range)?.tag;
    const tags = [
      'v1.0.0',
      'v1.2.0',
      '1.3.0',
      'v1.4.0-rc.1',
      'v2.0.0-rc.1',
      'v2.0.0',
      'v2.1.0-beta',
      'latest',
    ];

    it('picks the highest matching tag, with or without a v prefix', () => {
      assert.equal(pick('*', tags), 'v2.0.0');
      assert.equal(pick('1.x', tags), '1.3.0');
      assert.equal(pick('>=1.0.0 <1.3.0', tags), 'v1.2.0');
      assert.equal(pick('>=1.0.0, <1.3.0', tags), 'v1.2.0');
      assert.equal(pick('~1.2', tags), 'v1.2.0');
      assert.equal(pick('~>1.2', tags), 'v1.2.0');
      assert.equal(pick('^1.0.0', tags), '1.3.0');
      assert.equal(pick('v1.2.0', tags), 'v1.2.0');
      assert.equal(pick('1.0.0 - 1.2', tags), 'v1.2.0');
      assert.equal(pick('<1.1 || >=2', tags), 'v2.0.0');
      assert.equal(pick('>=1, !=1.3.0, <2', tags), 'v1.2.0');
      assert.equal(pick('>=3', tags), undefined);
    });

    it('excludes pre-releases unless the AND group has a pre-release comparator', () => {
      assert.equal(pick('>=1.3.0 <2.0.0', tags), '1.3.0');
      // As in Masterminds (unlike npm): any pre-release below 2.0.0, so 2.0.0-rc.1 too.
      assert.equal(pick('>=1.3.0-0 <2.0.0', tags), 'v2.0.0-rc.1');
      assert.equal(pick('>=1.3.0-0 <1.5.0', tags), 'v1.4.0-rc.1');
      assert.equal(pick('>=2.0.0-0', tags), 'v2.1.0-beta');
      // The pre-release comparator lets pre-releases into its own group only.
      assert.equal(pick('>=1.4.0-0 <1.5.0 || >=2.0.1', tags), 'v1.4.0-rc.1');
      assert.equal(pick('^0.1', ['v0.1.1', 'v0.2.0', 'v1.0.0']), 'v0.1.1');
    });

    it('skips tags that are not strict SemVer unless lenient', () => {
      assert.equal(pick('*', ['latest', 'v1', 'v0.1.0', '1.5']), 'v0.1.0');
      assert.equal(highestMatch(['latest', 'v1', 'v0.1.0', '1.5'], '*', { lenient: true })?.tag, '1.5');
      assert.equal(highestMatch(['v1', 'v0.1.0'], '*', { lenient: true })?.version.major, 1);
    });

    it('considers only tags the filter matches anywhere, even a global filter', () => {
      const rc = ['6.1.4', '6.1.5-beta.1', '6.1.5-rc.1', '6.1.6-rc.1', '6.2.0-beta.1'];
      assert.equal(highestMatch(rc, '>= 6.1.x-0', { filter: /-rc/ })?.tag, '6.1.6-rc.1');
      assert.equal(highestMatch(rc, '>= 6.1.x-0', { filter: /^6\.1\.5/ })?.tag, '6.1.5-rc.1');
      // A stateful (g) filter would skip every other tag if lastIndex carried over.
      assert.equal(
        highestMatch(['1.0.0-rc.1', '1.0.1-rc.1'], '>=1.0.0-0', { filter: /rc/g })?.tag,
        '1.0.1-rc.1',
      );
    });

    it('breaks ties between equal versions with tieBreak, else keeps the first', () => {
      const equal = ['1.0.0+b', 'v1.0.0', '1.0.0+a', '0.9.0'];
      assert.equal(pick('*', equal), '1.0.0+b');
      const byName = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);
      assert.equal(highestMatch(equal, '*', { tieBreak: byName })?.tag, 'v1.0.0');
      assert.equal(highestMatch(equal, '*', { tieBreak: (a, b) => byName(b, a) })?.tag, '1.0.0+a');
    });

    it('takes a parsed constraint as well as a string, and throws for a bad string', () => {
      assert.equal(highestMatch(tags, parseConstraint('<1.1'))?.tag, 'v1.0.0');
      assert.throws(() => highestMatch(tags, '>= foo'), /improper constraint/);
    });
  });
});
