// A line diff (Myers' O(ND) algorithm, shortest edit script) and its unified hunks with context, for the
// drift view: what Git renders against what the cluster has, one YAML document per object. Pure.

export type LineOp = { op: 'same' | 'del' | 'add'; text: string };

export interface HunkLine {
  op: 'same' | 'del' | 'add';
  text: string;
  /** 1-based line numbers in the old (cluster) and new (Git) text; absent on the side without the line. */
  old?: number;
  new?: number;
}

export interface Hunk {
  oldStart: number;
  oldLines: number;
  newStart: number;
  newLines: number;
  lines: HunkLine[];
}

/**
 * The shortest edit script from `a` to `b`: deletions of `a`'s lines and additions of `b`'s, common
 * lines kept. Beyond `maxEdits` differences (huge rewrites) it gives up on alignment and replaces all.
 */
export function diffLines(a: readonly string[], b: readonly string[], maxEdits = 4000): LineOp[] {
  // Common prefix and suffix cost nothing and shrink the search.
  let start = 0;
  while (start < a.length && start < b.length && a[start] === b[start]) start++;
  let endA = a.length;
  let endB = b.length;
  while (endA > start && endB > start && a[endA - 1] === b[endB - 1]) {
    endA--;
    endB--;
  }
  const head = a.slice(0, start).map((text) => ({ op: 'same' as const, text }));
  const tail = a.slice(endA).map((text) => ({ op: 'same' as const, text }));
  const mid = middle(a.slice(start, endA), b.slice(start, endB), maxEdits);
  return [...head, ...mid, ...tail];
}

/** Whether the path to diagonal k at step d comes from k+1 (an insertion) rather than k-1 (a deletion). */
const isDown = (v: Int32Array, offset: number, k: number, d: number) =>
  k === -d || (k !== d && (v[offset + k - 1] ?? 0) < (v[offset + k + 1] ?? 0));

const startX = (v: Int32Array, offset: number, k: number, d: number) =>
  isDown(v, offset, k, d) ? (v[offset + k + 1] ?? 0) : (v[offset + k - 1] ?? 0) + 1;

/** Follows equal lines along diagonal k from x; returns where they stop. */
function snake(a: readonly string[], b: readonly string[], x: number, k: number): number {
  let i = x;
  while (i < a.length && i - k < b.length && a[i] === b[i - k]) i++;
  return i;
}

function middle(a: readonly string[], b: readonly string[], maxEdits: number): LineOp[] {
  const n = a.length;
  const m = b.length;
  if (n === 0) return b.map((text) => ({ op: 'add', text }));
  if (m === 0) return a.map((text) => ({ op: 'del', text }));
  const max = Math.min(n + m, maxEdits);
  const offset = max + 1;
  const v = new Int32Array(2 * max + 3);
  const trace: Int32Array[] = [];
  for (let d = 0; d <= max; d++) {
    trace.push(v.slice());
    for (let k = -d; k <= d; k += 2) {
      const x = snake(a, b, startX(v, offset, k, d), k);
      v[offset + k] = x;
      if (x >= n && x - k >= m) return backtrack(trace, a, b, offset, d);
    }
  }
  return [
    ...a.map((text) => ({ op: 'del' as const, text })),
    ...b.map((text) => ({ op: 'add' as const, text })),
  ];
}

function backtrack(
  trace: Int32Array[],
  a: readonly string[],
  b: readonly string[],
  offset: number,
  dEnd: number,
): LineOp[] {
  const out: LineOp[] = [];
  let x = a.length;
  let y = b.length;
  for (let d = dEnd; d > 0; d--) {
    const v = trace[d] as Int32Array;
    const k = x - y;
    const down = isDown(v, offset, k, d);
    const prevK = down ? k + 1 : k - 1;
    const prevX = v[offset + prevK] ?? 0;
    const prevY = prevX - prevK;
    while (x > prevX && y > prevY) {
      out.push({ op: 'same', text: a[--x] as string });
      y--;
    }
    if (down) out.push({ op: 'add', text: b[--y] as string });
    else out.push({ op: 'del', text: a[--x] as string });
  }
  while (x > 0 && y > 0) {
    out.push({ op: 'same', text: a[--x] as string });
    y--;
  }
  return out.reverse();
}

/** Unified hunks of an edit script, with `context` unchanged lines around each change. */
export function toHunks(ops: readonly LineOp[], context = 3): Hunk[] {
  const numbered: HunkLine[] = [];
  let o = 0;
  let n = 0;
  for (const l of ops) {
    if (l.op === 'same') numbered.push({ ...l, old: ++o, new: ++n });
    else if (l.op === 'del') numbered.push({ ...l, old: ++o });
    else numbered.push({ ...l, new: ++n });
  }
  const hunks: Hunk[] = [];
  let i = 0;
  while (i < numbered.length) {
    if (numbered[i]?.op === 'same') {
      i++;
      continue;
    }
    const from = Math.max(0, i - context);
    // Extend while the next change is within 2×context unchanged lines.
    let end = i;
    let j = i;
    while (j < numbered.length) {
      if (numbered[j]?.op !== 'same') end = j;
      else if (j - end > 2 * context) break;
      j++;
    }
    const to = Math.min(numbered.length, end + context + 1);
    const lines = numbered.slice(from, to);
    const firstOld = lines.find((l) => l.old !== undefined)?.old;
    const firstNew = lines.find((l) => l.new !== undefined)?.new;
    const oldLines = lines.filter((l) => l.op !== 'add').length;
    const newLines = lines.filter((l) => l.op !== 'del').length;
    hunks.push({
      oldStart: firstOld ?? lastBefore(numbered, from, 'old'),
      oldLines,
      newStart: firstNew ?? lastBefore(numbered, from, 'new'),
      newLines,
      lines,
    });
    i = to;
  }
  return hunks;
}

// A hunk without lines on one side starts after the last line of that side before it (0 at the top).
function lastBefore(lines: readonly HunkLine[], index: number, side: 'old' | 'new'): number {
  for (let i = index - 1; i >= 0; i--) {
    const v = lines[i]?.[side];
    if (v !== undefined) return v;
  }
  return 0;
}

/** The hunks between two texts (split on newlines). */
export function diffText(oldText: string, newText: string, context = 3): Hunk[] {
  const split = (t: string) => (t === '' ? [] : t.replace(/\n$/, '').split('\n'));
  return toHunks(diffLines(split(oldText), split(newText)), context);
}
