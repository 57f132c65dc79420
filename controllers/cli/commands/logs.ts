// tide logs [--level L] [--kind K] [--name N] [-A] [--follow] [--tail N] [--since D] [--log-dir DIR]
// The controllers' JSON log lines, filtered and printed as flux prints them (F2 cmd/flux/logs.go):
// from the pods of Tide's Deployments, or from the files of controllers run as local processes
// (`make run` writes them to .testbed/logs; --log-dir or $TIDE_LOG_DIR).
import { open, readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { ConditionTypes, Labels, PART_OF } from '../../api/names.ts';
import { parseDuration } from '../../runtime/duration.ts';
import type { KubeObject } from '../../runtime/object.ts';
import { bool, type Command, type Context, commonFlags, str } from '../command.ts';
import { CliError } from '../errors.ts';

export interface LogFilter {
  level?: string;
  kind?: string;
  name?: string;
  /** Undefined: every namespace (-A). */
  namespace?: string;
  /** Epoch milliseconds: older lines are left out. */
  since?: number;
}

interface Entry {
  ts?: string;
  level?: string;
  msg?: string;
  error?: string;
  kind?: string;
  controllerKind?: string;
  name?: string;
  namespace?: string;
}

/**
 * One log line as flux prints it, `<ts> <level> <Kind>/<name>.<namespace> - <msg> <error>`, or
 * undefined when it is not a JSON entry or the filter leaves it out (flux's filterPrintLog).
 */
export function formatLogLine(line: string, f: LogFilter): string | undefined {
  if (!line.startsWith('{')) return undefined;
  let e: Entry;
  try {
    e = JSON.parse(line) as Entry;
  } catch {
    return undefined;
  }
  const eq = (a: string | undefined, b: string | undefined) =>
    (a ?? '').toLowerCase() === (b ?? '').toLowerCase();
  if (f.level && e.level !== f.level) return undefined;
  if (f.kind && !eq(f.kind, e.kind) && !eq(f.kind, e.controllerKind)) return undefined;
  if (f.name && !eq(f.name, e.name)) return undefined;
  if (f.namespace !== undefined && !eq(f.namespace, e.namespace)) return undefined;
  if (f.since !== undefined && e.ts && Date.parse(e.ts) < f.since) return undefined;
  const kind = e.kind || e.controllerKind || '';
  const object = e.name ? `${kind}/${e.name}.${e.namespace ?? ''}` : kind;
  return `${e.ts ?? ''} ${e.level ?? ''} ${object} - ${e.msg ?? ''} ${e.error ?? ''}\n`;
}

/** The last `n` lines of a text (all when n is undefined). */
const tail = (lines: string[], n: number | undefined) => (n === undefined ? lines : lines.slice(-n));

/** Local processes: every *.log file of the directory, each printed (and followed) in turn. */
async function fromDir(ctx: Context, dir: string, f: LogFilter, tailN: number | undefined, follow: boolean) {
  let files: string[];
  try {
    files = (await readdir(dir)).filter((n) => n.endsWith('.log')).sort();
  } catch (err) {
    throw new CliError(`cannot read the log directory ${dir}: ${(err as Error).message}`);
  }
  if (!files.length) throw new CliError(`no controller logs (*.log) in ${dir}`);
  const offsets = new Map<string, number>();
  const readNew = async (file: string, first: boolean) => {
    const path = join(dir, file);
    const size = (await stat(path)).size;
    const from = offsets.get(file) ?? 0;
    if (size <= from) return;
    const fh = await open(path, 'r');
    try {
      const buf = Buffer.alloc(size - from);
      await fh.read(buf, 0, buf.length, from);
      const text = buf.toString('utf8');
      // Only whole lines; a partial last line is read again next time.
      const end = text.lastIndexOf('\n') + 1;
      offsets.set(file, from + Buffer.byteLength(text.slice(0, end)));
      const lines = text.slice(0, end).split('\n');
      const shown = lines.map((l) => formatLogLine(l, f)).filter((l): l is string => l !== undefined);
      for (const l of first ? tail(shown, tailN) : shown) ctx.io.out(l);
    } finally {
      await fh.close();
    }
  };
  for (const file of files) await readNew(file, true);
  while (follow && !ctx.signal.aborted && Date.now() < ctx.deadline) {
    await ctx.sleep(Math.min(ctx.pollMs, 500));
    for (const file of files) await readNew(file, false);
  }
}

/** flux's pick of a Deployment's pod: Running and Ready first. */
function pickPod(pods: KubeObject[]): KubeObject | undefined {
  const score = (p: KubeObject) =>
    (p.status?.phase === 'Running' ? 2 : 0) +
    ((p.status?.conditions ?? []).some(
      (c: { type: string; status: string }) => c.type === ConditionTypes.Ready && c.status === 'True',
    )
      ? 1
      : 0);
  return [...pods].sort((a, b) => score(b) - score(a))[0];
}

/** Pods: one pod of each Tide Deployment in the Tide namespace, read (or followed) through the API. */
async function fromPods(
  ctx: Context,
  ns: string,
  f: LogFilter,
  tailN: number | undefined,
  follow: boolean,
  sinceSeconds?: number,
) {
  const client = await ctx.client();
  const deployments = await client.listAll(
    { group: 'apps', version: 'v1', kind: 'Deployment' },
    { namespace: ns, labelSelector: `${Labels.partOf}=${PART_OF}` },
  );
  const pods: KubeObject[] = [];
  for (const d of deployments.items) {
    const labels = d.spec?.selector?.matchLabels ?? {};
    const selector = Object.entries(labels)
      .map(([k, v]) => `${k}=${v}`)
      .join(',');
    const found = await client.listAll(
      { group: '', version: 'v1', kind: 'Pod' },
      { namespace: ns, labelSelector: selector },
    );
    const pod = pickPod(found.items);
    if (pod) pods.push(pod);
  }
  if (!pods.length)
    throw new CliError(`no Tide pods found in namespace "${ns}" (for local processes pass --log-dir)`);
  const query = new URLSearchParams({ container: 'manager' });
  if (follow) query.set('follow', 'true');
  if (tailN !== undefined) query.set('tailLines', String(tailN));
  if (sinceSeconds !== undefined) query.set('sinceSeconds', String(sinceSeconds));
  const stop = new AbortController();
  const timer = setTimeout(() => stop.abort(), Math.max(0, ctx.deadline - Date.now()));
  ctx.signal.addEventListener('abort', () => stop.abort(), { once: true });
  let failed = false;
  try {
    const read = async (pod: KubeObject) => {
      const path = `/api/v1/namespaces/${ns}/pods/${pod.metadata.name}/log?${query}`;
      try {
        await client.streamLines(
          path,
          (line) => {
            const out = formatLogLine(line, f);
            if (out) ctx.io.out(out);
          },
          { signal: stop.signal },
        );
      } catch (err) {
        failed = true;
        ctx.log.failure(`failed getting logs of pod ${pod.metadata.name}: ${(err as Error).message}`);
      }
    };
    // Followed logs interleave; otherwise one pod after the other.
    if (follow) await Promise.all(pods.map(read));
    else for (const p of pods) await read(p);
  } finally {
    clearTimeout(timer);
  }
  if (failed) throw new CliError('failed to collect logs from all Tide pods');
}

async function run(ctx: Context, args: string[]): Promise<number> {
  if (args.length) throw new CliError(`tide logs takes no arguments, got: ${args.join(' ')}`);
  const level = str(ctx, 'level');
  if (level && !['debug', 'info', 'error'].includes(level))
    throw new CliError(`invalid --level "${level}": want debug, info or error`);
  const tailFlag = str(ctx, 'tail');
  const tailN = tailFlag === undefined ? undefined : Number(tailFlag);
  if (tailN !== undefined && !(Number.isInteger(tailN) && tailN >= 0))
    throw new CliError(`invalid --tail "${tailFlag}": want a number of lines`);
  const sinceFlag = str(ctx, 'since');
  let sinceMs: number | undefined;
  if (sinceFlag) {
    try {
      sinceMs = parseDuration(sinceFlag);
    } catch (err) {
      throw new CliError(`invalid --since "${sinceFlag}": ${(err as Error).message}`);
    }
  }
  const filter: LogFilter = {
    level,
    kind: str(ctx, 'kind'),
    name: str(ctx, 'name'),
    namespace: bool(ctx, 'all-namespaces') ? undefined : ctx.namespace,
    since: sinceMs === undefined ? undefined : Date.now() - sinceMs,
  };
  const follow = bool(ctx, 'follow');
  const dir = str(ctx, 'log-dir') ?? ctx.env.TIDE_LOG_DIR;
  if (dir) await fromDir(ctx, dir, filter, tailN, follow);
  else
    await fromPods(
      ctx,
      str(ctx, 'flux-namespace') ?? 'flux-system',
      filter,
      tailN,
      follow,
      sinceMs === undefined ? undefined : Math.ceil(sinceMs / 1000),
    );
  return 0;
}

export const logsCommand: Command = {
  name: 'logs',
  summary: "Display the controllers' logs",
  flags: {
    level: { type: 'string', description: 'only entries of this level: debug, info or error' },
    kind: { type: 'string', description: 'only entries about this kind, e.g. GitRepository' },
    name: { type: 'string', description: 'only entries about objects of this name' },
    follow: {
      type: 'boolean',
      short: 'f',
      description: 'keep printing new entries (until --timeout or Ctrl-C)',
    },
    tail: { type: 'string', value: 'lines', description: 'only the last lines of each controller' },
    since: { type: 'string', value: 'duration', description: 'only entries newer than this, e.g. 5m' },
    'all-namespaces': {
      ...commonFlags.allNamespaces,
      description: 'entries about objects of every namespace',
    },
    'flux-namespace': { type: 'string', description: 'the namespace Tide runs in (default "flux-system")' },
    'log-dir': {
      type: 'string',
      description: 'read the *.log files of controllers run as local processes (default $TIDE_LOG_DIR)',
    },
  },
  run,
  help: `Print the controllers' log entries about objects of the namespace (-n, or every namespace with
-A): from the pods of Tide's Deployments, or, for controllers run as local processes (make run
writes .testbed/logs), from the *.log files of --log-dir.

Usage:
  tide logs [flags]

Examples:
  # Errors about Kustomizations, from the pods
  tide logs --level error --kind Kustomization

  # Follow the controllers of make run
  tide logs --log-dir .testbed/logs -A --follow
`,
};
