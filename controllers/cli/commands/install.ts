// tide install [--components ...] [--components-extra ...] [--export]
// Renders the chart, applies it in stages (CRDs first, waited for, then the controllers) and waits for
// the controllers to roll out (F2 cmd/flux/install.go).
import { bool, type Command, type Context } from '../command.ts';
import { applyObjects, waitForRollout } from '../install/apply.ts';
import { componentsYaml } from '../install/manifests.ts';
import { installFlags, renderOptionsFrom } from '../install/options.ts';
import { renderChart } from '../install/render.ts';
import { cliVersion } from './version.ts';

async function run(ctx: Context, args: string[]): Promise<number> {
  if (args.length) ctx.log.warning(`tide install takes no arguments; ignored: ${args.join(' ')}`);
  const opts = renderOptionsFrom(ctx);
  ctx.log.action('generating manifests');
  const objects = await renderChart(opts, ctx.env);
  ctx.log.success('manifests build completed');
  if (bool(ctx, 'export')) {
    const version = opts.version?.replace(/^v(?=\d)/, '') ?? (await cliVersion());
    ctx.io.out(componentsYaml(objects, version, opts.components));
    return 0;
  }
  ctx.log.action(`installing components in ${ctx.namespace} namespace`);
  await applyObjects(ctx, objects, bool(ctx, 'dry-run'));
  if (bool(ctx, 'dry-run')) {
    ctx.log.success('install dry-run finished');
    return 0;
  }
  ctx.log.success('install completed');
  ctx.log.waiting('verifying installation');
  await waitForRollout(
    ctx,
    ctx.namespace,
    opts.components.map((k) => `${k}-controller`),
  );
  ctx.log.success('install finished');
  return 0;
}

export const installCommand: Command = {
  name: 'install',
  summary: 'Install or upgrade Tide in the cluster',
  flags: {
    ...installFlags,
    export: { type: 'boolean', description: 'print the manifests on stdout instead of applying them' },
    'dry-run': {
      type: 'boolean',
      description: 'apply with server-side dry-run: check every object, change nothing',
    },
  },
  run,
  help: `Install (or upgrade) Tide in the namespace: render the chart charts/tide with the pinned helm
binary ($TIDE_HELM_BIN), apply it with server-side apply in stages (CRDs and the Namespace first, waited
for until served, then ServiceAccounts, RBAC, Deployments, Services and NetworkPolicies) and wait until
every controller's Deployment is rolled out.

Usage:
  tide install [flags]

Examples:
  # Install the default controllers into flux-system
  tide install

  # Also the image automation controllers, with debug logs
  tide install --components-extra image-reflector-controller,image-automation-controller --log-level debug

  # Print the manifests instead
  tide install --export > tide.yaml
`,
};
