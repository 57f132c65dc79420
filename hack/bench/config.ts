// The benchmark's settings, from the environment (`BENCH_SCENARIOS=fanout BENCH_N=100,500 make bench`).

export const scenarioNames = ['fanout', 'commit', 'idle', 'ceiling', 'restart', 'helm'] as const;
export type ScenarioName = (typeof scenarioNames)[number];
export const suiteIds = ['tide', 'flux'] as const;
export type SuiteId = (typeof suiteIds)[number];

export interface BenchConfig {
  scenarios: ScenarioName[];
  suites: SuiteId[];
  /** Directory of Flux's binaries (hack/bench/build-flux.sh prints it); the Flux suite needs it. */
  fluxBinDir?: string;
  /** --concurrent of every controller. */
  concurrent: number;
  /** Memory cap of each controller in MiB (GOMEMLIMIT / --max-old-space-size); none when unset. */
  memoryLimitMiB?: number;
  fanoutN: number[];
  commitObjects: number;
  commits: number;
  idlePairs: number;
  idleMinutes: number;
  idleInterval: string;
  ceilingApps: number;
  ceilingConcurrency: number[];
  restartPairs: number;
  helmReleases: number;
  /** How long one wait (e.g. for all Ready) may take before the row is recorded as timed out. */
  timeoutMinutes: number;
  outDir: string;
  /** Where control planes and controllers keep their state; a temp dir when unset. */
  workDir?: string;
  /** Keep each scenario's directory (logs, audit log) instead of removing it. */
  keep: boolean;
  /** Free text recorded with the results, e.g. "busy machine". */
  note: string;
}

const help = `settings (environment):
  BENCH_SCENARIOS        ${scenarioNames.join(',')} (default: all)
  BENCH_SUITES           tide,flux (default: tide, plus flux when FLUX_BIN_DIR is set)
  FLUX_BIN_DIR           Flux's controllers, from hack/bench/build-flux.sh
  BENCH_CONCURRENT       --concurrent of every controller (4)
  BENCH_MEMORY_LIMIT_MIB GOMEMLIMIT / --max-old-space-size of every controller (none)
  BENCH_N                fan-out sizes (100,500,1000)
  BENCH_COMMIT_OBJECTS   objects of the commit scenario (1000)
  BENCH_COMMITS          commits per case (20)
  BENCH_IDLE_PAIRS       source + Kustomization pairs of the idle scenario (500)
  BENCH_IDLE_MINUTES     idle measurement window (10)
  BENCH_IDLE_INTERVAL    their interval (1m)
  BENCH_CEILING_APPS     apps (4 objects each) of the apply ceiling (1000)
  BENCH_CEILING_CONCURRENCY  (1,4,16,64)
  BENCH_RESTART_PAIRS    pairs applied before the restart (1000)
  BENCH_HELM_RELEASES    HelmReleases (200)
  BENCH_TIMEOUT_MINUTES  limit of one wait (30)
  BENCH_OUT              output directory (docs/benchmarks)
  BENCH_NODE_ARGS        extra Node flags of Tide's controllers, e.g. --cpu-prof --cpu-prof-dir=/tmp/prof
  BENCH_WORKDIR, BENCH_KEEP=1, BENCH_NOTE`;

export class ConfigError extends Error {
  override name = 'ConfigError';
  constructor(message: string) {
    super(`${message}\n${help}`);
  }
}

function positiveInt(env: NodeJS.ProcessEnv, key: string, def: number): number {
  const raw = env[key];
  if (raw === undefined || raw === '') return def;
  const v = Number(raw);
  if (!Number.isInteger(v) || v < 1) throw new ConfigError(`${key}=${raw}: want a positive integer`);
  return v;
}

function intList(env: NodeJS.ProcessEnv, key: string, def: number[]): number[] {
  const raw = env[key];
  if (raw === undefined || raw === '') return def;
  const vs = raw.split(',').map((s) => Number(s.trim()));
  if (vs.some((v) => !Number.isInteger(v) || v < 1))
    throw new ConfigError(`${key}=${raw}: want a comma-separated list of positive integers`);
  return vs;
}

function names<T extends string>(env: NodeJS.ProcessEnv, key: string, allowed: readonly T[], def: T[]): T[] {
  const raw = env[key];
  if (raw === undefined || raw === '') return def;
  const vs = raw.split(',').map((s) => s.trim()) as T[];
  const bad = vs.filter((v) => !allowed.includes(v));
  if (bad.length) throw new ConfigError(`${key}: unknown ${bad.join(', ')} (want ${allowed.join(', ')})`);
  return vs;
}

export function parseConfig(env: NodeJS.ProcessEnv, defaultOutDir: string): BenchConfig {
  const fluxBinDir = env.FLUX_BIN_DIR || undefined;
  const suites = names(env, 'BENCH_SUITES', suiteIds, fluxBinDir ? ['tide', 'flux'] : ['tide']);
  if (suites.includes('flux') && !fluxBinDir)
    throw new ConfigError('the flux suite needs FLUX_BIN_DIR (run hack/bench/build-flux.sh)');
  const interval = env.BENCH_IDLE_INTERVAL || '1m';
  if (!/^\d+(s|m)$/.test(interval))
    throw new ConfigError(`BENCH_IDLE_INTERVAL=${interval}: want e.g. 30s or 1m`);
  return {
    scenarios: names(env, 'BENCH_SCENARIOS', scenarioNames, [...scenarioNames]),
    suites,
    fluxBinDir,
    concurrent: positiveInt(env, 'BENCH_CONCURRENT', 4),
    memoryLimitMiB: env.BENCH_MEMORY_LIMIT_MIB ? positiveInt(env, 'BENCH_MEMORY_LIMIT_MIB', 0) : undefined,
    fanoutN: intList(env, 'BENCH_N', [100, 500, 1000]),
    commitObjects: positiveInt(env, 'BENCH_COMMIT_OBJECTS', 1000),
    commits: positiveInt(env, 'BENCH_COMMITS', 20),
    idlePairs: positiveInt(env, 'BENCH_IDLE_PAIRS', 500),
    idleMinutes: positiveInt(env, 'BENCH_IDLE_MINUTES', 10),
    idleInterval: interval,
    ceilingApps: positiveInt(env, 'BENCH_CEILING_APPS', 1000),
    ceilingConcurrency: intList(env, 'BENCH_CEILING_CONCURRENCY', [1, 4, 16, 64]),
    restartPairs: positiveInt(env, 'BENCH_RESTART_PAIRS', 1000),
    helmReleases: positiveInt(env, 'BENCH_HELM_RELEASES', 200),
    timeoutMinutes: positiveInt(env, 'BENCH_TIMEOUT_MINUTES', 30),
    outDir: env.BENCH_OUT || defaultOutDir,
    workDir: env.BENCH_WORKDIR || undefined,
    keep: env.BENCH_KEEP === '1' || env.BENCH_KEEP === 'true',
    note: env.BENCH_NOTE ?? '',
  };
}
