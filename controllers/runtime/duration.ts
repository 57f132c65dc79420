// Go-style durations: Flux specs carry them (`interval: 1m30s`) and Flux messages print them
// ("next run in 5m0s"), so Tide parses and formats them exactly as Go's time package does.

// Nanoseconds per unit; Go computes in integer nanoseconds, and so does the parser here.
const unitNs: Record<string, number> = {
  ns: 1,
  us: 1e3,
  µs: 1e3, // U+00B5 micro sign
  μs: 1e3, // U+03BC Greek mu
  ms: 1e6,
  s: 1e9,
  m: 60e9,
  h: 3600e9,
};

const part = /^(\d*)(?:\.(\d*))?(ns|us|µs|μs|ms|s|m|h)/;

/** Parses a Go duration string (`1m30s`, `500ms`, `1.5h`, `-2s`) into milliseconds; throws on bad input. */
export function parseDuration(s: string): number {
  const invalid = () => new Error(`invalid duration "${s}"`);
  let rest = s;
  let sign = 1;
  if (rest.startsWith('-') || rest.startsWith('+')) {
    if (rest[0] === '-') sign = -1;
    rest = rest.slice(1);
  }
  // Go accepts a bare zero without a unit, and nothing else without one.
  if (rest === '0') return 0;
  if (rest === '') throw invalid();
  let ns = 0;
  while (rest !== '') {
    const m = part.exec(rest);
    const whole = m?.[1] ?? '';
    const fraction = m?.[2] ?? '';
    if (!m || (whole === '' && fraction === '')) {
      throw /^[\d.]+$/.test(rest) ? new Error(`missing unit in duration "${s}"`) : invalid();
    }
    const unit = unitNs[m[3]!]!;
    ns += Number(whole || '0') * unit;
    if (fraction !== '') ns += Math.round((Number(fraction) * unit) / 10 ** fraction.length);
    rest = rest.slice(m[0].length);
  }
  if (!Number.isFinite(ns)) throw invalid();
  return (sign * ns) / 1e6;
}

// Formats v/10^prec with trailing zeros (and a lone dot) trimmed, as Go's fmtFrac does.
function frac(v: number, prec: number): string {
  const scale = 10 ** prec;
  const whole = Math.floor(v / scale);
  const digits = String(v % scale)
    .padStart(prec, '0')
    .replace(/0+$/, '');
  return digits === '' ? String(whole) : `${whole}.${digits}`;
}

/** Formats milliseconds the way Go's time.Duration.String does: `1m30s`, `5m0s`, `1h0m0s`, `150ms`, `0s`. */
export function formatDuration(ms: number): string {
  const ns = Math.round(Math.abs(ms) * 1e6);
  if (ns === 0) return '0s';
  const sign = ms < 0 ? '-' : '';
  if (ns < 1e3) return `${sign}${ns}ns`;
  if (ns < 1e6) return `${sign}${frac(ns, 3)}µs`;
  if (ns < 1e9) return `${sign}${frac(ns, 6)}ms`;
  const totalSecs = Math.floor(ns / 1e9);
  const seconds = `${frac((totalSecs % 60) * 1e9 + (ns % 1e9), 9)}s`;
  const totalMins = Math.floor(totalSecs / 60);
  if (totalMins === 0) return `${sign}${seconds}`;
  const hours = Math.floor(totalMins / 60);
  return `${sign}${hours > 0 ? `${hours}h` : ''}${totalMins % 60}m${seconds}`;
}

/**
 * Returns ms spread uniformly over ms ± fraction·ms (Flux's `--interval-jitter-percentage`,
 * 5% by default), so objects created together do not reconcile in lockstep.
 */
export function jitter(ms: number, fraction = 0.05, random: () => number = Math.random): number {
  if (fraction <= 0 || ms <= 0) return ms;
  return ms + (random() * 2 - 1) * fraction * ms;
}
