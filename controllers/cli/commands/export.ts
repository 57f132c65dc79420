// tide export <kind> [name] [--all]
// Prints objects as YAML a user can commit to Git: no status, no server-set metadata (F2
// cmd/flux/export.go).
import { Annotations } from '../../api/names.ts';
import type { KubeObject } from '../../runtime/object.ts';
import { bool, type Command, type Context } from '../command.ts';
import { CliError } from '../errors.ts';
import { kindWords, resolveKind } from '../kinds.ts';
import { findObjects } from '../kube.ts';
import { yamlStream } from '../output.ts';

/** The object as it would be written by hand: apiVersion, kind, name, namespace, labels, annotations, spec. */
export function exportable(obj: KubeObject): KubeObject {
  const { name, namespace, labels, annotations } = obj.metadata;
  const kept = Object.fromEntries(
    Object.entries(annotations ?? {}).filter(
      ([k]) =>
        k !== Annotations.lastAppliedConfiguration &&
        k !== Annotations.reconcileRequestedAt &&
        k !== Annotations.reconcileForceAt &&
        k !== Annotations.reconcileResetAt,
    ),
  );
  const { metadata: _m, status: _s, ...rest } = obj;
  return {
    ...rest,
    apiVersion: obj.apiVersion,
    kind: obj.kind,
    metadata: {
      name,
      namespace,
      ...(labels && Object.keys(labels).length ? { labels } : {}),
      ...(Object.keys(kept).length ? { annotations: kept } : {}),
    },
  };
}

async function run(ctx: Context, args: string[]): Promise<number> {
  const { kinds, rest } = resolveKind(args, 'export');
  const kind = kinds[0]!;
  const all = bool(ctx, 'all');
  if (all === rest.length > 0) throw new CliError(`tide export takes a ${kind.kind} name or --all`);
  const { found, missing } = await findObjects(await ctx.client(), kind, ctx.namespace, rest);
  if (missing.length)
    throw new CliError(`${kind.kind} '${missing[0]}' not found in "${ctx.namespace}" namespace`);
  const objects = found.sort((a, b) => (a.metadata.name ?? '').localeCompare(b.metadata.name ?? ''));
  ctx.io.out(yamlStream(objects.map(exportable)));
  return 0;
}

export const exportCommand: Command = {
  name: 'export',
  summary: 'Export resources in YAML format',
  flags: { all: { type: 'boolean', description: 'export all resources of the kind in the namespace' } },
  words: ['source', 'image', 'kustomization', 'helmrelease', 'alert', 'alert-provider', 'receiver'],
  run,
  help: `Print resources as YAML without their status and server-set metadata, to store them in Git.

Usage:
  tide export <kind> <name> [flags]
  tide export <kind> --all [flags]

Kinds: ${kindWords()}

Examples:
  # Export every GitRepository of flux-system
  tide export source git --all > sources.yaml

  # Export one Kustomization
  tide export ks apps
`,
};
