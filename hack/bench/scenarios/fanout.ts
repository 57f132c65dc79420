// Fan-out (flux-benchmark's "mean time to production"): N GitRepository + Kustomization pairs, 4
// objects each, `wait: true`, all created at once; time until every Kustomization is Ready, CPU and
// peak memory per controller, API requests by verb. One fresh control plane per N and suite.
import type { SuiteId } from '../config.ts';
import type { GitCounts } from '../gitcount.ts';
import {
  type Context,
  deployPairs,
  type FanResult,
  failure,
  objectsPerSecond,
  type ScenarioOutput,
} from '../scenario.ts';
import { describeControllers } from '../suites.ts';

export interface FanoutRow extends FanResult {
  suite: SuiteId;
  n: number;
  /** First create → last GitRepository Ready (s). */
  sourcesReadyS?: number;
  apiserverAll?: Record<string, number>;
  git?: GitCounts;
  controlPlaneCpuS?: { apiserver: number; etcd: number };
}

export async function runFanout(ctx: Context): Promise<ScenarioOutput<FanoutRow>> {
  const out: ScenarioOutput<FanoutRow> = { rows: [], notes: [], flags: {}, apiserverFlags: [] };
  for (const n of ctx.cfg.fanoutN) {
    for (const suite of ctx.suites) {
      out.flags[suite.id] = describeControllers(suite, ['source', 'kustomize'], ctx.cfg);
      const name = `fanout-${suite.id}-${n}`;
      ctx.log(`${name}: starting`);
      try {
        const { deployed, result } = await deployPairs(ctx, suite, name, n, '60m');
        out.apiserverFlags = deployed.bed.apiserverFlags;
        await deployed.stop();
        const m = result.measured;
        out.rows.push({
          suite: suite.id,
          n,
          timeToReadyS: result.timeToReadyS,
          sourcesReadyS: result.sourcesReadyS,
          createS: result.createS,
          ready: result.ready,
          objectsPerS: objectsPerSecond(n, result.timeToReadyS),
          cpuS: m.cpuS,
          peakRssMiB: m.peakRssMiB,
          api: m.api,
          apiserverAll: m.apiserverAll,
          git: m.git,
          controlPlaneCpuS: m.controlPlaneCpuS,
        });
        if (result.timeToReadyS === undefined)
          out.notes.push(`${suite.label} N=${n}: only ${result.ready}/${n} Ready within the timeout`);
        ctx.log(`${name}: all Ready in ${result.timeToReadyS ?? 'TIMEOUT'} s`);
      } catch (err) {
        out.rows.push({ suite: suite.id, n, error: failure(ctx, out, name, err) });
      }
    }
  }
  return out;
}
