import assert from 'node:assert/strict';
import { stat } from 'node:fs/promises';
import { parseBuildOutput } from '../../../controllers/kustomize/build/build.ts';
import { cleanStderr, runTool, withSandbox } from '../../../controllers/kustomize/build/exec.ts';

describe('kustomize/build/exec', () => {
  it('runs tools with only the sandbox environment, HOME in a temporary directory removed afterwards', async () => {
    process.env.TIDE_TEST_CREDENTIAL = 'must-not-leak';
    try {
      let home = '';
      const printed = await withSandbox(async (env, h) => {
        home = h;
        assert.ok((await stat(h)).isDirectory());
        const res = await runTool('/usr/bin/env', [], { env, timeoutMs: 10_000 });
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
      async (env) => (await runTool('/usr/bin/env', [], { env, timeoutMs: 10_000 })).stdout.toString(),
      { SOPS_AGE_KEY: 'AGE-SECRET-KEY-1TEST' },
    );
    assert.match(out, /^SOPS_AGE_KEY=AGE-SECRET-KEY-1TEST$/m);
  });

  it('kills a tool that outlives its timeout', async () => {
    const started = Date.now();
    await assert.rejects(
      withSandbox((env) => runTool('/bin/sleep', ['30'], { env, timeoutMs: 200 })),
      /sleep timed out after 200ms/,
    );
    assert.ok(Date.now() - started < 5_000);
  });

  it('reports a binary that cannot start', async () => {
    await assert.rejects(
      withSandbox((env) => runTool('/nonexistent/kustomize', [], { env, timeoutMs: 1000 })),
      /cannot run \/nonexistent\/kustomize/,
    );
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

  it('parseBuildOutput requires apiVersion, kind and metadata.name on every object', () => {
    const ok =
      'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: a\n---\napiVersion: v1\nkind: Secret\nmetadata:\n  name: b\n';
    assert.deepEqual(
      parseBuildOutput(ok).map((o) => o.metadata.name),
      ['a', 'b'],
    );
    assert.throws(
      () => parseBuildOutput('apiVersion: v1\nkind: ConfigMap\nmetadata: {}\n'),
      /failed to decode Kubernetes apiVersion, kind and name from: ConfigMap\/<no name>/,
    );
    assert.throws(() => parseBuildOutput('- a\n- b\n'), /failed to decode/);
  });
});
