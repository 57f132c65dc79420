import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { isProcessError, type ProcessErrorKind, runProcess } from '../../../controllers/runtime/process.ts';

const env = { PATH: '/usr/local/bin:/usr/bin:/bin' };

const alive = (pid: number) =>
  readFile(`/proc/${pid}/stat`, 'utf8').then(
    (st) => !/^\d+ \(.*\) [ZX]/.test(st),
    () => false,
  );

async function rejectsKind(p: Promise<unknown>, kind: ProcessErrorKind, message: RegExp): Promise<void> {
  await assert.rejects(p, (err) => {
    assert.ok(isProcessError(err), `not a ProcessError: ${String(err)}`);
    assert.equal(err.kind, kind);
    assert.match(err.message, message);
    return true;
  });
}

/** Waits (bounded by the test timeout) for a SIGKILLed process to disappear. */
async function gone(pid: number): Promise<boolean> {
  for (let i = 0; i < 100 && (await alive(pid)); i++) await sleep(50);
  return !(await alive(pid));
}

describe('runtime/process', () => {
  let work: string;
  before(async () => {
    work = await mkdtemp(join(tmpdir(), 'tide-process-test-'));
  });
  after(() => rm(work, { recursive: true, force: true }));

  it('returns the exit code and output; a non-zero exit is not a rejection', async () => {
    const res = await runProcess('sh', ['-c', 'echo out; echo err >&2; exit 3'], { env });
    assert.equal(res.code, 3);
    assert.equal(res.stdout.toString(), 'out\n');
    assert.equal(res.stderr, 'err\n');
  });

  it('passes only the given environment, in the given directory', async () => {
    process.env.TIDE_TEST_CREDENTIAL = 'must-not-leak';
    try {
      const res = await runProcess('sh', ['-c', 'env; pwd'], { env: { ...env, ONLY: 'this' }, cwd: work });
      const lines = res.stdout.toString().trim().split('\n');
      assert.ok(lines.includes('ONLY=this'));
      assert.ok(!lines.some((l) => l.startsWith('TIDE_TEST_CREDENTIAL=')), 'controller env leaked');
      assert.ok(!lines.some((l) => l.startsWith('HOME=')), 'HOME was inherited');
      assert.equal(lines.at(-1), work);
    } finally {
      delete process.env.TIDE_TEST_CREDENTIAL;
    }
  });

  it('writes the input to stdin and closes it', async () => {
    const res = await runProcess('cat', [], { env, input: 'hello\nworld' });
    assert.equal(res.stdout.toString(), 'hello\nworld');
    const none = await runProcess('cat', [], { env });
    assert.equal(none.stdout.length, 0, 'stdin is closed even without input');
  });

  it('kills the whole process group at the timeout, grandchildren included', async () => {
    const pidFile = join(work, 'grandchild.pid');
    await rejectsKind(
      runProcess('sh', ['-c', `sleep 300 & echo $! > ${pidFile}; wait`], { env, timeoutMs: 300 }),
      'Timeout',
      /^sh timed out after 300ms$/,
    );
    const grandchild = Number(await readFile(pidFile, 'utf8'));
    assert.ok(await gone(grandchild), 'the background sleep survived');
  });

  it('honours a deadline as well as a timeout', async () => {
    await rejectsKind(
      runProcess('sleep', ['300'], { env, deadline: Date.now() + 200, timeoutMs: 60_000 }),
      'Timeout',
      /^sleep timed out$/,
    );
    await rejectsKind(runProcess('true', [], { env, deadline: Date.now() - 1 }), 'Timeout', /timed out/);
  });

  it('kills what the child left running in its group when it exits', async () => {
    const pidFile = join(work, 'orphan.pid');
    // The background sleep keeps no pipe of ours open; only the group kill ends it.
    const res = await runProcess(
      'sh',
      ['-c', `sleep 300 >/dev/null 2>&1 </dev/null & echo $! > ${pidFile}`],
      {
        env,
      },
    );
    assert.equal(res.code, 0);
    assert.ok(await gone(Number(await readFile(pidFile, 'utf8'))), 'the orphan survived');
  });

  it('kills a child whose output passes the limit', async () => {
    await rejectsKind(
      runProcess('sh', ['-c', 'yes tide'], { env, maxOutputBytes: 64 * 1024 }),
      'OutputLimit',
      /^sh output exceeds 65536 bytes$/,
    );
  });

  it('keeps the beginning and the end of a long stderr', async () => {
    const res = await runProcess(
      'sh',
      ['-c', 'echo FIRST >&2; head -c 200000 /dev/zero | tr "\\0" x >&2; echo LAST >&2'],
      {
        env,
      },
    );
    assert.ok(res.stderr.length < 70 * 1024, `stderr kept ${res.stderr.length} characters`);
    assert.ok(res.stderr.startsWith('FIRST\n'));
    assert.ok(res.stderr.endsWith('LAST\n'));
    assert.match(res.stderr, /\n…\n/);
  });

  it('stops on abort, and refuses to start when already aborted', async () => {
    const ac = new AbortController();
    setTimeout(() => ac.abort(), 50);
    await rejectsKind(runProcess('sleep', ['300'], { env, signal: ac.signal }), 'Aborted', /^sleep aborted$/);
    await rejectsKind(runProcess('true', [], { env, signal: AbortSignal.abort() }), 'Aborted', /aborted/);
  });

  it('kills the child when the watch returns a verdict, rejecting with it', async () => {
    const verdict = new Error('too big');
    await assert.rejects(
      runProcess('sleep', ['300'], { env, watch: async () => verdict, watchIntervalMs: 20 }),
      (err) => err === verdict,
    );
    let calls = 0;
    const res = await runProcess('sleep', ['0.3'], {
      env,
      watch: async () => {
        calls++;
        return undefined;
      },
      watchIntervalMs: 20,
    });
    assert.equal(res.code, 0);
    assert.ok(calls > 0, 'the watch ran');
  });

  it('reports a binary that cannot start', async () => {
    await rejectsKind(
      runProcess('/nonexistent/kustomize', [], { env }),
      'Spawn',
      /cannot run \/nonexistent\/kustomize/,
    );
  });
});
