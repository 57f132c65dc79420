// tide get <kind> [name] | get all
// Prints flux's status table: [NAMESPACE] NAME REVISION SUSPENDED READY MESSAGE (F2 cmd/flux/get.go),
// or the objects as JSON/YAML (-o), and with --watch keeps printing rows as objects change.

import { ConditionTypes } from '../../api/names.ts';
import { getCondition } from '../../runtime/conditions.ts';
import type { KubeObject } from '../../runtime/object.ts';
import { bool, type Command, type Context, commonFlags, str } from '../command.ts';
import { CliError } from '../errors.ts';
import { type CliKind, kindWords, resolveKind } from '../kinds.ts';
import { explain } from '../kube.ts';
import { formatObjects, outputFormat, renderTable, truncateHex } from '../output.ts';
import { watchChanges } from '../watch.ts';

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

/** The columns of a kind, as flux prints them: REVISION (or the kind's own) and SUSPENDED where it has them. */
export const headers = (allNamespaces: boolean, kind?: CliKind): string[] => [
  ...(allNamespaces ? ['Namespace'] : []),
  'Name',
  ...(kind?.columns ? kind.columns.map((c) => c.name) : !kind || kind.revision ? ['Revision'] : []),
  ...(kind?.suspendColumn === false ? [] : ['Suspended']),
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
  const middle = kind.columns
    ? kind.columns.map((c) => c.value(obj))
    : kind.revision
      ? [truncateHex(kind.revision(obj))]
      : [];
  return [
    ...(opts.allNamespaces ? [obj.metadata.namespace ?? ''] : []),
    name,
    ...middle,
    ...(kind.suspendColumn === false ? [] : [obj.spec?.suspend === true ? 'True' : 'False']),
    ready ? ready.status : 'False',
    truncateHex(ready ? ready.message : 'waiting to be reconciled'),
  ];
}

interface Query {
  name: string | undefined;
  allNamespaces: boolean;
  /** `get all`, `get sources all`: skips kinds the cluster does not serve and prints `<kind>/<name>`. */
  all: boolean;
}

/** The objects of one kind the query matches; undefined for a kind `all` finds not installed. */
async function list(
  ctx: Context,
  kind: CliKind,
  q: Query,
): Promise<{ items: KubeObject[]; resourceVersion?: string } | undefined> {
  const client = await ctx.client();
  try {
    const found = await client.listAll(kind.descriptor, {
      namespace: q.allNamespaces ? undefined : ctx.namespace,
      fieldSelector: q.name ? `metadata.name=${q.name}` : undefined,
      labelSelector: str(ctx, 'label-selector'),
    });
    return { items: found.items, resourceVersion: found.metadata?.resourceVersion };
  } catch (err) {
    // `all` lists what the cluster serves, like flux; a kind asked for by name must be installed.
    const explained = explain(err, kind);
    if (q.all && explained !== err) return undefined;
    throw explained;
  }
}

/** Prints one kind's table; flux's "not found" lines on stderr when the query found nothing. */
function printTable(
  ctx: Context,
  kind: CliKind,
  q: Query,
  found: KubeObject[],
  items: KubeObject[],
  watch: boolean,
) {
  const where = q.allNamespaces ? 'any' : `"${ctx.namespace}"`;
  if (found.length === 0) {
    if (q.name) ctx.log.failure(`${kind.kind} object '${q.name}' not found in ${where} namespace`);
    else if (!q.all) ctx.log.failure(`no ${kind.kind} objects found in ${where} namespace`);
    if (!watch) return;
  }
  const rows = items.map((obj) => row(kind, obj, { allNamespaces: q.allNamespaces, withKind: q.all }));
  if (rows.length || watch)
    ctx.io.out(renderTable(bool(ctx, 'no-header') ? undefined : headers(q.allNamespaces, kind), rows));
  if (q.all && rows.length) ctx.io.out('\n');
}

async function run(ctx: Context, args: string[]): Promise<number> {
  const { kinds, all, rest } = resolveKind(args, 'get', true);
  if (rest.length > 1)
    throw new CliError(`tide get accepts at most one name, got ${rest.length}: ${rest.join(' ')}`);
  const selector = parseStatusSelector(str(ctx, 'status-selector'));
  const format = outputFormat(str(ctx, 'output'));
  const watch = bool(ctx, 'watch');
  if (watch && kinds.length > 1) throw new CliError('--watch takes one kind, not all');
  if (watch && format !== 'table') throw new CliError('--watch prints a table: drop -o');
  const q: Query = { name: rest[0], allNamespaces: bool(ctx, 'all-namespaces'), all };
  const matches = (obj: KubeObject) => !selector || statusMatches(obj, selector);
  const structured: KubeObject[] = [];
  let resourceVersion: string | undefined;
  for (const kind of kinds) {
    const found = await list(ctx, kind, q);
    if (!found) continue;
    resourceVersion = found.resourceVersion;
    const items = found.items.filter(matches);
    if (format === 'table') printTable(ctx, kind, q, found.items, items, watch);
    else structured.push(...items);
  }
  if (format !== 'table') {
    ctx.io.out(formatObjects(structured, format, q.name !== undefined && !all));
    return 0;
  }
  if (watch && kinds[0]) await watchRows(ctx, kinds[0], q, matches, resourceVersion);
  return 0;
}

/** flux's `get -w`: a row for every change of the kind's objects (until --timeout or Ctrl-C). */
async function watchRows(
  ctx: Context,
  kind: CliKind,
  q: Query,
  matches: (o: KubeObject) => boolean,
  from: string | undefined,
): Promise<void> {
  const opts = {
    namespace: q.allNamespaces ? undefined : ctx.namespace,
    fieldSelector: q.name ? `metadata.name=${q.name}` : undefined,
    labelSelector: str(ctx, 'label-selector'),
  };
  await watchChanges(
    ctx,
    kind.descriptor,
    opts,
    from,
    (obj) => {
      if (matches(obj))
        ctx.io.out(
          renderTable(undefined, [row(kind, obj, { allNamespaces: q.allNamespaces, withKind: false })]),
        );
    },
    (err) => explain(err, kind),
  );
}

export const getCommand: Command = {
  name: 'get',
  summary: 'Get the resources and their status',
  flags: {
    'all-namespaces': commonFlags.allNamespaces,
    'label-selector': commonFlags.labelSelector,
    'status-selector': {
      type: 'string',
      description:
        'the status condition name and the desired state to filter the result by, e.g. ready=false',
    },
    'no-header': { type: 'boolean', description: 'skip the header when printing the results' },
    output: commonFlags.output,
    watch: commonFlags.watch,
  },
  words: [
    'all',
    'sources',
    'images',
    'kustomizations',
    'helmreleases',
    'alerts',
    'alert-providers',
    'receivers',
  ],
  run,
  help: `Print the status of Flux resources as a table: [NAMESPACE] NAME REVISION SUSPENDED READY MESSAGE,
or the objects as JSON or YAML with -o.

Usage:
  tide get all [flags]
  tide get sources <all|git|oci|helm|chart|bucket> [name] [flags]
  tide get images <all|repository|policy|update> [name] [flags]
  tide get kustomizations [name] [flags]      (aliases: kustomization, ks)
  tide get helmreleases [name] [flags]        (aliases: helmrelease, hr)
  tide get alerts [name] [flags]              (alias: alert)
  tide get alert-providers [name] [flags]     (alias: alert-provider)
  tide get receivers [name] [flags]           (alias: receiver)

Kinds: ${kindWords(true)}

Examples:
  # List all Kustomizations and their status in every namespace
  tide get ks -A

  # List the GitRepositories that are not ready
  tide get sources git --status-selector ready=false

  # Every Tide object of the apps namespace
  tide get all -n apps

  # Print a Kustomization as JSON
  tide get ks apps -o json

  # Follow the Kustomizations as they reconcile
  tide get ks --watch
`,
};
