// The one way controllers run external programs (git, ssh-keygen, kustomize, sops, helm).
//
// Each child leads its own process group (`detached`), so a timeout, an abort, an output overflow or
// a watch verdict kills it together with everything it started (git's remote helpers and ssh,
// index-pack); when the child exits, whatever it left running in its group is killed too, so nothing
// outlives the call, nor the controller: a controller that exits (lost leadership, a second signal)
// kills the groups still running, so no helm or git push goes on beside the next leader. The
// environment is always given whole: nothing is inherited from the controller (no credentials, no proxy
// settings, no tool-specific variables it was not meant to see).
import { spawn } from 'node:child_process';
import { basename } from 'node:path';

export interface ProcessOptions {
  /** The complete environment of the child; nothing is inherited. */
  env: Readonly<Record<string, string>>;
  cwd?: string;
  /** Written to the child's stdin, which is then closed (stdin is always closed). */
  input?: string | Uint8Array;
  /** Kill the group after this many milliseconds. */
  timeoutMs?: number;
  /** Kill the group at this epoch time (milliseconds); with timeoutMs, the earlier one wins. */
  deadline?: number;
  signal?: AbortSignal;
  /** The child is killed when its stdout grows past this many bytes; default 256 MiB. */
  maxOutputBytes?: number;
  /**
   * Called every `watchIntervalMs` (default 250) while the child runs; a returned Error kills the
   * group and becomes the rejection (git stops a fetch that outgrows the size limit this way).
   */
  watch?: () => Promise<Error | undefined>;
  watchIntervalMs?: number;
}

export interface ProcessResult {
  /** Exit code; null when the child died of a signal. */
  code: number | null;
  stdout: Buffer;
  /** At most 64 KiB: the beginning and the end, with a marker where the middle was dropped. */
  stderr: string;
}

export const ProcessErrorKind = {
  /** The binary could not be started (not found, not executable). */
  Spawn: 'Spawn',
  Timeout: 'Timeout',
  Aborted: 'Aborted',
  /** stdout exceeded maxOutputBytes. */
  OutputLimit: 'OutputLimit',
} as const;
export type ProcessErrorKind = (typeof ProcessErrorKind)[keyof typeof ProcessErrorKind];

/** Why the runner stopped a child (or could not start it); messages name the program, never its args. */
export class ProcessError extends Error {
  readonly kind: ProcessErrorKind;

  constructor(kind: ProcessErrorKind, message: string) {
    super(message);
    this.name = 'ProcessError';
    this.kind = kind;
  }

  get isProcessError(): true {
    return true;
  }
}

export function isProcessError(err: unknown): err is ProcessError {
  return (err as { isProcessError?: unknown } | null)?.isProcessError === true;
}

const defaultMaxOutput = 256 * 1024 * 1024;
const stderrHead = 16 * 1024;
const stderrTail = 48 * 1024;

/** Keeps the start of a stream and a rolling window of its end. */
class BoundedText {
  private head = '';
  private tail = '';
  private dropped = false;

  push(chunk: string): void {
    if (this.head.length < stderrHead) {
      const room = stderrHead - this.head.length;
      this.head += chunk.slice(0, room);
      chunk = chunk.slice(room);
    }
    if (!chunk) return;
    this.tail += chunk;
    if (this.tail.length > stderrTail) {
      this.tail = this.tail.slice(-stderrTail);
      this.dropped = true;
    }
  }

  toString(): string {
    return this.dropped ? `${this.head}\n…\n${this.tail}` : this.head + this.tail;
  }
}

function killGroup(pid: number | undefined): void {
  if (!pid) return;
  try {
    process.kill(-pid, 'SIGKILL');
  } catch {
    // ESRCH: the group is already gone.
  }
}

// Process groups of the children still running; killed when this process exits.
const running = new Set<number>();
process.on('exit', () => {
  for (const pid of running) killGroup(pid);
});

/**
 * Runs `bin` to its end. Resolves with the exit code and output (a non-zero exit is not a rejection);
 * rejects with a ProcessError when the program cannot start or is killed for the timeout, an abort or
 * too much output, and with the watch's own error when the watch gives a verdict.
 */
export function runProcess(
  bin: string,
  args: readonly string[],
  opts: ProcessOptions,
): Promise<ProcessResult> {
  const name = basename(bin);
  const limits = [
    opts.timeoutMs,
    opts.deadline === undefined ? undefined : opts.deadline - Date.now(),
  ].filter((v): v is number => v !== undefined);
  const remaining = limits.length > 0 ? Math.min(...limits) : undefined;
  const timedOut = () =>
    new ProcessError(
      'Timeout',
      opts.timeoutMs !== undefined && remaining === opts.timeoutMs
        ? `${name} timed out after ${opts.timeoutMs}ms`
        : `${name} timed out`,
    );
  return new Promise((resolve, reject) => {
    if (opts.signal?.aborted) return reject(new ProcessError('Aborted', `${name} aborted`));
    if (remaining !== undefined && remaining <= 0) return reject(timedOut());
    const child = spawn(bin, args, { cwd: opts.cwd, env: { ...opts.env }, detached: true, stdio: 'pipe' });
    const pid = child.pid;
    if (pid) running.add(pid);
    const out: Buffer[] = [];
    let outBytes = 0;
    const err = new BoundedText();
    let stopped: Error | undefined;
    const stop = (why: Error) => {
      if (stopped) return;
      stopped = why;
      killGroup(child.pid);
    };

    const limit = opts.maxOutputBytes ?? defaultMaxOutput;
    child.stdout.on('data', (c: Buffer) => {
      outBytes += c.length;
      if (outBytes > limit) stop(new ProcessError('OutputLimit', `${name} output exceeds ${limit} bytes`));
      else if (!stopped) out.push(c);
    });
    child.stderr.setEncoding('utf8');
    child.stderr.on('data', (c: string) => err.push(c));
    child.stdin.on('error', () => {}); // a child exiting early closes stdin: EPIPE is not our error
    child.stdin.end(opts.input ?? '');

    const timer = remaining === undefined ? undefined : setTimeout(() => stop(timedOut()), remaining);
    const onAbort = () => stop(new ProcessError('Aborted', `${name} aborted`));
    opts.signal?.addEventListener('abort', onAbort, { once: true });
    let watching = false;
    const watcher = opts.watch
      ? setInterval(async () => {
          if (watching || stopped) return;
          watching = true;
          const verdict = await opts.watch?.().catch(() => undefined);
          watching = false;
          if (verdict) stop(verdict);
        }, opts.watchIntervalMs ?? 250)
      : undefined;

    const finish = () => {
      clearTimeout(timer);
      clearInterval(watcher);
      opts.signal?.removeEventListener('abort', onAbort);
    };
    // Whatever the child left behind in its group (a daemonized helper holding our pipes) goes too.
    child.on('exit', () => {
      killGroup(child.pid);
      if (pid) running.delete(pid);
    });
    // A child that cannot start emits 'error' (and may still emit 'close'): the first one settles.
    child.on('error', (e) => {
      finish();
      reject(new ProcessError('Spawn', `cannot run ${bin}: ${e.message}`));
    });
    child.on('close', (code) => {
      finish();
      if (stopped) reject(stopped);
      else resolve({ code, stdout: Buffer.concat(out), stderr: err.toString() });
    });
  });
}
