import assert from 'node:assert/strict';
import { classifyGitRequest } from '../../../../hack/bench/gitcount.ts';

describe('bench Git request classification', () => {
  const refs = '/apps.git/info/refs?service=git-upload-pack';
  const pack = '/apps.git/git-upload-pack';

  it('protocol v0 (go-git): the GET lists refs, a POST with want lines fetches', () => {
    assert.equal(classifyGitRequest('GET', refs, '', ''), 'ref-listing');
    assert.equal(
      classifyGitRequest('POST', pack, '', '0032want 1234567890abcdef1234567890abcdef12345678\n'),
      'fetch',
    );
  });

  it('protocol v2 (git CLI): the GET advertises capabilities, the POST names its command', () => {
    assert.equal(classifyGitRequest('GET', refs, 'version=2', ''), 'capabilities');
    assert.equal(
      classifyGitRequest('POST', pack, 'version=2', '0014command=ls-refs\n0014agent=git/2.39'),
      'ref-listing',
    );
    assert.equal(
      classifyGitRequest('POST', pack, 'version=2', '0012command=fetch\n0014agent=git/2.39'),
      'fetch',
    );
  });

  it("pushes and anything else are told apart from the controllers' reads", () => {
    assert.equal(classifyGitRequest('GET', '/apps.git/info/refs?service=git-receive-pack', '', ''), 'push');
    assert.equal(classifyGitRequest('POST', '/apps.git/git-receive-pack', '', ''), 'push');
    assert.equal(classifyGitRequest('GET', '/apps.git/HEAD', '', ''), 'other');
  });
});
