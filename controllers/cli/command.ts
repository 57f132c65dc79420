// What main.ts hands a command, and what a command declares about itself.
import type { Client } from '../runtime/client.ts';
import type { Io, Logger } from './output.ts';

/** Parsed flag values by long name (`all-namespaces`, `with-source`, …). */
export type Flags = Readonly<Record<string, string | boolean | undefined>>;

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
  /** Wall clock in epoch nanoseconds (the reconcile token); injectable for tests. */
  nowNs(): bigint;
  sleep(ms: number): Promise<void>;
}

export interface Command {
  name: string;
  summary: string;
  /** Full text of `tide <name> --help`. */
  help: string;
  /** Long names of the flags this command takes beyond the global ones. */
  flags: readonly string[];
  /** Returns the exit code; throws CliError (or any error) to fail with `✗ message`. */
  run(ctx: Context, args: string[]): Promise<number>;
}
