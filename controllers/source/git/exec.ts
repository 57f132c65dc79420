// Runs git (and ssh-keygen) as child processes. simple-git cannot start git in its own process group,
// and a timeout must kill git together with its helpers (git-remote-http, ssh, index-pack), so these
// commands are spawned directly: `detached` makes the child a process-group leader, signalled whole.
import { spawn } from 'node:child_process';
import { GitError, gitFailure, scrub } from './errors.ts';

export interface RunOptions {
  /** The complete environment of the child (see auth.ts: nothing is inherited implicitly). */
  env: Record<string, string>;
  cwd?: string;
  /** Epoch milliseconds after which the process group is killed, with kind Timeout. */
  deadline: number;
  /** Strings to scrub from any error text. */
  secrets: readonly string[];
  /** Says what was attempted, for error messages, e.g. "unable to fetch 'main' from <url>". */
  what: string;
  signal?: AbortSignal;
  /**
   * Called every `watchIntervalMs` while the child runs; a returned GitError kills it and becomes
   * the result (stops a fetch that outgrows the size limit).
   */
  watch?: () => Promise<GitError | undefined>;
  watchIntervalMs?: number;
}

export interface RunResult {
  code: number;
  stdout: string;
  stderr: string;
}

const maxStderr = 64 * 1024;

/**
 * Runs a command to its end and returns its exit code and output. Rejects only when the command
 * could not start, or was killed (deadline, abort, watch verdict).
 */
export function runProcess(cmd: string, args: string[], opts: RunOptions): Promise<RunResult> {
  const stop = (kind: GitError['kind'], why: string) =>
    new GitError(kind, scrub(`${opts.what}: ${why}`, opts.secrets));
  return new Promise((resolve, reject) => {
    const remaining = opts.deadline - Date.now();
    if (remaining <= 0) return reject(stop('Timeout', 'timed out'));
    if (opts.signal?.aborted) return reject(stop('Other', 'aborted'));
    const child = spawn(cmd, args, { cwd: opts.cwd, env: opts.env, detached: true, stdio: 'pipe' });
    child.stdin.end();
    const out: Buffer[] = [];
    let err = '';
    let stopped: GitError | undefined;
    child.stdout.on('data', (c: Buffer) => out.push(c));
    child.stderr.on('data', (c: Buffer) => {
      if (err.length < maxStderr) err += c.toString('utf8');
    });

    const kill = (why: GitError) => {
      if (stopped) return;
      stopped = why;
      try {
        if (child.pid) process.kill(-child.pid, 'SIGKILL');
      } catch {
        child.kill('SIGKILL');
      }
    };
    const timer = setTimeout(() => kill(stop('Timeout', 'timed out')), remaining);
    const onAbort = () => kill(stop('Other', 'aborted'));
    opts.signal?.addEventListener('abort', onAbort, { once: true });
    let watching = false;
    const watcher = opts.watch
      ? setInterval(async () => {
          if (watching || stopped) return;
          watching = true;
          const verdict = await opts.watch?.().catch(() => undefined);
          watching = false;
          if (verdict) kill(verdict);
        }, opts.watchIntervalMs ?? 250)
      : undefined;

    const finish = () => {
      clearTimeout(timer);
      if (watcher) clearInterval(watcher);
      opts.signal?.removeEventListener('abort', onAbort);
    };
    child.on('error', (e) => {
      finish();
      reject(stop('Other', `cannot run ${cmd}: ${e.message}`));
    });
    child.on('close', (code) => {
      finish();
      if (stopped) reject(stopped);
      else resolve({ code: code ?? -1, stdout: Buffer.concat(out).toString('utf8'), stderr: err });
    });
  });
}

export interface GitRunOptions extends RunOptions {
  /** Whether the environment carries credentials (sharpens authentication error messages). */
  credentialsGiven?: boolean;
}

/** Runs `git args…` and returns stdout; a non-zero exit becomes a classified, scrubbed GitError. */
export async function runGit(args: string[], opts: GitRunOptions): Promise<string> {
  const res = await runProcess('git', args, opts);
  if (res.code !== 0)
    throw gitFailure(opts.what, res.stderr, {
      secrets: opts.secrets,
      credentialsGiven: opts.credentialsGiven,
    });
  return res.stdout;
}
