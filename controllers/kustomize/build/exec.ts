// Runs the pinned kustomize and sops binaries in a closed environment: nothing inherited from the
// controller (no credentials, no proxy settings, no KUSTOMIZE_/SOPS_ variables), HOME in a fresh
// temporary directory, an empty PATH (kustomize finds no `git` for remote bases, sops no `gpg`), and
// HTTP(S) proxies pointing at a closed local port so any download attempt fails at once.
import { spawn } from 'node:child_process';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface ToolOptions {
  /** The complete environment of the child (see withSandbox). */
  env: Record<string, string>;
  cwd?: string;
  /** Written to the child's stdin, which is then closed. */
  input?: string | Buffer;
  timeoutMs: number;
  signal?: AbortSignal;
  /** The child is killed when its stdout grows past this; defaults to 256 MiB. */
  maxOutputBytes?: number;
}

export interface ToolResult {
  /** Exit code; null when the child died of a signal. */
  code: number | null;
  stdout: Buffer;
  stderr: string;
}

const maxStderr = 64 * 1024;

/**
 * Runs `bin` to its end. Resolves with the exit code and output (a non-zero code is not a
 * rejection); rejects when the binary cannot start, or is killed for the timeout, an abort, or too
 * much output. The child leads its own process group, which is killed whole.
 */
export function runTool(bin: string, args: readonly string[], opts: ToolOptions): Promise<ToolResult> {
  const name = bin.split('/').pop() ?? bin;
  return new Promise((resolve, reject) => {
    if (opts.signal?.aborted) return reject(new Error(`${name} aborted`));
    const child = spawn(bin, args, { cwd: opts.cwd, env: opts.env, detached: true, stdio: 'pipe' });
    const out: Buffer[] = [];
    let outBytes = 0;
    let err = '';
    let killed: Error | undefined;
    const kill = (why: Error) => {
      if (killed) return;
      killed = why;
      try {
        if (child.pid) process.kill(-child.pid, 'SIGKILL');
      } catch {
        child.kill('SIGKILL');
      }
    };
    const limit = opts.maxOutputBytes ?? 256 * 1024 * 1024;
    child.stdout.on('data', (c: Buffer) => {
      outBytes += c.length;
      if (outBytes > limit) kill(new Error(`${name} output exceeds ${limit} bytes`));
      else out.push(c);
    });
    child.stderr.on('data', (c: Buffer) => {
      if (err.length < maxStderr) err += c.toString('utf8');
    });
    child.stdin.on('error', () => {}); // a child exiting early closes stdin: EPIPE is not our error
    child.stdin.end(opts.input ?? '');
    const timer = setTimeout(
      () => kill(new Error(`${name} timed out after ${opts.timeoutMs}ms`)),
      opts.timeoutMs,
    );
    const onAbort = () => kill(new Error(`${name} aborted`));
    opts.signal?.addEventListener('abort', onAbort, { once: true });
    const done = () => {
      clearTimeout(timer);
      opts.signal?.removeEventListener('abort', onAbort);
    };
    child.on('error', (e) => {
      done();
      reject(new Error(`cannot run ${bin}: ${e.message}`));
    });
    child.on('close', (code) => {
      done();
      if (killed) reject(killed);
      else resolve({ code, stdout: Buffer.concat(out), stderr: err });
    });
  });
}

// Go's HTTP client (kustomize's file loader, sops' KMS clients) and git/curl honour these; a closed
// port makes every proxied request fail immediately instead of reaching the network.
const deadProxy = 'http://127.0.0.1:9';

/**
 * Calls `fn` with a closed environment whose HOME is a fresh temporary directory, removed afterwards.
 * `extra` variables are added (e.g. SOPS_AGE_KEY); they stay in memory and the child's environment.
 */
export async function withSandbox<T>(
  fn: (env: Record<string, string>, home: string) => Promise<T>,
  extra: Record<string, string> = {},
): Promise<T> {
  const home = await mkdtemp(join(tmpdir(), 'tide-build-'));
  try {
    const bin = join(home, 'bin');
    const tmp = join(home, 'tmp');
    await mkdir(bin, { mode: 0o700 });
    await mkdir(tmp, { mode: 0o700 });
    const env: Record<string, string> = {
      HOME: home,
      PATH: bin,
      TMPDIR: tmp,
      XDG_CONFIG_HOME: join(home, '.config'),
      XDG_CACHE_HOME: join(home, '.cache'),
      XDG_DATA_HOME: join(home, '.local', 'share'),
      HTTP_PROXY: deadProxy,
      HTTPS_PROXY: deadProxy,
      http_proxy: deadProxy,
      https_proxy: deadProxy,
      ALL_PROXY: deadProxy,
      NO_PROXY: '',
      no_proxy: '',
      GIT_TERMINAL_PROMPT: '0',
      ...extra,
    };
    return await fn(env, home);
  } finally {
    await rm(home, { recursive: true, force: true });
  }
}

/** A tool's stderr made fit for a condition message: `root` paths made relative, kept short. */
export function cleanStderr(stderr: string, root?: string, maxLength = 2000): string {
  let s = stderr.trim().replace(/^Error: /gm, '');
  if (root) s = s.replaceAll(`${root}/`, '').replaceAll(root, '.');
  s = s.replace(/\s*\n\s*/g, '\n').trim();
  return s.length > maxLength ? `${s.slice(0, maxLength)}…` : s;
}
