// The overview's logic: filtering and searching rows, ordering them failures first, and counting states
// per namespace and per kind. Pure, so the browser runs it on every keystroke and tests run it alone.
import { type Row, type State, States, stateOrder } from './rows.ts';

export type Counts = Record<State, number> & { total: number };

export const emptyCounts = (): Counts => ({
  total: 0,
  [States.Failing]: 0,
  [States.Progressing]: 0,
  [States.Suspended]: 0,
  [States.Ready]: 0,
});

export interface Filter {
  /** Free text: every word must match name, namespace, kind, reason, message or revision. */
  text: string;
  /** Only these kinds; all when empty. */
  kinds: readonly string[];
  /** Only this namespace; all when empty. */
  namespace: string;
  /** Only these states; all when empty. */
  states: readonly State[];
}

export const emptyFilter = (): Filter => ({ text: '', kinds: [], namespace: '', states: [] });

/**
 * A word of the search box: `kind:`, `ns:` (or `namespace:`) and `state:` prefixes match that field
 * only (prefix of the value, case-insensitive); any other word matches a substring of any field.
 */
interface Term {
  field?: 'kind' | 'namespace' | 'state';
  value: string;
}

export function parseSearch(text: string): Term[] {
  const terms: Term[] = [];
  for (const word of text.toLowerCase().split(/\s+/)) {
    if (!word) continue;
    const m = /^(kind|ns|namespace|state):(.*)$/.exec(word);
    if (!m) terms.push({ value: word });
    else if (m[2]) terms.push({ field: m[1] === 'ns' ? 'namespace' : (m[1] as Term['field']), value: m[2] });
  }
  return terms;
}

/** The lower-cased text a free word is searched in, built once per row and cached by the caller. */
export const haystackOf = (r: Row): string =>
  `${r.name}\n${r.namespace}\n${r.kind}\n${r.reason}\n${r.message}\n${r.revision}`.toLowerCase();

function termMatches(r: Row, t: Term, haystack: () => string): boolean {
  if (t.field === 'kind') return r.kind.toLowerCase().startsWith(t.value);
  if (t.field === 'namespace') return r.namespace.toLowerCase().startsWith(t.value);
  if (t.field === 'state') return r.state.startsWith(t.value);
  return haystack().includes(t.value);
}

/** A predicate for the filter (parse once, test many rows). */
export function compileFilter(f: Filter, haystacks?: WeakMap<Row, string>): (r: Row) => boolean {
  const terms = parseSearch(f.text);
  const kinds = new Set(f.kinds);
  const states = new Set(f.states);
  return (r) => {
    if (kinds.size && !kinds.has(r.kind)) return false;
    if (f.namespace && r.namespace !== f.namespace) return false;
    if (states.size && !states.has(r.state)) return false;
    if (!terms.length) return true;
    let cached: string | undefined = haystacks?.get(r);
    const haystack = () => {
      if (cached === undefined) {
        cached = haystackOf(r);
        haystacks?.set(r, cached);
      }
      return cached;
    };
    return terms.every((t) => termMatches(r, t, haystack));
  };
}

const rank = new Map(stateOrder.map((s, i) => [s, i]));

/**
 * Failures first, then progressing, suspended and ready; within a state the most recent change of Ready
 * first (the fresh failure above the old one), then namespace, kind and name.
 */
export function compareRows(a: Row, b: Row): number {
  const s = (rank.get(a.state) ?? 9) - (rank.get(b.state) ?? 9);
  if (s !== 0) return s;
  const since = (b.since ?? '').localeCompare(a.since ?? '');
  if (since !== 0 && a.state !== States.Ready) return since;
  return (
    a.namespace.localeCompare(b.namespace) || a.kind.localeCompare(b.kind) || a.name.localeCompare(b.name)
  );
}

/** The rows the filter keeps, in overview order. */
export function selectRows(rows: Iterable<Row>, f: Filter, haystacks?: WeakMap<Row, string>): Row[] {
  const keep = compileFilter(f, haystacks);
  const out: Row[] = [];
  for (const r of rows) if (keep(r)) out.push(r);
  return out.sort(compareRows);
}

export function countRows(rows: Iterable<Row>): Counts {
  const c = emptyCounts();
  for (const r of rows) {
    c.total++;
    c[r.state]++;
  }
  return c;
}

export interface Group {
  name: string;
  counts: Counts;
}

/**
 * State counts per value of `by` (namespace, kind), groups with failures first (most failures first),
 * then by name.
 */
export function groupCounts(rows: Iterable<Row>, by: (r: Row) => string): Group[] {
  const groups = new Map<string, Counts>();
  for (const r of rows) {
    const k = by(r);
    let c = groups.get(k);
    if (!c) {
      c = emptyCounts();
      groups.set(k, c);
    }
    c.total++;
    c[r.state]++;
  }
  return [...groups]
    .map(([name, counts]) => ({ name, counts }))
    .sort(
      (a, b) =>
        b.counts.failing - a.counts.failing ||
        b.counts.progressing - a.counts.progressing ||
        a.name.localeCompare(b.name),
    );
}
