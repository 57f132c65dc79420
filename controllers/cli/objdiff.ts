// A readable difference between a live object and what applying would make of it (the server-side
// dry-run), path by path, leaving out what the server owns (metadata it sets, status) and never
// showing a Secret's values.
import type { KubeObject } from '../runtime/object.ts';

export interface Change {
  /** `spec.template.spec.containers[0].image`. */
  path: string;
  from?: unknown;
  to?: unknown;
}

const serverMetadata = [
  'managedFields',
  'resourceVersion',
  'generation',
  'uid',
  'creationTimestamp',
  'selfLink',
];

function comparable(o: KubeObject): Record<string, unknown> {
  const { status: _s, ...rest } = structuredClone(o);
  const meta = { ...rest.metadata } as Record<string, unknown>;
  for (const k of serverMetadata) delete meta[k];
  return { ...rest, metadata: meta };
}

const isObject = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v);
const key = (base: string, k: string) =>
  /^[A-Za-z_][\w-]*$/.test(k) ? (base ? `${base}.${k}` : k) : `${base}[${JSON.stringify(k)}]`;

function walk(a: unknown, b: unknown, path: string, out: Change[]): void {
  if (JSON.stringify(a) === JSON.stringify(b)) return;
  if (isObject(a) && isObject(b)) {
    for (const k of [...new Set([...Object.keys(a), ...Object.keys(b)])].sort())
      walk(a[k], b[k], key(path, k), out);
    return;
  }
  if (Array.isArray(a) && Array.isArray(b) && a.length === b.length) {
    for (const [i, x] of a.entries()) walk(x, b[i], `${path}[${i}]`, out);
    return;
  }
  out.push({ path, ...(a === undefined ? {} : { from: a }), ...(b === undefined ? {} : { to: b }) });
}

/** The changes from `live` to `desired`; a Secret's data and stringData values are masked. */
export function diffObjects(live: KubeObject, desired: KubeObject): Change[] {
  const out: Change[] = [];
  walk(comparable(live), comparable(desired), '', out);
  if (live.kind !== 'Secret') return out;
  return out.map((c) =>
    /^(data|stringData)\b/.test(c.path)
      ? {
          path: c.path,
          ...('from' in c ? { from: '*** (before)' } : {}),
          ...('to' in c ? { to: '*** (after)' } : {}),
        }
      : c,
  );
}

const show = (v: unknown) => (typeof v === 'string' ? v : JSON.stringify(v));

/** The changes as lines: the path, then `- old` and `+ new`, indented. */
export function formatChanges(changes: readonly Change[]): string {
  return changes
    .map((c) =>
      [
        `  ${c.path}`,
        ...('from' in c ? [`    - ${show(c.from)}`] : []),
        ...('to' in c ? [`    + ${show(c.to)}`] : []),
      ].join('\n'),
    )
    .join('\n');
}
