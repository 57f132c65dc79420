// Commit links for the Git hosts whose web URLs are known.
import assert from 'node:assert/strict';
import { commitOf, commitUrl, parseGitUrl } from '../../../controllers/ui/model/links.ts';

const sha = '0123456789abcdef0123456789abcdef01234567';

describe('ui/model/links', () => {
  it('reads the commit of every revision form Flux writes', () => {
    assert.equal(commitOf(`main@sha1:${sha}`), sha);
    assert.equal(commitOf(`refs/tags/v1@sha1:${sha}`), sha);
    assert.equal(commitOf(`sha1:${sha}`), sha);
    assert.equal(commitOf(`main/${sha}`), sha);
    assert.equal(commitOf('v1.2.3@sha256:abcd'), undefined);
    assert.equal(commitOf('6.9.2'), undefined);
  });

  it('parses https, ssh and scp-like URLs, without .git', () => {
    assert.deepEqual(parseGitUrl('https://github.com/org/repo.git'), {
      host: 'github.com',
      path: 'org/repo',
    });
    assert.deepEqual(parseGitUrl('ssh://git@GitHub.com/org/repo'), { host: 'github.com', path: 'org/repo' });
    assert.deepEqual(parseGitUrl('git@gitlab.com:group/sub/repo.git'), {
      host: 'gitlab.com',
      path: 'group/sub/repo',
    });
    assert.equal(parseGitUrl('file:///tmp/repo'), undefined);
  });

  it('links commits on GitHub, GitLab, Bitbucket, Codeberg and Azure DevOps, and nowhere else', () => {
    const rev = `main@sha1:${sha}`;
    assert.equal(
      commitUrl('https://github.com/org/repo.git', rev),
      `https://github.com/org/repo/commit/${sha}`,
    );
    assert.equal(
      commitUrl('git@gitlab.com:group/sub/repo.git', rev),
      `https://gitlab.com/group/sub/repo/-/commit/${sha}`,
    );
    assert.equal(
      commitUrl('https://bitbucket.org/team/repo', rev),
      `https://bitbucket.org/team/repo/commits/${sha}`,
    );
    assert.equal(commitUrl('https://codeberg.org/a/b.git', rev), `https://codeberg.org/a/b/commit/${sha}`);
    assert.equal(
      commitUrl('https://dev.azure.com/org/project/_git/repo', rev),
      `https://dev.azure.com/org/project/_git/repo/commit/${sha}`,
    );
    assert.equal(
      commitUrl('ssh://git@ssh.dev.azure.com/v3/org/project/repo', rev),
      `https://dev.azure.com/org/project/_git/repo/commit/${sha}`,
    );
    assert.equal(commitUrl('https://git.internal.example/org/repo', rev), undefined);
    assert.equal(commitUrl('https://github.com/org/repo', 'v1.0.0'), undefined);
  });
});
