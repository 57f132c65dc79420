// Runs one or more controllers in a process the way controller-runtime's manager does for Flux: shared
// informers start on every replica (so standbys are warm and Ready), workers run only on the leader,
// /healthz and /readyz on --health-addr, /metrics on --metrics-addr, and SIGTERM/SIGINT stop it
// gracefully (in-flight reconciles finish, the lease is released, informers stop, events are flushed).
import { existsSync, readFileSync } from 'node:fs';
import { type ParseArgsOptionsConfig, parseArgs } from 'node:util';
import { type Client, createClient } from './client.ts';
import { parseDuration } from './duration.ts';
import { createRecorder, type Recorder } from './events.ts';
import { type HealthServer, serveHealth } from './health.ts';
import { createInformer, type Informer, type InformerOptions } from './informer.ts';
import { KubeConfig, type KubeConfigSource } from './kubeconfig.ts';
import { createLeaderElector, type LeaderElector } from './leader.ts';
import { createLogger, type Logger, type LogLevel } from './log.ts';
import { createMetrics, type RuntimeMetrics, serveMetrics } from './metrics.ts';
import { apiVersionOf, type GVK } from './object.ts';
import type { QueueOptions } from './queue.ts';
import { type ControllerDefinition, type ControllerRunner, runController } from './reconciler.ts';

export interface ManagerFlags {
  concurrent: number;
  /** host:port; empty or "0" disables. */
  metricsAddr: string;
  healthAddr: string;
  enableLeaderElection: boolean;
  leaderElectionNamespace?: string;
  leaseDurationMs: number;
  renewDeadlineMs: number;
  retryPeriodMs: number;
  watchAllNamespaces: boolean;
  /** notification-controller address; empty disables forwarding. */
  eventsAddr: string;
  logLevel: LogLevel;
  /** Fraction (0.05 for --interval-jitter-percentage=5). */
  jitterFraction: number;
  /** Per-object retry backoff after a failure: first delay and cap (Flux --min/--max-retry-delay). */
  minRetryDelayMs: number;
  maxRetryDelayMs: number;
}

const booleanFlags = ['enable-leader-election', 'watch-all-namespaces'];

const flagOptions = {
  concurrent: { type: 'string', default: '4' },
  'metrics-addr': { type: 'string', default: ':8080' },
  'health-addr': { type: 'string', default: ':9440' },
  'enable-leader-election': { type: 'boolean' },
  'leader-election-namespace': { type: 'string' },
  'leader-election-lease-duration': { type: 'string', default: '15s' },
  'leader-election-renew-deadline': { type: 'string', default: '10s' },
  'leader-election-retry-period': { type: 'string', default: '2s' },
  'watch-all-namespaces': { type: 'boolean', default: true },
  'events-addr': { type: 'string', default: '' },
  'log-level': { type: 'string', default: 'info' },
  'log-encoding': { type: 'string', default: 'json' },
  'interval-jitter-percentage': { type: 'string', default: '5' },
  'min-retry-delay': { type: 'string', default: '750ms' },
  'max-retry-delay': { type: 'string', default: '15m' },
} satisfies ParseArgsOptionsConfig;

export interface ParsedFlags {
  flags: ManagerFlags;
  /** Every flag's value, including a controller's own (`extra`). */
  values: Record<string, string | boolean | (string | boolean)[] | undefined>;
  positionals: string[];
}

/**
 * Parses Flux-style flags (`--concurrent=4 --metrics-addr=:8080 --enable-leader-election
 * --watch-all-namespaces=false ...`). Leader election defaults to on inside a cluster and off
 * elsewhere. `extra` adds a controller's own flags.
 */
export function parseFlags(
  argv: string[],
  opts: { extra?: ParseArgsOptionsConfig; env?: NodeJS.ProcessEnv } = {},
): ParsedFlags {
  const env = opts.env ?? process.env;
  const bools = new Set([
    ...booleanFlags,
    ...Object.entries(opts.extra ?? {})
      .filter(([, o]) => o.type === 'boolean')
      .map(([k]) => k),
  ]);
  // Go's flag package accepts --flag=true/false; parseArgs takes bare booleans, so apply those ourselves
  // (not with --no-flag: Flux has flags named --no-cross-namespace-refs).
  const explicit = new Map<string, boolean>();
  const args = argv.filter((a) => {
    const m = /^--([^=]+)=(true|false)$/.exec(a);
    if (!m || !bools.has(m[1]!)) return true;
    explicit.set(m[1]!, m[2] === 'true');
    return false;
  });
  const { values, positionals } = parseArgs({
    args,
    options: { ...flagOptions, ...opts.extra },
    allowPositionals: true,
    strict: true,
  });
  for (const [k, b] of explicit) (values as Record<string, unknown>)[k] = b;
  const v = values as Record<string, string | boolean | undefined>;
  const str = (k: string) => String(v[k] ?? '');
  const concurrent = Number(str('concurrent'));
  if (!Number.isInteger(concurrent) || concurrent < 1)
    throw new Error(`--concurrent must be a positive integer`);
  const level = str('log-level') === 'trace' ? 'debug' : str('log-level');
  if (!['debug', 'info', 'error'].includes(level))
    throw new Error(`--log-level must be debug, info or error`);
  const jitter = Number(str('interval-jitter-percentage'));
  if (!(jitter >= 0 && jitter < 100)) throw new Error('--interval-jitter-percentage must be in [0, 100)');
  const flags: ManagerFlags = {
    concurrent,
    metricsAddr: str('metrics-addr'),
    healthAddr: str('health-addr'),
    enableLeaderElection:
      (v['enable-leader-election'] as boolean | undefined) ?? Boolean(env.KUBERNETES_SERVICE_HOST),
    leaderElectionNamespace: (v['leader-election-namespace'] as string | undefined) || undefined,
    leaseDurationMs: parseDuration(str('leader-election-lease-duration')),
    renewDeadlineMs: parseDuration(str('leader-election-renew-deadline')),
    retryPeriodMs: parseDuration(str('leader-election-retry-period')),
    watchAllNamespaces: v['watch-all-namespaces'] !== false,
    eventsAddr: str('events-addr'),
    logLevel: level as LogLevel,
    jitterFraction: jitter / 100,
    minRetryDelayMs: parseDuration(str('min-retry-delay')),
    maxRetryDelayMs: parseDuration(str('max-retry-delay')),
  };
  if (flags.minRetryDelayMs > flags.maxRetryDelayMs)
    throw new Error('--min-retry-delay must not be longer than --max-retry-delay');
  return { flags, values: values as ParsedFlags['values'], positionals };
}

export interface ManagerOptions {
  /** Process name: reportingController, field manager and `<name>-leader-election` lease. */
  name: string;
  // biome-ignore lint/suspicious/noExplicitAny: definitions of different kinds run side by side
  controllers: ControllerDefinition<any>[];
  flags: ManagerFlags;
  kubeConfig?: KubeConfigSource;
  /** The pod's namespace (lease, and the watch scope without --watch-all-namespaces). */
  namespace?: string;
  identity?: string;
  client?: Client;
  log?: Logger;
  metrics?: RuntimeMetrics;
  recorder?: Recorder;
  informerOptions?: Partial<InformerOptions>;
  queue?: QueueOptions;
  /** How long stop() waits for in-flight reconciles, default 30 s (a pod's grace period). */
  gracefulShutdownMs?: number;
  /**
   * Runs at once when leadership is lost, before the graceful stop. A process exits here (runManager):
   * its in-flight reconciles must not go on writing beside the next leader, which may take over as soon
   * as the lease expires.
   */
  onLostLeadership?: () => void;
}

export type StopReason = 'stopped' | 'lost-leadership';

export interface Manager {
  readonly client: Client;
  readonly log: Logger;
  readonly metrics: RuntimeMetrics;
  readonly recorder: Recorder;
  readonly runners: ControllerRunner[];
  /** Listens, starts informers and campaigns (or starts workers at once without leader election). */
  start(): Promise<void>;
  /** Graceful stop; resolves when everything has stopped. */
  stop(reason?: StopReason): Promise<void>;
  /** Settles once the manager stopped, with why. */
  readonly done: Promise<StopReason>;
  isLeader(): boolean;
  /**
   * The shared informer of a kind (and selector), for servers that read the cache outside a reconcile;
   * it starts with the manager and counts in /readyz.
   */
  informer(kind: GVK, labelSelector?: string): Informer;
  /** True once every informer has synced. */
  ready(): boolean;
  waitForSync(signal?: AbortSignal): Promise<void>;
  ports(): { health?: number; metrics?: number };
}

const serviceAccountNamespace = '/var/run/secrets/kubernetes.io/serviceaccount/namespace';

function runtimeNamespace(): string {
  if (process.env.RUNTIME_NAMESPACE) return process.env.RUNTIME_NAMESPACE;
  if (existsSync(serviceAccountNamespace)) return readFileSync(serviceAccountNamespace, 'utf8').trim();
  return 'default';
}

const enabled = (addr: string) => addr !== '' && addr !== '0';

export function createManager(opts: ManagerOptions): Manager {
  const { flags, name } = opts;
  const kc =
    opts.kubeConfig ??
    (() => {
      const k = new KubeConfig();
      k.loadFromDefault();
      return k;
    })();
  const log = opts.log ?? createLogger({ level: flags.logLevel });
  const client = opts.client ?? createClient(kc, { fieldManager: name, userAgent: `tide/${name}` });
  const metrics = opts.metrics ?? createMetrics();
  const recorder =
    opts.recorder ??
    createRecorder({ client, controller: name, eventsAddr: flags.eventsAddr || undefined, log });
  const namespace = opts.namespace ?? runtimeNamespace();
  const watchNamespace = flags.watchAllNamespaces ? undefined : namespace;

  // One informer per kind and selector, shared by every controller of this process.
  const informers = new Map<string, Informer>();
  const informerFor = (kind: GVK, labelSelector?: string) => {
    const key = `${apiVersionOf(kind)}/${kind.kind}?${labelSelector ?? ''}`;
    let inf = informers.get(key);
    if (!inf) {
      inf = createInformer({
        client,
        kind,
        namespace: watchNamespace,
        labelSelector,
        metrics,
        log,
        ...opts.informerOptions,
      });
      informers.set(key, inf);
    }
    return inf;
  };
  const runners = opts.controllers.map((def) =>
    runController(def, {
      client,
      log,
      recorder,
      metrics,
      concurrency: flags.concurrent,
      jitterFraction: flags.jitterFraction,
      namespace: watchNamespace,
      informers: informerFor,
      queue: { baseDelayMs: flags.minRetryDelayMs, maxDelayMs: flags.maxRetryDelayMs, ...opts.queue },
    }),
  );

  let elector: LeaderElector | undefined;
  let health: HealthServer | undefined;
  let metricsServer: { close(): Promise<void>; port: number } | undefined;
  let stopping: Promise<void> | undefined;
  let started = false;
  const lifetime = new AbortController();
  let settle: (r: StopReason) => void = () => {};
  const done = new Promise<StopReason>((r) => {
    settle = r;
  });
  const ready = () => [...informers.values()].every((i) => i.hasSynced());
  const waitForSync = async (signal?: AbortSignal) => {
    await Promise.all([...informers.values()].map((i) => i.waitForSync(signal)));
  };

  const startWorkers = () => {
    waitForSync(lifetime.signal).then(
      () => {
        if (lifetime.signal.aborted) return;
        for (const r of runners) r.startWorkers();
        log.info('workers started', {
          controllers: runners.map((r) => r.name),
          concurrent: flags.concurrent,
        });
      },
      () => {},
    );
  };

  const withTimeout = (p: Promise<unknown>, ms: number, what: string) =>
    Promise.race([
      p,
      new Promise<void>((resolve) =>
        setTimeout(() => {
          log.error(`${what} did not finish in ${ms} ms; going on`);
          resolve();
        }, ms).unref(),
      ),
    ]);

  async function shutdown(reason: StopReason): Promise<void> {
    log.info('stopping', { reason });
    lifetime.abort();
    // Workers first: in-flight reconciles finish with the cache and the lease still in place.
    await withTimeout(
      Promise.all(runners.map((r) => r.stopWorkers())),
      opts.gracefulShutdownMs ?? 30_000,
      'in-flight reconciles',
    );
    await elector?.stop();
    await Promise.all([...informers.values()].map((i) => i.stop()));
    await withTimeout(recorder.flush(), 5_000, 'event delivery');
    await Promise.all([health?.close(), metricsServer?.close()]);
    log.info('stopped', { reason });
    settle(reason);
  }

  const manager: Manager = {
    client,
    log,
    metrics,
    recorder,
    runners,
    done,
    async start() {
      if (enabled(flags.metricsAddr)) metricsServer = await serveMetrics(flags.metricsAddr, metrics.registry);
      if (enabled(flags.healthAddr)) {
        health = await serveHealth(flags.healthAddr, {
          healthz: { ping: () => true },
          readyz: { informers: () => ready() || 'informers have not synced' },
        });
      }
      started = true;
      for (const i of informers.values()) i.start();
      if (!flags.enableLeaderElection) {
        startWorkers();
        return;
      }
      elector = createLeaderElector({
        client,
        namespace: flags.leaderElectionNamespace ?? namespace,
        name: `${name}-leader-election`,
        identity: opts.identity,
        leaseDurationMs: flags.leaseDurationMs,
        renewDeadlineMs: flags.renewDeadlineMs,
        retryPeriodMs: flags.retryPeriodMs,
        log,
      });
      elector.start({
        onStartedLeading: startWorkers,
        // Another replica may already be reconciling: stop now, as controller-runtime exits.
        onStoppedLeading: () => {
          opts.onLostLeadership?.();
          void manager.stop('lost-leadership');
        },
      });
    },
    stop(reason: StopReason = 'stopped') {
      stopping ??= shutdown(reason);
      return stopping;
    },
    isLeader: () => (elector ? elector.isLeader() : !lifetime.signal.aborted),
    informer(kind, labelSelector) {
      const inf = informerFor(kind, labelSelector);
      if (started) inf.start();
      return inf;
    },
    ready,
    waitForSync,
    ports: () => ({ health: health?.port, metrics: metricsServer?.port }),
  };
  return manager;
}

/**
 * The body of a controller's main.ts: parse flags, run until SIGTERM/SIGINT (a second signal exits at
 * once), return the exit code (1 after lost leadership).
 */
export async function runManager(
  opts: Omit<ManagerOptions, 'flags'> & {
    argv?: string[];
    extraFlags?: ParseArgsOptionsConfig;
    /**
     * Runs before the manager starts (e.g. servers reading its informers); the function it returns runs
     * once the manager has stopped.
     */
    setup?: (manager: Manager) => Promise<() => Promise<void>>;
  },
): Promise<number> {
  const { flags } = parseFlags(opts.argv ?? process.argv.slice(2), { extra: opts.extraFlags });
  const manager: Manager = createManager({
    ...opts,
    flags,
    // As controller-runtime: no graceful stop once another replica may lead; the programs this process
    // started go with it (runtime/process.ts).
    onLostLeadership: () => {
      manager.log.error('leader election lost: exiting at once', undefined, { controller: opts.name });
      process.exit(1);
    },
  });
  const teardown = await opts.setup?.(manager);
  let signals = 0;
  const onSignal = (sig: NodeJS.Signals) => {
    if (++signals > 1) process.exit(1);
    manager.log.info('received signal, shutting down', { signal: sig });
    void manager.stop();
  };
  process.on('SIGTERM', onSignal);
  process.on('SIGINT', onSignal);
  try {
    await manager.start();
    const reason = await manager.done;
    return reason === 'lost-leadership' ? 1 : 0;
  } finally {
    await teardown?.();
    process.off('SIGTERM', onSignal);
    process.off('SIGINT', onSignal);
  }
}
