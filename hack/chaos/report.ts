// The soak's summary: the figures of a run, the checks that decide its exit code, and the table it
// prints. Pure: no I/O.
import { percentile, round } from '../bench/stats.ts';

export interface FaultRecord {
  name: string;
  detail: string;
  /** When the fault was over (ISO). */
  endedAt: string;
  /** Seconds from the end of the fault until the cluster held what was published; undefined: never. */
  convergedS?: number;
  problems?: string[];
}

export interface RssRecord {
  startMiB: number;
  endMiB: number;
  /** Seconds the process measured at the end had been running (a restarted controller is younger). */
  endUptimeS: number;
  starts: number;
  limitMiB: number;
  ok: boolean;
}

export interface Summary {
  startedAt: string;
  finishedAt: string;
  seed: number;
  durationS: number;
  settings: Record<string, unknown>;
  workload: { kustomizations: number; helmReleases: number; initialObjects: number };
  faults: FaultRecord[];
  faultsByType: Record<string, number>;
  published: Record<string, number>;
  reconciles: Record<string, number>;
  objectsApplied: number;
  initialConvergenceS?: number;
  convergence: { p50S?: number; maxS?: number; timedOut: number };
  objectsLost: string[];
  wronglyPruned: { at: string; object: string }[];
  leakedSecrets: { where: string; marker: string }[];
  rss: Record<string, RssRecord>;
  rssBound: string;
  sigterm: { clean: number; forced: number; nonZeroExit: number };
  failures: string[];
}

/** The memory bound a controller must stay within. */
export function rssLimit(startMiB: number, factor: number, slackMiB: number): number {
  return startMiB * factor + slackMiB;
}

export function rssRecord(
  start: number,
  end: number,
  endUptimeS: number,
  starts: number,
  factor: number,
  slackMiB: number,
): RssRecord {
  const limitMiB = rssLimit(start, factor, slackMiB);
  return {
    startMiB: round(start, 1),
    endMiB: round(end, 1),
    endUptimeS,
    starts,
    limitMiB: round(limitMiB, 1),
    ok: end <= limitMiB,
  };
}

/** p50 and max of the convergence times, and how many faults never converged. */
export function convergenceStats(faults: readonly FaultRecord[]): Summary['convergence'] {
  const times = faults.map((f) => f.convergedS).filter((v): v is number => v !== undefined);
  return {
    p50S: times.length ? round(percentile(times, 50), 1) : undefined,
    maxS: times.length ? round(Math.max(...times), 1) : undefined,
    timedOut: faults.length - times.length,
  };
}

export function countBy(names: readonly string[]): Record<string, number> {
  const out: Record<string, number> = {};
  for (const n of names) out[n] = (out[n] ?? 0) + 1;
  return out;
}

/** The reasons the run fails; empty when every check passed. */
export function failuresOf(s: Omit<Summary, 'failures'>): string[] {
  const out: string[] = [];
  if (s.objectsLost.length) out.push(`${s.objectsLost.length} object(s) lost`);
  if (s.wronglyPruned.length) out.push(`${s.wronglyPruned.length} object(s) wrongly pruned`);
  if (s.leakedSecrets.length) out.push(`${s.leakedSecrets.length} leaked secret(s)`);
  if (s.convergence.timedOut) out.push(`${s.convergence.timedOut} fault(s) never converged`);
  if (s.initialConvergenceS === undefined) out.push('the workload never converged before the faults');
  for (const [name, r] of Object.entries(s.rss))
    if (!r.ok) out.push(`${name}-controller RSS ${r.endMiB} MiB exceeds its bound ${r.limitMiB} MiB`);
  return out;
}

const pad = (s: string, n: number) => s.padEnd(n);

/** The summary as the table `make chaos` prints. */
export function renderSummary(s: Summary): string {
  const rows: [string, string][] = [
    ['duration', `${Math.round(s.durationS / 60)} min (${s.durationS} s of faults), seed ${s.seed}`],
    [
      'workload',
      `${s.workload.kustomizations} Kustomizations, ${s.workload.helmReleases} HelmReleases, ${s.workload.initialObjects} objects at start`,
    ],
    [
      'published',
      Object.entries(s.published)
        .map(([k, v]) => `${k} ${v}`)
        .join(', '),
    ],
    ['faults injected', `${s.faults.length}`],
    ...Object.entries(s.faultsByType).map(([k, v]): [string, string] => [`  ${k}`, String(v)]),
    [
      'reconciles',
      `${Object.values(s.reconciles).reduce((a, b) => a + b, 0)} (${Object.entries(s.reconciles)
        .map(([k, v]) => `${k} ${v}`)
        .join(', ')})`,
    ],
    ['objects applied', String(s.objectsApplied)],
    ['initial convergence', s.initialConvergenceS === undefined ? 'never' : `${s.initialConvergenceS} s`],
    [
      'convergence after fault',
      `p50 ${s.convergence.p50S ?? '-'} s, max ${s.convergence.maxS ?? '-'} s, never ${s.convergence.timedOut}`,
    ],
    ['objects lost', String(s.objectsLost.length)],
    ['wrongly pruned', String(s.wronglyPruned.length)],
    ['leaked secrets', String(s.leakedSecrets.length)],
    [
      'SIGTERM exits',
      `${s.sigterm.clean} in time (${s.sigterm.nonZeroExit} non-zero), ${s.sigterm.forced} killed`,
    ],
    [`RSS MiB start/end (bound ${s.rssBound})`, ''],
    ...Object.entries(s.rss).map(([k, r]): [string, string] => [
      `  ${k}`,
      `${r.startMiB} / ${r.endMiB} (limit ${r.limitMiB}; ${r.starts} start(s), last up ${r.endUptimeS} s) ${r.ok ? 'ok' : 'EXCEEDED'}`,
    ]),
    ['result', s.failures.length ? `FAIL: ${s.failures.join('; ')}` : 'PASS'],
  ];
  const w = Math.max(...rows.map(([k]) => k.length)) + 2;
  const lines = ['Tide chaos soak', ...rows.map(([k, v]) => `${pad(k, w)}${v}`)];
  lines.push('', 'faults (convergence after each):');
  for (const f of s.faults)
    lines.push(
      `  ${f.endedAt.slice(11, 19)}  ${pad(f.name, 24)}${pad(f.detail, 20)}${f.convergedS === undefined ? 'NEVER' : `${f.convergedS} s`}`,
    );
  return lines.join('\n');
}
