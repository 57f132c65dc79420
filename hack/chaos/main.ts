// `make chaos`: a soak of Tide under random faults. A fresh local control plane, Tide's controllers as
// processes, a mixed workload (workload.ts) behind fault relays; then, for CHAOS_DURATION, publish
// changes, inject one fault (faults.ts), wait until the cluster holds what was published, record how
// long that took. At the end: objects lost, objects wrongly pruned, credentials leaked into logs, events,
// status or Git, controller memory against its bound. Prints the summary, writes it as JSON
// (docs/benchmarks/chaos.json) and exits non-zero when a check failed. Settings: config.ts.
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { KubeConfig } from '@kubernetes/client-node';
import { type Client, createClient } from '../../controllers/runtime/client.ts';
import { type FaultProxy, startFaultProxy } from '../../test/support/faults.ts';
import { repoRoot } from '../bench/suites.ts';
import { installCrds } from '../crds.ts';
import { type ControlPlaneState, startControlPlane, stopControlPlane } from '../testbed/controlplane.ts';
import { gitEnv, startGitHttpServer } from '../testbed/gitserver.ts';
import { elapsedLogger, freePort, run } from '../testbed/proc.ts';
import { startRegistry } from '../testbed/registry.ts';
import { startStaticServer } from '../testbed/staticserver.ts';
import { toolPaths } from '../testbed/tools.ts';
import { type ChaosConfig, ConfigError, parseConfig, Rng } from './config.ts';
import { type ControllerName, Controllers, controllerNames } from './controllers.ts';
import { type FaultEnv, type FaultName, faultNames, inject } from './faults.ts';
import {
  convergenceStats,
  countBy,
  type FaultRecord,
  failuresOf,
  renderSummary,
  rssRecord,
  type Summary,
} from './report.ts';
import { randomSecret, type Upstreams, Workload } from './workload.ts';

const log = elapsedLogger('chaos');

const cleanups: (() => Promise<void>)[] = [];
let keepWork = false;
async function cleanup(): Promise<void> {
  for (const f of cleanups.reverse()) await f().catch((err: Error) => log(`cleanup: ${err.message}`));
  cleanups.length = 0;
}

/** Polls the workload until it converged; the seconds it took, or undefined after timeoutMs. */
async function converge(
  workload: Workload,
  timeoutMs: number,
  what: string,
): Promise<{ seconds?: number; problems: string[] }> {
  const start = Date.now();
  let lastLog = start;
  let problems: string[] = ['not checked yet'];
  while (Date.now() - start < timeoutMs) {
    const res = await workload.check().catch((err: Error) => ({ converged: false, problems: [err.message] }));
    if (res.converged) return { seconds: Math.round((Date.now() - start) / 100) / 10, problems: [] };
    problems = res.problems;
    if (Date.now() - lastLog > 60_000) {
      lastLog = Date.now();
      log(`${what}: ${problems.length} not converged yet, e.g. ${problems.slice(0, 2).join(' | ')}`);
    }
    await sleep(3_000);
  }
  return { problems };
}

/** Where each credential marker appears (controller logs, events, status, the image-automation's Git history). */
async function findLeaks(
  admin: Client,
  controllers: Controllers,
  workload: Workload,
): Promise<{ where: string; marker: string }[]> {
  const places: { where: string; text: string }[] = [];
  for (const f of controllers.logFiles())
    places.push({ where: `log ${f.split('/').pop()}`, text: await readFile(f, 'utf8').catch(() => '') });
  const events = await admin.listAll({ group: '', version: 'v1', kind: 'Event' });
  places.push({ where: 'events', text: events.items.map((e) => JSON.stringify(e)).join('\n') });
  places.push({ where: 'status', text: await workload.statuses() });
  places.push({
    where: 'image-app Git history',
    text: await run('git', ['--git-dir', workload.imageRepoDir(), 'log', '-p', '--all'], { env: gitEnv }),
  });
  const out: { where: string; marker: string }[] = [];
  for (const marker of workload.secretMarkers())
    for (const p of places)
      if (p.text.includes(marker)) out.push({ where: p.where, marker: `${marker.slice(0, 6)}…` });
  return out;
}

type Tools = Awaited<ReturnType<typeof toolPaths>>;

/** The Git server, registry and chart repository (behind basic auth), each with its fault relay. */
async function startUpstreams(work: string): Promise<Upstreams> {
  const git = await startGitHttpServer(join(work, 'git'), 'tide', randomSecret('git'));
  cleanups.push(() => git.close());
  const registry = await startRegistry(join(work, 'registry'));
  cleanups.push(() => registry.close());
  const chartsRoot = join(work, 'charts');
  await mkdir(chartsRoot, { recursive: true });
  const chartsAuth = { username: 'charts', password: randomSecret('charts') };
  const charts = await startStaticServer(chartsRoot, chartsAuth);
  cleanups.push(() => charts.close());
  const proxies: FaultProxy[] = [];
  for (const url of [git.url, registry.url, charts.url]) proxies.push(await startFaultProxy(url));
  cleanups.push(async () => {
    await Promise.all(proxies.map((p) => p.close()));
  });
  const [gitProxy, registryProxy, chartsProxy] = proxies as [FaultProxy, FaultProxy, FaultProxy];
  return { git, gitProxy, registry, registryProxy, chartsRoot, chartsProxy, chartsAuth };
}

/** Every controller as a process, with Flux's flags; a retry delay capped at a minute. */
async function startControllers(
  work: string,
  controlPlane: ControlPlaneState,
  storagePath: string,
  tools: Tools,
): Promise<{ controllers: Controllers; common: string[] }> {
  await mkdir(storagePath, { recursive: true });
  await mkdir(join(work, 'reflector-storage'), { recursive: true });
  const storagePort = await freePort();
  const common = ['--concurrent=4', '--max-retry-delay=60s', '--log-level=info'];
  const flags: Record<ControllerName, string[]> = {
    source: [
      ...common,
      `--storage-path=${storagePath}`,
      `--storage-addr=127.0.0.1:${storagePort}`,
      `--storage-adv-addr=127.0.0.1:${storagePort}`,
    ],
    kustomize: [...common, `--kustomize-path=${tools.kustomize}`, `--sops-path=${tools.sops}`],
    helm: [...common, `--helm-path=${tools.helm}`, `--kustomize-path=${tools.kustomize}`],
    'image-reflector': [...common, `--storage-path=${join(work, 'reflector-storage')}`],
    'image-automation': [...common],
  };
  const controllers = new Controllers(
    work,
    { ...process.env, KUBECONFIG: controlPlane.kubeconfig, TMPDIR: await mkdtemp(join(work, 'tmp-')) },
    log,
  );
  cleanups.push(() => controllers.stopAll());
  for (const name of controllerNames) await controllers.add(name, flags[name]);
  log(`controllers running: ${controllers.names().join(', ')}`);
  return { controllers, common };
}

/** Until the duration is over: publish, inject one fault, wait for convergence; one record per fault. */
async function runFaults(
  cfg: ChaosConfig,
  drawFrom: FaultName[],
  env: FaultEnv,
  failures: string[],
): Promise<FaultRecord[]> {
  const { rng, controllers, workload } = env;
  const faults: FaultRecord[] = [];
  const faultStart = Date.now();
  let bag: FaultName[] = [];
  while (Date.now() - faultStart < cfg.durationMs) {
    if (bag.length === 0) bag = rng.shuffle(drawFrom);
    const name = bag.pop()!;
    await workload.mutate();
    log(`fault ${faults.length + 1}: ${name}`);
    const injected = await inject(env, name);
    const endedAt = new Date().toISOString();
    const res = await converge(workload, cfg.convergeTimeoutMs, name);
    faults.push({
      name,
      detail: injected.detail,
      endedAt,
      convergedS: res.seconds,
      ...(res.seconds === undefined ? { problems: res.problems.slice(0, 10) } : {}),
    });
    log(
      res.seconds === undefined
        ? `${name} (${injected.detail}): NOT converged after ${cfg.convergeTimeoutMs / 1000} s: ${res.problems.slice(0, 5).join(' | ')}`
        : `${name} (${injected.detail}): converged in ${res.seconds} s`,
    );
    if (res.seconds !== undefined) await workload.recordUids();
    for (const c of controllers.names())
      if (!controllers.running(c)) {
        failures.push(`${c}-controller exited by itself after ${name}`);
        log(`${c}-controller is not running: started again`);
        await controllers.start(c);
      }
  }
  return faults;
}

async function main(): Promise<number> {
  if (process.argv.includes('--help')) {
    console.log(new ConfigError('usage: make chaos [CHAOS_DURATION=30m CHAOS_SEED=n ...]').message);
    return 0;
  }
  const cfg: ChaosConfig = parseConfig(process.env, join(repoRoot, 'docs', 'benchmarks', 'chaos.json'));
  const rng = new Rng(cfg.seed);
  const unknown = cfg.faults.filter((f) => !(faultNames as readonly string[]).includes(f));
  if (unknown.length)
    throw new ConfigError(`CHAOS_FAULTS: unknown ${unknown.join(', ')} (want ${faultNames.join(', ')})`);
  const drawFrom = cfg.faults.length ? (cfg.faults as FaultName[]) : [...faultNames];
  const tools = await toolPaths([
    'etcd',
    'kube-apiserver',
    'kube-controller-manager',
    'kube-scheduler',
    'kwok',
    'kwok-stages',
    'helm',
    'kustomize',
    'sops',
  ]);
  const work = await mkdtemp(join(tmpdir(), 'tide-chaos-'));
  cleanups.push(async () => {
    if (cfg.keep || keepWork) log(`work directory kept: ${work}`);
    else await rm(work, { recursive: true, force: true });
  });
  log(`seed ${cfg.seed}, faults for ${cfg.durationMs / 1000} s, work in ${work}${cfg.keep ? ' (kept)' : ''}`);
  const startedAt = new Date().toISOString();

  const cpDir = join(work, 'controlplane');
  cleanups.push(() => stopControlPlane(cpDir, false));
  const controlPlane: ControlPlaneState = await startControlPlane({ dir: cpDir });
  const kc = new KubeConfig();
  kc.loadFromFile(controlPlane.kubeconfig);
  const admin = createClient(kc, { fieldManager: 'tide-chaos' });
  await installCrds(admin, 120_000, join(repoRoot, 'crds'));
  log(`control plane ${controlPlane.server} ready`);

  const up = await startUpstreams(work);
  const storagePath = join(work, 'source-storage');
  const { controllers, common } = await startControllers(work, controlPlane, storagePath, tools);
  const workload = new Workload(
    admin,
    work,
    up,
    rng,
    { pairs: cfg.pairs, helmReleases: cfg.helmReleases, helmBin: tools.helm },
    log,
  );
  cleanups.push(() => workload.close());
  const setupStart = Date.now();
  await workload.setup();
  const initial = await converge(workload, cfg.convergeTimeoutMs, 'initial convergence');
  const initialConvergenceS =
    initial.seconds === undefined ? undefined : Math.round((Date.now() - setupStart) / 1000);
  log(
    initialConvergenceS === undefined
      ? `the workload never converged: ${initial.problems.slice(0, 5).join(' | ')}`
      : `workload converged ${initialConvergenceS} s after it was created`,
  );
  await workload.recordUids();
  const initialObjects = workload.applied;
  controllers.startScraping();
  const rssStart = await controllers.sample();

  const failures: string[] = [];
  const faultStart = Date.now();
  const faults =
    initialConvergenceS === undefined
      ? []
      : await runFaults(
          cfg,
          drawFrom,
          { rng, controllers, controlPlane, ...up, storagePath, workload, log },
          failures,
        );
  const durationS = Math.round((Date.now() - faultStart) / 1000);

  log('final convergence');
  const final = await converge(workload, cfg.convergeTimeoutMs, 'final convergence');
  const finalCheck = await workload.check();
  if (final.seconds === undefined)
    failures.push(`no final convergence: ${final.problems.slice(0, 3).join(' | ')}`);
  else await workload.recordUids();
  const rssEnd = await controllers.sample();
  const reconciles = await controllers.reconciles();
  const leaks = await findLeaks(admin, controllers, workload);

  const rss: Summary['rss'] = {};
  for (const c of controllers.names()) {
    const a = rssStart[c];
    const b = rssEnd[c];
    if (a && b) rss[c] = rssRecord(a.rssMiB, b.rssMiB, b.uptimeS, b.starts, cfg.rssFactor, cfg.rssSlackMiB);
  }
  const base: Omit<Summary, 'failures'> = {
    startedAt,
    finishedAt: new Date().toISOString(),
    seed: cfg.seed,
    durationS,
    settings: {
      duration: `${cfg.durationMs / 1000}s`,
      pairs: cfg.pairs,
      helmReleases: cfg.helmReleases,
      convergeTimeout: `${cfg.convergeTimeoutMs / 1000}s`,
      controllerFlags: common,
    },
    workload: {
      kustomizations: workload.pairs.length + 2,
      helmReleases: cfg.helmReleases,
      initialObjects,
    },
    faults,
    faultsByType: countBy(faults.map((f) => f.name)),
    published: { ...workload.commits },
    reconciles,
    objectsApplied: workload.applied,
    initialConvergenceS,
    convergence: convergenceStats(faults),
    objectsLost: finalCheck.missing,
    wronglyPruned: workload.wronglyPruned,
    leakedSecrets: leaks,
    rss,
    rssBound: `end <= start x ${cfg.rssFactor} + ${cfg.rssSlackMiB} MiB`,
    sigterm: { ...controllers.terminations },
  };
  const summary: Summary = { ...base, failures: [...failures, ...failuresOf(base)] };
  // A failed run keeps its logs and state for the investigation.
  keepWork = summary.failures.length > 0;
  await mkdir(dirname(cfg.out), { recursive: true });
  await writeFile(cfg.out, `${JSON.stringify(summary, null, 2)}\n`);
  await cleanup();
  console.log(renderSummary(summary));
  log(`summary written to ${cfg.out}`);
  return summary.failures.length ? 1 : 0;
}

for (const sig of ['SIGINT', 'SIGTERM'] as const)
  process.once(sig, () => {
    log(`${sig}: stopping everything`);
    void cleanup().finally(() => process.exit(130));
  });

main().then(
  (code) => process.exit(code),
  (err: Error) => {
    log(err instanceof ConfigError ? err.message : (err.stack ?? err.message));
    keepWork = true;
    void cleanup().finally(() => process.exit(2));
  },
);
