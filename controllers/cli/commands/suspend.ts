// tide suspend <kind> <name...> | --all
// Sets spec.suspend: true, which makes the controller skip the object (F2 cmd/flux/suspend.go).
import { bool, type Command, type Context } from '../command.ts';
import { CliError } from '../errors.ts';
import { type CliKind, resolveKind } from '../kinds.ts';
import { explain, findObjects } from '../kube.ts';
import { refOf } from '../wait.ts';

/** The names given, or --all; exactly one of the two. */
export function targetNames(ctx: Context, kind: CliKind, verb: string, names: string[]): string[] {
  const all = bool(ctx, 'all');
  if (all && names.length > 0) throw new CliError(`tide ${verb} takes names or --all, not both`);
  if (!all && names.length === 0) throw new CliError(`${kind.kind} name is required`);
  return names;
}

async function run(ctx: Context, args: string[]): Promise<number> {
  const { kinds, rest } = resolveKind(args, 'suspend');
  const kind = kinds[0]!;
  const names = targetNames(ctx, kind, 'suspend', rest);
  const client = await ctx.client();
  const { found, missing } = await findObjects(client, kind, ctx.namespace, names);
  for (const name of missing)
    ctx.log.failure(`${kind.kind} '${name}' not found in "${ctx.namespace}" namespace`);
  if (names.length === 0 && found.length === 0)
    ctx.log.failure(`no ${kind.kind} objects found in "${ctx.namespace}" namespace`);
  for (const obj of found) {
    const name = obj.metadata.name ?? '';
    ctx.log.action(`suspending ${kind.human} ${name} in ${ctx.namespace} namespace`);
    try {
      await client.patch(refOf(kind, name, ctx.namespace), 'merge', { spec: { suspend: true } });
    } catch (err) {
      throw explain(err, kind, name, ctx.namespace);
    }
    ctx.log.success(`${kind.human} suspended`);
  }
  return missing.length > 0 ? 1 : 0;
}

export const suspendCommand: Command = {
  name: 'suspend',
  summary: 'Suspend resources',
  flags: { all: { type: 'boolean', description: 'suspend all resources of the kind in the namespace' } },
  words: ['source', 'image', 'kustomization', 'helmrelease', 'alert', 'alert-provider', 'receiver'],
  run,
  help: `Suspend the reconciliation of resources: set spec.suspend to true. The controller leaves a
suspended object alone until it is resumed.

Usage:
  tide suspend source <git|oci|helm|chart|bucket> <name>... [flags]
  tide suspend kustomization <name>... [flags]   (alias: ks)
  tide suspend helmrelease <name>... [flags]     (alias: hr)
  tide suspend image <repository|update> <name>... [flags]
  tide suspend alert <name>... [flags]           (also alert-provider, receiver)

Examples:
  # Stop applying a Kustomization while you debug it
  tide suspend ks apps

  # Suspend every HelmRelease in the apps namespace
  tide suspend hr --all -n apps

  # Stop an Alert from sending notifications during maintenance
  tide suspend alert on-call
`,
};
