// CPU time and memory of a process from /proc, the way the benchmark counts them: CPU-seconds are
// utime + stime + cutime + cstime (so the git and kustomize processes a controller spawns and waits for
// are included), peak memory is VmHWM (the kernel's resident high-water mark).
import { execFileSync } from 'node:child_process';
import { readFile } from 'node:fs/promises';

export interface ProcStat {
  utime: number;
  stime: number;
  /** Children the process has waited for. */
  cutime: number;
  cstime: number;
}

/** Parses /proc/<pid>/stat (times in clock ticks). The command name may hold spaces and parentheses. */
export function parseProcStat(text: string): ProcStat {
  const close = text.lastIndexOf(')');
  if (close < 0) throw new Error('not a /proc/<pid>/stat line');
  // Fields after the name start at field 3 (state); utime is field 14.
  const f = text
    .slice(close + 2)
    .trim()
    .split(/\s+/);
  const num = (field: number) => {
    const v = Number(f[field - 3]);
    if (!Number.isFinite(v)) throw new Error(`/proc/<pid>/stat: field ${field} is not a number`);
    return v;
  };
  return { utime: num(14), stime: num(15), cutime: num(16), cstime: num(17) };
}

export interface ProcMemory {
  /** Resident set size now, KiB. */
  rssKiB: number;
  /** Peak resident set size, KiB. */
  hwmKiB: number;
}

/** Parses VmRSS and VmHWM out of /proc/<pid>/status. */
export function parseProcStatus(text: string): ProcMemory {
  const kib = (key: string) => {
    const m = new RegExp(`^${key}:\\s+(\\d+) kB$`, 'm').exec(text);
    if (!m) throw new Error(`/proc/<pid>/status has no ${key}`);
    return Number(m[1]);
  };
  return { rssKiB: kib('VmRSS'), hwmKiB: kib('VmHWM') };
}

let ticks: number | undefined;
/** Clock ticks per second (getconf CLK_TCK; 100 on every Linux we know of). */
export function clockTicks(): number {
  if (ticks === undefined) {
    try {
      ticks = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
    } catch {
      ticks = 100;
    }
  }
  return ticks;
}

export const cpuSeconds = (s: ProcStat, hz = clockTicks()) => (s.utime + s.stime + s.cutime + s.cstime) / hz;

export interface ProcSample {
  /** CPU-seconds since the process started, waited-for children included. */
  cpuS: number;
  rssMiB: number;
  peakRssMiB: number;
}

/** One reading of a live process; undefined when it is gone. */
export async function sampleProc(pid: number): Promise<ProcSample | undefined> {
  try {
    const [stat, status] = await Promise.all([
      readFile(`/proc/${pid}/stat`, 'utf8'),
      readFile(`/proc/${pid}/status`, 'utf8'),
    ]);
    const mem = parseProcStatus(status);
    return {
      cpuS: cpuSeconds(parseProcStat(stat)),
      rssMiB: mem.rssKiB / 1024,
      peakRssMiB: mem.hwmKiB / 1024,
    };
  } catch {
    return undefined;
  }
}

export interface RssSummary {
  avgMiB: number;
  maxMiB: number;
  samples: number;
}

/** Samples the RSS of named processes every intervalMs until stopped; the summary is per name. */
export function sampleRss(pids: () => Record<string, number>, intervalMs = 5_000) {
  const seen: Record<string, number[]> = {};
  const tick = async () => {
    for (const [name, pid] of Object.entries(pids())) {
      const s = await sampleProc(pid);
      if (s) seen[name] = [...(seen[name] ?? []), s.rssMiB];
    }
  };
  void tick();
  const timer = setInterval(() => void tick(), intervalMs);
  return {
    stop(): Record<string, RssSummary> {
      clearInterval(timer);
      return Object.fromEntries(Object.entries(seen).map(([n, v]) => [n, summarizeRss(v)]));
    },
  };
}

export function summarizeRss(values: number[]): RssSummary {
  const sum = values.reduce((a, b) => a + b, 0);
  return {
    avgMiB: values.length ? sum / values.length : 0,
    maxMiB: Math.max(0, ...values),
    samples: values.length,
  };
}
