// What every scenario shares: its context, its result shape, and bringing up N GitRepository +
// Kustomization pairs on a fresh bed (the fan-out, idle and restart scenarios all start that way).
import { GitRepositoryKind, KustomizationKind } from '../../controllers/api/index.ts';
import type { KubeObject } from '../../controllers/runtime/object.ts';
import type { ApiCalls } from './audit.ts';
import { type Bed, createWorkTree, ensureNamespaces, pool, startBed } from './bed.ts';
import type { BenchConfig } from './config.ts';
import { type Measured, openWindow } from './measure.ts';
import { round } from './stats.ts';
import { type ControllerName, ControllerSet, type Suite } from './suites.ts';
import { isReady, Tracker } from './track.ts';
import {
  appFiles,
  appNamespace,
  benchNamespace,
  gitRepository,
  kustomization,
  objectsPerApp,
} from './workload.ts';

export interface Context {
  cfg: BenchConfig;
  suites: Suite[];
  /** Where beds are made (one directory each). */
  workRoot: string;
  /** Controllers' TMPDIR root: tmpfs when the machine has one, as Flux's benchmark advises. */
  tmpRoot: string;
  log: (msg: string) => void;
}

export interface ScenarioOutput<Row> {
  rows: Row[];
  /** Skips and failures, in words. */
  notes: string[];
  /** Command-line flags per suite and controller, as run. */
  flags: Record<string, Record<string, string[]>>;
  apiserverFlags: string[];
}

/** What the fan-out style scenarios report per run. */
export interface FanResult {
  /** First create → last object Ready (s); absent when it timed out or failed. */
  timeToReadyS?: number;
  createS?: number;
  /** Objects Ready at the end (all unless it timed out). */
  ready?: number;
  objectsPerS?: number;
  /** CPU-seconds per controller, children included. */
  cpuS?: Record<string, number>;
  peakRssMiB?: Record<string, number>;
  api?: ApiCalls;
  error?: string;
}

/** Logs a failed run and notes it; returns the message for the row. */
export function failure<Row>(ctx: Context, out: ScenarioOutput<Row>, what: string, err: unknown): string {
  const error = (err as Error).message;
  ctx.log(`${what}: failed: ${error}`);
  out.notes.push(`${what} failed: ${error}`);
  return error;
}

export const timeoutMs = (ctx: Context) => ctx.cfg.timeoutMinutes * 60_000;
export const seconds = (from: number, to: number | undefined) =>
  to === undefined ? undefined : round((to - from) / 1000);

/** A bed with the suite's controllers running; stop() tears both down. */
export interface Deployed {
  bed: Bed;
  controllers: ControllerSet;
  sources: Tracker;
  kustomizations: Tracker;
  stop(): Promise<void>;
}

export async function bringUp(
  ctx: Context,
  suite: Suite,
  name: string,
  controllers: ControllerName[],
  prepare?: (bed: Bed) => Promise<void>,
): Promise<Deployed> {
  const bed = await startBed({
    root: ctx.workRoot,
    name,
    crdDir: suite.crdDir,
    keep: ctx.cfg.keep,
    log: ctx.log,
  });
  const set = new ControllerSet(suite, controllers, bed, ctx.cfg, `${ctx.tmpRoot}/${name}`);
  const trackers: Tracker[] = [];
  const stop = async () => {
    await Promise.all(trackers.map((t) => t.stop()));
    await set.stop();
    await bed.close();
  };
  try {
    await prepare?.(bed);
    await set.start();
    const sources = await new Tracker(bed.admin, GitRepositoryKind, benchNamespace).start();
    trackers.push(sources);
    const kustomizations = await new Tracker(bed.admin, KustomizationKind, benchNamespace).start();
    trackers.push(kustomizations);
    return { bed, controllers: set, sources, kustomizations, stop };
  } catch (err) {
    await stop();
    throw err;
  }
}

export interface PairsResult {
  /** From the first create to the last Kustomization Ready (s); undefined when it timed out. */
  timeToReadyS?: number;
  /** From the first create to the last GitRepository Ready (s). */
  sourcesReadyS?: number;
  /** How long creating the 2N objects took (s). */
  createS: number;
  ready: number;
  measured: Measured;
}

/**
 * Brings up n pairs on a fresh bed: one Git repository holding the app, n namespaces, then every
 * GitRepository and Kustomization created at once with the controllers running; waits until all are
 * Ready. The caller stops the returned deployment.
 */
export async function deployPairs(
  ctx: Context,
  suite: Suite,
  name: string,
  n: number,
  interval: string,
): Promise<{ deployed: Deployed; result: PairsResult }> {
  let url = '';
  const deployed = await bringUp(ctx, suite, name, ['source', 'kustomize'], async (bed) => {
    const tree = await createWorkTree(bed, 'apps');
    await tree.commit(appFiles(), 'the benchmark app');
    url = tree.url;
    await ensureNamespaces(
      bed.admin,
      Array.from({ length: n }, (_, i) => appNamespace(i + 1)),
    );
  });
  try {
    const { bed, sources, kustomizations } = deployed;
    const objects: KubeObject[] = [];
    for (let i = 1; i <= n; i++) {
      const id = appNamespace(i);
      objects.push(
        gitRepository({ name: id, url, interval }),
        kustomization({ name: id, source: id, path: './app', targetNamespace: id, interval }),
      );
    }
    const window = await openWindow(bed, deployed.controllers);
    const t0 = Date.now();
    await pool(objects, 32, async (o) => {
      await bed.admin.create(o);
    });
    const createS = (Date.now() - t0) / 1000;
    const progress = (done: number) =>
      ctx.log(`${name}: ${done}/${n} Kustomizations Ready after ${Math.round((Date.now() - t0) / 1000)} s`);
    const [src, ks] = await Promise.all([
      sources.waitAll(n, isReady, timeoutMs(ctx)),
      kustomizations.waitAll(n, isReady, timeoutMs(ctx), progress),
    ]);
    deployed.controllers.checkAlive();
    const measured = await window.close();
    return {
      deployed,
      result: {
        timeToReadyS: seconds(t0, ks.at),
        sourcesReadyS: seconds(t0, src.at),
        createS: round(createS),
        ready: ks.done,
        measured,
      },
    };
  } catch (err) {
    await deployed.stop();
    throw err;
  }
}

/** Objects per second of a fan-out of n apps that took s seconds. */
export const objectsPerSecond = (n: number, s: number | undefined) =>
  s ? round((n * objectsPerApp) / s, 1) : undefined;
