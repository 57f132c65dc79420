import assert from 'node:assert/strict';
import { parsePushPorcelain } from '../../../controllers/runtime/git/repository.ts';

describe('runtime/git repository', () => {
  it('parses git push --porcelain: flags, refs, summaries and reasons', () => {
    const out = [
      'To http://127.0.0.1:1234/repo.git',
      '!\trefs/heads/main:refs/heads/main\t[rejected] (fetch first)',
      '*\tHEAD:refs/heads/auto\t[new branch]',
      '+\tHEAD:refs/heads/forced\tabc123...def456 (forced update)',
      ' \tHEAD:refs/heads/ff\tabc123..def456',
      '!\tHEAD:refs/heads/protected\t[remote rejected] (pre-receive hook declined)',
      '=\tHEAD:refs/heads/same\t[up to date]',
      'Done',
    ].join('\n');
    assert.deepEqual(parsePushPorcelain(out), [
      {
        flag: '!',
        from: 'refs/heads/main',
        to: 'refs/heads/main',
        summary: '[rejected]',
        reason: 'fetch first',
      },
      { flag: '*', from: 'HEAD', to: 'refs/heads/auto', summary: '[new branch]' },
      {
        flag: '+',
        from: 'HEAD',
        to: 'refs/heads/forced',
        summary: 'abc123...def456',
        reason: 'forced update',
      },
      { flag: ' ', from: 'HEAD', to: 'refs/heads/ff', summary: 'abc123..def456' },
      {
        flag: '!',
        from: 'HEAD',
        to: 'refs/heads/protected',
        summary: '[remote rejected]',
        reason: 'pre-receive hook declined',
      },
      { flag: '=', from: 'HEAD', to: 'refs/heads/same', summary: '[up to date]' },
    ]);
  });
});
