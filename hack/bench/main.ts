// `make bench`: runs the benchmark scenarios (hack/bench/scenarios/) for Tide and, with FLUX_BIN_DIR,
// for Flux's own controllers, one suite after the other on a fresh local control plane each; prints
// each scenario's table and writes docs/benchmarks/{results.json,README.md,fanout.svg}. Settings come
// from the environment (see config.ts or `node hack/bench/main.ts --help`).
import { existsSync, readFileSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { cpus, loadavg, release, tmpdir, totalmem } from 'node:os';
import { join } from 'node:path';
import { elapsedLogger, run } from '../testbed/proc.ts';
import { toolPaths } from '../testbed/tools.ts';
import { stopEverything } from './bed.ts';
import { type BenchConfig, ConfigError, parseConfig, type ScenarioName } from './config.ts';
import {
  parseResults,
  type Results,
  type RunMeta,
  renderFanoutSvg,
  renderReadme,
  renderSection,
  withScenario,
} from './report.ts';
import type { Context, ScenarioOutput } from './scenario.ts';
import { runCeiling } from './scenarios/ceiling.ts';
import { runCommit } from './scenarios/commit.ts';
import { runFanout } from './scenarios/fanout.ts';
import { runHelm } from './scenarios/helm.ts';
import { runIdle } from './scenarios/idle.ts';
import { runRestart } from './scenarios/restart.ts';
import { buildTide, parseEnvFile, repoRoot, type Suite, suitesOf } from './suites.ts';

const log = elapsedLogger('bench');

// biome-ignore lint/suspicious/noExplicitAny: each scenario has its own row type
const runners: Record<ScenarioName, (ctx: Context) => Promise<ScenarioOutput<any>>> = {
  fanout: runFanout,
  commit: runCommit,
  idle: runIdle,
  ceiling: runCeiling,
  restart: runRestart,
  helm: runHelm,
};

/** The settings that shape a scenario's numbers, recorded beside them. */
function settingsOf(name: ScenarioName, cfg: BenchConfig): Record<string, unknown> {
  const common = { concurrent: cfg.concurrent, memoryLimitMiB: cfg.memoryLimitMiB ?? 'none' };
  switch (name) {
    case 'fanout':
      return { ...common, n: cfg.fanoutN };
    case 'commit':
      return { ...common, objects: cfg.commitObjects, commits: cfg.commits };
    case 'idle':
      return { ...common, pairs: cfg.idlePairs, minutes: cfg.idleMinutes, interval: cfg.idleInterval };
    case 'ceiling':
      return { apps: cfg.ceilingApps, concurrency: cfg.ceilingConcurrency };
    case 'restart':
      return { ...common, pairs: cfg.restartPairs };
    case 'helm':
      return { ...common, releases: cfg.helmReleases };
  }
}

async function machine(): Promise<RunMeta['machine']> {
  const info = await readFile('/proc/cpuinfo', 'utf8').catch(() => '');
  return {
    cpu: /^model name\s*:\s*(.+)$/m.exec(info)?.[1]?.trim() ?? cpus()[0]?.model ?? 'unknown',
    cores: cpus().length,
    memoryGiB: Math.round((totalmem() / 1024 ** 3) * 10) / 10,
    kernel: release(),
    loadAvg: loadavg(),
  };
}

async function versions(suites: Suite[]): Promise<Record<string, string>> {
  const git = (...args: string[]) =>
    run('git', ['-C', repoRoot, ...args]).then(
      (s) => s.trim(),
      () => '',
    );
  const commit = await git('rev-parse', '--short=12', 'HEAD');
  const dirty = (await git('status', '--porcelain', '--', 'controllers', 'hack', 'crds')) !== '';
  const pinned = parseEnvFile(readFileSync(join(repoRoot, 'hack', 'versions.env'), 'utf8'));
  return {
    node: process.version,
    tide: `${commit || 'unknown'}${dirty ? '+dirty' : ''}`,
    kubernetes: `v${pinned.KUBERNETES_VERSION}`,
    etcd: `v${pinned.ETCD_VERSION}`,
    kustomize: `v${pinned.KUSTOMIZE_VERSION}`,
    helm: `v${pinned.HELM_VERSION}`,
    ...Object.assign({}, ...suites.map((s) => (s.id === 'flux' ? s.versions : {}))),
  };
}

async function main(): Promise<number> {
  if (process.argv.includes('--help')) {
    console.log(new ConfigError('usage: make bench [VAR=value ...]').message);
    return 0;
  }
  const cfg = parseConfig(process.env, join(repoRoot, 'docs', 'benchmarks'));
  const suites = suitesOf(cfg);
  if (suites.some((s) => s.id === 'tide')) await buildTide();
  await toolPaths([
    'etcd',
    'kube-apiserver',
    'kube-controller-manager',
    'kube-scheduler',
    'kwok',
    'kwok-stages',
  ]);
  for (const s of suites) {
    if (!existsSync(s.crdDir)) throw new Error(`${s.label}: no CRDs in ${s.crdDir}`);
    const missing = s.missing('source') ?? s.missing('kustomize');
    if (missing) throw new Error(`${s.label}: ${missing}`);
  }
  const workRoot = cfg.workDir ?? (await mkdtemp(join(tmpdir(), 'tide-bench-')));
  await mkdir(workRoot, { recursive: true });
  // Controllers' scratch space on tmpfs, as flux-benchmark runs kustomize-controller's /tmp.
  const tmpRoot = existsSync('/dev/shm') ? await mkdtemp('/dev/shm/tide-bench-') : join(workRoot, 'tmp');
  const cleanup = async () => {
    await stopEverything();
    await rm(tmpRoot, { recursive: true, force: true });
    if (!cfg.keep && !cfg.workDir) await rm(workRoot, { recursive: true, force: true });
  };
  for (const sig of ['SIGINT', 'SIGTERM'] as const) {
    process.once(sig, () => {
      log(`${sig}: stopping everything`);
      void cleanup().finally(() => process.exit(130));
    });
  }
  const ctx: Context = { cfg, suites, workRoot, tmpRoot, log };
  const vers = await versions(suites);
  log(
    `scenarios ${cfg.scenarios.join(', ')}; suites ${suites.map((s) => s.label).join(', ')}; work in ${workRoot}${cfg.keep ? ' (kept)' : ''}`,
  );
  const resultsFile = join(cfg.outDir, 'results.json');
  try {
    for (const name of cfg.scenarios) {
      const startedAt = new Date().toISOString();
      const mach = await machine();
      log(`scenario ${name}`);
      const out = await runners[name](ctx);
      const meta: RunMeta = {
        startedAt,
        finishedAt: new Date().toISOString(),
        note: cfg.note,
        machine: mach,
        versions: vers,
        flags: out.flags,
        apiserverFlags: out.apiserverFlags.map((f) => f.replace(/=\/.*\/([^/]+)$/, '=<dir>/$1')),
        settings: settingsOf(name, cfg),
      };
      await mkdir(cfg.outDir, { recursive: true });
      const previous = parseResults(await readFile(resultsFile, 'utf8').catch(() => undefined));
      const results: Results = withScenario(previous, name, { meta, rows: out.rows, notes: out.notes });
      await writeFile(resultsFile, `${JSON.stringify(results, null, 2)}\n`);
      await writeFile(join(cfg.outDir, 'README.md'), renderReadme(results));
      const svg = renderFanoutSvg(results);
      if (svg) await writeFile(join(cfg.outDir, 'fanout.svg'), svg);
      console.log(`\n${renderSection(results, name)}\n`);
      for (const n of out.notes) console.log(`note: ${n}`);
    }
  } finally {
    await cleanup();
  }
  log(`done; results in ${cfg.outDir}`);
  return 0;
}

main().then(
  (code) => process.exit(code),
  (err: Error) => {
    log(err instanceof ConfigError ? err.message : (err.stack ?? err.message));
    void stopEverything().finally(() => process.exit(1));
  },
);
