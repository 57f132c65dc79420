// A reader of the Prometheus text exposition format, enough for the apiserver's apiserver_request_total
// and the controllers' gotk_reconcile_duration_seconds_count.

export interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

const unescapeLabel = (s: string) => s.replace(/\\(["\\n])/g, (_, c: string) => (c === 'n' ? '\n' : c));

/** Parses every sample line; comments, blank lines and lines it cannot read are skipped. */
export function parsePrometheusText(text: string): Sample[] {
  const out: Sample[] = [];
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (!line || line.startsWith('#')) continue;
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{(?:[^"}]|"(?:[^"\\]|\\.)*")*\})?\s+(\S+)/.exec(line);
    if (!m) continue;
    const labels: Record<string, string> = {};
    if (m[2]) {
      for (const l of m[2].slice(1, -1).matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g)) {
        labels[l[1]!] = unescapeLabel(l[2]!);
      }
    }
    const value = m[3] === '+Inf' ? Infinity : m[3] === '-Inf' ? -Infinity : Number(m[3]);
    if (!Number.isNaN(value)) out.push({ name: m[1]!, labels, value });
  }
  return out;
}

/** Sums the samples of one metric by the key `keyOf` makes from their labels. */
export function sumBy(
  samples: Sample[],
  name: string,
  keyOf: (labels: Record<string, string>) => string,
): Record<string, number> {
  const out: Record<string, number> = {};
  for (const s of samples) {
    if (s.name !== name) continue;
    const k = keyOf(s.labels);
    out[k] = (out[k] ?? 0) + s.value;
  }
  return out;
}

/** after - before for every key of after (counters that only grow); zero deltas are dropped. */
export function diffCounts(
  after: Record<string, number>,
  before: Record<string, number>,
): Record<string, number> {
  const out: Record<string, number> = {};
  for (const [k, v] of Object.entries(after)) {
    const d = v - (before[k] ?? 0);
    if (d !== 0) out[k] = d;
  }
  return out;
}

/** apiserver_request_total by verb, dry-run requests apart (`PATCH (dry-run)`). */
export const requestsByVerb = (samples: Sample[]) =>
  sumBy(samples, 'apiserver_request_total', (l) => (l.dry_run ? `${l.verb} (dry-run)` : (l.verb ?? '')));

/**
 * `namespace/name` of every object of kind the controller has finished reconciling at least once
 * (gotk_reconcile_duration_seconds_count, Flux's metric that Tide also serves).
 */
export function reconciledObjects(samples: Sample[], kind: string): Set<string> {
  const out = new Set<string>();
  for (const s of samples) {
    if (s.name === 'gotk_reconcile_duration_seconds_count' && s.labels.kind === kind && s.value > 0)
      out.add(`${s.labels.namespace}/${s.labels.name}`);
  }
  return out;
}
