// tide ui refuses what it must before serving anything: more than one address, and any address that
// is not loopback (the dashboard acts with the kubeconfig's credentials).
import assert from 'node:assert/strict';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runCli } from './fake.ts';

describe('cli: tide ui', () => {
  let kubeconfig = '';
  before(async () => {
    kubeconfig = join(await mkdtemp(join(tmpdir(), 'tide-ui-cli-')), 'config');
    await writeFile(
      kubeconfig,
      [
        'apiVersion: v1',
        'kind: Config',
        'current-context: c',
        'clusters: [{name: c, cluster: {server: "https://127.0.0.1:1"}}]',
        'users: [{name: u, user: {token: t}}]',
        'contexts: [{name: c, context: {cluster: c, user: u}}]',
        '',
      ].join('\n'),
    );
  });

  const fails = async (argv: string[], message: RegExp) => {
    const r = await runCli([...argv, '--kubeconfig', kubeconfig]);
    assert.equal(r.code, 1, r.err);
    assert.equal(r.out, '');
    assert.match(r.err, message);
    assert.equal(r.err.split('\n').filter(Boolean).length, 1, r.err);
  };

  it('takes one address at most', async () => {
    await fails(
      ['ui', '127.0.0.1:1', '127.0.0.1:2'],
      /^✗ tide ui takes at most one address, got: 127\.0\.0\.1:1 127\.0\.0\.1:2$/m,
    );
  });

  it('serves on loopback only', async () => {
    for (const address of ['0.0.0.0:9080', '10.1.2.3:9080', '[::]:9080', 'example.com:9080'])
      await fails(['ui', address], /^✗ tide ui serves on loopback only \(it acts with your credentials\)/m);
  });

  it('lists itself in the help', async () => {
    const r = await runCli(['--help']);
    assert.match(r.out, /\n {2}ui {10}Serve the web dashboard on loopback\n/);
  });
});
