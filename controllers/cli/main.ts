// tide: the command-line client of Tide, in the style of the flux CLI.
//   node controllers/cli/main.ts get ks -A        (npm run tide -- get ks -A)
// Parses the flags of every command at once (node:util parseArgs), dispatches on the first word, and
// turns any failure into one `✗ message` line on stderr and exit code 1.
import { setTimeout as sleep } from 'node:timers/promises';
import { type ParseArgsOptionsConfig, parseArgs } from 'node:util';
import type { Client } from '../runtime/client.ts';
import { formatDuration, parseDuration } from '../runtime/duration.ts';
import type { Command, Context, Flags } from './command.ts';
import { getCommand } from './commands/get.ts';
import { reconcileCommand } from './commands/reconcile.ts';
import { resumeCommand } from './commands/resume.ts';
import { suspendCommand } from './commands/suspend.ts';
import { uiCommand } from './commands/ui.ts';
import { cliVersion, versionCommand } from './commands/version.ts';
import { CliError, isCliError } from './errors.ts';
import { apiMessage, type ConnectOptions, connect } from './kube.ts';
import { createLogger, type Io } from './output.ts';

export const commands: readonly Command[] = [
  getCommand,
  reconcileCommand,
  suspendCommand,
  resumeCommand,
  versionCommand,
  uiCommand,
];

const globalFlags = {
  kubeconfig: { type: 'string' },
  context: { type: 'string' },
  namespace: { type: 'string', short: 'n' },
  timeout: { type: 'string' },
  'poll-interval': { type: 'string' },
  help: { type: 'boolean', short: 'h' },
} satisfies ParseArgsOptionsConfig;

// Every command's flags, parsed in one pass; a flag the chosen command does not take is refused after.
const commandFlags = {
  'all-namespaces': { type: 'boolean', short: 'A' },
  'status-selector': { type: 'string' },
  'label-selector': { type: 'string', short: 'l' },
  'no-header': { type: 'boolean' },
  'with-source': { type: 'boolean' },
  force: { type: 'boolean' },
  reset: { type: 'boolean' },
  all: { type: 'boolean' },
  wait: { type: 'boolean' },
} satisfies ParseArgsOptionsConfig;

export const defaults = { namespace: 'flux-system', timeout: '5m', pollInterval: '2s' } as const;

export interface Deps {
  io: Io;
  /** Replaces the kubeconfig-based connection (unit tests pass a fake client). */
  connect?: (opts: ConnectOptions) => Promise<Client>;
  /** Wall clock in epoch nanoseconds. */
  nowNs?: () => bigint;
}

const rootHelp = `tide: the command-line client of Tide, a GitOps toolkit wire-compatible with Flux.

Usage:
  tide <command> [flags]

Commands:
${commands.map((c) => `  ${c.name.padEnd(11)} ${c.summary}`).join('\n')}

Global flags:
      --context string          kubernetes context to use
  -h, --help                    help for tide or a command
      --kubeconfig string       path to the kubeconfig file (default $KUBECONFIG, then ~/.kube/config)
  -n, --namespace string        the namespace scope for this operation (default "${defaults.namespace}")
      --poll-interval duration  how often to read the status while waiting (default ${defaults.pollInterval})
      --timeout duration        timeout for this operation (default ${formatDuration(parseDuration(defaults.timeout))})

Use "tide <command> --help" for more information about a command.
`;

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

async function dispatch(argv: readonly string[], deps: Deps): Promise<number> {
  const { values, positionals } = parseFlags(argv);
  const [name, ...args] = positionals;
  if (name === undefined || (name === 'help' && args.length === 0)) {
    deps.io.out(rootHelp);
    return 0;
  }
  const helpFor = name === 'help' ? args[0] : undefined;
  const command = commands.find((c) => c.name === (helpFor ?? name));
  if (!command) throw new CliError(`unknown command "${helpFor ?? name}" for "tide"; see tide --help`);
  if (values.help || helpFor) {
    deps.io.out(`${command.help}\n${rootHelp.slice(rootHelp.indexOf('Global flags:'))}`);
    return 0;
  }
  for (const flag of Object.keys(values)) {
    if (!(flag in globalFlags) && !command.flags.includes(flag))
      throw new CliError(`unknown flag: --${flag} (see tide ${command.name} --help)`);
  }
  return command.run(context(values, deps), args);
}

function parseFlags(argv: readonly string[]) {
  try {
    return parseArgs({
      args: [...argv],
      options: { ...globalFlags, ...commandFlags },
      allowPositionals: true,
      strict: true,
    });
  } catch (err) {
    const e = err as Error & { code?: string };
    const unknown = /Unknown option '([^']+)'/.exec(e.message);
    if (unknown) throw new CliError(`unknown flag: ${unknown[1]}`);
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
  return {
    io: deps.io,
    log: createLogger(deps.io),
    flags: values,
    namespace,
    timeoutMs,
    deadline: Date.now() + timeoutMs,
    pollMs,
    client: () => {
      client ??= (async () =>
        (deps.connect ?? connect)({
          kubeconfig: str('kubeconfig'),
          context: str('context'),
          userAgent: `tide-cli/${await cliVersion()}`,
        }))();
      return client;
    },
    nowNs: deps.nowNs ?? wallClockNs,
    sleep: (ms) => sleep(ms),
  };
}

// Date.now() has milliseconds; the monotonic clock adds nanoseconds so tokens are RFC3339Nano and unique.
const clockBase = BigInt(Date.now()) * 1_000_000n - process.hrtime.bigint();
const wallClockNs = (): bigint => clockBase + process.hrtime.bigint();

function errorMessage(err: unknown): string {
  if (isCliError(err)) return err.message;
  return apiMessage(err) ?? (err instanceof Error ? err.message : String(err));
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
  process.exitCode = await run(process.argv.slice(2), { io });
}
