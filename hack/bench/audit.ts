// API requests of the controllers alone. The apiserver's metrics have no client label, so the benchmark
// runs both suites' controllers as one user (not system:masters, as the fairness rules ask) and turns
// on an audit log of that user's requests only; counting a window of it gives requests by verb and the
// writes by what they changed.
import { open } from 'node:fs/promises';

/** The identity every suite's controllers run as (client certificate CN and O). */
export const benchUser = 'tide-bench-controller';
export const benchGroup = 'tide-bench';

/** An audit policy that records benchUser's requests at Metadata level and nothing else. */
export function auditPolicy(user = benchUser): string {
  return `apiVersion: audit.k8s.io/v1
kind: Policy
omitStages: [RequestReceived]
rules:
- level: Metadata
  users: ["${user}"]
- level: None
`;
}

export interface AuditEvent {
  stage?: string;
  verb?: string;
  requestURI?: string;
  user?: { username?: string };
  objectRef?: { resource?: string; subresource?: string; apiGroup?: string };
}

/** What a write changed: the applied workload, a status, a toolkit object's metadata, an event or a lease. */
export type WriteTarget = 'objects' | 'status' | 'toolkit' | 'events' | 'leases';

export interface ApiCalls {
  total: number;
  /** By verb; dry-run writes apart, e.g. `patch (dry-run)`. */
  byVerb: Record<string, number>;
  /** Non-dry-run writes by target. */
  writes: Record<WriteTarget, number>;
}

const writeVerbs = new Set(['create', 'update', 'patch', 'delete', 'deletecollection']);

export const emptyCalls = (): ApiCalls => ({
  total: 0,
  byVerb: {},
  writes: { objects: 0, status: 0, toolkit: 0, events: 0, leases: 0 },
});

function targetOf(ref: AuditEvent['objectRef']): WriteTarget {
  if (ref?.subresource === 'status') return 'status';
  if (ref?.resource === 'events') return 'events';
  if (ref?.resource === 'leases') return 'leases';
  if (ref?.apiGroup?.endsWith('toolkit.fluxcd.io')) return 'toolkit';
  return 'objects';
}

/**
 * Adds one audit event to calls when it is a finished request of user: a watch counts when its
 * response starts (it ends much later), any other request when it completes.
 */
export function countEvent(calls: ApiCalls, ev: AuditEvent, user = benchUser): void {
  if (ev.user?.username !== user || !ev.verb) return;
  const counted = ev.verb === 'watch' ? ev.stage === 'ResponseStarted' : ev.stage === 'ResponseComplete';
  if (!counted) return;
  const dryRun = /[?&]dryRun=/.test(ev.requestURI ?? '');
  const key = dryRun ? `${ev.verb} (dry-run)` : ev.verb;
  calls.byVerb[key] = (calls.byVerb[key] ?? 0) + 1;
  calls.total++;
  if (!dryRun && writeVerbs.has(ev.verb)) calls.writes[targetOf(ev.objectRef)]++;
}

/** Counts the JSON lines of an audit log. */
export function countAuditLines(lines: Iterable<string>, user = benchUser): ApiCalls {
  const calls = emptyCalls();
  for (const line of lines) {
    if (!line.trim()) continue;
    try {
      countEvent(calls, JSON.parse(line) as AuditEvent, user);
    } catch {
      /* a line cut by the window's end */
    }
  }
  return calls;
}

/** The audit log's size now: a window starts or ends at an offset. */
export async function auditOffset(file: string): Promise<number> {
  const fh = await open(file, 'r').catch(() => undefined);
  if (!fh) return 0;
  try {
    return (await fh.stat()).size;
  } finally {
    await fh.close();
  }
}

/** Counts the requests logged between two offsets of the audit log, in 8 MiB chunks. */
export async function countAuditWindow(file: string, from: number, to: number): Promise<ApiCalls> {
  const calls = emptyCalls();
  const fh = await open(file, 'r');
  try {
    let pos = from;
    let rest = '';
    const buf = Buffer.alloc(8 << 20);
    while (pos < to) {
      const { bytesRead } = await fh.read(buf, 0, Math.min(buf.length, to - pos), pos);
      if (bytesRead === 0) break;
      pos += bytesRead;
      const lines = (rest + buf.subarray(0, bytesRead).toString('utf8')).split('\n');
      rest = lines.pop() ?? '';
      merge(calls, countAuditLines(lines));
    }
    merge(calls, countAuditLines([rest]));
  } finally {
    await fh.close();
  }
  return calls;
}

function merge(into: ApiCalls, from: ApiCalls) {
  into.total += from.total;
  for (const [k, v] of Object.entries(from.byVerb)) into.byVerb[k] = (into.byVerb[k] ?? 0) + v;
  for (const k of Object.keys(from.writes) as WriteTarget[]) into.writes[k] += from.writes[k];
}
