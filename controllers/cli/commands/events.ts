// tide events [--for Kind/name] [--types Normal,Warning] [-A] [--watch]
// The Kubernetes Events of a namespace, oldest first, as flux prints them: LAST SEEN TYPE REASON
// OBJECT MESSAGE (F2 cmd/flux/events.go).
import { formatDuration } from '../../runtime/duration.ts';
import type { KubeObject } from '../../runtime/object.ts';
import { bool, type Command, type Context, commonFlags, list, str } from '../command.ts';
import { CliError } from '../errors.ts';
import { cliKinds } from '../kinds.ts';
import { renderTable } from '../output.ts';
import { watchChanges } from '../watch.ts';

const eventKind = { group: '', version: 'v1', kind: 'Event' };

/** When the event was last seen: lastTimestamp, series, eventTime, or its creation. */
export function lastSeen(ev: KubeObject): number {
  const t =
    (ev as { lastTimestamp?: string }).lastTimestamp ??
    (ev as { series?: { lastObservedTime?: string } }).series?.lastObservedTime ??
    (ev as { eventTime?: string }).eventTime ??
    ev.metadata.creationTimestamp;
  return t ? new Date(t).getTime() : 0;
}

/** kubectl's short age: `45s`, `3m`, `2h`, `4d`. */
export function shortAge(ms: number): string {
  const s = Math.max(0, Math.floor(ms / 1000));
  if (s < 120) return `${s}s`;
  if (s < 7200) return `${Math.floor(s / 60)}m`;
  if (s < 172_800) return `${Math.floor(s / 3600)}h`;
  return `${Math.floor(s / 86_400)}d`;
}

/** `--for Kind/name`: the kind by its Kubernetes name or any word the CLI takes for it (`ks/apps`). */
export function parseFor(value: string | undefined): { kind: string; name: string } | undefined {
  if (!value) return undefined;
  const [word = '', name = '', ...extra] = value.split('/');
  if (!word || !name || extra.length)
    throw new CliError(`invalid --for "${value}": want Kind/name, e.g. Kustomization/apps`);
  const known = cliKinds.find(
    (k) => k.kind.toLowerCase() === word.toLowerCase() || k.words.includes(word.toLowerCase()),
  );
  return { kind: known?.kind ?? word, name };
}

export function eventRow(ev: KubeObject, now: number, withNamespace: boolean): string[] {
  const e = ev as KubeObject & {
    type?: string;
    reason?: string;
    message?: string;
    involvedObject?: { kind?: string; name?: string };
  };
  return [
    ...(withNamespace ? [ev.metadata.namespace ?? ''] : []),
    shortAge(now - lastSeen(ev)),
    e.type ?? '',
    e.reason ?? '',
    `${e.involvedObject?.kind ?? ''}/${e.involvedObject?.name ?? ''}`,
    (e.message ?? '').trim(),
  ];
}

async function run(ctx: Context, args: string[]): Promise<number> {
  if (args.length) throw new CliError(`tide events takes no arguments, got: ${args.join(' ')}`);
  const target = parseFor(str(ctx, 'for'));
  const types = list(ctx, 'types');
  for (const t of types)
    if (t !== 'Normal' && t !== 'Warning')
      throw new CliError(`invalid --types "${t}": want Normal or Warning`);
  const all = bool(ctx, 'all-namespaces');
  const client = await ctx.client();
  const opts = {
    namespace: all ? undefined : ctx.namespace,
    fieldSelector: target
      ? `involvedObject.kind=${target.kind},involvedObject.name=${target.name}`
      : undefined,
  };
  const keep = (ev: KubeObject) => !types.length || types.includes(String((ev as { type?: string }).type));
  const found = await client.listAll(eventKind, opts);
  const events = found.items.filter(keep).sort((a, b) => lastSeen(a) - lastSeen(b));
  const header = [...(all ? ['Namespace'] : []), 'Last seen', 'Type', 'Reason', 'Object', 'Message'];
  const now = Date.now();
  if (events.length || bool(ctx, 'watch'))
    ctx.io.out(
      renderTable(
        header,
        events.map((e) => eventRow(e, now, all)),
      ),
    );
  else ctx.log.failure(`no events found in ${all ? 'any' : `"${ctx.namespace}"`} namespace`);
  if (!bool(ctx, 'watch')) return 0;

  // From the list's version on, every new or updated Event is one more row.
  await watchChanges(ctx, eventKind, opts, found.metadata?.resourceVersion, (ev) => {
    if (keep(ev)) ctx.io.out(renderTable(undefined, [eventRow(ev, Date.now(), all)]));
  });
  return 0;
}

export const eventsCommand: Command = {
  name: 'events',
  summary: 'Display Kubernetes events of Flux resources',
  flags: {
    for: {
      type: 'string',
      value: 'Kind/name',
      description: 'only the events of this object, e.g. Kustomization/apps or ks/apps',
    },
    types: { type: 'string', list: true, description: 'only events of these types: Normal, Warning' },
    'all-namespaces': commonFlags.allNamespaces,
    watch: commonFlags.watch,
  },
  run,
  help: `Print the Kubernetes Events of a namespace, oldest first: LAST SEEN TYPE REASON OBJECT MESSAGE.
With --watch, keep printing new ones (until --timeout, default ${formatDuration(5 * 60_000)}, or Ctrl-C).

Usage:
  tide events [flags]

Examples:
  # What happened to a Kustomization
  tide events --for Kustomization/apps

  # Only warnings, in every namespace, as they come
  tide events -A --types Warning --watch
`,
};
