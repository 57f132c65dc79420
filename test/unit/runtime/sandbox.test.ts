import assert from 'node:assert/strict';
import { stat } from 'node:fs/promises';
import { runProcess } from '../../../controllers/runtime/process.ts';
import { cleanStderr, withSandbox } from '../../../controllers/runtime/sandbox.ts';

describe('runtime/sandbox', () => {
  it('gives tools only the sandbox environment, HOME in a temporary directory removed afterwards', async () => {
    process.env.TIDE_TEST_CREDENTIAL = 'must-not-leak';
    try {
      let home = '';
      const printed = await withSandbox(async (env, h) => {
        home = h;
        assert.ok((await stat(h)).isDirectory());
        const res = await runProcess('/usr/bin/env', [], { env, timeoutMs: 10_000 });
        assert.equal(res.code, 0);
        return res.stdout.toString('utf8');
      });
      const vars = Object.fromEntries(
        printed
          .trim()
          .split('\n')
          .map((l) => l.split(/=(.*)/s).slice(0, 2)),
      );
      assert.equal(vars.HOME, home);
      assert.ok(vars.PATH?.startsWith(home), 'PATH is an empty directory of the sandbox');
      assert.equal(vars.TIDE_TEST_CREDENTIAL, undefined);
      assert.equal(vars.KUBECONFIG, undefined);
      assert.match(vars.HTTPS_PROXY ?? '', /^http:\/\/127\.0\.0\.1:/);
      await assert.rejects(stat(home), /ENOENT/);
    } finally {
      delete process.env.TIDE_TEST_CREDENTIAL;
    }
  });

  it('adds the extra variables it is given', async () => {
    const out = await withSandbox(
      async (env) => (await runProcess('/usr/bin/env', [], { env, timeoutMs: 10_000 })).stdout.toString(),
      { SOPS_AGE_KEY: 'AGE-SECRET-KEY-1TEST' },
    );
    assert.match(out, /^SOPS_AGE_KEY=AGE-SECRET-KEY-1TEST$/m);
  });

  it('cleanStderr makes root paths relative and drops the Error: prefix', () => {
    assert.equal(
      cleanStderr(
        "Error: accumulating resources from '/tmp/root/apps/x': '/tmp/root' must be\n\n  a dir\n",
        '/tmp/root',
      ),
      "accumulating resources from 'apps/x': '.' must be\na dir",
    );
  });
});
