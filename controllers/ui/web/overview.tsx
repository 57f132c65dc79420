// The overview: every Tide object the viewer may see, failures first, with state counts per namespace
// and per kind, and a search box and filters that narrow everything at once.
import { useMemo, useState } from 'preact/hooks';
import { compileFilter, countRows, type Filter, groupCounts, selectRows } from '../model/overview.ts';
import type { Row, State } from '../model/rows.ts';
import { live, useLive } from './api.ts';
import { Choice, CountCards, CountTable, Notice, StateBadge } from './components.tsx';
import { ago, shortRevision } from './format.ts';
import { objectHref, replaceQuery } from './router.ts';

const haystacks = new WeakMap<Row, string>();
const pageSize = 250;

function filterOf(q: URLSearchParams): Filter {
  const list = (k: string) => (q.get(k) ?? '').split(',').filter(Boolean);
  return {
    text: q.get('q') ?? '',
    kinds: list('kind'),
    namespace: q.get('ns') ?? '',
    states: list('state') as State[],
  };
}

function queryOf(f: Filter): Record<string, string> {
  return { q: f.text, kind: f.kinds.join(','), ns: f.namespace, state: f.states.join(',') };
}

function RowLine({ r, now }: { r: Row; now: number }) {
  return (
    <tr class={`row row-${r.state}`} data-key={r.key}>
      <td>
        <StateBadge state={r.state} />
      </td>
      <td class="kind">{r.kind}</td>
      <td class="name">
        <a href={objectHref(r.kind, r.namespace, r.name)}>
          <span class="ns">{r.namespace}/</span>
          {r.name}
        </a>
      </td>
      <td class="revision" title={r.revision}>
        {shortRevision(r.revision)}
      </td>
      <td class="message">
        {r.reason && <span class="reason">{r.reason}</span>} {r.message}
      </td>
      <td class="since" title={r.since}>
        {ago(r.since, now)}
      </td>
    </tr>
  );
}

export function Overview({ query }: { query: URLSearchParams }) {
  const version = useLive();
  const [filter, setFilterState] = useState<Filter>(() => filterOf(query));
  const [limit, setLimit] = useState(pageSize);
  const setFilter = (f: Filter) => {
    setFilterState(f);
    setLimit(pageSize);
    replaceQuery(queryOf(f));
  };
  const all = useMemo(() => [...live.rows.values()], [version]);
  const shown = useMemo(() => selectRows(all, filter, haystacks), [all, filter]);
  // Counts follow the search and kind filters but not the state filter, so the cards stay clickable.
  const counted = useMemo(() => {
    const keep = compileFilter({ ...filter, states: [] }, haystacks);
    return all.filter(keep);
  }, [all, filter]);
  const counts = useMemo(() => countRows(counted), [counted]);
  const byNamespace = useMemo(() => groupCounts(counted, (r) => r.namespace), [counted]);
  const byKind = useMemo(() => groupCounts(counted, (r) => r.kind), [counted]);
  const namespaces = useMemo(() => [...new Set(all.map((r) => r.namespace))].sort(), [all]);
  const now = Date.now();
  const toggleState = (s: State) =>
    setFilter({
      ...filter,
      states: filter.states.includes(s) ? filter.states.filter((x) => x !== s) : [...filter.states, s],
    });
  const unavailable = live.kinds.filter((k) => k.availability === 'forbidden' || k.availability === 'error');

  return (
    <main class="overview">
      <CountCards counts={counts} selected={filter.states} onSelect={toggleState} />
      <div class="filters">
        <input
          type="search"
          class="search"
          aria-label="Search"
          placeholder="Search name, namespace, message, revision — kind:ks ns:apps state:failing"
          value={filter.text}
          onInput={(e) => setFilter({ ...filter, text: (e.target as HTMLInputElement).value })}
        />
        <Choice
          label="Kind"
          all="All kinds"
          value={filter.kinds[0] ?? ''}
          values={live.kinds.filter((k) => k.availability === 'ok').map((k) => k.kind)}
          onChange={(v) => setFilter({ ...filter, kinds: v ? [v] : [] })}
        />
        <Choice
          label="Namespace"
          all="All namespaces"
          value={filter.namespace}
          values={namespaces}
          onChange={(v) => setFilter({ ...filter, namespace: v })}
        />
        {Boolean(filter.text || filter.kinds.length || filter.namespace || filter.states.length) && (
          <button
            type="button"
            class="link"
            onClick={() => setFilter({ text: '', kinds: [], namespace: '', states: [] })}
          >
            Clear filters
          </button>
        )}
      </div>
      {unavailable.map((k) => (
        <Notice key={k.kind} kind="info">
          {k.kind}: {k.message}
        </Notice>
      ))}
      <div class="overview-body">
        <aside class="groups">
          <CountTable
            title="Namespace"
            groups={byNamespace}
            selected={filter.namespace}
            onSelect={(name) => setFilter({ ...filter, namespace: name })}
          />
          <CountTable
            title="Kind"
            groups={byKind}
            selected={filter.kinds[0] ?? ''}
            onSelect={(name) => setFilter({ ...filter, kinds: name ? [name] : [] })}
          />
        </aside>
        <section class="rows">
          {live.connection !== 'connecting' && shown.length === 0 && (
            <Notice kind="info">
              {all.length ? 'Nothing matches the filters.' : 'No Tide objects yet.'}
            </Notice>
          )}
          <table class="objects" aria-label="Objects">
            <thead>
              <tr>
                <th>State</th>
                <th>Kind</th>
                <th>Name</th>
                <th>Revision</th>
                <th>Message</th>
                <th>Since</th>
              </tr>
            </thead>
            <tbody>
              {shown.slice(0, limit).map((r) => (
                <RowLine key={r.key} r={r} now={now} />
              ))}
            </tbody>
          </table>
          {shown.length > limit && (
            <button type="button" class="more" onClick={() => setLimit(shown.length)}>
              Show all {shown.length} (showing {limit})
            </button>
          )}
        </section>
      </div>
    </main>
  );
}
