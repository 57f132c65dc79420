// tide ui [address]
// Serves the dashboard on loopback with the kubeconfig's user, until Ctrl-C (controllers/ui).
import type { Dashboard } from '../../ui/dashboard.ts';
import type { Command, Context } from '../command.ts';
import { CliError } from '../errors.ts';
import { loadKubeConfig } from '../kube.ts';

export const defaultUiAddress = '127.0.0.1:9080';

async function run(ctx: Context, args: string[]): Promise<number> {
  if (args.length > 1) throw new CliError(`tide ui takes at most one address, got: ${args.join(' ')}`);
  const kubeConfig = await loadKubeConfig({
    kubeconfig: ctx.flags.kubeconfig as string | undefined,
    context: ctx.flags.context as string | undefined,
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
      namespace: ctx.flags.namespace as string | undefined,
      tools: {
        kustomizeBin: process.env.TIDE_KUSTOMIZE_BIN ?? 'kustomize',
        sopsBin: process.env.TIDE_SOPS_BIN ?? 'sops',
      },
      // `tide rollback kustomization` plugs in here once the CLI has it; until then the action is hidden.
      rollback: undefined,
      fallbackUser: kubeConfig.getCurrentUser()?.name,
    });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'EADDRINUSE')
      throw new CliError(`${address} is in use: pass another address, e.g. tide ui 127.0.0.1:0`);
    throw err;
  }
  const stopped = new Promise<void>((resolve) => {
    process.once('SIGINT', resolve);
    process.once('SIGTERM', resolve);
  });
  ctx.log.success(`dashboard serving on ${dashboard.url}`);
  ctx.io.out(`${dashboard.url}\n`);
  ctx.log.action('open the address above in a browser; Ctrl-C stops the dashboard');
  await stopped;
  await dashboard.close();
  return 0;
}

export const uiCommand: Command = {
  name: 'ui',
  summary: 'Serve the web dashboard on loopback',
  flags: [],
  run,
  help: `Serve Tide's web dashboard on a loopback address, acting with your kubeconfig: every read and
every action (reconcile, suspend, resume) runs under your own RBAC. The address printed carries a
one-time token; open it in a browser. Everything the page needs is served from the package.

Usage:
  tide ui [address] [flags]

Arguments:
  address   host:port to listen on (default ${defaultUiAddress}; port 0 picks a free one); only
            loopback addresses are accepted

The drift view builds Kustomizations with kustomize and sops from $TIDE_KUSTOMIZE_BIN and
$TIDE_SOPS_BIN (else from PATH); outside the cluster it downloads artifacts from the
source-controller through $SOURCE_CONTROLLER_LOCALHOST (e.g. after kubectl port-forward).

Examples:
  # Open the dashboard for every namespace
  tide ui

  # Only the apps namespace, on another port
  tide ui 127.0.0.1:8081 -n apps
`,
};
