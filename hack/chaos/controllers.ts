// Tide's controllers as processes, the way pods run them: each in its own process group (SIGKILL takes
// the git, helm and kustomize processes it started with it), started again with the same flags, ports
// and storage after it was killed or stopped, as a pod restarts behind its Service. Reconcile counts
// survive restarts: what a process reported before it died is banked.
import { mkdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { nodeFlags } from '../../controllers/runtime/nodeflags.ts';
import { type ProcSample, sampleProc } from '../bench/procfs.ts';
import { parsePrometheusText } from '../bench/promtext.ts';
import { alive, freePort, startDaemon, stopGroup } from '../testbed/proc.ts';
import { hackDir } from '../testbed/tools.ts';

export const controllerNames = [
  'source',
  'kustomize',
  'helm',
  'image-reflector',
  'image-automation',
] as const;
export type ControllerName = (typeof controllerNames)[number];

interface Proc {
  name: ControllerName;
  args: string[];
  metricsPort: number;
  healthPort: number;
  pid: number;
  /** Resolves with the exit code (null when a signal ended it) once the current process exited. */
  exit: Promise<number | null>;
  startedAt: number;
  starts: number;
  logFiles: string[];
  /** Reconciles of earlier processes, and the last total this one reported. */
  banked: number;
  lastTotal: number;
}

/** gotk_reconcile_duration_seconds_count summed over every object: reconciles finished. */
export function reconcileTotal(metricsText: string): number {
  return parsePrometheusText(metricsText)
    .filter((s) => s.name === 'gotk_reconcile_duration_seconds_count')
    .reduce((a, s) => a + s.value, 0);
}

export class Controllers {
  private readonly procs = new Map<ControllerName, Proc>();
  private scraper: NodeJS.Timeout | undefined;
  /** SIGTERMs by outcome: exited by itself in time (of those, with a non-zero code), or killed after the grace period. */
  readonly terminations = { clean: 0, forced: 0, nonZeroExit: 0 };

  private readonly dir: string;
  private readonly env: NodeJS.ProcessEnv;
  private readonly log: (m: string) => void;

  constructor(dir: string, env: NodeJS.ProcessEnv, log: (m: string) => void) {
    this.dir = dir;
    this.env = env;
    this.log = log;
  }

  /** Starts a controller with its flags (kept for restarts) and waits until it answers /readyz. */
  async add(name: ControllerName, args: string[]): Promise<void> {
    const p: Proc = {
      name,
      args,
      metricsPort: await freePort(),
      healthPort: await freePort(),
      pid: 0,
      exit: Promise.resolve(null),
      startedAt: 0,
      starts: 0,
      logFiles: [],
      banked: 0,
      lastTotal: 0,
    };
    this.procs.set(name, p);
    await this.start(name);
  }

  names(): ControllerName[] {
    return [...this.procs.keys()];
  }

  private get(name: ControllerName): Proc {
    const p = this.procs.get(name);
    if (!p) throw new Error(`${name}-controller is not managed`);
    return p;
  }

  running(name: ControllerName): boolean {
    const p = this.get(name);
    return p.pid > 0 && alive(p.pid);
  }

  async start(name: ControllerName): Promise<void> {
    const p = this.get(name);
    if (this.running(name)) throw new Error(`${name}-controller is running`);
    p.starts++;
    await mkdir(join(this.dir, 'logs'), { recursive: true });
    const logFile = join(this.dir, 'logs', `${name}-${p.starts}.log`);
    p.logFiles.push(logFile);
    const child = startDaemon(
      process.execPath,
      [
        ...nodeFlags,
        join(hackDir, '..', 'controllers', name, 'main.ts'),
        `--metrics-addr=127.0.0.1:${p.metricsPort}`,
        `--health-addr=127.0.0.1:${p.healthPort}`,
        '--enable-leader-election=false',
        ...p.args,
      ],
      logFile,
      this.env,
    );
    if (!child.pid) throw new Error(`could not start ${name}-controller`);
    p.pid = child.pid;
    p.exit = new Promise((resolve) => child.once('exit', (code) => resolve(code)));
    p.startedAt = Date.now();
    p.lastTotal = 0;
    const deadline = Date.now() + 300_000;
    for (;;) {
      if (!alive(p.pid)) {
        const tail = (await readFile(logFile, 'utf8').catch(() => '')).split('\n').slice(-15).join('\n');
        throw new Error(`${name}-controller exited at start; log ${logFile}:\n${tail}`);
      }
      const ok = await fetch(`http://127.0.0.1:${p.healthPort}/readyz`)
        .then((r) => r.status === 200)
        .catch(() => false);
      if (ok) return;
      if (Date.now() > deadline) throw new Error(`${name}-controller never became ready; log ${logFile}`);
      await sleep(500);
    }
  }

  /** SIGKILL to the process group, as a pod is killed; resolves once everything in it is gone. */
  async kill(name: ControllerName): Promise<void> {
    const p = this.get(name);
    this.bank(p);
    try {
      process.kill(-p.pid, 'SIGKILL');
    } catch {
      // already gone
    }
    while (alive(p.pid)) await sleep(50);
  }

  /**
   * SIGTERM to the controller (the kubelet's signal to PID 1), then SIGKILL to the group after
   * graceMs, as the kubelet does after terminationGracePeriodSeconds.
   */
  async terminate(name: ControllerName, graceMs: number): Promise<void> {
    const p = this.get(name);
    await this.scrape(p);
    this.bank(p);
    process.kill(p.pid, 'SIGTERM');
    const code = await Promise.race([p.exit, sleep(graceMs).then(() => 'timeout' as const)]);
    if (code === 'timeout') {
      this.terminations.forced++;
      this.log(`${name}-controller did not exit within ${graceMs / 1000} s of SIGTERM: killed`);
    } else {
      this.terminations.clean++;
      if (code !== 0) {
        this.terminations.nonZeroExit++;
        this.log(`${name}-controller exited ${code} after SIGTERM`);
      }
    }
    // Whatever it left behind goes with the pod.
    try {
      process.kill(-p.pid, 'SIGKILL');
    } catch {
      // the group is empty
    }
  }

  private bank(p: Proc): void {
    p.banked += p.lastTotal;
    p.lastTotal = 0;
  }

  private async scrape(p: Proc): Promise<void> {
    if (!alive(p.pid)) return;
    const text = await fetch(`http://127.0.0.1:${p.metricsPort}/metrics`, {
      signal: AbortSignal.timeout(10_000),
    })
      .then((r) => r.text())
      .catch(() => undefined);
    if (text !== undefined) p.lastTotal = reconcileTotal(text);
  }

  /** Scrapes every controller's metrics every intervalMs, so a kill loses at most that much of its count. */
  startScraping(intervalMs = 10_000): void {
    const tick = async () => {
      for (const p of this.procs.values()) await this.scrape(p);
    };
    this.scraper = setInterval(() => void tick(), intervalMs);
  }

  /** Reconciles finished per controller over the run (every process of it). */
  async reconciles(): Promise<Record<string, number>> {
    const out: Record<string, number> = {};
    for (const p of this.procs.values()) {
      await this.scrape(p);
      out[p.name] = p.banked + p.lastTotal;
    }
    return out;
  }

  async sample(): Promise<Record<string, ProcSample & { uptimeS: number; starts: number }>> {
    const out: Record<string, ProcSample & { uptimeS: number; starts: number }> = {};
    for (const p of this.procs.values()) {
      const s = await sampleProc(p.pid);
      if (s) out[p.name] = { ...s, uptimeS: Math.round((Date.now() - p.startedAt) / 1000), starts: p.starts };
    }
    return out;
  }

  logFiles(): string[] {
    return [...this.procs.values()].flatMap((p) => p.logFiles);
  }

  async stopAll(): Promise<void> {
    if (this.scraper) clearInterval(this.scraper);
    await Promise.all([...this.procs.values()].map((p) => (p.pid ? stopGroup(p.pid, 30_000) : undefined)));
  }
}
