// Command lines the CLI must refuse (or answer) before it ever needs a cluster: runCli without a
// fake cluster fails the test if a command tries to connect.
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { runCli } from './fake.ts';

async function fails(argv: string[], message: RegExp | string) {
  const r = await runCli(argv);
  assert.equal(r.code, 1, `exit code of tide ${argv.join(' ')}: ${r.err}`);
  assert.equal(r.out, '');
  const lines = r.err.split('\n').filter(Boolean);
  assert.equal(lines.length, 1, `one line on stderr: ${r.err}`);
  if (typeof message === 'string') assert.equal(lines[0], `✗ ${message}`);
  else assert.match(lines[0] ?? '', message);
}

describe('cli arguments', () => {
  it('rejects an unknown command and an unknown kind', async () => {
    await fails(['frobnicate'], 'unknown command "frobnicate" for "tide"; see tide --help');
    await fails(['get', 'deployments'], /^✗ unknown kind "deployments" for "tide get"; want one of: source/);
    await fails(
      ['reconcile', 'source', 'svn', 'x'],
      /^✗ unknown source kind "svn"; want one of: bucket, chart, git/,
    );
    await fails(['get', 'sources'], /^✗ tide get sources needs a source kind: all, bucket/);
    await fails(['suspend'], /^✗ tide suspend needs a kind: /);
  });

  it('accepts `all` only where it lists', async () => {
    await fails(['reconcile', 'source', 'all', 'x'], /^✗ unknown source kind "all"/);
  });

  it('requires a name, with the kind in the message', async () => {
    await fails(['reconcile', 'source', 'git'], 'GitRepository name is required');
    await fails(['reconcile', 'ks'], 'Kustomization name is required');
    await fails(['suspend', 'hr'], 'HelmRelease name is required');
    await fails(['resume', 'source', 'oci'], 'OCIRepository name is required');
  });

  it('refuses extra names, and names together with --all', async () => {
    await fails(['reconcile', 'ks', 'a', 'b'], 'tide reconcile takes one name, got 2: a b');
    await fails(['get', 'ks', 'a', 'b'], 'tide get accepts at most one name, got 2: a b');
    await fails(['suspend', 'ks', 'a', '--all'], 'tide suspend takes names or --all, not both');
  });

  it('refuses unknown flags and flags of another command', async () => {
    await fails(['get', 'ks', '--frob'], 'unknown flag: --frob');
    await fails(['get', 'ks', '--with-source'], 'unknown flag: --with-source (see tide get --help)');
    await fails(
      ['reconcile', 'source', 'git', 'x', '-A'],
      'unknown flag: --all-namespaces (see tide reconcile --help)',
    );
    await fails(
      ['reconcile', 'source', 'git', 'x', '--with-source'],
      'unknown flag: --with-source (tide reconcile source git)',
    );
    await fails(['get', 'ks', '-n'], 'flag needs an argument: -n, --namespace');
  });

  it('validates flag values', async () => {
    await fails(['get', 'ks', '--timeout', '5'], 'invalid --timeout "5": missing unit in duration "5"');
    await fails(
      ['get', 'ks', '--poll-interval', 'soon'],
      'invalid --poll-interval "soon": invalid duration "soon"',
    );
    await fails(['get', 'ks', '-n', ''], '--namespace must not be empty');
  });

  it('prints help for tide and for each command, exit 0', async () => {
    const root = await runCli([]);
    assert.equal(root.code, 0);
    assert.match(root.out, /^Usage:\n {2}tide <command> \[flags\]$/m);
    for (const cmd of ['get', 'reconcile', 'suspend', 'resume', 'version']) {
      for (const argv of [
        [cmd, '--help'],
        [cmd, '-h'],
        ['help', cmd],
      ]) {
        const r = await runCli(argv);
        assert.equal(r.code, 0, argv.join(' '));
        assert.equal(r.err, '');
        assert.match(r.out, new RegExp(`^ {2}tide ${cmd}\\b`, 'm'), argv.join(' '));
        assert.match(r.out, /^Global flags:$/m);
      }
    }
    const sub = await runCli(['reconcile', 'ks', 'x', '--help']);
    assert.match(sub.out, /--with-source/);
  });

  it('prints the version from package.json', async () => {
    const pkg = JSON.parse(await readFile(join(import.meta.dirname, '../../../package.json'), 'utf8'));
    const r = await runCli(['version']);
    assert.deepEqual(r, { code: 0, out: `tide: v${pkg.version}\n`, err: '' });
  });
});
