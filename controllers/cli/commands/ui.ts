// tide ui [address]
// Serves the dashboard on loopback with the kubeconfig's user, until Ctrl-C (controllers/ui). The
// dashboard's Roll back button runs `tide rollback kustomization` (commands/rollback.ts) as the user.
import type { Client } from '../../runtime/client.ts';
import type { Dashboard } from '../../ui/dashboard.ts';
import { type Command, type Context, str } from '../command.ts';
import { CliError, isCliError } from '../errors.ts';
import { loadKubeConfig } from '../kube.ts';
import type { Logger } from '../output.ts';
import { toolPath } from '../package.ts';
import { rollbackCommand } from './rollback.ts';

export const defaultUiAddress = '127.0.0.1:9080';

/**
 * The dashboard's rollback: the rollback command with the page's client, in the Kustomization's
 * namespace, with a fresh --timeout; its last success line (or its error) is what the page shows.
 */
function rollbackFrom(ctx: Context) {
  return {
    async rollback(client: Client, target: { namespace: string; name: string }): Promise<string> {
      const lines: string[] = [];
      const keep = (m: string) => lines.push(m);
      const log: Logger = { action: keep, waiting: keep, success: keep, warning: keep, failure: keep };
      const run: Context = {
        ...ctx,
        log,
        io: { out: keep, err: keep },
        flags: {},
        namespace: target.namespace,
        deadline: Date.now() + ctx.timeoutMs,
        client: async () => client,
        confirm: async () => false,
      };
      try {
        await rollbackCommand.run(run, ['kustomization', target.name]);
      } catch (err) {
        throw isCliError(err) ? new Error(err.message) : err;
      }
      return lines.at(-1) ?? `Kustomization ${target.namespace}/${target.name} rolled back`;
    },
  };
}

async function run(ctx: Context, args: string[]): Promise<number> {
  if (args.length > 1) throw new CliError(`tide ui takes at most one address, got: ${args.join(' ')}`);
  const kubeConfig = await loadKubeConfig({
    kubeconfig: ctx.kubeconfig.path,
    context: ctx.kubeconfig.context,
  });
  const address = args[0] ?? defaultUiAddress;
  // Loaded here, so the other commands do not pay for the dashboard's modules.
  const { localAddress, startDashboard } = await import('../../ui/dashboard.ts');
  try {
    localAddress(address);
  } catch (err) {
    throw new CliError((err as Error).message);
  }
  ctx.log.waiting('reading every Tide kind from the cluster');
  let dashboard: Dashboard;
  try {
    dashboard = await startDashboard({
      kubeConfig,
      address,
      // -n narrows the dashboard to one namespace; without it every namespace is shown.
      namespace: str(ctx, 'namespace'),
      tools: { kustomizeBin: toolPath('kustomize', ctx.env), sopsBin: toolPath('sops', ctx.env) },
      rollback: rollbackFrom(ctx),
      fallbackUser: kubeConfig.getCurrentUser()?.name,
      signal: ctx.signal,
    });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'EADDRINUSE')
      throw new CliError(`${address} is in use: pass another address, e.g. tide ui 127.0.0.1:0`);
    throw err;
  }
  ctx.log.success(`dashboard serving on ${dashboard.url}`);
  ctx.io.out(`${dashboard.url}\n`);
  ctx.log.action('open the address above in a browser; Ctrl-C stops the dashboard');
  await new Promise<void>((resolve) => {
    if (ctx.signal.aborted) return resolve();
    ctx.signal.addEventListener('abort', () => resolve(), { once: true });
    process.once('SIGTERM', () => resolve());
  });
  await dashboard.close();
  return 0;
}

export const uiCommand: Command = {
  name: 'ui',
  summary: 'Serve the web dashboard on loopback',
  flags: {},
  run,
  help: `Serve Tide's web dashboard on a loopback address, acting with your kubeconfig: every read and
every action (reconcile, suspend, resume, roll back) runs under your own RBAC. The address printed
carries a one-time token; open it in a browser. Everything the page needs is served from the package.

Usage:
  tide ui [address] [flags]

Arguments:
  address   host:port to listen on (default ${defaultUiAddress}; port 0 picks a free one); only
            loopback addresses are accepted

-n narrows the dashboard to one namespace. The drift view builds Kustomizations with the pinned
kustomize and sops (or $TIDE_KUSTOMIZE_BIN, $TIDE_SOPS_BIN); outside the cluster it downloads
artifacts from the source-controller through $SOURCE_CONTROLLER_LOCALHOST (e.g. after kubectl
port-forward). Roll back is tide rollback kustomization: a git revert commit, pushed with the
GitRepository's credentials.

Examples:
  # Open the dashboard for every namespace
  tide ui

  # Only the apps namespace, on another port
  tide ui 127.0.0.1:8081 -n apps
`,
};
