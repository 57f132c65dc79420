// Layout of the dependency graph, left to right: what is depended on (sources, dependencies) in the
// left columns, its dependents to the right; within a column, nodes ordered by the mean position of
// their neighbours (two barycenter sweeps) to keep edges short and uncrossed. Pure.

export interface LayoutEdge {
  /** The dependent (consumer). */
  from: string;
  /** What it depends on. */
  to: string;
}

export interface Placed {
  key: string;
  column: number;
  row: number;
  x: number;
  y: number;
}

export interface Layout {
  nodes: Map<string, Placed>;
  width: number;
  height: number;
}

export interface LayoutOptions {
  nodeWidth?: number;
  nodeHeight?: number;
  gapX?: number;
  gapY?: number;
}

/** Column of each node: 0 when it depends on nothing, else one more than its deepest dependency (cycles cut). */
export function columns(keys: readonly string[], edges: readonly LayoutEdge[]): Map<string, number> {
  const out = new Map<string, string[]>();
  for (const e of edges) out.set(e.from, [...(out.get(e.from) ?? []), e.to]);
  const col = new Map<string, number>();
  const visiting = new Set<string>();
  const visit = (k: string): number => {
    const known = col.get(k);
    if (known !== undefined) return known;
    if (visiting.has(k)) return 0;
    visiting.add(k);
    let c = 0;
    for (const t of out.get(k) ?? []) c = Math.max(c, visit(t) + 1);
    visiting.delete(k);
    col.set(k, c);
    return c;
  };
  for (const k of keys) visit(k);
  return col;
}

export function layout(
  keys: readonly string[],
  edges: readonly LayoutEdge[],
  opts: LayoutOptions = {},
): Layout {
  const w = opts.nodeWidth ?? 220;
  const h = opts.nodeHeight ?? 44;
  const gx = opts.gapX ?? 90;
  const gy = opts.gapY ?? 16;
  const present = new Set(keys);
  const inside = edges.filter((e) => present.has(e.from) && present.has(e.to) && e.from !== e.to);
  const col = columns(keys, inside);
  const maxCol = Math.max(0, ...col.values());
  const byCol: string[][] = Array.from({ length: maxCol + 1 }, () => []);
  for (const k of [...keys].sort()) byCol[col.get(k) ?? 0]?.push(k);
  const pos = new Map<string, number>();
  const index = () => {
    for (const list of byCol) {
      for (const [i, k] of list.entries()) pos.set(k, i);
    }
  };
  index();
  const targets = new Map<string, string[]>();
  const sources = new Map<string, string[]>();
  for (const e of inside) {
    targets.set(e.from, [...(targets.get(e.from) ?? []), e.to]);
    sources.set(e.to, [...(sources.get(e.to) ?? []), e.from]);
  }
  const mean = (ks: string[] | undefined, fallback: number) =>
    ks?.length ? ks.reduce((s, k) => s + (pos.get(k) ?? 0), 0) / ks.length : fallback;
  for (let sweep = 0; sweep < 2; sweep++) {
    for (let c = 1; c <= maxCol; c++) {
      byCol[c]?.sort((a, b) => mean(targets.get(a), pos.get(a) ?? 0) - mean(targets.get(b), pos.get(b) ?? 0));
      index();
    }
    for (let c = maxCol - 1; c >= 0; c--) {
      byCol[c]?.sort((a, b) => mean(sources.get(a), pos.get(a) ?? 0) - mean(sources.get(b), pos.get(b) ?? 0));
      index();
    }
  }
  const nodes = new Map<string, Placed>();
  let rows = 0;
  for (const [c, list] of byCol.entries()) {
    rows = Math.max(rows, list.length);
    for (const [r, key] of list.entries())
      nodes.set(key, { key, column: c, row: r, x: c * (w + gx), y: r * (h + gy) });
  }
  return { nodes, width: (maxCol + 1) * (w + gx) - gx, height: Math.max(0, rows * (h + gy) - gy) };
}

/** The keys connected to `focus` through edges in either direction (what it needs and what needs it). */
export function neighbourhood(focus: string, edges: readonly LayoutEdge[]): Set<string> {
  const up = new Map<string, string[]>();
  const down = new Map<string, string[]>();
  for (const e of edges) {
    up.set(e.from, [...(up.get(e.from) ?? []), e.to]);
    down.set(e.to, [...(down.get(e.to) ?? []), e.from]);
  }
  const seen = new Set([focus]);
  for (const next of [up, down]) {
    const queue = [focus];
    while (queue.length) {
      for (const k of next.get(queue.shift() as string) ?? []) {
        if (seen.has(k)) continue;
        seen.add(k);
        queue.push(k);
      }
    }
  }
  return seen;
}
