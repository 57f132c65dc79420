// Running the pinned helm binary for one Helm action (install, upgrade, rollback, uninstall, test).
// Each run gets a closed environment (runtime/sandbox.ts: fresh HOME, no inherited variables, no
// network but loopback), a kubeconfig pointing at its own API gateway (gateway.ts) with a one-time
// token, Tide's post-renderer plugin and nothing else in its plugins directory, and the files it needs
// (chart archive, values). helm runs in its own process group, killed with everything it started on
// timeout, abort, or when the controller exits.
import { chmod, mkdir, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import type { Client } from '../runtime/client.ts';
import { isProcessError, type ProcessResult, runProcess } from '../runtime/process.ts';
import { cleanStderr, withSandbox } from '../runtime/sandbox.ts';
import { createGateway, type Session } from './gateway.ts';
import { POST_RENDERER_PLUGIN, type PostRenderSpec, pluginFiles } from './postrender.ts';
import type { StorageDriver } from './storage.ts';

export interface HelmRun {
  bin: string;
  /** The client helm acts with, through the gateway. */
  client: Client;
  driver: StorageDriver;
  releaseNamespace: string;
  storageNamespace: string;
  /** Kill helm after this long (its own --timeout bounds each wait; this bounds the whole run). */
  timeoutMs: number;
  postRender?: PostRenderSpec;
  /** Files helm reads, by path relative to the run's work directory. */
  files?: Record<string, string | Uint8Array>;
  signal?: AbortSignal;
}

export interface HelmResult {
  ok: boolean;
  stdout: string;
  /** Why helm failed, as helm said it (its `Error:` line, without the action prefix). */
  error: string;
  /** helm's other output on stderr (warnings, logs), for events. */
  log: string;
}

// Helm actions still running, killed when the controller exits so none outlives it.
const running = new Set<AbortController>();
const gateway = createGateway();
process.once('exit', () => {
  for (const a of running) a.abort();
});

/** The kubeconfig of a helm run: the gateway, its certificate and token, the release namespace. */
function kubeconfig(gw: Session, namespace: string): string {
  return JSON.stringify({
    apiVersion: 'v1',
    kind: 'Config',
    clusters: [
      {
        name: 'tide',
        cluster: { server: gw.url, 'certificate-authority-data': Buffer.from(gw.ca).toString('base64') },
      },
    ],
    users: [{ name: 'tide', user: { token: gw.token } }],
    contexts: [{ name: 'tide', context: { cluster: 'tide', user: 'tide', namespace } }],
    'current-context': 'tide',
  });
}

/** helm's error text: the last `Error: ...` paragraph, without "UPGRADE FAILED: " and the like. */
export function helmError(stderr: string): { error: string; log: string } {
  const i = stderr.lastIndexOf('Error: ');
  if (i < 0) return { error: cleanStderr(stderr), log: '' };
  const error = stderr
    .slice(i + 'Error: '.length)
    .trim()
    .replace(/^(INSTALLATION|UPGRADE|ROLLBACK|UNINSTALL(ATION)?) FAILED: /, '');
  return { error, log: cleanStderr(stderr.slice(0, i)) };
}

/** Runs `helm <args>` for one action; `--kubeconfig`, `-n` and the post-renderer are added here. */
export async function runHelm(run: HelmRun, args: readonly string[]): Promise<HelmResult> {
  const abort = new AbortController();
  const onAbort = () => abort.abort();
  run.signal?.addEventListener('abort', onAbort, { once: true });
  running.add(abort);
  const session = await gateway.open({
    client: run.client,
    storage: { driver: run.driver, from: run.releaseNamespace, to: run.storageNamespace },
  });
  try {
    return await withSandbox(async (env, home) => {
      const plugins = join(home, 'plugins');
      const work = join(home, 'work');
      await mkdir(plugins, { mode: 0o700 });
      await mkdir(work, { mode: 0o700 });
      const files: Record<string, string | Uint8Array> = {};
      for (const [p, data] of Object.entries(run.files ?? {})) files[join(work, p)] = data;
      if (run.postRender)
        for (const [p, data] of Object.entries(pluginFiles(run.postRender))) files[join(plugins, p)] = data;
      const config = join(home, 'kubeconfig');
      files[config] = kubeconfig(session, run.releaseNamespace);
      for (const [p, data] of Object.entries(files)) {
        await mkdir(dirname(p), { recursive: true, mode: 0o700 });
        await writeFile(p, data, { mode: 0o600 });
      }
      await chmod(config, 0o600);
      const full = [
        ...args,
        '--kubeconfig',
        config,
        '--namespace',
        run.releaseNamespace,
        ...(run.postRender ? ['--post-renderer', POST_RENDERER_PLUGIN] : []),
      ];
      let res: ProcessResult;
      try {
        res = await runProcess(run.bin, full, {
          env: { ...env, HELM_DRIVER: run.driver, HELM_PLUGINS: plugins },
          cwd: work,
          timeoutMs: run.timeoutMs,
          signal: abort.signal,
        });
      } catch (err) {
        if (!isProcessError(err)) throw err;
        return { ok: false, stdout: '', error: err.message, log: '' };
      }
      const stdout = res.stdout.toString('utf8');
      if (res.code === 0) return { ok: true, stdout, error: '', log: cleanStderr(res.stderr, home) };
      const { error, log } = helmError(res.stderr.replaceAll(`${work}/`, '').replaceAll(home, '~'));
      return { ok: false, stdout, error: error || `helm exited with code ${res.code}`, log };
    });
  } finally {
    running.delete(abort);
    run.signal?.removeEventListener('abort', onAbort);
    session.close();
  }
}
