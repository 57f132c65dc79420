// tide build kustomization <name> --path <dir>
// Prints what the Kustomization would apply if its source held the local directory (F2
// cmd/flux/build_kustomization.go).

import { buildFlags, buildLocal, loadKustomization } from '../build.ts';
import type { Command, Context } from '../command.ts';
import { CliError } from '../errors.ts';
import { kustomizationKind } from '../kinds.ts';
import { yamlStream } from '../output.ts';

/** `kustomization <name>` (or ks) after build and diff. */
export function kustomizationName(verb: string, args: string[]): string {
  const [word, name, ...extra] = args;
  if (!word || !kustomizationKind.words.includes(word))
    throw new CliError(`tide ${verb} needs a kind: kustomization (ks)`);
  if (!name || extra.length) throw new CliError(`tide ${verb} kustomization takes one name`);
  return name;
}

async function run(ctx: Context, args: string[]): Promise<number> {
  const ks = await loadKustomization(ctx, kustomizationName('build', args));
  ctx.io.out(yamlStream(await buildLocal(ctx, ks)));
  return 0;
}

export const buildCommand: Command = {
  name: 'build',
  summary: 'Build a Kustomization from a local directory',
  flags: buildFlags,
  words: ['kustomization'],
  run,
  help: `Print, as YAML, the objects a Kustomization would apply if its source held the local --path:
the Kustomization's overlays (targetNamespace, patches, images, ...), kustomize build, postBuild
substitution (variables from the cluster) and its labels, as the kustomize-controller does them.

Usage:
  tide build kustomization <name> --path <dir> [flags]

Examples:
  # What apps would apply from a checkout
  tide build ks apps --path ./apps/staging

  # Without a cluster
  tide build ks apps --path ./apps/staging --kustomization-file ./clusters/staging/apps.yaml --dry-run
`,
};
