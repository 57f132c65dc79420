import assert from 'node:assert/strict';
import { isGitError } from '../../../controllers/runtime/git/errors.ts';
import {
  type GitRef,
  parseLsRemote,
  planRef,
  remoteHead,
  resolveRef,
  revisionString,
} from '../../../controllers/runtime/git/refs.ts';

// Distinct fake hashes, one per ref, so a wrong pick shows as a wrong hash.
const sha = (c: string) => c.repeat(40);
const refs = new Map([
  ['HEAD', sha('a')],
  ['refs/heads/master', sha('1')],
  ['refs/heads/main', sha('a')],
  ['refs/heads/feature/x', sha('b')],
  ['refs/tags/v1.0.0', sha('c')],
  ['refs/tags/v1.2.0', sha('d')],
  ['refs/tags/1.3.0', sha('e')],
  ['refs/tags/v2.0.0-rc.1', sha('f')],
  ['refs/tags/latest', sha('9')],
  ['refs/pull/1/head', sha('8')],
]);
const commit = '0123456789abcdef0123456789abcdef01234567';

function rejectsKind(fn: () => unknown, kind: string, message?: RegExp) {
  try {
    fn();
  } catch (err) {
    assert.ok(isGitError(err), `not a GitError: ${String(err)}`);
    assert.equal(err.kind, kind, err.message);
    if (message) assert.match(err.message, message);
    return;
  }
  assert.fail('no error thrown');
}

describe('runtime/git refs', () => {
  describe('parseLsRemote', () => {
    it('maps refs to commits and replaces annotated tag objects by the peeled commit, in any order', () => {
      const out = [
        `${sha('7')}\trefs/tags/v1^{}`,
        `${sha('a')}\tHEAD`,
        `${sha('a')}\trefs/heads/main`,
        `${sha('6')}\trefs/tags/v1`,
        `${sha('5')}\trefs/tags/light`,
        '',
      ].join('\n');
      const m = parseLsRemote(out);
      assert.deepEqual(
        [...m.entries()].sort(),
        [
          ['HEAD', sha('a')],
          ['refs/heads/main', sha('a')],
          ['refs/tags/light', sha('5')],
          ['refs/tags/v1', sha('7')],
        ].sort(),
      );
    });
  });

  describe('resolveRef precedence and revision strings', () => {
    const cases: [string, GitRef | undefined, string, string][] = [
      ['no ref: branch master', undefined, sha('1'), `master@sha1:${sha('1')}`],
      ['empty ref: branch master', {}, sha('1'), `master@sha1:${sha('1')}`],
      ['branch', { branch: 'main' }, sha('a'), `main@sha1:${sha('a')}`],
      ['branch with a slash', { branch: 'feature/x' }, sha('b'), `feature/x@sha1:${sha('b')}`],
      ['tag beats branch', { branch: 'main', tag: 'v1.0.0' }, sha('c'), `v1.0.0@sha1:${sha('c')}`],
      ['semver beats tag', { tag: 'v1.0.0', semver: '1.x' }, sha('e'), `1.3.0@sha1:${sha('e')}`],
      [
        'name beats semver',
        { semver: '1.x', name: 'refs/pull/1/head' },
        sha('8'),
        `refs/pull/1/head@sha1:${sha('8')}`,
      ],
      [
        'name of a branch keeps the full ref',
        { name: 'refs/heads/main' },
        sha('a'),
        `refs/heads/main@sha1:${sha('a')}`,
      ],
      ['commit alone', { commit }, commit, `sha1:${commit}`],
      [
        'commit beats everything, labelled by name',
        { commit, name: 'refs/heads/main', branch: 'main', tag: 'v1.0.0' },
        commit,
        `refs/heads/main@sha1:${commit}`,
      ],
      ['commit with branch', { commit, branch: 'main' }, commit, `main@sha1:${commit}`],
      ['commit with tag only: no label', { commit, tag: 'v1.0.0', semver: '*' }, commit, `sha1:${commit}`],
      ['commit in upper case', { commit: commit.toUpperCase() }, commit, `sha1:${commit}`],
    ];
    for (const [title, ref, wantCommit, wantRevision] of cases) {
      it(title, () => {
        const got = resolveRef(ref, refs);
        assert.equal(got.commit, wantCommit);
        assert.equal(got.revision, wantRevision);
      });
    }

    it('names the remote ref to fetch, none for commits', () => {
      assert.equal(resolveRef({ branch: 'main' }, refs).remoteRef, 'refs/heads/main');
      assert.equal(resolveRef({ semver: '<2' }, refs).remoteRef, 'refs/tags/1.3.0');
      assert.equal(resolveRef({ commit }, refs).remoteRef, undefined);
    });

    it('reports missing branches, tags and names as NotFound with the full ref', () => {
      rejectsKind(
        () => resolveRef({ branch: 'nope' }, refs),
        'NotFound',
        /couldn't find remote ref "refs\/heads\/nope"/,
      );
      rejectsKind(() => resolveRef({ tag: 'v9' }, refs), 'NotFound', /"refs\/tags\/v9"/);
      rejectsKind(() => resolveRef({ name: 'refs/pull/2/head' }, refs), 'NotFound', /"refs\/pull\/2\/head"/);
      rejectsKind(() => resolveRef(undefined, new Map()), 'NotFound', /"refs\/heads\/master"/);
    });

    it('rejects malformed commits, names and branches as Invalid', () => {
      rejectsKind(() => planRef({ commit: 'abc123' }), 'Invalid', /full 40/);
      rejectsKind(() => planRef({ commit: 'z'.repeat(40) }), 'Invalid');
      rejectsKind(() => planRef({ branch: '-upload-pack=evil' }), 'Invalid');
      rejectsKind(() => planRef({ name: 'refs/heads/a..b' }), 'Invalid');
      rejectsKind(() => planRef({ tag: 'v1 2' }), 'Invalid');
    });

    it('gives sha256 digests for 64-digit hashes', () => {
      assert.equal(revisionString('main', 'e'.repeat(64)), `main@sha256:${'e'.repeat(64)}`);
      assert.equal(resolveRef({ commit: 'e'.repeat(64) }, refs).revision, `sha256:${'e'.repeat(64)}`);
    });

    it('remoteHead knows a commit ref revision without the network', async () => {
      // Port 1 on loopback has no server: any network use would fail.
      const got = await remoteHead('http://127.0.0.1:1/none.git', { commit, branch: 'dev' }, undefined, 1000);
      assert.equal(got.revision, `dev@sha1:${commit}`);
    });
  });

  describe('semver refs', () => {
    // The range rules themselves are tested in test/unit/runtime/semver.test.ts.
    it('reports ranges that do not parse as Invalid and ranges without a match as NotFound', () => {
      rejectsKind(() => resolveRef({ semver: '>= foo' }, refs), 'Invalid', /semver parse error/);
      rejectsKind(() => resolveRef({ semver: '1.2.3 ||| 2' }, refs), 'Invalid');
      rejectsKind(
        () => resolveRef({ semver: '>=9.0.0' }, refs),
        'NotFound',
        /no match found for semver: >=9.0.0/,
      );
    });

    it('picks the highest tag; of equal versions, the greater tag name', () => {
      assert.equal(resolveRef({ semver: '>=1.0.0 <2.0.0' }, refs).remoteRef, 'refs/tags/1.3.0');
      const twins = new Map([
        ['refs/tags/1.0.0', sha('1')],
        ['refs/tags/v1.0.0', sha('2')],
        ['refs/tags/1.0.0+a', sha('3')],
      ]);
      assert.equal(resolveRef({ semver: '1.x' }, twins).revision, `v1.0.0@sha1:${sha('2')}`);
    });
  });
});
