// Typed reconcile outcomes (Flux's internal/error): the error class decides how the runtime retries and
// how `summarize` derives Ready/Stalled/Reconciling; `reason` becomes the condition and event reason.

export interface ReconcileErrorOptions {
  cause?: unknown;
  /** Record a Kubernetes event for this error. */
  event?: boolean;
  /** Forward the event to notification-controller (alerts). */
  notify?: boolean;
  /**
   * Ready=False with this reason and message instead of the error's own (a HelmRelease that stalls
   * with RetriesExceeded still says in Ready what the last action did, as Flux).
   */
  ready?: { reason: string; message: string };
}

export type ReconcileErrorKind = 'stalling' | 'waiting' | 'generic';

/** Event severity as Flux names it: `info` → Normal event, `error` → Warning event. */
export type Severity = 'info' | 'error';

/** Base of the typed outcomes; use the subclasses. */
export class ReconcileError extends Error {
  readonly reason: string;
  readonly event: boolean;
  readonly notify: boolean;
  readonly ready: { reason: string; message: string } | undefined;
  readonly kind: ReconcileErrorKind = 'generic';
  readonly severity: Severity = 'error';

  constructor(reason: string, message: string, opts: ReconcileErrorOptions = {}) {
    super(message, opts.cause === undefined ? undefined : { cause: opts.cause });
    this.name = 'ReconcileError';
    this.reason = reason;
    this.event = opts.event ?? true;
    this.notify = opts.notify ?? true;
    this.ready = opts.ready;
  }

  // A prototype marker instead of instanceof, so errors from another copy of this module still match.
  get isReconcileError(): true {
    return true;
  }
}

/** The user must act (bad spec, access denied): no retry until the object changes. */
export class StallingError extends ReconcileError {
  override readonly kind = 'stalling';

  constructor(reason: string, message: string, opts?: ReconcileErrorOptions) {
    super(reason, message, opts);
    this.name = 'StallingError';
  }
}

/** Something else must happen first (dependency not ready): requeue later; not a controller failure. */
export class WaitingError extends ReconcileError {
  override readonly kind = 'waiting';
  override readonly severity = 'info';
  readonly requeueAfterMs: number;

  constructor(reason: string, message: string, requeueAfterMs: number, opts: ReconcileErrorOptions = {}) {
    // Waiting is routine: a Normal event by default, no alert (as Flux's NewWaiting).
    super(reason, message, { ...opts, notify: opts.notify ?? false });
    this.name = 'WaitingError';
    this.requeueAfterMs = requeueAfterMs;
  }
}

/** A transient failure: retried with per-key exponential backoff. */
export class GenericError extends ReconcileError {
  constructor(reason: string, message: string, opts?: ReconcileErrorOptions) {
    super(reason, message, opts);
    this.name = 'GenericError';
  }
}

export function isReconcileError(e: unknown): e is ReconcileError {
  return (
    typeof e === 'object' &&
    e !== null &&
    (e as { isReconcileError?: unknown }).isReconcileError === true &&
    typeof (e as { reason?: unknown }).reason === 'string'
  );
}

export function isStalling(e: unknown): e is StallingError {
  return isReconcileError(e) && e.kind === 'stalling';
}

export function isWaiting(e: unknown): e is WaitingError {
  return (
    isReconcileError(e) && e.kind === 'waiting' && typeof (e as WaitingError).requeueAfterMs === 'number'
  );
}

/** The condition/event reason for any thrown value. */
export function reasonOf(e: unknown, fallback = 'ReconciliationFailed'): string {
  return isReconcileError(e) && e.reason !== '' ? e.reason : fallback;
}

/** The message of any thrown value (non-Errors are stringified). */
export function messageOf(e: unknown): string {
  if (e instanceof Error) return e.message;
  if (typeof e === 'object' && e !== null && typeof (e as { message?: unknown }).message === 'string') {
    return (e as { message: string }).message;
  }
  return String(e);
}
