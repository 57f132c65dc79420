// A level-triggered work queue with client-go's semantics: keys (namespace/name) are deduplicated, a key
// is never handed to two workers at once, failed keys come back with per-key exponential backoff
// limited by an overall token bucket, and delayed adds keep the earliest due time.

import { jitter } from './duration.ts';
import { isStalling, isWaiting } from './errors.ts';

export interface QueueOptions {
  /** First per-key retry delay (Flux --min-retry-delay), default 750 ms. */
  baseDelayMs?: number;
  /** Per-key retry delay cap (Flux --max-retry-delay), default 15 min. */
  maxDelayMs?: number;
  /** Overall retry rate over all keys (token bucket), default 10/s. */
  qps?: number;
  /** Token bucket size, default 100. */
  burst?: number;
  /** Clock for the token bucket and delayed adds. */
  now?: () => number;
  /** Called with the number of keys ready for a worker whenever it changes (queue depth metric). */
  onDepthChange?: (depth: number) => void;
}

interface Pending {
  at: number;
  timer: NodeJS.Timeout;
}

export class WorkQueue {
  readonly #baseDelayMs: number;
  readonly #maxDelayMs: number;
  readonly #qps: number;
  readonly #burst: number;
  readonly #now: () => number;
  readonly #onDepthChange: ((depth: number) => void) | undefined;

  // FIFO of keys ready for a worker; `#dirty` holds every key that needs processing (queued, or
  // re-added while being processed), `#processing` the keys a worker holds.
  #queue: string[] = [];
  readonly #dirty = new Set<string>();
  readonly #processing = new Set<string>();
  readonly #waiters: Array<(key: string | undefined) => void> = [];
  readonly #delayed = new Map<string, Pending>();
  readonly #failures = new Map<string, number>();
  #tokens: number;
  #refilledAt: number;
  #shuttingDown = false;

  constructor(opts: QueueOptions = {}) {
    this.#baseDelayMs = opts.baseDelayMs ?? 750;
    this.#maxDelayMs = opts.maxDelayMs ?? 15 * 60_000;
    this.#qps = opts.qps ?? 10;
    this.#burst = opts.burst ?? 100;
    this.#now = opts.now ?? Date.now;
    this.#onDepthChange = opts.onDepthChange;
    this.#tokens = this.#burst;
    this.#refilledAt = this.#now();
  }

  get shuttingDown(): boolean {
    return this.#shuttingDown;
  }

  /** Keys ready for a worker (not counting delayed ones or ones being processed). */
  len(): number {
    return this.#queue.length;
  }

  add(key: string): void {
    if (this.#shuttingDown || this.#dirty.has(key)) return;
    this.#dirty.add(key);
    // A key being processed is queued again by done(), so two workers never hold it.
    if (this.#processing.has(key)) return;
    this.#enqueue(key);
  }

  /** Adds the key after delayMs; a pending delayed add for the same key keeps the earlier time. */
  addAfter(key: string, delayMs: number): void {
    if (this.#shuttingDown) return;
    if (delayMs <= 0) {
      this.#cancelDelayed(key);
      this.add(key);
      return;
    }
    const at = this.#now() + delayMs;
    const pending = this.#delayed.get(key);
    if (pending !== undefined) {
      if (pending.at <= at) return;
      clearTimeout(pending.timer);
    }
    const timer = setTimeout(() => {
      this.#delayed.delete(key);
      this.add(key);
    }, delayMs);
    // A pending retry must not keep the process alive.
    timer.unref();
    this.#delayed.set(key, { at, timer });
  }

  /**
   * The delay before the key's next retry, and counts the retry: the larger of the per-key backoff
   * (base·2^n, capped) and the overall token bucket's wait, like client-go's MaxOfRateLimiter.
   */
  whenRateLimited(key: string): number {
    const n = this.#failures.get(key) ?? 0;
    this.#failures.set(key, n + 1);
    const backoff = Math.min(this.#baseDelayMs * 2 ** n, this.#maxDelayMs);
    return Math.max(backoff, this.#reserveToken());
  }

  addRateLimited(key: string): void {
    if (this.#shuttingDown) return;
    this.addAfter(key, this.whenRateLimited(key));
  }

  /** Resets the key's backoff (call after a success). */
  forget(key: string): void {
    this.#failures.delete(key);
  }

  numRequeues(key: string): number {
    return this.#failures.get(key) ?? 0;
  }

  /**
   * The next key; waits until one is ready. Resolves undefined once the queue is shut down, or when
   * `signal` aborts (so an abandoned wait does not swallow a later key).
   */
  get(signal?: AbortSignal): Promise<string | undefined> {
    if (this.#shuttingDown || signal?.aborted) return Promise.resolve(undefined);
    const key = this.#take();
    if (key !== undefined) return Promise.resolve(key);
    return new Promise((resolve) => {
      const waiter = (k: string | undefined) => {
        signal?.removeEventListener('abort', onAbort);
        resolve(k);
      };
      const onAbort = () => {
        const i = this.#waiters.indexOf(waiter);
        if (i >= 0) this.#waiters.splice(i, 1);
        resolve(undefined);
      };
      signal?.addEventListener('abort', onAbort, { once: true });
      this.#waiters.push(waiter);
    });
  }

  /** Marks the key processed; if it was added meanwhile, it is queued again. */
  done(key: string): void {
    this.#processing.delete(key);
    if (!this.#shuttingDown && this.#dirty.has(key)) this.#enqueue(key);
  }

  /** Stops the queue: waiting get() calls resolve undefined, delayed adds are dropped. */
  shutdown(): void {
    if (this.#shuttingDown) return;
    this.#shuttingDown = true;
    for (const { timer } of this.#delayed.values()) clearTimeout(timer);
    this.#delayed.clear();
    this.#queue = [];
    this.#dirty.clear();
    for (const resolve of this.#waiters.splice(0)) resolve(undefined);
    this.#onDepthChange?.(0);
  }

  #enqueue(key: string): void {
    const waiter = this.#waiters.shift();
    if (waiter !== undefined) {
      // Hand the key straight to a waiting worker.
      this.#dirty.delete(key);
      this.#processing.add(key);
      waiter(key);
      return;
    }
    this.#queue.push(key);
    this.#onDepthChange?.(this.#queue.length);
  }

  #take(): string | undefined {
    const key = this.#queue.shift();
    if (key === undefined) return undefined;
    this.#dirty.delete(key);
    this.#processing.add(key);
    this.#onDepthChange?.(this.#queue.length);
    return key;
  }

  #cancelDelayed(key: string): void {
    const pending = this.#delayed.get(key);
    if (pending === undefined) return;
    clearTimeout(pending.timer);
    this.#delayed.delete(key);
  }

  // Takes one token (going into debt if needed) and returns how long until that token exists.
  #reserveToken(): number {
    const now = this.#now();
    const elapsed = Math.max(0, now - this.#refilledAt);
    this.#tokens = Math.min(this.#burst, this.#tokens + (elapsed * this.#qps) / 1000);
    this.#refilledAt = now;
    this.#tokens -= 1;
    return this.#tokens >= 0 ? 0 : (-this.#tokens * 1000) / this.#qps;
  }
}

export interface WorkerResult {
  /** Requeue after this long (jittered); e.g. spec.interval after a success. */
  requeueAfterMs?: number;
}

export interface WorkerOptions {
  concurrency: number;
  /** Jitter applied to success requeues, default 0.05 (Flux --interval-jitter-percentage=5). */
  jitterFraction?: number;
  /**
   * Handlers in flight at most, waiting ones included (see WorkerContext.whileWaiting); default
   * 8 × concurrency.
   */
  maxInFlight?: number;
}

export interface WorkerContext {
  /**
   * Runs `wait` (a wait on something outside: health checks) without holding a worker slot, so
   * another key is worked on meanwhile; the slot is taken back, ahead of new keys, before returning.
   */
  whileWaiting<T>(wait: () => Promise<T>): Promise<T>;
}

/** A counting semaphore whose `priority` acquirers go before the others. */
function semaphore(permits: number) {
  let free = permits;
  const urgent: (() => void)[] = [];
  const normal: (() => void)[] = [];
  return {
    acquire(priority = false): Promise<void> {
      if (free > 0 && urgent.length === 0 && normal.length === 0) {
        free--;
        return Promise.resolve();
      }
      return new Promise((resolve) => (priority ? urgent : normal).push(resolve));
    },
    release(): void {
      const next = urgent.shift() ?? normal.shift();
      if (next) next();
      else free++;
    },
  };
}

/**
 * Works the queue with `concurrency` slots. After the handler: success → forget and, with
 * requeueAfterMs, requeue after a jittered delay; WaitingError → forget and requeue after its delay;
 * StallingError → forget, no requeue; other errors → rate-limited requeue. A handler that waits on
 * something outside (WorkerContext.whileWaiting) gives its slot to the next key meanwhile, so
 * `concurrency` bounds the reconciles doing work, not those waiting for a Deployment to roll out.
 * stop() shuts the queue down and resolves once in-flight handlers have finished.
 */
export function startWorkers(
  queue: WorkQueue,
  opts: WorkerOptions,
  handler: (key: string, ctx: WorkerContext) => Promise<WorkerResult | undefined>,
): { stop(): Promise<void> } {
  const fraction = opts.jitterFraction ?? 0.05;
  const concurrency = Math.max(1, opts.concurrency);
  const slots = semaphore(concurrency);
  const inFlight = semaphore(Math.max(concurrency, opts.maxInFlight ?? 8 * concurrency));
  const running = new Set<Promise<void>>();
  const ctx: WorkerContext = {
    async whileWaiting(wait) {
      slots.release();
      try {
        return await wait();
      } finally {
        await slots.acquire(true);
      }
    },
  };

  const run = async (key: string): Promise<void> => {
    try {
      const result = await handler(key, ctx);
      queue.forget(key);
      const after = result?.requeueAfterMs;
      if (after !== undefined && after > 0) queue.addAfter(key, jitter(after, fraction));
    } catch (err) {
      if (isWaiting(err)) {
        queue.forget(key);
        queue.addAfter(key, err.requeueAfterMs);
      } else if (isStalling(err)) {
        queue.forget(key);
      } else {
        queue.addRateLimited(key);
      }
    } finally {
      queue.done(key);
      slots.release();
      inFlight.release();
    }
  };

  const dispatch = async (): Promise<void> => {
    for (;;) {
      await inFlight.acquire();
      await slots.acquire();
      const key = await queue.get();
      if (key === undefined) {
        slots.release();
        inFlight.release();
        return;
      }
      const p = run(key);
      running.add(p);
      void p.finally(() => running.delete(p));
    }
  };

  const dispatcher = dispatch();
  return {
    async stop() {
      queue.shutdown();
      await dispatcher;
      await Promise.all(running);
    },
  };
}
