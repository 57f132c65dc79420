// What apply and prune did to each object, in Flux's words (fluxcd/pkg ssa changeset.go), plus the
// error that carries the part of a ChangeSet done before a failure.
import { isApiError } from '../client.ts';
import type { InventoryEntry } from './inventory.ts';

export const Actions = {
  Created: 'created',
  Configured: 'configured',
  Unchanged: 'unchanged',
  Deleted: 'deleted',
  Skipped: 'skipped',
} as const;
export type Action = (typeof Actions)[keyof typeof Actions];

/** One object's result; id and v make it an inventory entry too. */
export interface ChangeSetEntry extends InventoryEntry {
  /** `Kind/namespace/name`. */
  subject: string;
  action: Action;
}

export type ChangeSet = ChangeSetEntry[];

/** True for the actions that changed the cluster (what events and logs report). */
export const hasChanged = (a: Action): boolean =>
  a === Actions.Created || a === Actions.Configured || a === Actions.Deleted;

/** `Deployment/apps/web configured` lines of the entries that changed something, as Flux's events. */
export const formatChangeSet = (cs: ChangeSet): string =>
  cs
    .filter((e) => hasChanged(e.action))
    .map((e) => `${e.subject} ${e.action}`)
    .join('\n');

/**
 * Apply or prune failed for some objects: `errors` has one line per object (naming it), `changeSet` what
 * was done before and besides the failures (so a partial apply can be reported and tracked).
 */
export class ApplyError extends Error {
  override name = 'ApplyError';
  readonly errors: string[];
  readonly changeSet: ChangeSet;
  constructor(errors: string[], changeSet: ChangeSet) {
    super(errors.join('\n'));
    this.errors = errors;
    this.changeSet = changeSet;
  }
}

/** The API server's own message, without the client's `METHOD /path: status` prefix. */
export function apiMessage(err: unknown): string {
  const msg = err instanceof Error ? err.message : String(err);
  return isApiError(err) ? msg.replace(/^[A-Z]+ \S+: (\d{3} )?/, '') : msg;
}

/** Runs fn over items with at most `limit` in flight; results keep the items' order. */
export async function mapLimit<T, R>(
  items: readonly T[],
  limit: number,
  fn: (item: T, index: number) => Promise<R>,
): Promise<R[]> {
  const out = new Array<R>(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const i = next++;
      out[i] = await fn(items[i] as T, i);
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(limit, items.length)) }, worker));
  return out;
}

/** Resolves after ms, or at once (false) when the signal aborts. */
export function sleep(ms: number, signal?: AbortSignal): Promise<boolean> {
  if (signal?.aborted) return Promise.resolve(false);
  return new Promise((resolve) => {
    const done = (v: boolean) => {
      clearTimeout(timer);
      signal?.removeEventListener('abort', onAbort);
      resolve(v);
    };
    const onAbort = () => done(false);
    const timer = setTimeout(() => done(true), ms);
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}
