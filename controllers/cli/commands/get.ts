// tide get sources <all|git|oci|helm|chart|bucket> | images <all|repository|policy|update> |
//   kustomizations | helmreleases [name]
// Prints flux's status table: [NAMESPACE] NAME REVISION SUSPENDED READY MESSAGE, with the image
// kinds' own columns (F2 cmd/flux/get.go, get_image_*.go).

import { ConditionTypes } from '../../api/names.ts';
import { getCondition } from '../../runtime/conditions.ts';
import type { KubeObject } from '../../runtime/object.ts';
import type { Command, Context } from '../command.ts';
import { CliError } from '../errors.ts';
import { type CliKind, resolveKind } from '../kinds.ts';
import { explain } from '../kube.ts';
import { renderTable, truncateHex } from '../output.ts';

export interface StatusSelector {
  type: string;
  status: string;
}

/** `--status-selector ready=false`: a condition type and status, both matched case-insensitively. */
export function parseStatusSelector(s: string | undefined): StatusSelector | undefined {
  if (s === undefined || s === '') return undefined;
  const at = s.indexOf('=');
  if (at < 0) throw new CliError(`expected status selector in type=status format, but found: ${s}`);
  return { type: s.slice(0, at), status: s.slice(at + 1) };
}

/** True when the object has the selector's condition with the selector's status. */
export function statusMatches(obj: KubeObject, sel: StatusSelector): boolean {
  const conditions: { type: string; status: string }[] = obj.status?.conditions ?? [];
  const found = conditions.findLast((c) => c.type.toLowerCase() === sel.type.toLowerCase());
  return found !== undefined && found.status.toLowerCase() === sel.status.toLowerCase();
}

/**
 * flux's headers: [NAMESPACE] NAME, the kind's columns (by default REVISION and SUSPENDED where the
 * kind has them), READY MESSAGE.
 */
export const headers = (allNamespaces: boolean, kind?: CliKind): string[] => [
  ...(allNamespaces ? ['Namespace'] : []),
  'Name',
  ...(kind?.columns?.headers ?? [
    ...(!kind || kind.revision ? ['Revision'] : []),
    ...(kind?.suspendColumn === false ? [] : ['Suspended']),
  ]),
  'Ready',
  'Message',
];

/**
 * One table row as flux prints it; an object without Ready is False, "waiting to be reconciled", a
 * kind without status is Ready with its fixed message.
 */
export function row(
  kind: CliKind,
  obj: KubeObject,
  opts: { allNamespaces: boolean; withKind: boolean },
): string[] {
  const ready = kind.static
    ? { status: 'True', message: kind.static.message }
    : getCondition(obj, ConditionTypes.Ready);
  const name = opts.withKind ? `${kind.kind.toLowerCase()}/${obj.metadata.name}` : (obj.metadata.name ?? '');
  const columns = kind.columns
    ? kind.columns.values(obj)
    : [
        ...(kind.revision ? [truncateHex(kind.revision(obj))] : []),
        ...(kind.suspendColumn === false ? [] : [obj.spec?.suspend === true ? 'True' : 'False']),
      ];
  return [
    ...(opts.allNamespaces ? [obj.metadata.namespace ?? ''] : []),
    name,
    ...columns,
    ready ? ready.status : 'False',
    truncateHex(ready ? ready.message : 'waiting to be reconciled'),
  ];
}

interface Query {
  name: string | undefined;
  allNamespaces: boolean;
  /** `get sources all`: skips kinds the cluster does not serve and prints `<kind>/<name>`. */
  all: boolean;
}

/** The objects of one kind the query matches; undefined for a kind `all` finds not installed. */
async function list(ctx: Context, kind: CliKind, q: Query): Promise<KubeObject[] | undefined> {
  const client = await ctx.client();
  try {
    const found = await client.listAll(kind.descriptor, {
      namespace: q.allNamespaces ? undefined : ctx.namespace,
      fieldSelector: q.name ? `metadata.name=${q.name}` : undefined,
      labelSelector: ctx.flags['label-selector'] as string | undefined,
    });
    return found.items;
  } catch (err) {
    // `all` lists what the cluster serves, like flux; a kind asked for by name must be installed.
    const explained = explain(err, kind);
    if (q.all && explained !== err) return undefined;
    throw explained;
  }
}

async function run(ctx: Context, args: string[]): Promise<number> {
  const { kinds, all, rest } = resolveKind(args, 'get', true);
  if (rest.length > 1)
    throw new CliError(`tide get accepts at most one name, got ${rest.length}: ${rest.join(' ')}`);
  const selector = parseStatusSelector(ctx.flags['status-selector'] as string | undefined);
  const q: Query = { name: rest[0], allNamespaces: ctx.flags['all-namespaces'] === true, all };
  const where = q.allNamespaces ? 'any' : `"${ctx.namespace}"`;
  for (const kind of kinds) {
    const items = await list(ctx, kind, q);
    if (!items) continue;
    if (items.length === 0) {
      if (q.name) ctx.log.failure(`${kind.kind} object '${q.name}' not found in ${where} namespace`);
      else if (!all) ctx.log.failure(`no ${kind.kind} objects found in ${where} namespace`);
      continue;
    }
    const rows = items
      .filter((obj) => !selector || statusMatches(obj, selector))
      .map((obj) => row(kind, obj, { allNamespaces: q.allNamespaces, withKind: all }));
    ctx.io.out(renderTable(ctx.flags['no-header'] ? undefined : headers(q.allNamespaces, kind), rows));
    if (all) ctx.io.out('\n');
  }
  return 0;
}

export const getCommand: Command = {
  name: 'get',
  summary: 'Get the resources and their status',
  flags: ['all-namespaces', 'status-selector', 'label-selector', 'no-header'],
  run,
  help: `Print the status of Flux resources as a table: [NAMESPACE] NAME REVISION SUSPENDED READY MESSAGE
(image kinds: LAST SCAN SUSPENDED, IMAGE TAG, LAST RUN SUSPENDED in place of REVISION SUSPENDED).

Usage:
  tide get sources <all|git|oci|helm|chart|bucket> [name] [flags]
  tide get images <all|repository|policy|update> [name] [flags]   (alias: image)
  tide get kustomizations [name] [flags]      (aliases: kustomization, ks)
  tide get helmreleases [name] [flags]        (aliases: helmrelease, hr)
  tide get alerts [name] [flags]              (alias: alert)
  tide get alert-providers [name] [flags]     (alias: alert-provider)
  tide get receivers [name] [flags]           (alias: receiver)

Flags:
  -A, --all-namespaces           list the requested object(s) across all namespaces
  -l, --label-selector string    filter objects by label selector, e.g. app=podinfo
      --no-header                skip the header when printing the results
      --status-selector string   the status condition name and the desired state to filter the
                                 result by, e.g. ready=false

Examples:
  # List all Kustomizations and their status in every namespace
  tide get ks -A

  # List the GitRepositories that are not ready
  tide get sources git --status-selector ready=false

  # List every kind of source in the apps namespace
  tide get sources all -n apps

  # List the image repositories, policies and automations of every namespace
  tide get images all -A
`,
};
