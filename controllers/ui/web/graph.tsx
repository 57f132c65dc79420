// The dependency graph of Kustomizations and HelmReleases (dependsOn) and the sources they read. Each
// edge is coloured by whether it holds and says why in its tooltip and in the list beside the drawing;
// a namespace, a search or a focused object narrow it. Reloaded when the live rows change.
import { useEffect, useMemo, useState } from 'preact/hooks';
import { layout, neighbourhood } from '../model/layout.ts';
import type { Graph, GraphEdge, GraphNode } from '../model/views.ts';
import { live, useJson, useLive } from './api.ts';
import { Choice, Notice, StateBadge } from './components.tsx';
import { graphHref, objectHref, replaceQuery } from './router.ts';

const W = 220;
const H = 44;
const maxNodes = 400;

function label(n: GraphNode) {
  const r = n.row ?? n.missing;
  return { kind: r?.kind ?? '', namespace: r?.namespace ?? '', name: r?.name ?? n.key };
}

/** Reloads the graph at most every 500 ms while rows change. */
function useGraphVersion() {
  const version = useLive();
  const [settled, setSettled] = useState(version);
  useEffect(() => {
    const t = setTimeout(() => setSettled(version), 500);
    return () => clearTimeout(t);
  }, [version]);
  return settled;
}

function EdgeLine({ e, nodes }: { e: GraphEdge; nodes: ReturnType<typeof layout>['nodes'] }) {
  const a = nodes.get(e.from);
  const b = nodes.get(e.to);
  if (!a || !b) return null;
  const x1 = a.x;
  const y1 = a.y + H / 2;
  const x2 = b.x + W;
  const y2 = b.y + H / 2;
  const mid = (x1 + x2) / 2;
  return (
    <path
      class={`edge edge-${e.state} edge-${e.type}`}
      d={`M${x1},${y1} C${mid},${y1} ${mid},${y2} ${x2},${y2}`}
      marker-end={`url(#arrow-${e.state})`}
    >
      <title>{e.reason}</title>
    </path>
  );
}

function EdgeList({ edges, title }: { edges: GraphEdge[]; title: string }) {
  const name = (k: string) => k.split('/').slice(1).join('/');
  return (
    <div class="edge-list">
      <h3>{title}</h3>
      {edges.length === 0 && <p class="muted">None.</p>}
      <ul>
        {edges.map((e) => (
          <li key={`${e.from}>${e.to}`} class={`edge-item edge-${e.state}`} data-from={e.from} data-to={e.to}>
            <span class={`badge edge-${e.state}`}>{e.state === 'ok' ? 'holds' : e.state}</span>{' '}
            <b>{name(e.from)}</b> → <b>{name(e.to)}</b>
            <span class="muted"> ({e.type === 'dependsOn' ? 'depends on' : 'source'})</span>
            <div class="edge-reason">{e.reason}</div>
          </li>
        ))}
      </ul>
    </div>
  );
}

export function GraphPage({ query }: { query: URLSearchParams }) {
  const version = useGraphVersion();
  const graph = useJson<Graph>('/api/graph', [version]);
  // The route's query is the one place the choices live: links set them, typing replaces them.
  const ns = query.get('ns') ?? '';
  const text = query.get('q') ?? '';
  const focus = query.get('focus') ?? '';
  const choose = (change: Record<string, string>) => replaceQuery({ ns, q: text, focus, ...change });
  const g = graph.data;
  const view = useMemo(() => {
    if (!g) return undefined;
    let keep = new Set(g.nodes.map((n) => n.key));
    if (focus) keep = neighbourhood(focus, g.edges);
    const lower = text.toLowerCase();
    const matches = (n: GraphNode) => {
      const l = label(n);
      return (
        (!ns || l.namespace === ns) && (!lower || `${l.namespace}/${l.name}`.toLowerCase().includes(lower))
      );
    };
    if (ns || lower) {
      // The matching nodes, plus what they point at, so a blocked edge always shows both ends.
      const hits = new Set(g.nodes.filter((n) => keep.has(n.key) && matches(n)).map((n) => n.key));
      for (const e of g.edges) if (hits.has(e.from)) hits.add(e.to);
      keep = hits;
    }
    const nodes = g.nodes.filter((n) => keep.has(n.key));
    const edges = g.edges.filter((e) => keep.has(e.from) && keep.has(e.to));
    return { nodes, edges };
  }, [g, ns, text, focus]);
  const placed = useMemo(
    () =>
      view && view.nodes.length <= maxNodes
        ? layout(
            view.nodes.map((n) => n.key),
            view.edges,
            { nodeWidth: W, nodeHeight: H },
          )
        : undefined,
    [view],
  );
  const namespaces = useMemo(() => [...new Set((g?.nodes ?? []).map((n) => label(n).namespace))].sort(), [g]);
  if (graph.error) return <Notice kind="error">{graph.error.message}</Notice>;
  if (!g || !view) return <p class="muted">Loading the graph…</p>;
  const blocked = view.edges.filter((e) => e.state !== 'ok');
  const focused = focus ? view.edges.filter((e) => e.from === focus || e.to === focus) : [];
  return (
    <main class="graph-page">
      <div class="filters">
        <input
          type="search"
          class="search"
          aria-label="Search the graph"
          placeholder="Search namespace/name"
          value={text}
          onInput={(e) => choose({ q: (e.target as HTMLInputElement).value })}
        />
        <Choice
          label="Namespace"
          all="All namespaces"
          value={ns}
          values={namespaces}
          onChange={(v) => choose({ ns: v })}
        />
        {focus && (
          <button type="button" class="link" onClick={() => choose({ focus: '' })}>
            Show everything (focused on {focus})
          </button>
        )}
        <span class="muted">
          {view.nodes.length} objects, {view.edges.length} edges, {blocked.length} not holding
        </span>
      </div>
      <div class="graph-body">
        <div class="graph-canvas">
          {!placed && (
            <Notice kind="info">
              {view.nodes.length} objects are too many to draw: pick a namespace, search, or focus on one.
            </Notice>
          )}
          {placed && (
            <svg
              width={placed.width + 20}
              height={placed.height + 20}
              viewBox={`-10 -10 ${placed.width + 20} ${placed.height + 20}`}
              role="img"
              aria-label="Dependency graph"
            >
              <defs>
                {['ok', 'blocked', 'warning'].map((s) => (
                  <marker
                    key={s}
                    id={`arrow-${s}`}
                    viewBox="0 0 10 10"
                    refX="10"
                    refY="5"
                    markerWidth="7"
                    markerHeight="7"
                    orient="auto"
                  >
                    <path d="M0,0 L10,5 L0,10 z" class={`arrow edge-${s}`} />
                  </marker>
                ))}
              </defs>
              {view.edges.map((e) => (
                <EdgeLine key={`${e.from}>${e.to}`} e={e} nodes={placed.nodes} />
              ))}
              {view.nodes.map((n) => {
                const p = placed.nodes.get(n.key);
                if (!p) return null;
                const l = label(n);
                const state = n.row?.state ?? 'missing';
                return (
                  <a
                    key={n.key}
                    href={n.row ? objectHref(l.kind, l.namespace, l.name) : graphHref({ focus: n.key })}
                  >
                    <g
                      class={`gnode state-${state}${focus === n.key ? ' focused' : ''}`}
                      transform={`translate(${p.x},${p.y})`}
                      data-key={n.key}
                    >
                      <rect width={W} height={H} rx="6" />
                      <text x="10" y="17" class="gkind">
                        {l.kind}
                        {n.missing ? ' (not found)' : ''}
                      </text>
                      <text x="10" y="34" class="gname">
                        {`${l.namespace}/${l.name}`.slice(0, 30)}
                      </text>
                      <title>{n.row ? `${n.row.state}: ${n.row.message}` : 'not found'}</title>
                    </g>
                  </a>
                );
              })}
            </svg>
          )}
        </div>
        <aside class="graph-side">
          {focus && live.rows.get(focus) && (
            <div class="focus">
              <StateBadge state={live.rows.get(focus)?.state ?? 'progressing'} /> {focus}
              <EdgeList edges={focused} title="Its edges" />
            </div>
          )}
          <EdgeList edges={blocked} title="Edges that do not hold" />
        </aside>
      </div>
    </main>
  );
}
