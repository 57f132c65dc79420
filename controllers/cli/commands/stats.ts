// tide stats [-A]
// Per kind: how many objects reconcile, fail and are suspended, and the storage of source artifacts
// (F2 cmd/flux/stats.go).
import { ConditionTypes } from '../../api/names.ts';
import { getCondition } from '../../runtime/conditions.ts';
import type { KubeObject } from '../../runtime/object.ts';
import { bool, type Command, type Context, commonFlags } from '../command.ts';
import { cliKinds } from '../kinds.ts';
import { explain } from '../kube.ts';
import { renderTable } from '../output.ts';

/** flux's formatSize: `-` for nothing, else B, KiB, MiB, ... with one decimal. */
export function formatSize(bytes: number): string {
  if (bytes === 0) return '-';
  if (bytes < 1024) return `${bytes} B`;
  let div = 1024;
  let exp = 0;
  for (let n = bytes / 1024; n >= 1024; n /= 1024) {
    div *= 1024;
    exp++;
  }
  return `${(bytes / div).toFixed(1)} ${'KMGTPE'[exp]}iB`;
}

/** One row as flux counts: running (not suspended), failing (Ready=False), suspended, artifact storage. */
export function statsRow(kind: string, items: readonly KubeObject[]): string[] {
  let failing = 0;
  let suspended = 0;
  let size = 0;
  for (const o of items) {
    if (o.spec?.suspend === true) suspended++;
    if (getCondition(o, ConditionTypes.Ready)?.status === 'False') failing++;
    size += Number(o.status?.artifact?.size ?? 0);
  }
  return [kind, String(items.length - suspended), String(failing), String(suspended), formatSize(size)];
}

async function run(ctx: Context): Promise<number> {
  const client = await ctx.client();
  const namespace = bool(ctx, 'all-namespaces') ? undefined : ctx.namespace;
  const rows: string[][] = [];
  for (const kind of cliKinds) {
    let items: KubeObject[];
    try {
      items = (await client.listAll(kind.descriptor, { namespace })).items;
    } catch (err) {
      if (explain(err, kind) !== err) continue; // not installed
      throw err;
    }
    rows.push(statsRow(kind.kind, items));
  }
  ctx.io.out(renderTable(['Reconcilers', 'Running', 'Failing', 'Suspended', 'Storage'], rows));
  return 0;
}

export const statsCommand: Command = {
  name: 'stats',
  summary: 'Stats of Flux reconciles',
  flags: { 'all-namespaces': commonFlags.allNamespaces },
  run,
  help: `Print, per kind, how many objects reconcile, fail and are suspended, and the storage their
artifacts use in source-controller.

Usage:
  tide stats [flags]

Examples:
  # The stats of the whole cluster
  tide stats -A
`,
};
