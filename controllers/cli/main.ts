// tide: the command-line client of Tide, in the style of the flux CLI.
//   node controllers/cli/main.ts get ks -A        (npm run tide -- get ks -A)
// One table of commands; each declares its flags, which are parsed (node:util parseArgs), listed in
// its help and offered by shell completion. Any failure becomes one `✗ message` line on stderr and
// exit code 1.
import { createInterface } from 'node:readline/promises';
import { setTimeout as sleep } from 'node:timers/promises';
import { type ParseArgsOptionsConfig, parseArgs } from 'node:util';
import type { Client } from '../runtime/client.ts';
import { parseDuration } from '../runtime/duration.ts';
import {
  type Command,
  type Context,
  type FlagSpec,
  type FlagSpecs,
  type Flags,
  globalFlags,
} from './command.ts';
import { bootstrapCommand } from './commands/bootstrap.ts';
import { buildCommand } from './commands/build.ts';
import { checkCommand } from './commands/check.ts';
import { completionCommand } from './commands/completion.ts';
import { createCommand } from './commands/create.ts';
import { deleteCommand } from './commands/delete.ts';
import { diffCommand } from './commands/diff.ts';
import { eventsCommand } from './commands/events.ts';
import { exportCommand } from './commands/export.ts';
import { getCommand } from './commands/get.ts';
import { installCommand } from './commands/install.ts';
import { logsCommand } from './commands/logs.ts';
import { reconcileCommand } from './commands/reconcile.ts';
import { resumeCommand } from './commands/resume.ts';
import { rollbackCommand } from './commands/rollback.ts';
import { statsCommand } from './commands/stats.ts';
import { suspendCommand } from './commands/suspend.ts';
import { traceCommand } from './commands/trace.ts';
import { treeCommand } from './commands/tree.ts';
import { uiCommand } from './commands/ui.ts';
import { uninstallCommand } from './commands/uninstall.ts';
import { cliVersion, versionCommand } from './commands/version.ts';
import { CliError, isCliError } from './errors.ts';
import { apiMessage, type ConnectOptions, connect } from './kube.ts';
import { createLogger, type Io } from './output.ts';

/** Every command, in the order `tide --help` lists them. */
export const commands: readonly Command[] = [
  bootstrapCommand,
  installCommand,
  checkCommand,
  uninstallCommand,
  createCommand,
  getCommand,
  reconcileCommand,
  suspendCommand,
  resumeCommand,
  deleteCommand,
  exportCommand,
  diffCommand,
  buildCommand,
  rollbackCommand,
  treeCommand,
  traceCommand,
  eventsCommand,
  logsCommand,
  statsCommand,
  completionCommand(
    () => commands,
    () => globalFlags,
  ),
  versionCommand,
  uiCommand,
];

export const defaults = { namespace: 'flux-system', timeout: '5m', pollInterval: '2s' } as const;

export interface Deps {
  io: Io;
  /** Replaces the kubeconfig-based connection (unit tests pass a fake client). */
  connect?: (opts: ConnectOptions) => Promise<Client>;
  /** Wall clock in epoch nanoseconds. */
  nowNs?: () => bigint;
  /** Answers yes/no questions; without it every question is answered no. */
  confirm?: (question: string) => Promise<boolean>;
  signal?: AbortSignal;
  env?: Readonly<Record<string, string | undefined>>;
}

/** The `Flags:` lines of a help text, aligned like cobra's. */
export function formatFlags(specs: FlagSpecs): string {
  const rows = Object.entries(specs)
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([name, s]) => {
      const value = s.type === 'string' ? ` ${s.value ?? (s.list ? 'strings' : 'string')}` : '';
      return [`${s.short ? `-${s.short}, ` : '    '}--${name}${value}`, s.description] as const;
    });
  const width = Math.max(0, ...rows.map(([f]) => f.length));
  return rows.map(([f, d]) => `  ${f.padEnd(width)}   ${d}`).join('\n');
}

const rootHelp = () => `tide: the command-line client of Tide, a GitOps toolkit wire-compatible with Flux.

Usage:
  tide <command> [flags]

Commands:
${commands.map((c) => `  ${c.name.padEnd(11)} ${c.summary}`).join('\n')}

Global flags:
${formatFlags(globalFlags)}

Use "tide <command> --help" for more information about a command.
`;

function commandHelp(command: Command): string {
  const own = Object.keys(command.flags).length ? `\nFlags:\n${formatFlags(command.flags)}\n` : '';
  return `${command.help}${own}\nGlobal flags:\n${formatFlags(globalFlags)}\n`;
}

/** Runs one command line (without `node main.ts`); resolves with the exit code. */
export async function run(argv: readonly string[], deps: Deps): Promise<number> {
  const log = createLogger(deps.io);
  try {
    return await dispatch(argv, deps);
  } catch (err) {
    log.failure(errorMessage(err));
    return 1;
  }
}

/** The first word that is not a flag (nor a global flag's value): the command. */
function commandWord(argv: readonly string[]): string | undefined {
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i] ?? '';
    if (a === '--') return argv[i + 1];
    if (!a.startsWith('-') || a === '-') return a;
    if (a.includes('=')) continue;
    const spec = a.startsWith('--')
      ? globalFlags[a.slice(2)]
      : Object.values(globalFlags).find((s) => s.short === a.slice(1));
    if (spec?.type === 'string') i++;
  }
  return undefined;
}

async function dispatch(argv: readonly string[], deps: Deps): Promise<number> {
  const word = commandWord(argv);
  const command = word === undefined || word === 'help' ? undefined : commands.find((c) => c.name === word);
  if (word !== undefined && word !== 'help' && !command)
    throw new CliError(`unknown command "${word}" for "tide"; see tide --help`);
  const { values, positionals } = parseFlags(argv, command?.flags ?? {}, command?.name);
  const [, ...args] = positionals;
  if (!command) {
    const helpFor = args[0];
    if (helpFor === undefined) {
      deps.io.out(rootHelp());
      return 0;
    }
    const target = commands.find((c) => c.name === helpFor);
    if (!target) throw new CliError(`unknown command "${helpFor}" for "tide"; see tide --help`);
    deps.io.out(commandHelp(target));
    return 0;
  }
  if (values.help) {
    deps.io.out(commandHelp(command));
    return 0;
  }
  return command.run(context(values, deps), args);
}

const allSpecs = (): [string, FlagSpec][] =>
  commands.flatMap((c) => Object.entries(c.flags)).concat(Object.entries(globalFlags));

function parseFlags(argv: readonly string[], own: FlagSpecs, commandName: string | undefined) {
  const specs: FlagSpecs = { ...globalFlags, ...own };
  // Go's flag package takes --flag=true/false; parseArgs takes bare booleans, so set those here.
  const explicit = new Map<string, boolean>();
  const args = argv.filter((a) => {
    const m = /^--([^=]+)=(true|false)$/.exec(a);
    if (!m || specs[m[1]!]?.type !== 'boolean') return true;
    explicit.set(m[1]!, m[2] === 'true');
    return false;
  });
  const options: ParseArgsOptionsConfig = {};
  for (const [name, s] of Object.entries(specs))
    options[name] = {
      type: s.type,
      ...(s.short ? { short: s.short } : {}),
      ...(s.list ? { multiple: true } : {}),
    };
  try {
    const parsed = parseArgs({ args, options, allowPositionals: true, strict: true });
    for (const [k, v] of explicit) (parsed.values as Record<string, unknown>)[k] = v;
    return parsed as { values: Flags; positionals: string[] };
  } catch (err) {
    const e = err as Error;
    const unknown = /Unknown option '(-{1,2})([^']+)'/.exec(e.message);
    if (unknown) {
      const [, dashes, name = ''] = unknown;
      const other = allSpecs().find(([long, s]) => (dashes === '--' ? long === name : s.short === name));
      const where = commandName ? ` (see tide ${commandName} --help)` : '';
      throw new CliError(other ? `unknown flag: --${other[0]}${where}` : `unknown flag: ${dashes}${name}`);
    }
    const missing = /Option '([^']+?)(?: <value>)?' argument missing/.exec(e.message);
    if (missing) throw new CliError(`flag needs an argument: ${missing[1]}`);
    throw new CliError(e.message);
  }
}

function duration(flag: string, value: string): number {
  try {
    const ms = parseDuration(value);
    if (ms <= 0) throw new Error('must be positive');
    return ms;
  } catch (err) {
    throw new CliError(`invalid --${flag} "${value}": ${(err as Error).message}`);
  }
}

function context(values: Flags, deps: Deps): Context {
  const str = (k: string): string | undefined => values[k] as string | undefined;
  const timeoutMs = duration('timeout', str('timeout') ?? defaults.timeout);
  const pollMs = duration('poll-interval', str('poll-interval') ?? defaults.pollInterval);
  const namespace = str('namespace') ?? defaults.namespace;
  if (namespace === '') throw new CliError('--namespace must not be empty');
  let client: Promise<Client> | undefined;
  const kubeconfig = { path: str('kubeconfig'), context: str('context') };
  return {
    io: deps.io,
    log: createLogger(deps.io),
    flags: values,
    namespace,
    timeoutMs,
    deadline: Date.now() + timeoutMs,
    pollMs,
    kubeconfig,
    client: () => {
      client ??= (async () =>
        (deps.connect ?? connect)({
          kubeconfig: kubeconfig.path,
          context: kubeconfig.context,
          userAgent: `tide-cli/${await cliVersion()}`,
        }))();
      return client;
    },
    nowNs: deps.nowNs ?? wallClockNs,
    sleep: (ms) => sleep(ms, undefined, { signal: deps.signal }).catch(() => undefined),
    confirm: deps.confirm ?? (async () => false),
    signal: deps.signal ?? new AbortController().signal,
    env: deps.env ?? process.env,
  };
}

// Date.now() has milliseconds; the monotonic clock adds nanoseconds so tokens are RFC3339Nano and unique.
const clockBase = BigInt(Date.now()) * 1_000_000n - process.hrtime.bigint();
const wallClockNs = (): bigint => clockBase + process.hrtime.bigint();

function errorMessage(err: unknown): string {
  if (isCliError(err)) return err.message;
  return apiMessage(err) ?? (err instanceof Error ? err.message : String(err));
}

/** y/N on the terminal; false when stdin is not one. */
async function askTerminal(question: string): Promise<boolean> {
  if (!process.stdin.isTTY) return false;
  const rl = createInterface({ input: process.stdin, output: process.stderr });
  try {
    return /^y(es)?$/i.test((await rl.question(`${question} [y/N] `)).trim());
  } finally {
    rl.close();
  }
}

if (import.meta.main) {
  // `tide get ks -A | head -1` closes the pipe early: stop quietly rather than crash on EPIPE.
  process.stdout.on('error', (err: NodeJS.ErrnoException) => {
    if (err.code === 'EPIPE') process.exit(process.exitCode ?? 0);
    throw err;
  });
  const io: Io = {
    out: (text) => process.stdout.write(text),
    err: (text) => process.stderr.write(text),
  };
  // Ctrl-C ends watches and waits cleanly; a second one kills.
  const interrupted = new AbortController();
  process.once('SIGINT', () => {
    interrupted.abort();
    process.once('SIGINT', () => process.exit(130));
  });
  process.exitCode = await run(process.argv.slice(2), {
    io,
    confirm: askTerminal,
    signal: interrupted.signal,
  });
}
