import assert from 'node:assert/strict';
import { parseStatusSelector, statusMatches } from '../../../controllers/cli/commands/get.ts';
import { fakeCluster, object, runCli } from './fake.ts';

const sha1 = 'aaaaaaaabbbbbbbbccccccccddddddddeeeeeeee';

function cluster() {
  return fakeCluster(
    [
      object('GitRepository', 'flux-system', 'infra', {
        ready: ['True', `stored artifact for revision 'main@sha1:${sha1}'`],
        status: { artifact: { revision: `main@sha1:${sha1}` } },
      }),
      object('GitRepository', 'flux-system', 'podinfo-with-a-long-name', {
        ready: ['False', 'failed to checkout: authentication required'],
      }),
      object('GitRepository', 'apps', 'apps', { suspend: true }),
      object('HelmRepository', 'flux-system', 'bitnami', {
        ready: ['True', 'stored artifact: revision sha256:1234'],
        status: { artifact: { revision: 'sha256:1234' } },
      }),
      object('Kustomization', 'apps', 'backend', {
        ready: ['Unknown', 'Reconciliation in progress'],
        status: { lastAppliedRevision: `main@sha1:${sha1}` },
      }),
    ],
    ['Bucket'],
  );
}

describe('cli get', () => {
  it('lists the namespace (flux-system by default) as a table on stdout', async () => {
    const r = await runCli(['get', 'sources', 'git'], cluster());
    assert.equal(r.code, 0, r.err);
    assert.equal(r.err, '');
    assert.equal(
      r.out,
      [
        'NAME                    \tREVISION          \tSUSPENDED\tREADY\tMESSAGE                                          \t',
        "infra                   \tmain@sha1:aaaaaaaa\tFalse    \tTrue \tstored artifact for revision 'main@sha1:aaaaaaaa'\t",
        'podinfo-with-a-long-name\t                  \tFalse    \tFalse\tfailed to checkout: authentication required      \t',
        '',
      ].join('\n'),
    );
  });

  it('adds a NAMESPACE column and every namespace with -A', async () => {
    const r = await runCli(['get', 'sources', 'git', '-A'], cluster());
    const lines = r.out.split('\n');
    assert.match(lines[0] ?? '', /^NAMESPACE {2}\tNAME +\tREVISION +\tSUSPENDED\tREADY\tMESSAGE +\t$/);
    assert.deepEqual(
      lines.slice(1, -1).map((l) =>
        l
          .split('\t')
          .map((c) => c.trim())
          .slice(0, 5),
      ),
      [
        ['flux-system', 'infra', 'main@sha1:aaaaaaaa', 'False', 'True'],
        ['flux-system', 'podinfo-with-a-long-name', '', 'False', 'False'],
        ['apps', 'apps', '', 'True', 'False'],
      ],
    );
  });

  it('reads kustomizations by any of their names, in the namespace given with -n', async () => {
    for (const word of ['kustomizations', 'kustomization', 'ks']) {
      const r = await runCli(['get', word, '-n', 'apps'], cluster());
      assert.equal(r.code, 0, r.err);
      assert.match(r.out, /^backend\tmain@sha1:aaaaaaaa\tFalse {4}\tUnknown\tReconciliation in progress\t$/m);
    }
  });

  it('says on stderr, like flux, when nothing is found, and exits 0', async () => {
    assert.deepEqual(await runCli(['get', 'hr'], cluster()), {
      code: 0,
      out: '',
      err: '✗ no HelmRelease objects found in "flux-system" namespace\n',
    });
    assert.deepEqual(await runCli(['get', 'ks', '-A', '-l', 'x=y'], fakeCluster([])), {
      code: 0,
      out: '',
      err: '✗ no Kustomization objects found in any namespace\n',
    });
    assert.deepEqual(await runCli(['get', 'sources', 'git', 'nope'], cluster()), {
      code: 0,
      out: '',
      err: `✗ GitRepository object 'nope' not found in "flux-system" namespace\n`,
    });
  });

  it('lists one object by name', async () => {
    const r = await runCli(['get', 'sources', 'git', 'infra', '--no-header'], cluster());
    assert.equal(r.out.split('\n').length, 2);
    assert.match(r.out, /^infra\tmain@sha1:aaaaaaaa\t/);
  });

  it('filters by --status-selector, case-insensitively', async () => {
    const r = await runCli(['get', 'sources', 'git', '-A', '--status-selector', 'READY=false'], cluster());
    const names = r.out
      .split('\n')
      .slice(1, -1)
      .map((l) => l.split('\t')[1]?.trim());
    assert.deepEqual(names, ['podinfo-with-a-long-name']);
  });

  it('prints every served source kind for `sources all`, named kind/name, skipping missing CRDs', async () => {
    const r = await runCli(['get', 'sources', 'all'], cluster());
    assert.equal(r.code, 0, r.err);
    assert.equal(r.err, '');
    const blocks = r.out.split('\n\n').filter(Boolean);
    assert.equal(blocks.length, 2);
    assert.match(
      blocks[0] ?? '',
      /^NAME +\t.*\ngitrepository\/infra +\t.*\ngitrepository\/podinfo-with-a-long-name\t/,
    );
    assert.match(blocks[1] ?? '', /^NAME +\t.*\nhelmrepository\/bitnami\tsha256:1234\t/);
  });

  it('fails clearly when the kind asked for is not installed', async () => {
    assert.deepEqual(await runCli(['get', 'sources', 'bucket'], cluster()), {
      code: 1,
      out: '',
      err: '✗ Bucket (source.toolkit.fluxcd.io/v1) is not served by the cluster: is the CRD buckets.source.toolkit.fluxcd.io installed?\n',
    });
  });
});

describe('cli get --status-selector', () => {
  it('parses type=status and refuses anything else', async () => {
    assert.deepEqual(parseStatusSelector('ready=false'), { type: 'ready', status: 'false' });
    assert.equal(parseStatusSelector(undefined), undefined);
    assert.throws(
      () => parseStatusSelector('ready'),
      /expected status selector in type=status format, but found: ready/,
    );
    const r = await runCli(['get', 'ks', '--status-selector', 'ready'], fakeCluster([]));
    assert.deepEqual(r, {
      code: 1,
      out: '',
      err: '✗ expected status selector in type=status format, but found: ready\n',
    });
  });

  it('matches the named condition only, any case, and never an object without it', () => {
    const failing = object('Kustomization', 'a', 'x', { ready: ['False', 'boom'] });
    assert.equal(statusMatches(failing, { type: 'Ready', status: 'False' }), true);
    assert.equal(statusMatches(failing, { type: 'ready', status: 'FALSE' }), true);
    assert.equal(statusMatches(failing, { type: 'ready', status: 'true' }), false);
    assert.equal(statusMatches(failing, { type: 'Stalled', status: 'False' }), false);
    assert.equal(statusMatches(object('Kustomization', 'a', 'y'), { type: 'ready', status: 'false' }), false);
  });
});
