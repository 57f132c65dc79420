// The benchmark's outputs: results.json (every scenario's latest run, each with its machine, versions
// and flags), README.md (the tables) and fanout.svg (time, memory and CPU against N, Tide next to Flux).
// A run of some scenarios replaces those and keeps the others. Pure: text in, text out.
import type { ScenarioName, SuiteId } from './config.ts';
import type { CeilingRow } from './scenarios/ceiling.ts';
import type { CommitRow } from './scenarios/commit.ts';
import type { FanoutRow } from './scenarios/fanout.ts';
import type { HelmRow } from './scenarios/helm.ts';
import type { IdleRow } from './scenarios/idle.ts';
import type { RestartRow } from './scenarios/restart.ts';
import type { Spread } from './stats.ts';
import { type Panel, renderCharts, type Series } from './svg.ts';

export interface RunMeta {
  startedAt: string;
  finishedAt: string;
  note: string;
  machine: { cpu: string; cores: number; memoryGiB: number; kernel: string; loadAvg: number[] };
  versions: Record<string, string>;
  /** Per suite, per controller: the command line. */
  flags: Record<string, Record<string, string[]>>;
  apiserverFlags: string[];
  settings: Record<string, unknown>;
}

export interface ScenarioEntry<Row> {
  meta: RunMeta;
  rows: Row[];
  notes: string[];
}

export interface Results {
  schema: 1;
  scenarios: {
    fanout?: ScenarioEntry<FanoutRow>;
    commit?: ScenarioEntry<CommitRow>;
    idle?: ScenarioEntry<IdleRow>;
    ceiling?: ScenarioEntry<CeilingRow>;
    restart?: ScenarioEntry<RestartRow>;
    helm?: ScenarioEntry<HelmRow>;
  };
}

/** Reads results.json text; anything unreadable starts afresh. */
export function parseResults(text: string | undefined): Results {
  try {
    const r = JSON.parse(text ?? '') as Results;
    if (r?.schema === 1 && typeof r.scenarios === 'object') return r;
  } catch {
    /* start afresh */
  }
  return { schema: 1, scenarios: {} };
}

export function withScenario<S extends ScenarioName>(
  results: Results,
  name: S,
  entry: NonNullable<Results['scenarios'][S]>,
): Results {
  return { ...results, scenarios: { ...results.scenarios, [name]: entry } };
}

const suiteLabel: Record<SuiteId, string> = { tide: 'Tide', flux: 'Flux' };
const dash = '—';
const num = (v: number | undefined, digits = 1) =>
  v === undefined || !Number.isFinite(v) ? dash : v.toFixed(digits);
const pair = (a: number | undefined, b: number | undefined, digits = 1, sep = ' / ') =>
  a === undefined && b === undefined ? dash : `${num(a, digits)}${sep}${num(b, digits)}`;
const spreadCell = (s: Spread | undefined) => (s && s.n > 0 ? `${num(s.p50, 2)} / ${num(s.p95, 2)}` : dash);

export function mdTable(headers: string[], rows: string[][]): string {
  const line = (cells: string[]) => `| ${cells.map((c) => c.replaceAll('|', '\\|')).join(' | ')} |`;
  return [line(headers), line(headers.map(() => '---')), ...rows.map(line)].join('\n');
}

const verbOrder = ['get', 'list', 'watch', 'create', 'update', 'patch', 'patch (dry-run)', 'delete'];
function verbColumns(maps: Record<string, number>[]): string[] {
  const keys = new Set(maps.flatMap((m) => Object.keys(m)));
  return [...verbOrder.filter((v) => keys.has(v)), ...[...keys].filter((k) => !verbOrder.includes(k)).sort()];
}

/** The best objects/s of the apply ceiling, if measured. */
export function ceilingRate(results: Results): number | undefined {
  const rates = (results.scenarios.ceiling?.rows ?? []).map((r) => r.objectsPerS ?? 0);
  const best = Math.max(0, ...rates);
  return best > 0 ? best : undefined;
}

function fanoutSection(e: ScenarioEntry<FanoutRow>, ceiling: number | undefined): string {
  const flux = new Map(e.rows.filter((r) => r.suite === 'flux').map((r) => [r.n, r]));
  const main = e.rows.map((r) => {
    const f = flux.get(r.n);
    const vsFlux =
      r.suite === 'tide' && f?.timeToReadyS && r.timeToReadyS
        ? `${(r.timeToReadyS / f.timeToReadyS).toFixed(2)}×`
        : dash;
    return [
      String(r.n),
      suiteLabel[r.suite],
      r.error ? `failed` : r.timeToReadyS === undefined ? `timeout (${r.ready}/${r.n})` : num(r.timeToReadyS),
      vsFlux,
      num(r.sourcesReadyS),
      num(r.objectsPerS),
      ceiling && r.objectsPerS ? `${((r.objectsPerS / ceiling) * 100).toFixed(1)} %` : dash,
      pair(r.cpuS?.source, r.cpuS?.kustomize, 1, ' + '),
      pair(r.peakRssMiB?.source, r.peakRssMiB?.kustomize, 0),
      r.controlPlaneCpuS ? pair(r.controlPlaneCpuS.apiserver, r.controlPlaneCpuS.etcd, 1, ' + ') : dash,
    ];
  });
  const verbs = verbColumns(e.rows.map((r) => r.api?.byVerb ?? {}));
  const api = e.rows
    .filter((r) => r.api)
    .map((r) => [
      String(r.n),
      suiteLabel[r.suite],
      String(r.api!.total),
      ...verbs.map((v) => String(r.api!.byVerb[v] ?? 0)),
      `${r.api!.writes.objects} / ${r.api!.writes.status}`,
      `${r.git?.fetch ?? 0}`,
    ]);
  return [
    '## Fan-out',
    '',
    "N GitRepository + Kustomization pairs, 4 objects each (ServiceAccount, Service, Deployment with 0 replicas, Ingress), `wait: true`, all created at once. Time from the first create until every Kustomization is Ready; CPU-seconds include child processes; RSS is each controller's peak (VmHWM).",
    '',
    mdTable(
      [
        'N',
        'suite',
        'all Ready (s)',
        'time ÷ Flux',
        'sources Ready (s)',
        'objects/s',
        '÷ apply ceiling',
        'CPU-s source + kustomize',
        'peak RSS source / kustomize (MiB)',
        'CPU-s apiserver + etcd',
      ],
      main,
    ),
    '',
    'API requests of the controllers (audit log of their user), Git fetches:',
    '',
    mdTable(['N', 'suite', 'total', ...verbs, 'writes objects / status', 'Git fetches'], api),
    '',
    '![fan-out: time and memory against N](fanout.svg)',
  ].join('\n');
}

function commitSection(e: ScenarioEntry<CommitRow>): string {
  const rows = e.rows.map((r) => {
    const api = r.apiPerCommit ?? {};
    const total = Object.values(api).reduce((a, b) => a + b, 0);
    const top = verbColumns([api])
      .map((v) => `${v} ${api[v]}`)
      .join(', ');
    return [
      r.case,
      suiteLabel[r.suite],
      String(r.objects),
      r.error ? 'failed' : String(r.commits),
      spreadCell(r.total),
      spreadCell(r.fetch),
      spreadCell(r.build),
      spreadCell(r.apply),
      spreadCell(r.health),
      r.apiPerCommit ? `${total.toFixed(0)} (${top})` : dash,
    ];
  });
  return [
    '## Commit → applied',
    '',
    'One GitRepository + Kustomization of many ConfigMaps (prune and wait on); each commit is pushed and the GitRepository annotated with `reconcile.fluxcd.io/requestedAt`. Cases: change one object, change all, delete half. Seconds as p50 / p95 over the commits. Stages, read from watch events: fetch (push → artifact), build (artifact → first changed object: download, build, diff), apply (first → last changed object, prune included), health (last changed object → Ready).',
    '',
    mdTable(
      [
        'case',
        'suite',
        'objects',
        'commits',
        'total',
        'fetch',
        'build',
        'apply',
        'health',
        'API requests per commit',
      ],
      rows,
    ),
  ].join('\n');
}

function idleSection(e: ScenarioEntry<IdleRow>): string {
  const rows = e.rows.map((r) => [
    suiteLabel[r.suite],
    String(r.pairs),
    r.interval,
    String(r.minutes),
    r.error ? 'failed' : pair(r.millicores?.source, r.millicores?.kustomize, 0),
    pair(r.rssMiB?.source?.avgMiB, r.rssMiB?.kustomize?.avgMiB, 0),
    r.apiPerInterval
      ? `${r.apiPerInterval.total} (${verbColumns([r.apiPerInterval.byVerb])
          .map((v) => `${v} ${r.apiPerInterval!.byVerb[v]}`)
          .join(', ')})`
      : dash,
    r.writesPerInterval ? `${r.writesPerInterval.objects} / ${r.writesPerInterval.status}` : dash,
    r.gitPerInterval ? `${r.gitPerInterval.fetch} / ${r.gitPerInterval.refListing}` : dash,
    r.reconcilesPerInterval
      ? Object.entries(r.reconcilesPerInterval)
          .map(([k, v]) => `${k} ${v}`)
          .join(', ')
      : dash,
    r.controlPlaneMillicores
      ? pair(r.controlPlaneMillicores.apiserver, r.controlPlaneMillicores.etcd, 0, ' + ')
      : dash,
  ]);
  return [
    '## Idle',
    '',
    "N pairs at a short interval, no commits; measured after all are Ready and one interval has passed. Per interval: the controllers' API requests, their writes (objects / status), Git fetches / ref listings (a no-change poll should fetch nothing), reconciles.",
    '',
    mdTable(
      [
        'suite',
        'pairs',
        'interval',
        'minutes',
        'millicores source / kustomize',
        'RSS avg source / kustomize (MiB)',
        'API requests per interval',
        'writes per interval',
        'Git fetches / ref listings per interval',
        'reconciles per interval',
        'millicores apiserver + etcd',
      ],
      rows,
    ),
  ].join('\n');
}

function ceilingSection(e: ScenarioEntry<CeilingRow>): string {
  const rows = e.rows.map((r) => [
    String(r.concurrency),
    String(r.objects),
    r.error ? 'failed' : num(r.seconds),
    num(r.objectsPerS),
    r.latencyMs ? `${num(r.latencyMs.p50)} / ${num(r.latencyMs.p95)}` : dash,
    r.controlPlaneCpuS ? pair(r.controlPlaneCpuS.apiserver, r.controlPlaneCpuS.etcd, 1, ' + ') : dash,
  ]);
  return [
    '## Apply ceiling',
    '',
    "The fan-out's objects (one namespace per app) applied by a bare server-side-apply loop as the controllers' user, on a fresh control plane per concurrency: the physical limit of the machine. The fan-out table gives each suite's objects/s as a share of the best rate here.",
    '',
    mdTable(
      ['concurrency', 'objects', 'seconds', 'objects/s', 'latency p50 / p95 (ms)', 'CPU-s apiserver + etcd'],
      rows,
    ),
  ].join('\n');
}

function restartSection(e: ScenarioEntry<RestartRow>): string {
  const rows = e.rows.map((r) => [
    suiteLabel[r.suite],
    String(r.pairs),
    num(r.initialS),
    r.error ? 'failed' : r.timeToReadyS === undefined ? 'timeout' : num(r.timeToReadyS),
    r.writes ? `${r.writes.objects} / ${r.writes.status} / ${r.writes.toolkit} / ${r.writes.events}` : dash,
    r.api ? String(r.api.total) : dash,
    r.git ? `${r.git.fetch} / ${r.git['ref-listing']}` : dash,
    pair(r.cpuS?.source, r.cpuS?.kustomize, 1, ' + '),
    pair(r.peakRssMiB?.source, r.peakRssMiB?.kustomize, 0),
  ]);
  return [
    '## Restart',
    '',
    "N pairs applied and Ready, then both controllers restarted: time from the new processes' start until each has reconciled every object (its `gotk_reconcile_duration_seconds_count`, polled every 2 s) and all are Ready; the writes they made (objects should be 0).",
    '',
    mdTable(
      [
        'suite',
        'pairs',
        'first apply (s)',
        'all Ready again (s)',
        'writes objects / status / toolkit / events',
        'API requests',
        'Git fetches / ref listings',
        'CPU-s source + kustomize',
        'peak RSS source / kustomize (MiB)',
      ],
      rows,
    ),
  ].join('\n');
}

function helmSection(e: ScenarioEntry<HelmRow>): string {
  const rows = e.rows.map((r) => [
    suiteLabel[r.suite],
    String(r.releases),
    r.error ? 'failed' : r.timeToReadyS === undefined ? `timeout (${r.ready})` : num(r.timeToReadyS),
    num(r.objectsPerS),
    pair(r.cpuS?.source, r.cpuS?.helm, 1, ' + '),
    pair(r.peakRssMiB?.source, r.peakRssMiB?.helm, 0),
    r.api ? String(r.api.total) : dash,
  ]);
  return [
    '## Helm fan-out',
    '',
    'N HelmReleases of one chart (the same four objects) from a HelmRepository on a local chart server, all created at once.',
    '',
    rows.length
      ? mdTable(
          [
            'suite',
            'releases',
            'all Ready (s)',
            'objects/s',
            'CPU-s source + helm',
            'peak RSS source / helm (MiB)',
            'API requests',
          ],
          rows,
        )
      : '_No suite ran._',
  ].join('\n');
}

/** The run's line, its notes and its flags (unless the flags are those of the section above: sameFlags). */
function metaBlock(m: RunMeta, notes: string[], sameFlags: boolean): string {
  const v = m.versions;
  const flux = v.flux
    ? `, Flux ${v.flux} (source-controller ${v['source-controller']}, kustomize-controller ${v['kustomize-controller']}, helm-controller ${v['helm-controller']}, ${v.go})`
    : '';
  const lines = [
    `_Run ${m.startedAt} → ${m.finishedAt} on ${m.machine.cpu}, ${m.machine.cores} cores, ${m.machine.memoryGiB} GiB, load ${m.machine.loadAvg.map((l) => l.toFixed(2)).join(' ')} at start; Node ${v.node}, Tide ${v.tide}, Kubernetes ${v.kubernetes}${flux}. Settings: ${Object.entries(
      m.settings,
    )
      .map(([k, val]) => `${k}=${Array.isArray(val) ? val.join(',') : String(val)}`)
      .join(', ')}.${m.note ? ` Note: ${m.note}.` : ''}_`,
  ];
  for (const n of notes) lines.push(`- ${n}`);
  if (sameFlags) {
    lines.push('', '_Flags as above._');
    return lines.join('\n');
  }
  lines.push(
    '',
    '<details><summary>flags</summary>',
    '',
    '```',
    ...flagLines(m),
    `kube-apiserver (added to the test bed's): ${m.apiserverFlags.join(' ')}`,
    '```',
    '',
    '</details>',
  );
  return lines.join('\n');
}

function flagLines(m: RunMeta): string[] {
  return Object.entries(m.flags).flatMap(([suite, cs]) =>
    Object.entries(cs).map(([c, args]) => `${suite} ${c}: ${args.join(' ')}`),
  );
}

/** README.md: every scenario present, in the issue's order. */
export function renderReadme(results: Results): string {
  const s = results.scenarios;
  const ceiling = ceilingRate(results);
  const parts = [
    '# Benchmarks',
    '',
    'Generated by `make bench` (code in `hack/bench/`); do not edit by hand. Every figure of a scenario comes from one run in which the suites ran one after the other, each on a fresh local control plane, with the same flags and the same (non-`system:masters`) identity. `FLUX_BIN_DIR=$(hack/bench/build-flux.sh | tail -1) make bench` adds the Flux columns; `results.json` holds every number with the machine, versions and flags.',
  ];
  let shownFlags = '';
  const add = <R>(e: ScenarioEntry<R> | undefined, section: (e: ScenarioEntry<R>) => string) => {
    if (!e) return;
    const flags = JSON.stringify([e.meta.flags, e.meta.apiserverFlags]);
    parts.push('', section(e), '', metaBlock(e.meta, e.notes, flags === shownFlags));
    shownFlags = flags;
  };
  add(s.fanout, (e) => fanoutSection(e, ceiling));
  add(s.commit, commitSection);
  add(s.idle, idleSection);
  add(s.ceiling, ceilingSection);
  add(s.restart, restartSection);
  add(s.helm, helmSection);
  return `${parts.join('\n')}\n`;
}

/** One scenario's table, for the terminal. */
export function renderSection(results: Results, name: ScenarioName): string {
  const s = results.scenarios;
  switch (name) {
    case 'fanout':
      return s.fanout ? fanoutSection(s.fanout, ceilingRate(results)) : '';
    case 'commit':
      return s.commit ? commitSection(s.commit) : '';
    case 'idle':
      return s.idle ? idleSection(s.idle) : '';
    case 'ceiling':
      return s.ceiling ? ceilingSection(s.ceiling) : '';
    case 'restart':
      return s.restart ? restartSection(s.restart) : '';
    case 'helm':
      return s.helm ? helmSection(s.helm) : '';
  }
}

const colors: Record<SuiteId, string> = { tide: '#0b7285', flux: '#c2255c' };

/** fanout.svg: time to all Ready, peak RSS and CPU-seconds against N; undefined without fan-out rows. */
export function renderFanoutSvg(results: Results): string | undefined {
  const e = results.scenarios.fanout;
  const rows = e?.rows.filter((r) => !r.error) ?? [];
  if (!e || rows.length === 0) return undefined;
  const suites = [...new Set(rows.map((r) => r.suite))];
  const series = (
    label: (s: SuiteId, c?: string) => string,
    value: (r: FanoutRow, c?: string) => number | undefined,
    controllers: (string | undefined)[],
  ): Series[] =>
    suites.flatMap((s) =>
      controllers.map((c) => ({
        label: label(s, c),
        color: colors[s],
        dashed: c === 'source',
        points: rows
          .filter((r) => r.suite === s && value(r, c) !== undefined)
          .map((r) => ({ x: r.n, y: value(r, c)! })),
      })),
    );
  const perController = (s: SuiteId, c?: string) => `${suiteLabel[s]} ${c}-controller`;
  const panels: Panel[] = [
    {
      title: 'Time to all Ready',
      xLabel: 'N (source + Kustomization pairs)',
      yLabel: 'seconds',
      series: series(
        (s) => `${suiteLabel[s]} (time)`,
        (r) => r.timeToReadyS,
        [undefined],
      ),
    },
    {
      title: 'Peak memory per controller',
      xLabel: 'N',
      yLabel: 'MiB (VmHWM)',
      series: series(perController, (r, c) => r.peakRssMiB?.[c!], ['kustomize', 'source']),
    },
    {
      title: 'CPU-seconds per controller',
      xLabel: 'N',
      yLabel: 'CPU-seconds',
      series: series(perController, (r, c) => r.cpuS?.[c!], ['kustomize', 'source']),
    },
  ];
  const m = e.meta;
  return renderCharts(
    panels,
    'Fan-out: Tide next to Flux',
    `${m.machine.cpu}, ${m.machine.cores} cores; --concurrent=${String(m.settings.concurrent)}; ${m.startedAt.slice(0, 10)}${m.note ? `; ${m.note}` : ''}`,
  );
}
