import assert from 'node:assert/strict';
import {
  compareVersions,
  formatVersion,
  parseConstraint,
  parseStrictVersion,
  parseVersion,
  type SemVer,
  withMetadata,
} from '../../../controllers/source/helm/semver.ts';

const v = (s: string): SemVer => {
  const parsed = parseVersion(s);
  assert.ok(parsed, `test version ${s} does not parse`);
  return parsed;
};

describe('source/helm/semver', () => {
  describe('parseVersion and parseStrictVersion', () => {
    it('parses leniently like Masterminds NewVersion and formats canonically', () => {
      assert.equal(formatVersion(v('v1.2')), '1.2.0');
      assert.equal(formatVersion(v('1')), '1.0.0');
      assert.equal(formatVersion(v('1.2.3-rc.1+build.5')), '1.2.3-rc.1+build.5');
      assert.equal(parseVersion('latest'), undefined);
      assert.equal(parseVersion('1.2.3-01'), undefined, 'numeric prerelease with a leading zero');
    });

    it('accepts only full semver (optionally with v) in strict mode, as Flux for index versions', () => {
      assert.ok(parseStrictVersion('1.2.3'));
      assert.ok(parseStrictVersion('v1.2.3-beta.1+meta'));
      for (const bad of ['1.2', 'v1', '01.2.3', '1.2.3.4', ''])
        assert.equal(parseStrictVersion(bad), undefined, bad);
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
      '1.0.0',
      '1.0.1',
      '1.10.0',
      '2.0.0',
    ];
    // A fixed permutation (7 is coprime with the length).
    const shuffled = ordered.map((_, i) => ordered[(i * 7) % ordered.length] as string);
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
      ['1.2.x', '1.2.5', true],
      ['1.2.x', '1.3.0', false],
      ['1.x', '1.9.0', true],
      ['1', '1.4.0', true],
      ['>1.2', '1.2.9', false],
      ['>1.2', '1.3.0', true],
      ['>1', '1.9.0', false],
      ['<=1.2', '1.2.9', true],
      ['<=1.2', '1.3.0', false],
      ['<1.2.0', '1.1.9', true],
      ['1.2.3 - 2.3', '2.3.9', true],
      ['1.2.3 - 2.3', '2.4.0', false],
      ['1.2.3 - 2.3', '1.2.2', false],
      ['>=1.0, <2.0', '1.5.0', true],
      ['>=1.0, <2.0', '2.0.0', false],
      ['>= 1.0 < 2.0', '1.5.0', true],
      ['1.0.0 || >=3', '2.0.0', false],
      ['1.0.0 || >=3', '3.1.0', true],
      ['!=1.2.3', '1.2.3', false],
      ['!=1.2.3', '1.2.4', true],
      ['!=1.2.x', '1.2.7', false],
      ['=1.2.3', '1.2.3+build', true],
      ['v1.2.3', '1.2.3', true],
      ['1.2.3-rc.1', '1.2.3-rc.1', true],
    ];
    for (const [range, version, want] of table) {
      it(`'${range}' ${want ? 'matches' : 'does not match'} ${version}`, () => {
        assert.equal(parseConstraint(range).check(v(version)), want);
      });
    }

    it('rejects improper constraints', () => {
      for (const bad of ['>>1', 'abc', '1.2.3 ||', '~>']) {
        assert.throws(() => parseConstraint(bad), /improper constraint/, bad);
      }
    });
  });
});
