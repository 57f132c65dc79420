// tide diff kustomization <name> --path <dir>
// Builds the local directory as the Kustomization would and compares it with the cluster by
// server-side dry-run through the apply engine: created, drifted (with the fields) and, with prune,
// deleted objects. Exits 1 when anything would change, 0 when nothing would (F2 cmd/flux/diff_kustomization.go).

import { Labels } from '../../api/names.ts';
import {
  ApplyError,
  applyAll,
  type ChangeSet,
  diffInventory,
  idOf,
  refOfEntry,
  subjectOfId,
  toInventory,
} from '../../runtime/apply/index.ts';
import type { KubeObject } from '../../runtime/object.ts';
import { buildFlags, buildLocal, loadKustomization } from '../build.ts';
import type { Command, Context } from '../command.ts';
import { CliError } from '../errors.ts';
import { diffObjects, formatChanges } from '../objdiff.ts';
import { kustomizationName } from './build.ts';

/** The kustomize-controller's field manager: the dry-run sees the fields as the controller owns them. */
const controllerManager = 'kustomize-controller';

/** `► <subject> created|drifted` for every object the dry-run would change, drifted ones with their fields. */
async function printChanges(
  ctx: Context,
  objects: readonly KubeObject[],
  changes: ChangeSet,
  labels: Record<string, string>,
): Promise<number> {
  const client = await ctx.client();
  const byId = new Map(objects.map((o) => [idOf(o), o]));
  let drift = 0;
  for (const c of changes) {
    if (c.action !== 'created' && c.action !== 'configured') continue;
    drift++;
    ctx.io.out(`► ${c.subject} ${c.action === 'created' ? 'created' : 'drifted'}\n`);
    const desired = byId.get(c.id);
    const live = c.action === 'configured' ? await client.tryGet(refOfEntry(c)) : undefined;
    if (!desired || !live) continue;
    const withLabels = {
      ...desired,
      metadata: { ...desired.metadata, labels: { ...desired.metadata.labels, ...labels } },
    };
    const dry = await client.apply(withLabels, {
      fieldManager: controllerManager,
      force: true,
      dryRun: true,
    });
    const fields = diffObjects(live, dry);
    if (fields.length) ctx.io.out(`${formatChanges(fields)}\n`);
  }
  return drift;
}

async function run(ctx: Context, args: string[]): Promise<number> {
  const ks = await loadKustomization(ctx, kustomizationName('diff', args));
  const objects = await buildLocal(ctx, ks);
  const client = await ctx.client();
  ctx.log.action(
    `diffing Kustomization ${ks.metadata.namespace}/${ks.metadata.name} with ${objects.length} object(s) of ${ctx.flags.path}`,
  );
  const labels = {
    [Labels.kustomizeName]: ks.metadata.name ?? '',
    [Labels.kustomizeNamespace]: ks.metadata.namespace ?? '',
  };
  let changes: ChangeSet;
  try {
    changes = await applyAll(client, objects, {
      fieldManager: controllerManager,
      dryRun: true,
      force: ks.spec?.force === true,
      labels,
      driftIgnoreRules: ks.spec?.ignore,
    });
  } catch (err) {
    if (err instanceof ApplyError)
      throw new CliError(`server-side dry-run failed:\n${err.errors.join('\n')}`);
    throw err;
  }
  let drift = await printChanges(ctx, objects, changes, labels);
  if (ks.spec?.prune) {
    const stale = diffInventory(ks.status?.inventory?.entries, toInventory(changes));
    for (const e of stale) {
      if (!(await client.tryGet(refOfEntry(e)))) continue;
      drift++;
      ctx.io.out(`► ${subjectOfId(e.id)} deleted\n`);
    }
  }
  if (drift) {
    ctx.log.warning(`identified ${drift} change(s), exiting with non-zero exit code`);
    return 1;
  }
  ctx.log.success('no changes: the cluster matches the local directory');
  return 0;
}

export const diffCommand: Command = {
  name: 'diff',
  summary: 'Diff a Kustomization built from a local directory with the cluster',
  flags: buildFlags,
  words: ['kustomization'],
  run,
  help: `Build the local --path as the Kustomization would (see tide build) and compare the result with
the cluster by server-side dry-run, as the kustomize-controller's field manager: objects that would be
created, drifted objects with the fields that differ (Secret values masked) and, with spec.prune, objects
of the inventory that would be deleted. Exits 1 when anything would change, 0 otherwise.

Usage:
  tide diff kustomization <name> --path <dir> [flags]

Examples:
  # Would merging this branch change the cluster?
  tide diff ks apps --path ./apps/production
`,
};
