// The soak's settings, from the environment (`CHAOS_DURATION=3m CHAOS_SEED=7 make chaos`), and the
// seeded random source every choice of the run draws from, so a seed replays the same fault sequence.
import { parseDuration } from '../../controllers/runtime/duration.ts';

export interface ChaosConfig {
  /** How long faults are injected (the setup before and the final convergence after come on top). */
  durationMs: number;
  seed: number;
  /** GitRepository + Kustomization pairs. */
  pairs: number;
  helmReleases: number;
  /** How long the cluster may take to converge after one fault before the run counts it as failed. */
  convergeTimeoutMs: number;
  /** The controllers' RSS bound: end ≤ start × factor + slack. */
  rssFactor: number;
  rssSlackMiB: number;
  out: string;
  /** The faults to draw from (names of faults.ts); all when empty. */
  faults: string[];
  /** Keep the work directory (logs, control plane state) after the run. */
  keep: boolean;
}

export const help = `settings (environment):
  CHAOS_DURATION          how long faults are injected (30m)
  CHAOS_SEED              seed of the fault sequence and workload changes (random, printed)
  CHAOS_PAIRS             GitRepository + Kustomization pairs (20)
  CHAOS_HELM_RELEASES     HelmReleases (3)
  CHAOS_CONVERGE_TIMEOUT  convergence limit after one fault (15m)
  CHAOS_RSS_FACTOR        memory bound: end RSS <= start RSS x factor + slack (1.5)
  CHAOS_RSS_SLACK_MIB     (20)
  CHAOS_OUT               summary JSON (docs/benchmarks/chaos.json)
  CHAOS_FAULTS            comma-separated subset of the faults (all)
  CHAOS_KEEP=1            keep the work directory (a failed run always keeps it)`;

export class ConfigError extends Error {
  override name = 'ConfigError';
  constructor(message: string) {
    super(`${message}\n${help}`);
  }
}

function num(env: NodeJS.ProcessEnv, key: string, def: number, integer = true): number {
  const raw = env[key];
  if (raw === undefined || raw === '') return def;
  const v = Number(raw);
  if (!Number.isFinite(v) || v <= 0 || (integer && !Number.isInteger(v)))
    throw new ConfigError(`${key}=${raw}: want a positive ${integer ? 'integer' : 'number'}`);
  return v;
}

function duration(env: NodeJS.ProcessEnv, key: string, def: string): number {
  const raw = env[key] || def;
  try {
    const ms = parseDuration(raw);
    if (ms > 0) return ms;
  } catch {
    // reported below
  }
  throw new ConfigError(`${key}=${raw}: want a duration such as 90s, 3m or 1h`);
}

export function parseConfig(env: NodeJS.ProcessEnv, defaultOut: string): ChaosConfig {
  return {
    durationMs: duration(env, 'CHAOS_DURATION', '30m'),
    seed: env.CHAOS_SEED ? num(env, 'CHAOS_SEED', 1) : Math.floor(Math.random() * 2 ** 31),
    pairs: num(env, 'CHAOS_PAIRS', 20),
    helmReleases: num(env, 'CHAOS_HELM_RELEASES', 3),
    convergeTimeoutMs: duration(env, 'CHAOS_CONVERGE_TIMEOUT', '15m'),
    rssFactor: num(env, 'CHAOS_RSS_FACTOR', 1.5, false),
    rssSlackMiB: num(env, 'CHAOS_RSS_SLACK_MIB', 20, false),
    out: env.CHAOS_OUT || defaultOut,
    faults: (env.CHAOS_FAULTS ?? '')
      .split(',')
      .map((f) => f.trim())
      .filter(Boolean),
    keep: env.CHAOS_KEEP === '1' || env.CHAOS_KEEP === 'true',
  };
}

/** A seeded random source (mulberry32): the same seed gives the same sequence. */
export class Rng {
  private state: number;
  constructor(seed: number) {
    this.state = seed >>> 0;
  }
  /** Uniform in [0, 1). */
  next(): number {
    this.state = (this.state + 0x6d2b79f5) >>> 0;
    let t = this.state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }
  /** An integer in [min, max]. */
  int(min: number, max: number): number {
    return min + Math.floor(this.next() * (max - min + 1));
  }
  pick<T>(items: readonly T[]): T {
    if (items.length === 0) throw new Error('pick from an empty list');
    return items[Math.floor(this.next() * items.length)]!;
  }
  shuffle<T>(items: readonly T[]): T[] {
    const out = [...items];
    for (let i = out.length - 1; i > 0; i--) {
      const j = Math.floor(this.next() * (i + 1));
      [out[i], out[j]] = [out[j]!, out[i]!];
    }
    return out;
  }
}
