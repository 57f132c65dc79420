// Leader election on a coordination.k8s.io/v1 Lease with client-go's algorithm and defaults: a candidate
// takes the lease when it is free or its holder has not renewed for leaseDuration (measured on the local
// clock from when we last saw the record change, so clock skew between nodes does not matter); the
// leader renews every retryPeriod and gives up leadership when no renew succeeded for renewDeadline.
// Updates are optimistic (PUT with resourceVersion), so two candidates never both win.
import { randomUUID } from 'node:crypto';
import { hostname } from 'node:os';
import { type Client, isConflict, isNotFound } from './client.ts';
import type { Logger } from './log.ts';
import type { KubeObject } from './object.ts';

export interface LeaderElectionOptions {
  client: Client;
  namespace: string;
  /** Lease name, e.g. `source-controller-leader-election`. */
  name: string;
  /** Unique per process; `<hostname>_<uuid>` by default. */
  identity?: string;
  /** client-go defaults: 15 s lease, 10 s renew deadline, 2 s retry period. */
  leaseDurationMs?: number;
  renewDeadlineMs?: number;
  retryPeriodMs?: number;
  log?: Logger;
  now?: () => number;
}

export interface LeaderCallbacks {
  onStartedLeading(): void;
  /** Called once when leadership is lost (not on a voluntary release). */
  onStoppedLeading(): void;
}

export interface LeaderElector {
  readonly identity: string;
  /** Campaigns in the background until stopped; calls back on winning and on losing. */
  start(cb: LeaderCallbacks): void;
  isLeader(): boolean;
  /** Stops campaigning and, when leading, releases the lease so another candidate takes over at once. */
  stop(): Promise<void>;
}

interface LeaseSpec {
  holderIdentity?: string;
  leaseDurationSeconds?: number;
  acquireTime?: string;
  renewTime?: string;
  leaseTransitions?: number;
}
type Lease = KubeObject & { spec?: LeaseSpec };

// metav1.MicroTime wants exactly six fractional digits.
const microTime = (ms: number) => new Date(ms).toISOString().replace(/\.(\d{3})Z$/, '.$1000Z');

export function createLeaderElector(opts: LeaderElectionOptions): LeaderElector {
  const { client, namespace, name, log } = opts;
  const identity = opts.identity ?? `${hostname()}_${randomUUID()}`;
  const leaseDurationMs = opts.leaseDurationMs ?? 15_000;
  const renewDeadlineMs = opts.renewDeadlineMs ?? 10_000;
  const retryPeriodMs = opts.retryPeriodMs ?? 2_000;
  const now = opts.now ?? Date.now;
  const ref = { apiVersion: 'coordination.k8s.io/v1', kind: 'Lease', name, namespace };
  const stopper = new AbortController();
  let leading = false;
  let lease: Lease | undefined;
  // The last record we saw and when (our clock), to judge expiry without trusting remote clocks.
  let observed = '';
  let observedAt = 0;
  let loop: Promise<void> | undefined;

  const sleep = (ms: number) =>
    new Promise<void>((resolve) => {
      const done = () => {
        clearTimeout(t);
        stopper.signal.removeEventListener('abort', done);
        resolve();
      };
      const t = setTimeout(done, ms);
      stopper.signal.addEventListener('abort', done, { once: true });
    });

  const freshSpec = (t: number): LeaseSpec => ({
    holderIdentity: identity,
    leaseDurationSeconds: Math.ceil(leaseDurationMs / 1000),
    acquireTime: microTime(t),
    renewTime: microTime(t),
    leaseTransitions: 0,
  });

  const observe = (spec: LeaseSpec | undefined, t: number) => {
    const seen = JSON.stringify(spec ?? {});
    if (seen !== observed) {
      observed = seen;
      observedAt = t;
    }
  };

  async function create(t: number): Promise<boolean> {
    try {
      lease = await client.create<Lease>({ ...ref, metadata: { name, namespace }, spec: freshSpec(t) });
    } catch (err) {
      if (isConflict(err)) return false; // someone created it first (409 AlreadyExists)
      throw err;
    }
    observe(lease.spec, t);
    return true;
  }

  async function tryAcquireOrRenew(): Promise<boolean> {
    const t = now();
    const current = await client.tryGet<Lease>(ref);
    if (!current) return create(t);
    const record = current.spec ?? {};
    observe(record, t);
    const mine = record.holderIdentity === identity;
    const expiresAt = observedAt + (record.leaseDurationSeconds ?? 0) * 1000;
    if (record.holderIdentity && !mine && expiresAt > t) return false;
    const next: LeaseSpec = {
      ...freshSpec(t),
      acquireTime: mine && record.acquireTime ? record.acquireTime : microTime(t),
      leaseTransitions: (record.leaseTransitions ?? 0) + (mine ? 0 : 1),
    };
    try {
      lease = await client.update<Lease>({ ...current, spec: next });
    } catch (err) {
      if (isConflict(err)) return false;
      throw err;
    }
    observe(lease.spec, t);
    return true;
  }

  async function attempt(): Promise<boolean> {
    try {
      return await tryAcquireOrRenew();
    } catch (err) {
      log?.error('leader election: lease update failed', err, { lease: `${namespace}/${name}` });
      return false;
    }
  }

  async function run(cb: LeaderCallbacks): Promise<void> {
    while (!stopper.signal.aborted && !leading) {
      if (await attempt()) {
        if (stopper.signal.aborted) return;
        leading = true;
        log?.info('leader election: acquired lease', { lease: `${namespace}/${name}`, identity });
        cb.onStartedLeading();
      } else await sleep(retryPeriodMs * (1 + Math.random() * 0.2));
    }
    let lastRenew = now();
    while (!stopper.signal.aborted) {
      await sleep(retryPeriodMs);
      if (stopper.signal.aborted) return;
      if (await attempt()) lastRenew = now();
      else if (now() - lastRenew >= renewDeadlineMs) {
        leading = false;
        log?.error('leader election: lost the lease', undefined, { lease: `${namespace}/${name}`, identity });
        cb.onStoppedLeading();
        return;
      }
    }
  }

  async function release(): Promise<void> {
    if (!leading || !lease) return;
    leading = false;
    try {
      const current = await client.get<Lease>(ref);
      if (current.spec?.holderIdentity !== identity) return;
      const t = microTime(now());
      await client.update<Lease>({
        ...current,
        spec: {
          ...current.spec,
          holderIdentity: '',
          leaseDurationSeconds: 1,
          acquireTime: t,
          renewTime: t,
        },
      });
      log?.info('leader election: released lease', { lease: `${namespace}/${name}`, identity });
    } catch (err) {
      if (!isNotFound(err))
        log?.error('leader election: release failed', err, { lease: `${namespace}/${name}` });
    }
  }

  return {
    identity,
    start(cb) {
      loop ??= run(cb);
    },
    isLeader: () => leading,
    async stop() {
      stopper.abort();
      await loop;
      await release();
    },
  };
}
