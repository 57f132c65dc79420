// tide version: the CLI's version, from the package.json it ships in.
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Command, Context } from '../command.ts';
import { CliError } from '../errors.ts';
import { packageRoot } from '../package.ts';

/** The version in the nearest package.json named tide above this file (source tree or dist/). */
export async function cliVersion(from = import.meta.dirname): Promise<string> {
  const root = packageRoot(from);
  if (!root) return 'unknown';
  const pkg = JSON.parse(await readFile(join(root, 'package.json'), 'utf8')) as { version?: string };
  return pkg.version ?? 'unknown';
}

async function run(ctx: Context, args: string[]): Promise<number> {
  if (args.length > 0) throw new CliError(`tide version takes no arguments, got: ${args.join(' ')}`);
  ctx.io.out(`tide: v${await cliVersion()}\n`);
  return 0;
}

export const versionCommand: Command = {
  name: 'version',
  summary: 'Print the tide version',
  flags: {},
  run,
  help: `Print the version of the tide CLI.

Usage:
  tide version
`,
};
