// tide version: the CLI's version, from the package.json it ships in.
import { readFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import type { Command, Context } from '../command.ts';
import { CliError } from '../errors.ts';

/** The version in the nearest package.json named tide above this file (source tree or dist/). */
export async function cliVersion(from = import.meta.dirname): Promise<string> {
  for (let dir = from; ; dir = dirname(dir)) {
    try {
      const pkg = JSON.parse(await readFile(join(dir, 'package.json'), 'utf8')) as {
        name?: string;
        version?: string;
      };
      if (pkg.name === 'tide' && pkg.version) return pkg.version;
    } catch {
      /* no package.json here */
    }
    if (dirname(dir) === dir) return 'unknown';
  }
}

async function run(ctx: Context, args: string[]): Promise<number> {
  if (args.length > 0) throw new CliError(`tide version takes no arguments, got: ${args.join(' ')}`);
  ctx.io.out(`tide: v${await cliVersion()}\n`);
  return 0;
}

export const versionCommand: Command = {
  name: 'version',
  summary: 'Print the tide version',
  flags: [],
  run,
  help: `Print the version of the tide CLI.

Usage:
  tide version
`,
};
