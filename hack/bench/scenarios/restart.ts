// Restart: N pairs applied and Ready, then both controllers stopped (SIGTERM) and started again. Timed
// from the new processes' start until every GitRepository and Kustomization has been reconciled by them
// (their gotk_reconcile_duration_seconds_count, polled every 2 s) and all are Ready; counted: the writes
// they made (a restart with nothing drifted should write no object) and the Git fetches.
import { setTimeout as sleep } from 'node:timers/promises';
import { GitRepositoryKind, KustomizationKind } from '../../../controllers/api/index.ts';
import { keyOf } from '../../../controllers/runtime/object.ts';
import type { ApiCalls } from '../audit.ts';
import type { SuiteId } from '../config.ts';
import type { GitCounts } from '../gitcount.ts';
import { openWindow } from '../measure.ts';
import { parsePrometheusText, reconciledObjects } from '../promtext.ts';
import { type Context, deployPairs, failure, type ScenarioOutput, seconds, timeoutMs } from '../scenario.ts';
import { describeControllers } from '../suites.ts';
import { isReady } from '../track.ts';

export interface RestartRow {
  suite: SuiteId;
  pairs: number;
  /** The first apply of all pairs (s), for scale. */
  initialS?: number;
  /** New processes started → all reconciled by them and Ready (s; 2 s resolution). */
  timeToReadyS?: number;
  /** The restarted controllers' non-dry-run writes by target (objects should be 0). */
  writes?: ApiCalls['writes'];
  api?: ApiCalls;
  git?: GitCounts;
  cpuS?: Record<string, number>;
  peakRssMiB?: Record<string, number>;
  error?: string;
}

export async function runRestart(ctx: Context): Promise<ScenarioOutput<RestartRow>> {
  const out: ScenarioOutput<RestartRow> = { rows: [], notes: [], flags: {}, apiserverFlags: [] };
  const n = ctx.cfg.restartPairs;
  for (const suite of ctx.suites) {
    out.flags[suite.id] = describeControllers(suite, ['source', 'kustomize'], ctx.cfg);
    const name = `restart-${suite.id}-${n}`;
    ctx.log(`${name}: starting`);
    try {
      const { deployed, result } = await deployPairs(ctx, suite, name, n, '60m');
      out.apiserverFlags = deployed.bed.apiserverFlags;
      try {
        if (result.timeToReadyS === undefined)
          throw new Error(`only ${result.ready}/${n} Ready within the timeout`);
        ctx.log(`${name}: ${n} pairs Ready in ${result.timeToReadyS} s; restarting the controllers`);
        const set = deployed.controllers;
        await set.stop();
        const window = await openWindow(deployed.bed);
        const t0 = Date.now();
        await set.start();
        const deadline = t0 + timeoutMs(ctx);
        let doneAt: number | undefined;
        while (Date.now() < deadline) {
          const [src, ks] = await Promise.all([set.metrics('source'), set.metrics('kustomize')]);
          const srcDone = reconciledObjects(parsePrometheusText(src), GitRepositoryKind.kind);
          const ksDone = reconciledObjects(parsePrometheusText(ks), KustomizationKind.kind);
          const allReady = (keys: Set<string>, list: ReturnType<typeof deployed.sources.informer.list>) =>
            list.length >= n && list.every((o) => keys.has(keyOf(o)) && isReady(o));
          if (
            allReady(srcDone, deployed.sources.informer.list()) &&
            allReady(ksDone, deployed.kustomizations.informer.list())
          ) {
            doneAt = Date.now();
            break;
          }
          set.checkAlive();
          await sleep(2_000);
        }
        const m = await window.close(set);
        out.rows.push({
          suite: suite.id,
          pairs: n,
          initialS: result.timeToReadyS,
          timeToReadyS: seconds(t0, doneAt),
          writes: m.api.writes,
          api: m.api,
          git: m.git,
          cpuS: m.cpuS,
          peakRssMiB: m.peakRssMiB,
        });
        if (doneAt === undefined)
          out.notes.push(`${suite.label}: not all reconciled and Ready after the restart`);
        ctx.log(`${name}: all Ready again ${seconds(t0, doneAt) ?? 'TIMEOUT'} s after the restart`);
      } finally {
        await deployed.stop();
      }
    } catch (err) {
      out.rows.push({ suite: suite.id, pairs: n, error: failure(ctx, out, name, err) });
    }
  }
  return out;
}
