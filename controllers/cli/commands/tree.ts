// tide tree kustomization|helmrelease <name> [--compact] [-o json|yaml]
// The objects a Kustomization or HelmRelease applied (status.inventory), nested Kustomizations and
// HelmReleases expanded in place (F2 cmd/flux/tree_kustomization.go).
import { formatSubject, type InventoryEntry, parseId } from '../../runtime/apply/inventory.ts';
import { dumpYaml } from '../../runtime/helm/yaml.ts';
import type { KubeObject } from '../../runtime/object.ts';
import { bool, type Command, type Context, str } from '../command.ts';
import { CliError } from '../errors.ts';
import { type CliKind, helmReleaseKind, kindByName, kustomizationKind } from '../kinds.ts';
import { getObject } from '../kube.ts';

export interface TreeNode {
  /** `Kind/namespace/name`, or `Kind/name` when cluster-scoped. */
  resource: string;
  resources?: TreeNode[];
}

const appliers = new Set([kustomizationKind.descriptor.group, helmReleaseKind.descriptor.group]);
const isFluxGroup = (group: string) => group.endsWith('.toolkit.fluxcd.io');

/** Builds the tree of an applier from its inventory; `compact` keeps only Flux objects. */
export async function buildTree(
  ctx: Context,
  kind: CliKind,
  obj: KubeObject,
  compact: boolean,
  seen = new Set<string>(),
): Promise<TreeNode> {
  const self = formatSubject({
    kind: kind.kind,
    namespace: obj.metadata.namespace ?? '',
    name: obj.metadata.name ?? '',
    group: '',
  });
  const node: TreeNode = { resource: self };
  if (seen.has(self)) return node;
  seen.add(self);
  const entries: InventoryEntry[] = obj.status?.inventory?.entries ?? [];
  const children: TreeNode[] = [];
  for (const e of entries) {
    const m = parseId(e.id);
    if (compact && !isFluxGroup(m.group)) continue;
    const nested = appliers.has(m.group) ? kindByName(m.kind) : undefined;
    if (nested) {
      const child = await getObject(await ctx.client(), nested, m.name, m.namespace).catch(() => undefined);
      if (child) {
        children.push(await buildTree(ctx, nested, child, compact, seen));
        continue;
      }
    }
    children.push({ resource: formatSubject(m) });
  }
  if (children.length) node.resources = children;
  return node;
}

/** The tree drawn as flux draws it, with ├── └── │ connectors. */
export function drawTree(node: TreeNode): string {
  const lines = [node.resource];
  const walk = (n: TreeNode, prefix: string) => {
    const kids = n.resources ?? [];
    kids.forEach((k, i) => {
      const last = i === kids.length - 1;
      lines.push(`${prefix}${last ? '└── ' : '├── '}${k.resource}`);
      walk(k, `${prefix}${last ? '    ' : '│   '}`);
    });
  };
  walk(node, '');
  return `${lines.join('\n')}\n`;
}

async function run(ctx: Context, args: string[]): Promise<number> {
  const [word, name, ...extra] = args;
  const kind = [kustomizationKind, helmReleaseKind].find((k) => word !== undefined && k.words.includes(word));
  if (!kind) throw new CliError('tide tree needs a kind: kustomization (ks) or helmrelease (hr)');
  if (!name || extra.length) throw new CliError(`tide tree ${word} takes one ${kind.kind} name`);
  const obj = await getObject(await ctx.client(), kind, name, ctx.namespace);
  const tree = await buildTree(ctx, kind, obj, bool(ctx, 'compact'));
  const format = str(ctx, 'output');
  if (format === 'json') ctx.io.out(`${JSON.stringify(tree, null, 2)}\n`);
  else if (format === 'yaml') ctx.io.out(dumpYaml(tree));
  else if (format === undefined || format === '' || format === 'table') ctx.io.out(drawTree(tree));
  else throw new CliError(`unsupported output format "${format}": want json or yaml`);
  return 0;
}

export const treeCommand: Command = {
  name: 'tree',
  summary: 'Print the resources a Kustomization or HelmRelease applied',
  flags: {
    compact: { type: 'boolean', description: 'list Flux resources only' },
    output: { type: 'string', short: 'o', value: 'format', description: 'print the tree as json or yaml' },
  },
  words: ['kustomization', 'helmrelease'],
  run,
  help: `Print the objects a Kustomization or HelmRelease applied (its status.inventory), with the
Kustomizations and HelmReleases among them expanded.

Usage:
  tide tree kustomization <name> [flags]   (alias: ks)
  tide tree helmrelease <name> [flags]     (alias: hr)

Examples:
  # What the bootstrap Kustomization manages
  tide tree ks flux-system

  # Only the Flux objects, as JSON
  tide tree ks flux-system --compact -o json
`,
};
