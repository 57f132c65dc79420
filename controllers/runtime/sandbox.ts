// The closed environment pinned tools (kustomize, sops, helm) run in: nothing inherited from the
// controller (no credentials, no proxy settings, no KUSTOMIZE_/SOPS_/HELM_ variables), HOME in a
// fresh temporary directory, an empty PATH (kustomize finds no `git` for remote bases, sops no
// `gpg`), and HTTP(S) proxies pointing at a closed local port so any download attempt fails at once.
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

// Go's HTTP client (kustomize's file loader, sops' KMS clients, helm's getters) and git/curl honour
// these; a closed port makes every proxied request fail immediately instead of reaching the network.
const deadProxy = 'http://127.0.0.1:9';

/**
 * Calls `fn` with a closed environment whose HOME is a fresh temporary directory, removed afterwards.
 * `extra` variables are added (e.g. SOPS_AGE_KEY); they stay in memory and the child's environment.
 */
export async function withSandbox<T>(
  fn: (env: Record<string, string>, home: string) => Promise<T>,
  extra: Record<string, string> = {},
): Promise<T> {
  const home = await mkdtemp(join(tmpdir(), 'tide-sandbox-'));
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
