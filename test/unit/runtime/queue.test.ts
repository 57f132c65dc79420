import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { setTimeout as sleep } from 'node:timers/promises';
import { GenericError, StallingError, WaitingError } from '../../../controllers/runtime/errors.ts';
import { startWorkers, WorkQueue } from '../../../controllers/runtime/queue.ts';

// Resolves with the next key, or 'timeout' if none arrives within ms (the abandoned get is aborted).
async function next(q: WorkQueue, ms: number): Promise<string | undefined | 'timeout'> {
  const key = await q.get(AbortSignal.timeout(ms));
  return key ?? 'timeout';
}

// Waits until cond() holds, failing after ms.
async function until(cond: () => boolean, ms = 2000): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error('condition not met in time');
    await sleep(5);
  }
}

describe('runtime/queue', () => {
  describe('WorkQueue', () => {
    let q: WorkQueue;
    afterEach(() => q?.shutdown());

    it('deduplicates queued keys and hands them out in FIFO order', async () => {
      q = new WorkQueue();
      q.add('ns/a');
      q.add('ns/b');
      q.add('ns/a');
      assert.equal(q.len(), 2);
      assert.equal(await q.get(), 'ns/a');
      assert.equal(await q.get(), 'ns/b');
      assert.equal(q.len(), 0);
    });

    it('does not hand out a key being processed; re-adds it after done', async () => {
      q = new WorkQueue();
      q.add('ns/a');
      const key = await q.get();
      q.add('ns/a');
      q.add('ns/a');
      assert.equal(q.len(), 0, 'a key in process is marked dirty, not queued');
      assert.equal(await next(q, 30), 'timeout');
      q.done(key!);
      assert.equal(q.len(), 1);
      assert.equal(await q.get(), 'ns/a');
      q.done('ns/a');
      assert.equal(await next(q, 30), 'timeout', 'the two adds while processing count once');
    });

    it('wakes a waiting get() when a key arrives', async () => {
      q = new WorkQueue();
      const waiting = q.get();
      setTimeout(() => q.add('ns/late'), 10);
      assert.equal(await waiting, 'ns/late');
    });

    it('an aborted get() resolves undefined and does not take a later key', async () => {
      q = new WorkQueue();
      const ac = new AbortController();
      const abandoned = q.get(ac.signal);
      ac.abort();
      assert.equal(await abandoned, undefined);
      q.add('ns/a');
      assert.equal(q.len(), 1);
      assert.equal(await q.get(), 'ns/a');
    });

    it('backs off per key 750ms, 1.5s, 3s, … capped at 15 min; forget resets', () => {
      q = new WorkQueue({ burst: 1000 });
      const delays = Array.from({ length: 13 }, () => q.whenRateLimited('ns/a'));
      assert.deepEqual(
        delays,
        [750, 1500, 3000, 6000, 12_000, 24_000, 48_000, 96_000, 192_000, 384_000, 768_000, 900_000, 900_000],
      );
      assert.equal(q.numRequeues('ns/a'), 13);
      assert.equal(q.whenRateLimited('ns/b'), 750, 'backoff is per key');
      q.forget('ns/a');
      assert.equal(q.numRequeues('ns/a'), 0);
      assert.equal(q.whenRateLimited('ns/a'), 750);
    });

    it('limits overall retries with a token bucket and takes the larger delay', () => {
      let now = 0;
      q = new WorkQueue({ qps: 1, burst: 2, now: () => now });
      assert.equal(q.whenRateLimited('ns/a'), 750);
      assert.equal(q.whenRateLimited('ns/b'), 750);
      assert.equal(q.whenRateLimited('ns/c'), 1000, 'bucket empty: next token in 1s at 1 qps');
      assert.equal(q.whenRateLimited('ns/d'), 2000);
      now = 10_000; // refilled to the burst size
      assert.equal(q.whenRateLimited('ns/e'), 750);
    });

    it('addRateLimited requeues after the backoff', async () => {
      q = new WorkQueue({ baseDelayMs: 40 });
      const start = Date.now();
      q.addRateLimited('ns/a');
      assert.equal(q.len(), 0);
      assert.equal(await q.get(), 'ns/a');
      assert.ok(Date.now() - start >= 35, 'came back before its backoff');
    });

    it('addAfter keeps the earliest due time for a key', async () => {
      q = new WorkQueue();
      q.addAfter('ns/a', 500);
      q.addAfter('ns/a', 20);
      assert.equal(await next(q, 300), 'ns/a', 'the shorter delay replaces the longer one');
      q.done('ns/a');
      assert.equal(await next(q, 600), 'timeout', 'the replaced longer timer must not fire');

      q.addAfter('ns/b', 20);
      q.addAfter('ns/b', 2000);
      assert.equal(await next(q, 300), 'ns/b', 'a later delay does not postpone an earlier one');
    });

    it('shutdown resolves waiting get() with undefined and drops later adds', async () => {
      q = new WorkQueue();
      const waiting = q.get();
      q.addAfter('ns/a', 10);
      q.shutdown();
      assert.equal(await waiting, undefined);
      assert.ok(q.shuttingDown);
      q.add('ns/b');
      assert.equal(q.len(), 0);
      assert.equal(await q.get(), undefined);
    });

    it('reports depth changes', async () => {
      const depths: number[] = [];
      q = new WorkQueue({ onDepthChange: (n) => depths.push(n) });
      q.add('ns/a');
      q.add('ns/b');
      await q.get();
      assert.deepEqual(depths, [1, 2, 1]);
    });

    it('pending delayed adds do not keep the process alive', async function () {
      this.timeout(10_000);
      const url = new URL('../../../controllers/runtime/queue.ts', import.meta.url).href;
      const script = `import { WorkQueue } from ${JSON.stringify(url)};
        const q = new WorkQueue(); q.addAfter('ns/a', 60000); q.addRateLimited('ns/b');`;
      // execFile's timeout kills a process kept alive by a delayed add: the test then fails.
      await new Promise<void>((resolve, reject) =>
        execFile(process.execPath, ['--input-type=module', '-e', script], { timeout: 8000 }, (err) =>
          err ? reject(err) : resolve(),
        ),
      );
    });
  });

  describe('startWorkers', () => {
    it('never runs more than `concurrency` handlers at once', async () => {
      const q = new WorkQueue();
      let inFlight = 0;
      let peak = 0;
      const handled: string[] = [];
      const workers = startWorkers(q, { concurrency: 3 }, async (key) => {
        inFlight++;
        peak = Math.max(peak, inFlight);
        await sleep(15);
        handled.push(key);
        inFlight--;
        return undefined;
      });
      for (let i = 0; i < 10; i++) q.add(`ns/k${i}`);
      await until(() => handled.length === 10);
      await workers.stop();
      assert.equal(peak, 3);
      assert.deepEqual(handled.toSorted(), Array.from({ length: 10 }, (_, i) => `ns/k${i}`).toSorted());
    });

    it('a handler waiting outside gives its slot to the next key, and takes it back before new keys', async () => {
      const q = new WorkQueue();
      const order: string[] = [];
      let working = 0;
      let peakWorking = 0;
      let release = () => {};
      const outside = new Promise<void>((r) => (release = r));
      const work = async (tag: string) => {
        working++;
        peakWorking = Math.max(peakWorking, working);
        order.push(tag);
        await sleep(5);
        working--;
      };
      const workers = startWorkers(q, { concurrency: 1 }, async (key, ctx) => {
        await work(`${key} start`);
        if (key === 'ns/waits') {
          await ctx.whileWaiting(() => outside);
          await work(`${key} resumed`);
        }
        return undefined;
      });
      q.add('ns/waits');
      await until(() => order.includes('ns/waits start'));
      q.add('ns/b');
      // With one slot, ns/b can only run because ns/waits gave its slot up while waiting.
      await until(() => order.includes('ns/b start'));
      q.add('ns/c');
      await until(() => order.includes('ns/c start'));
      release();
      await until(() => order.includes('ns/waits resumed'));
      q.add('ns/d');
      await until(() => order.includes('ns/d start'));
      await workers.stop();
      assert.equal(peakWorking, 1, 'never more than one handler working at once');
      assert.deepEqual(order, [
        'ns/waits start',
        'ns/b start',
        'ns/c start',
        'ns/waits resumed',
        'ns/d start',
      ]);
    });

    it('bounds the handlers in flight, waiting ones included', async () => {
      const q = new WorkQueue();
      let started = 0;
      let release = () => {};
      const outside = new Promise<void>((r) => (release = r));
      const workers = startWorkers(q, { concurrency: 1, maxInFlight: 3 }, async (_key, ctx) => {
        started++;
        await ctx.whileWaiting(() => outside);
        return undefined;
      });
      for (let i = 0; i < 5; i++) q.add(`ns/k${i}`);
      await until(() => started === 3);
      await sleep(50);
      assert.equal(started, 3, 'no fourth handler while three wait');
      release();
      await until(() => started === 5);
      await workers.stop();
    });

    it('runs a key added during its own processing again afterwards, never concurrently', async () => {
      const q = new WorkQueue();
      let running = 0;
      let overlapped = false;
      let runs = 0;
      const workers = startWorkers(q, { concurrency: 4 }, async (key) => {
        running++;
        if (running > 1) overlapped = true;
        runs++;
        if (runs === 1) {
          q.add(key);
          await sleep(30);
          q.add(key);
        } else {
          await sleep(5);
        }
        running--;
        return undefined;
      });
      q.add('ns/a');
      await until(() => runs === 2 && running === 0);
      await sleep(40);
      await workers.stop();
      assert.equal(runs, 2, 'adds while processing collapse into one more run');
      assert.ok(!overlapped, 'the same key ran on two workers at once');
    });

    it('success forgets backoff and requeues after requeueAfterMs with jitter', async () => {
      const q = new WorkQueue({ burst: 1000 });
      q.whenRateLimited('ns/a'); // an earlier failure
      const times: number[] = [];
      const workers = startWorkers(q, { concurrency: 1, jitterFraction: 0.5 }, async () => {
        times.push(Date.now());
        return { requeueAfterMs: 60 };
      });
      q.add('ns/a');
      await until(() => times.length === 3);
      await workers.stop();
      assert.equal(q.numRequeues('ns/a'), 0);
      const gap = times[1]! - times[0]!;
      assert.ok(gap >= 25 && gap < 400, `requeue gap ${gap}ms not within 60ms ± 50%`);
    });

    it('WaitingError requeues after its delay without backoff', async () => {
      const q = new WorkQueue({ baseDelayMs: 5000 });
      const times: number[] = [];
      const workers = startWorkers(q, { concurrency: 1 }, async () => {
        times.push(Date.now());
        throw new WaitingError('DependencyNotReady', 'waiting for ns/b', 40);
      });
      q.add('ns/a');
      await until(() => times.length === 2);
      await workers.stop();
      assert.equal(q.numRequeues('ns/a'), 0);
      assert.ok(times[1]! - times[0]! >= 35);
    });

    it('StallingError is not retried', async () => {
      const q = new WorkQueue({ baseDelayMs: 10 });
      let runs = 0;
      const workers = startWorkers(q, { concurrency: 1 }, async () => {
        runs++;
        throw new StallingError('InvalidCELExpression', 'bad expression');
      });
      q.add('ns/a');
      await until(() => runs === 1);
      await sleep(80);
      await workers.stop();
      assert.equal(runs, 1);
      assert.equal(q.numRequeues('ns/a'), 0);
    });

    it('other errors are retried with growing backoff', async () => {
      const q = new WorkQueue({ baseDelayMs: 20 });
      const times: number[] = [];
      const workers = startWorkers(q, { concurrency: 1 }, async (key) => {
        times.push(Date.now());
        if (times.length === 1) throw new Error('connection refused');
        if (times.length === 2) throw new GenericError('ArtifactFailed', 'artifact not found');
        assert.equal(q.numRequeues(key), 2);
        return undefined;
      });
      q.add('ns/a');
      await until(() => times.length === 3);
      await workers.stop();
      assert.equal(q.numRequeues('ns/a'), 0, 'success forgets the failures');
      assert.ok(times[1]! - times[0]! >= 15, 'first retry after ~20ms');
      assert.ok(times[2]! - times[1]! >= 35, 'second retry after ~40ms');
    });

    it('stop() waits for in-flight handlers and takes no new keys', async () => {
      const q = new WorkQueue();
      let finished = false;
      let started = 0;
      const workers = startWorkers(q, { concurrency: 2 }, async () => {
        started++;
        await sleep(50);
        finished = true;
        return undefined;
      });
      q.add('ns/a');
      await until(() => started === 1);
      await workers.stop();
      assert.ok(finished, 'stop() returned before the in-flight handler finished');
      q.add('ns/b');
      await sleep(20);
      assert.equal(started, 1);
    });
  });
});
