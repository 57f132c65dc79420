// The suites under test and how their controllers run: Tide's as `node controllers/<name>/main.ts` on
// the project's Node, Flux's as the binaries build-flux.sh made. Both get the same flags (Flux's names),
// the same identity (the bench user's kubeconfig), the same TMPDIR on tmpfs when there is one, and no
// other difference.

import { execFile } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { mkdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { nodeFlags } from '../../controllers/runtime/nodeflags.ts';
import { alive, freePort, startDaemon, stopGroup } from '../testbed/proc.ts';
import { hackDir, toolPaths } from '../testbed/tools.ts';
import { type Bed, running } from './bed.ts';
import type { BenchConfig, SuiteId } from './config.ts';
import { type ProcSample, sampleProc } from './procfs.ts';

export type ControllerName = 'source' | 'kustomize' | 'helm';

export const repoRoot = join(hackDir, '..');

export interface Suite {
  id: SuiteId;
  label: string;
  /** CRDs the suite's controllers serve. */
  crdDir: string;
  /** Component versions recorded with the results. */
  versions: Record<string, string>;
  /** Why a controller cannot run (not built, not written yet); undefined when it can. */
  missing(name: ControllerName): string | undefined;
  /** The program and its leading arguments (before the flags) and extra environment. */
  program(name: ControllerName, cfg: BenchConfig): { cmd: string; args: string[]; env: NodeJS.ProcessEnv };
}

/** KEY=value lines (versions.env files). */
export function parseEnvFile(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const line of text.split('\n')) {
    const m = /^([A-Z0-9_]+)=(.*)$/.exec(line.trim());
    if (m) out[m[1]!] = m[2]!;
  }
  return out;
}

function tideSuite(): Suite {
  // The compiled controllers, as a Deployment runs them (`npm run build` first; see buildTide).
  const main = (name: ControllerName) => join(repoRoot, 'dist', 'controllers', name, 'main.js');
  return {
    id: 'tide',
    label: 'Tide',
    crdDir: join(repoRoot, 'crds'),
    versions: { node: process.version },
    missing: (name) =>
      existsSync(join(repoRoot, 'controllers', name, 'main.ts'))
        ? undefined
        : `${name}-controller not present (controllers/${name}/main.ts)`,
    program(name, cfg) {
      const heap = cfg.memoryLimitMiB ? [`--max-old-space-size=${cfg.memoryLimitMiB}`] : [];
      // Profiling flags (BENCH_NODE_ARGS) go to Tide only: they change what is measured.
      const extra = (process.env.BENCH_NODE_ARGS ?? '').split(/\s+/).filter(Boolean);
      return { cmd: process.execPath, args: [...nodeFlags, ...heap, ...extra, main(name)], env: {} };
    },
  };
}

function fluxSuite(binDir: string): Suite {
  const bin = (name: ControllerName) => join(binDir, `${name}-controller`);
  const versionsFile = join(binDir, 'versions.env');
  const v = existsSync(versionsFile) ? parseEnvFile(readFileSync(versionsFile, 'utf8')) : {};
  return {
    id: 'flux',
    label: 'Flux',
    crdDir: join(binDir, 'crds'),
    versions: {
      flux: v.FLUX_VERSION ?? 'unknown',
      'source-controller': v.SOURCE_CONTROLLER_VERSION ?? 'unknown',
      'kustomize-controller': v.KUSTOMIZE_CONTROLLER_VERSION ?? 'unknown',
      'helm-controller': v.HELM_CONTROLLER_VERSION ?? 'unknown',
      go: v.GO_VERSION ?? 'unknown',
    },
    missing: (name) =>
      existsSync(bin(name))
        ? undefined
        : `${name}-controller not present in FLUX_BIN_DIR (build it with hack/bench/build-flux.sh ${name})`,
    program: (name, cfg) => ({
      cmd: bin(name),
      args: [],
      env: cfg.memoryLimitMiB ? { GOMEMLIMIT: `${cfg.memoryLimitMiB}MiB` } : {},
    }),
  };
}

/** Compiles Tide into dist/ (what the suite runs), so a benchmark never measures stale code. */
export async function buildTide(): Promise<void> {
  const tsc = join(repoRoot, 'node_modules', '.bin', 'tsc');
  await new Promise<void>((resolve, reject) =>
    execFile(tsc, ['-p', join(repoRoot, 'tsconfig.build.json')], { cwd: repoRoot }, (err, _out, stderr) =>
      err ? reject(new Error(`npm run build failed: ${stderr || err.message}`)) : resolve(),
    ),
  );
}

export function suitesOf(cfg: BenchConfig): Suite[] {
  return cfg.suites.map((id) => (id === 'tide' ? tideSuite() : fluxSuite(cfg.fluxBinDir!)));
}

export interface Ports {
  metrics: number;
  health: number;
  storage: number;
}

/** The flags of one controller: Flux's names and defaults, everything on loopback. */
export function controllerFlags(
  name: ControllerName,
  cfg: BenchConfig,
  ports: Ports,
  storageDir: string,
): string[] {
  const flags = [
    `--concurrent=${cfg.concurrent}`,
    `--metrics-addr=127.0.0.1:${ports.metrics}`,
    `--health-addr=127.0.0.1:${ports.health}`,
    '--enable-leader-election=false',
    '--log-level=info',
  ];
  if (name === 'source')
    flags.push(
      `--storage-path=${storageDir}`,
      `--storage-addr=127.0.0.1:${ports.storage}`,
      `--storage-adv-addr=127.0.0.1:${ports.storage}`,
    );
  return flags;
}

/** The command line of each controller, ports and paths as placeholders, for the results. */
export function describeControllers(
  suite: Suite,
  names: ControllerName[],
  cfg: BenchConfig,
): Record<string, string[]> {
  const ports = { metrics: 0, health: 0, storage: 0 };
  const short = (a: string) =>
    a === process.execPath
      ? 'node'
      : a.startsWith(repoRoot)
        ? a.slice(repoRoot.length + 1)
        : a.split('/').at(-1)!;
  return Object.fromEntries(
    names.map((n) => {
      const prog = suite.program(n, cfg);
      const env = Object.entries(prog.env).map(([k, v]) => `${k}=${v}`);
      const flags = controllerFlags(n, cfg, ports, '<dir>').map((f) => f.replace(':0', ':<port>'));
      return [`${n}-controller`, [...env, short(prog.cmd), ...prog.args.map(short), ...flags]];
    }),
  );
}

export interface ControllerProcess {
  name: ControllerName;
  pid: number;
  metricsUrl: string;
  logFile: string;
}

/**
 * The controllers of one suite on one bed. Ports and storage stay the same across stop() and start(),
 * so a restart finds its artifacts where the objects' status says they are.
 */
export class ControllerSet {
  readonly procs: Partial<Record<ControllerName, ControllerProcess>> = {};
  private ports: Partial<Record<ControllerName, Ports>> = {};
  private starts = 0;
  private readonly stopAll = () => this.stop();

  readonly suite: Suite;
  readonly names: ControllerName[];
  private readonly bed: Bed;
  private readonly cfg: BenchConfig;
  private readonly tmpRoot: string;

  constructor(suite: Suite, names: ControllerName[], bed: Bed, cfg: BenchConfig, tmpRoot: string) {
    this.suite = suite;
    this.names = names;
    this.bed = bed;
    this.cfg = cfg;
    this.tmpRoot = tmpRoot;
  }

  /** Starts every controller and waits until each answers /readyz. */
  async start(): Promise<void> {
    this.starts++;
    running.add(this.stopAll);
    const tools = await toolPaths(['kustomize', 'sops', 'helm']);
    await Promise.all(
      this.names.map(async (name) => {
        const ports = this.ports[name] ?? {
          metrics: await freePort(),
          health: await freePort(),
          storage: await freePort(),
        };
        this.ports[name] = ports;
        const storage = join(this.bed.dir, `${name}-storage`);
        const tmp = join(this.tmpRoot, name);
        await mkdir(storage, { recursive: true });
        await mkdir(tmp, { recursive: true });
        const prog = this.suite.program(name, this.cfg);
        const logFile = join(this.bed.dir, `${this.suite.id}-${name}-${this.starts}.log`);
        const child = startDaemon(
          prog.cmd,
          [...prog.args, ...controllerFlags(name, this.cfg, ports, storage)],
          logFile,
          {
            ...process.env,
            ...prog.env,
            KUBECONFIG: this.bed.controllerKubeconfig,
            TMPDIR: tmp,
            TIDE_KUSTOMIZE_BIN: tools.kustomize,
            TIDE_SOPS_BIN: tools.sops,
            TIDE_HELM_BIN: tools.helm,
          },
        );
        if (!child.pid) throw new Error(`could not start ${prog.cmd}`);
        this.procs[name] = {
          name,
          pid: child.pid,
          metricsUrl: `http://127.0.0.1:${ports.metrics}/metrics`,
          logFile,
        };
        await this.waitReady(name, `http://127.0.0.1:${ports.health}/readyz`);
      }),
    );
  }

  private async waitReady(name: ControllerName, url: string): Promise<void> {
    const proc = this.procs[name]!;
    const deadline = Date.now() + 180_000;
    for (;;) {
      if (!alive(proc.pid)) {
        const tail = (await readFile(proc.logFile, 'utf8').catch(() => '')).split('\n').slice(-15).join('\n');
        throw new Error(
          `${this.suite.label} ${name}-controller exited at start; log ${proc.logFile}:\n${tail}`,
        );
      }
      const ok = await fetch(url)
        .then((r) => r.status === 200)
        .catch(() => false);
      if (ok) return;
      if (Date.now() > deadline)
        throw new Error(`${this.suite.label} ${name}-controller: ${url} never answered 200`);
      await sleep(250);
    }
  }

  pids(): Record<string, number> {
    return Object.fromEntries(Object.values(this.procs).map((p) => [p.name, p.pid]));
  }

  /** CPU and memory of every controller now (a stopped one is left out). */
  async sample(): Promise<Record<string, ProcSample>> {
    const out: Record<string, ProcSample> = {};
    for (const p of Object.values(this.procs)) {
      const s = await sampleProc(p.pid);
      if (s) out[p.name] = s;
    }
    return out;
  }

  /** Fails when a controller died (a crash is a result, not a slow run). */
  checkAlive(): void {
    for (const p of Object.values(this.procs))
      if (!alive(p.pid)) throw new Error(`${this.suite.label} ${p.name}-controller exited; log ${p.logFile}`);
  }

  async metrics(name: ControllerName): Promise<string> {
    const p = this.procs[name];
    if (!p) return '';
    return fetch(p.metricsUrl)
      .then((r) => r.text())
      .catch(() => '');
  }

  /** SIGTERM (the grace a pod gets: 30 s), then SIGKILL. */
  async stop(): Promise<void> {
    running.delete(this.stopAll);
    await Promise.all(Object.values(this.procs).map((p) => stopGroup(p.pid, 30_000)));
  }
}
