// Runs git (and ssh-keygen) through the runtime's process runner: a deadline or abort kills git
// together with its helpers (git-remote-http, ssh, index-pack); every failure becomes a GitError
// whose message says what was attempted, with credentials scrubbed.
import { isProcessError, runProcess } from '../process.ts';
import { GitError, gitFailure, scrub } from './errors.ts';

export interface GitRunOptions {
  /** The complete environment of the child (see auth.ts: nothing is inherited implicitly). */
  env: Record<string, string>;
  cwd?: string;
  /** Written to stdin (commit messages, objects to hash). */
  input?: string | Uint8Array;
  /** Epoch milliseconds after which the process group is killed, with kind Timeout. */
  deadline: number;
  /** Strings to scrub from any error text. */
  secrets: readonly string[];
  /** Says what was attempted, for error messages, e.g. "unable to fetch 'main' from <url>". */
  what: string;
  signal?: AbortSignal;
  /** Called periodically while the child runs; a returned GitError kills it and becomes the result. */
  watch?: () => Promise<GitError | undefined>;
  watchIntervalMs?: number;
  /** Whether the environment carries credentials (sharpens authentication error messages). */
  credentialsGiven?: boolean;
  /** How stdout is decoded; latin1 keeps raw objects byte for byte. Default utf8. */
  encoding?: BufferEncoding;
}

export interface CommandResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/**
 * Runs a command to its end and returns its exit code and output. Rejects (GitError) only when the
 * command could not start, or was killed: Timeout at the deadline, Other on abort, the watch's verdict.
 */
export async function runCommand(cmd: string, args: string[], opts: GitRunOptions): Promise<CommandResult> {
  const stop = (kind: GitError['kind'], why: string) =>
    new GitError(kind, scrub(`${opts.what}: ${why}`, opts.secrets));
  try {
    const res = await runProcess(cmd, args, {
      env: opts.env,
      cwd: opts.cwd,
      input: opts.input,
      deadline: opts.deadline,
      signal: opts.signal,
      watch: opts.watch,
      watchIntervalMs: opts.watchIntervalMs,
    });
    return { code: res.code, stdout: res.stdout.toString(opts.encoding ?? 'utf8'), stderr: res.stderr };
  } catch (err) {
    if (!isProcessError(err)) throw err;
    if (err.kind === 'Timeout') throw stop('Timeout', 'timed out');
    if (err.kind === 'Aborted') throw stop('Other', 'aborted');
    throw stop('Other', err.message);
  }
}

/** Runs `git args…` and returns stdout; a non-zero exit becomes a classified, scrubbed GitError. */
export async function runGit(args: string[], opts: GitRunOptions): Promise<string> {
  const res = await runCommand('git', args, opts);
  if (res.code !== 0)
    throw gitFailure(opts.what, res.stderr, {
      secrets: opts.secrets,
      credentialsGiven: opts.credentialsGiven,
    });
  return res.stdout;
}
