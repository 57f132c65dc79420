// Applying Tide's own manifests with the runtime's staged server-side apply (CRDs and the Namespace
// first, waited for, then everything else) and waiting for the controllers to roll out.
import { Labels, PART_OF } from '../../api/names.ts';
import { computeStatus, Statuses } from '../../runtime/apply/health.ts';
import { ApplyError, applyAll, type ChangeSet } from '../../runtime/apply/index.ts';
import type { KubeObject } from '../../runtime/object.ts';
import type { Context } from '../command.ts';
import { CliError } from '../errors.ts';
import { waitFor } from '../progress.ts';

/** The CLI's field manager for what it applies (Tide's manifests, sync objects, Secrets). */
export const cliFieldManager = 'tide';

const deploymentKind = { group: 'apps', version: 'v1', kind: 'Deployment' };

/** Applies the objects in stages, printing `<Kind/ns/name> <action>` for each; returns the change set. */
export async function applyObjects(
  ctx: Context,
  objects: readonly KubeObject[],
  dryRun = false,
): Promise<ChangeSet> {
  const client = await ctx.client();
  let changes: ChangeSet;
  try {
    changes = await applyAll(client, objects, {
      fieldManager: cliFieldManager,
      dryRun,
      waitForCrdsMs: Math.max(1000, ctx.deadline - Date.now()),
    });
  } catch (err) {
    if (err instanceof ApplyError) throw new CliError(`apply failed:\n${err.errors.join('\n')}`);
    throw err;
  }
  for (const c of changes) ctx.io.err(`${c.subject} ${c.action}${dryRun ? ' (server dry run)' : ''}\n`);
  return changes;
}

/**
 * Waits until every Tide Deployment of the namespace named in `names` is rolled out (kstatus Current:
 * the new ReplicaSet available), printing `✔ <name>: deployment ready` as each gets there.
 */
export async function waitForRollout(
  ctx: Context,
  namespace: string,
  names: readonly string[],
): Promise<void> {
  const client = await ctx.client();
  const ready = new Set<string>();
  await waitFor(ctx, `${names.length} controller(s) to roll out`, async () => {
    const pending: string[] = [];
    for (const name of names) {
      if (ready.has(name)) continue;
      const d = await client.tryGet({ apiVersion: 'apps/v1', kind: 'Deployment', name, namespace });
      const st = d ? computeStatus(d) : { status: Statuses.NotFound, message: 'not found' };
      if (st.status === Statuses.Current) {
        ready.add(name);
        ctx.log.success(`${name}: deployment ready`);
      } else if (st.status === Statuses.Failed)
        throw new CliError(`${name}: deployment failed: ${st.message}`);
      else pending.push(`${name}: ${st.message || st.status}`);
    }
    return pending.length ? { pending: pending.join('; ') } : { done: undefined };
  });
}

/** The Tide Deployments in a namespace (label app.kubernetes.io/part-of=tide). */
export async function tideDeployments(ctx: Context, namespace: string): Promise<KubeObject[]> {
  const client = await ctx.client();
  const list = await client.listAll(deploymentKind, {
    namespace,
    labelSelector: `${Labels.partOf}=${PART_OF}`,
  });
  return list.items.sort((a, b) => (a.metadata.name ?? '').localeCompare(b.metadata.name ?? ''));
}
