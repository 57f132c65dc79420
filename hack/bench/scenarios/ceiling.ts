// Apply ceiling: the fan-out's objects (4 per app, one namespace per app) sent by a bare server-side
// apply loop at several concurrencies, as the controllers' user, on a fresh control plane each: the
// physical limit of this machine that a controller's objects/s is a fraction of.
import { KubeConfig } from '@kubernetes/client-node';
import { createClient } from '../../../controllers/runtime/client.ts';
import type { KubeObject } from '../../../controllers/runtime/object.ts';
import { ensureNamespaces, pool, startBed } from '../bed.ts';
import { openWindow } from '../measure.ts';
import { type Context, failure, type ScenarioOutput } from '../scenario.ts';
import { round, spread } from '../stats.ts';
import { appNamespace, appObjectsIn } from '../workload.ts';

export interface CeilingRow {
  concurrency: number;
  objects: number;
  seconds?: number;
  objectsPerS?: number;
  /** Per-apply latency (ms). */
  latencyMs?: { p50: number; p95: number; max: number };
  failures?: number;
  controlPlaneCpuS?: { apiserver: number; etcd: number };
  error?: string;
}

export async function runCeiling(ctx: Context): Promise<ScenarioOutput<CeilingRow>> {
  const out: ScenarioOutput<CeilingRow> = { rows: [], notes: [], flags: {}, apiserverFlags: [] };
  const apps = ctx.cfg.ceilingApps;
  for (const concurrency of ctx.cfg.ceilingConcurrency) {
    const name = `ceiling-${concurrency}`;
    ctx.log(`${name}: starting`);
    const bed = await startBed({ root: ctx.workRoot, name, keep: ctx.cfg.keep, log: ctx.log }).catch(
      (err: Error) => err,
    );
    if (bed instanceof Error) {
      out.rows.push({ concurrency, objects: 0, error: bed.message });
      continue;
    }
    try {
      out.apiserverFlags = bed.apiserverFlags;
      const namespaces = Array.from({ length: apps }, (_, i) => appNamespace(i + 1));
      await ensureNamespaces(bed.admin, namespaces);
      const objects: KubeObject[] = namespaces.flatMap((ns) => appObjectsIn(ns));
      const kc = new KubeConfig();
      kc.loadFromFile(bed.controllerKubeconfig);
      const client = createClient(kc, { fieldManager: 'bench-apply' });
      const latencies: number[] = [];
      let failures = 0;
      const window = await openWindow(bed);
      const t0 = Date.now();
      await pool(objects, concurrency, async (o) => {
        const t = performance.now();
        try {
          await client.apply(o, { force: true });
          latencies.push(performance.now() - t);
        } catch {
          failures++;
        }
      });
      const s = (Date.now() - t0) / 1000;
      const m = await window.close();
      const l = spread(latencies);
      out.rows.push({
        concurrency,
        objects: objects.length,
        seconds: round(s),
        objectsPerS: round(latencies.length / s, 1),
        latencyMs: { p50: round(l.p50, 1), p95: round(l.p95, 1), max: round(l.max, 1) },
        failures,
        controlPlaneCpuS: m.controlPlaneCpuS,
      });
      if (failures) out.notes.push(`concurrency ${concurrency}: ${failures} applies failed`);
      ctx.log(`${name}: ${objects.length} objects in ${round(s)} s (${round(latencies.length / s, 1)}/s)`);
    } catch (err) {
      out.rows.push({ concurrency, objects: apps * 4, error: failure(ctx, out, name, err) });
    } finally {
      await bed.close();
    }
  }
  return out;
}
