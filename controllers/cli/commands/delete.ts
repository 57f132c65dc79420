// tide delete <kind> <name> [--silent]
// Deletes one object after asking (F2 cmd/flux/delete.go); its controller finalizes it: a Kustomization
// or HelmRelease prunes what it applied, a source removes its artifacts.
import { bool, type Command, type Context, commonFlags } from '../command.ts';
import { CliError } from '../errors.ts';
import { kindWords, resolveKind } from '../kinds.ts';
import { explain, getObject } from '../kube.ts';
import { refOf } from '../wait.ts';

async function run(ctx: Context, args: string[]): Promise<number> {
  const { kinds, rest } = resolveKind(args, 'delete');
  const kind = kinds[0]!;
  if (rest.length !== 1) throw new CliError(`tide delete takes one ${kind.kind} name, got ${rest.length}`);
  const name = rest[0]!;
  const client = await ctx.client();
  await getObject(client, kind, name, ctx.namespace);
  if (!bool(ctx, 'silent') && !(await ctx.confirm(`Are you sure you want to delete this ${kind.human}`)))
    throw new CliError(`deletion of ${kind.human} ${name} not confirmed (--silent deletes without asking)`);
  ctx.log.action(`deleting ${kind.human} ${name} in ${ctx.namespace} namespace`);
  try {
    await client.delete(refOf(kind, name, ctx.namespace), { propagationPolicy: 'Background' });
  } catch (err) {
    throw explain(err, kind, name, ctx.namespace);
  }
  ctx.log.success(`${kind.human} deleted`);
  return 0;
}

export const deleteCommand: Command = {
  name: 'delete',
  summary: 'Delete sources and resources',
  flags: { silent: commonFlags.silent },
  words: ['source', 'image', 'kustomization', 'helmrelease', 'alert', 'alert-provider', 'receiver'],
  run,
  help: `Delete a Flux resource. Its controller finalizes it first: a Kustomization or HelmRelease with
prune removes what it applied, a source its stored artifacts.

Usage:
  tide delete <kind> <name> [flags]

Kinds: ${kindWords()}

Examples:
  # Delete a Kustomization and the objects it applied
  tide delete ks apps

  # Delete a GitRepository without being asked
  tide delete source git podinfo --silent
`,
};
