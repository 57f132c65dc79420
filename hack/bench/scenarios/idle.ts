// Idle: N pairs at a short interval and no commits. Once all are Ready and one interval has passed,
// a window of M minutes measures the steady state: millicores and RSS per controller, the controllers'
// API requests and Git fetches per interval (a no-change poll should list refs and fetch nothing), and
// reconciles per interval from the controllers' own gotk_reconcile_duration_seconds.
import { setTimeout as sleep } from 'node:timers/promises';
import { parseDuration } from '../../../controllers/runtime/duration.ts';
import type { SuiteId } from '../config.ts';
import { openWindow } from '../measure.ts';
import { type RssSummary, sampleRss } from '../procfs.ts';
import { diffCounts, parsePrometheusText, sumBy } from '../promtext.ts';
import { type Context, deployPairs, failure, type ScenarioOutput } from '../scenario.ts';
import { round } from '../stats.ts';
import { type ControllerSet, describeControllers } from '../suites.ts';

export interface IdleRow {
  suite: SuiteId;
  pairs: number;
  interval: string;
  minutes: number;
  /** Time until all pairs were first Ready (s). */
  settleS?: number;
  millicores?: Record<string, number>;
  rssMiB?: Record<string, RssSummary>;
  peakRssMiB?: Record<string, number>;
  /** The controllers' API requests per interval: total and by verb. */
  apiPerInterval?: { total: number; byVerb: Record<string, number> };
  /** Non-dry-run writes per interval by target. */
  writesPerInterval?: Record<string, number>;
  /** Git requests per interval: fetches (should be 0) and ref listings. */
  gitPerInterval?: { fetch: number; refListing: number };
  /** Reconciles per interval by kind. */
  reconcilesPerInterval?: Record<string, number>;
  controlPlaneMillicores?: { apiserver: number; etcd: number };
  error?: string;
}

/** Reconciles so far by kind, summed over the controllers' gotk_reconcile_duration_seconds_count. */
async function reconciles(set: ControllerSet): Promise<Record<string, number>> {
  const out: Record<string, number> = {};
  for (const name of set.names) {
    const byKind = sumBy(
      parsePrometheusText(await set.metrics(name)),
      'gotk_reconcile_duration_seconds_count',
      (l) => l.kind ?? '',
    );
    for (const [k, v] of Object.entries(byKind)) out[k] = (out[k] ?? 0) + v;
  }
  return out;
}

const perInterval = (v: number, intervals: number) => round(v / intervals, 1);

export async function runIdle(ctx: Context): Promise<ScenarioOutput<IdleRow>> {
  const out: ScenarioOutput<IdleRow> = { rows: [], notes: [], flags: {}, apiserverFlags: [] };
  const { idlePairs: n, idleMinutes: minutes, idleInterval: interval } = ctx.cfg;
  const intervalMs = parseDuration(interval);
  const intervals = (minutes * 60_000) / intervalMs;
  for (const suite of ctx.suites) {
    out.flags[suite.id] = describeControllers(suite, ['source', 'kustomize'], ctx.cfg);
    const name = `idle-${suite.id}-${n}`;
    ctx.log(`${name}: starting`);
    try {
      const { deployed, result } = await deployPairs(ctx, suite, name, n, interval);
      out.apiserverFlags = deployed.bed.apiserverFlags;
      try {
        if (result.timeToReadyS === undefined)
          throw new Error(`only ${result.ready}/${n} Ready within the timeout`);
        ctx.log(`${name}: all Ready in ${result.timeToReadyS} s; settling for one interval (${interval})`);
        await sleep(intervalMs);
        const set = deployed.controllers;
        const rss = sampleRss(() => set.pids());
        const before = await reconciles(set);
        const window = await openWindow(deployed.bed, set);
        ctx.log(`${name}: measuring for ${minutes} min`);
        await sleep(minutes * 60_000);
        set.checkAlive();
        const m = await window.close();
        const after = await reconciles(set);
        const rssMiB = rss.stop();
        const mc = (cpuS: number) => round((cpuS / m.seconds) * 1000, 1);
        out.rows.push({
          suite: suite.id,
          pairs: n,
          interval,
          minutes,
          settleS: result.timeToReadyS,
          millicores: Object.fromEntries(Object.entries(m.cpuS).map(([k, v]) => [k, mc(v)])),
          rssMiB: Object.fromEntries(
            Object.entries(rssMiB).map(([k, v]) => [
              k,
              { ...v, avgMiB: round(v.avgMiB, 1), maxMiB: round(v.maxMiB, 1) },
            ]),
          ),
          peakRssMiB: m.peakRssMiB,
          apiPerInterval: {
            total: perInterval(m.api.total, intervals),
            byVerb: Object.fromEntries(
              Object.entries(m.api.byVerb).map(([k, v]) => [k, perInterval(v, intervals)]),
            ),
          },
          writesPerInterval: Object.fromEntries(
            Object.entries(m.api.writes).map(([k, v]) => [k, perInterval(v, intervals)]),
          ),
          gitPerInterval: {
            fetch: perInterval(m.git.fetch, intervals),
            refListing: perInterval(m.git['ref-listing'], intervals),
          },
          reconcilesPerInterval: Object.fromEntries(
            Object.entries(diffCounts(after, before)).map(([k, v]) => [k, perInterval(v, intervals)]),
          ),
          controlPlaneMillicores: {
            apiserver: mc(m.controlPlaneCpuS.apiserver),
            etcd: mc(m.controlPlaneCpuS.etcd),
          },
        });
        ctx.log(`${name}: done`);
      } finally {
        await deployed.stop();
      }
    } catch (err) {
      out.rows.push({ suite: suite.id, pairs: n, interval, minutes, error: failure(ctx, out, name, err) });
    }
  }
  return out;
}
