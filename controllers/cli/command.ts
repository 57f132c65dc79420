// What main.ts hands a command, and what a command declares about itself: its flags (parsed, listed in
// its help and offered by shell completion from this one declaration) and its words.
import type { Client } from '../runtime/client.ts';
import { CliError } from './errors.ts';
import type { Io, Logger } from './output.ts';

export interface FlagSpec {
  type: 'string' | 'boolean';
  short?: string;
  /** Repeatable; values are also split on commas (`--components-extra a,b`). */
  list?: true;
  /** What the help prints after the flag, e.g. `duration`; default `string`. */
  value?: string;
  description: string;
}

export type FlagSpecs = Readonly<Record<string, FlagSpec>>;

/** Parsed flag values by long name (`all-namespaces`, `with-source`, …). */
export type Flags = Readonly<Record<string, string | boolean | string[] | undefined>>;

export interface Context {
  io: Io;
  log: Logger;
  flags: Flags;
  /** -n/--namespace, default flux-system. */
  namespace: string;
  /** --timeout in milliseconds; the whole command must finish within it. */
  timeoutMs: number;
  /** Epoch milliseconds when --timeout runs out. */
  deadline: number;
  /** How often waits re-read the object. */
  pollMs: number;
  /** Connects on first use, so argument errors never need a cluster. */
  client(): Promise<Client>;
  /** --kubeconfig and --context, for what runs beside the client (nothing else reads them). */
  kubeconfig: { path?: string; context?: string };
  /** Wall clock in epoch nanoseconds (the reconcile token); injectable for tests. */
  nowNs(): bigint;
  sleep(ms: number): Promise<void>;
  /** Asks a yes/no question; false when nobody can answer (no terminal). */
  confirm(question: string): Promise<boolean>;
  /** Aborted on SIGINT: long waits and watches stop. */
  signal: AbortSignal;
  /** Environment variables the command may read (GIT_PASSWORD, TIDE_*_BIN, ...). */
  env: Readonly<Record<string, string | undefined>>;
}

export interface Command {
  name: string;
  summary: string;
  /** `tide <name> --help`: what it does, usage and examples; the flags are listed from `flags`. */
  help: string;
  /** The flags this command takes beyond the global ones. */
  flags: FlagSpecs;
  /** Words shell completion offers after the command name (subcommands, kinds). */
  words?: readonly string[];
  /** Words offered after one of `words` (`source` → git, oci, ...); kind groups are added for every command. */
  subwords?: Readonly<Record<string, readonly string[]>>;
  /** Returns the exit code; throws CliError (or any error) to fail with `✗ message`. */
  run(ctx: Context, args: string[]): Promise<number>;
}

/** A string flag's value, undefined when not given. */
export function str(ctx: Pick<Context, 'flags'>, name: string): string | undefined {
  const v = ctx.flags[name];
  return typeof v === 'string' ? v : undefined;
}

/** A boolean flag (false when not given). */
export const bool = (ctx: Pick<Context, 'flags'>, name: string): boolean => ctx.flags[name] === true;

/** A list flag's values (repeated and comma-separated), [] when not given. */
export function list(ctx: Pick<Context, 'flags'>, name: string): string[] {
  const v = ctx.flags[name];
  if (v === undefined || typeof v === 'boolean') return [];
  return (Array.isArray(v) ? v : [v])
    .flatMap((s) => s.split(','))
    .map((s) => s.trim())
    .filter(Boolean);
}

/** A flag the command cannot do without. */
export function required(ctx: Pick<Context, 'flags'>, name: string, why = ''): string {
  const v = str(ctx, name);
  if (!v) throw new CliError(`--${name} is required${why ? ` ${why}` : ''}`);
  return v;
}

/** Flags several commands share, declared once. */
export const commonFlags = {
  allNamespaces: {
    type: 'boolean',
    short: 'A',
    description: 'list the requested object(s) across all namespaces',
  },
  labelSelector: {
    type: 'string',
    short: 'l',
    description: 'filter objects by label selector, e.g. app=podinfo',
  },
  output: {
    type: 'string',
    short: 'o',
    value: 'format',
    description: 'output format: table (default), json or yaml',
  },
  watch: {
    type: 'boolean',
    short: 'w',
    description: 'after listing, keep printing changes until --timeout or Ctrl-C',
  },
  silent: { type: 'boolean', short: 's', description: 'do not ask for confirmation' },
  export: { type: 'boolean', description: 'print the object as YAML on stdout instead of applying it' },
  interval: {
    type: 'string',
    value: 'duration',
    description: 'how often the controller reconciles it (default 1m)',
  },
} satisfies Record<string, FlagSpec>;

/** The flags every command takes. */
export const globalFlags: FlagSpecs = {
  kubeconfig: {
    type: 'string',
    description: 'path to the kubeconfig file (default $KUBECONFIG, then ~/.kube/config)',
  },
  context: { type: 'string', description: 'kubernetes context to use' },
  namespace: {
    type: 'string',
    short: 'n',
    description: 'the namespace scope for this operation (default "flux-system")',
  },
  timeout: { type: 'string', value: 'duration', description: 'timeout for this operation (default 5m0s)' },
  'poll-interval': {
    type: 'string',
    value: 'duration',
    description: 'how often to read the status while waiting (default 2s)',
  },
  help: { type: 'boolean', short: 'h', description: 'help for tide or a command' },
};
