// Helm fan-out: N HelmReleases of one chart (the same four objects) from a HelmRepository on a local
// chart server, all created at once; time until every HelmRelease is Ready, CPU and peak memory of the
// source- and helm-controller, API requests. A suite whose helm-controller does not exist yet is
// skipped with a note; it runs as soon as the controller is there.
import { mkdir, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { HelmReleaseKind } from '../../../controllers/api/index.ts';
import type { KubeObject } from '../../../controllers/runtime/object.ts';
import { run } from '../../testbed/proc.ts';
import { type StaticServer, startStaticServer } from '../../testbed/staticserver.ts';
import { toolPaths } from '../../testbed/tools.ts';
import { ensureNamespaces, pool } from '../bed.ts';
import type { SuiteId } from '../config.ts';
import { openWindow } from '../measure.ts';
import {
  bringUp,
  type Context,
  type FanResult,
  failure,
  objectsPerSecond,
  type ScenarioOutput,
  seconds,
  timeoutMs,
} from '../scenario.ts';
import { describeControllers } from '../suites.ts';
import { isReady, Tracker } from '../track.ts';
import {
  appNamespace,
  benchNamespace,
  chartFiles,
  chartName,
  helmRelease,
  helmRepository,
} from '../workload.ts';

export interface HelmRow extends FanResult {
  suite: SuiteId;
  releases: number;
}

/** Packages the chart into dir and writes its index.yaml for url. */
async function publishChart(dir: string, url: string): Promise<void> {
  const { helm } = await toolPaths(['helm']);
  const src = join(dir, 'src');
  for (const [path, text] of Object.entries(chartFiles())) {
    await mkdir(dirname(join(src, path)), { recursive: true });
    await writeFile(join(src, path), text);
  }
  const repo = join(dir, 'repo');
  await mkdir(repo, { recursive: true });
  await run(helm, ['package', join(src, chartName), '-d', repo]);
  await run(helm, ['repo', 'index', repo, '--url', url]);
}

export async function runHelm(ctx: Context): Promise<ScenarioOutput<HelmRow>> {
  const out: ScenarioOutput<HelmRow> = { rows: [], notes: [], flags: {}, apiserverFlags: [] };
  const n = ctx.cfg.helmReleases;
  for (const suite of ctx.suites) {
    const missing = suite.missing('helm') ?? suite.missing('source');
    if (missing) {
      ctx.log(`helm: ${suite.label} skipped: ${missing}`);
      out.notes.push(`${suite.label} skipped: ${missing}`);
      continue;
    }
    out.flags[suite.id] = describeControllers(suite, ['source', 'helm'], ctx.cfg);
    const name = `helm-${suite.id}-${n}`;
    ctx.log(`${name}: starting`);
    let charts: StaticServer | undefined;
    let releases: Tracker | undefined;
    try {
      const d = await bringUp(ctx, suite, name, ['source', 'helm'], async (bed) => {
        const root = join(bed.dir, 'charts');
        await mkdir(join(root, 'repo'), { recursive: true });
        charts = await startStaticServer(join(root, 'repo'));
        await publishChart(root, charts.url);
        await ensureNamespaces(
          bed.admin,
          Array.from({ length: n }, (_, i) => appNamespace(i + 1)),
        );
      });
      out.apiserverFlags = d.bed.apiserverFlags;
      try {
        releases = await new Tracker(d.bed.admin, HelmReleaseKind, benchNamespace).start();
        await d.bed.admin.create(helmRepository('charts', charts!.url));
        const objects: KubeObject[] = Array.from({ length: n }, (_, i) =>
          helmRelease(appNamespace(i + 1), 'charts', appNamespace(i + 1)),
        );
        const window = await openWindow(d.bed, d.controllers);
        const t0 = Date.now();
        await pool(objects, 32, async (o) => {
          await d.bed.admin.create(o);
        });
        const createS = seconds(t0, Date.now());
        const res = await releases.waitAll(n, isReady, timeoutMs(ctx), (done) =>
          ctx.log(`${name}: ${done}/${n} HelmReleases Ready after ${Math.round((Date.now() - t0) / 1000)} s`),
        );
        d.controllers.checkAlive();
        const m = await window.close();
        const timeToReadyS = seconds(t0, res.at);
        out.rows.push({
          suite: suite.id,
          releases: n,
          timeToReadyS,
          createS,
          ready: res.done,
          objectsPerS: objectsPerSecond(n, timeToReadyS),
          cpuS: m.cpuS,
          peakRssMiB: m.peakRssMiB,
          api: m.api,
        });
        if (timeToReadyS === undefined)
          out.notes.push(`${suite.label}: only ${res.done}/${n} Ready within the timeout`);
        ctx.log(`${name}: all Ready in ${timeToReadyS ?? 'TIMEOUT'} s`);
      } finally {
        await releases?.stop();
        await d.stop();
      }
    } catch (err) {
      out.rows.push({ suite: suite.id, releases: n, error: failure(ctx, out, name, err) });
    } finally {
      await charts?.close();
    }
  }
  return out;
}
