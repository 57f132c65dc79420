// tide uninstall [--purge] [--keep-namespace] [--silent] [--dry-run]
// Removes Tide and keeps what it applied: the controllers go first (and their pods are waited for), then
// the toolkit finalizers of every Tide object, so deleting the CRDs (which deletes those objects)
// neither hangs nor prunes; then the Namespace. --purge first deletes the Kustomizations and
// HelmReleases while the controllers still run, so they remove what they applied (F2 cmd/flux/uninstall.go).
import { allKinds, FINALIZER, Labels, PART_OF } from '../../api/index.ts';
import { parseId } from '../../runtime/apply/inventory.ts';
import { isNotFound } from '../../runtime/client.ts';
import type { GVK, KubeObject } from '../../runtime/object.ts';
import { bool, type Command, type Context, commonFlags } from '../command.ts';
import { CliError } from '../errors.ts';
import { chartComponents } from '../install/components.ts';
import { helmReleaseKind, kustomizationKind } from '../kinds.ts';
import { waitFor } from '../progress.ts';

const namespaced: GVK[] = [
  { group: 'apps', version: 'v1', kind: 'Deployment' },
  { group: '', version: 'v1', kind: 'Service' },
  { group: 'networking.k8s.io', version: 'v1', kind: 'NetworkPolicy' },
  { group: '', version: 'v1', kind: 'ServiceAccount' },
  { group: 'rbac.authorization.k8s.io', version: 'v1', kind: 'RoleBinding' },
  { group: 'rbac.authorization.k8s.io', version: 'v1', kind: 'Role' },
];
const clusterScoped: GVK[] = [
  { group: 'rbac.authorization.k8s.io', version: 'v1', kind: 'ClusterRoleBinding' },
  { group: 'rbac.authorization.k8s.io', version: 'v1', kind: 'ClusterRole' },
];
const crdRef = (name: string) => ({
  apiVersion: 'apiextensions.k8s.io/v1',
  kind: 'CustomResourceDefinition',
  name,
});
const refOf = (o: KubeObject) => ({
  apiVersion: o.apiVersion ?? '',
  kind: o.kind ?? '',
  name: o.metadata.name ?? '',
  namespace: o.metadata.namespace,
});
const subject = (o: KubeObject) =>
  `${o.kind}/${o.metadata.namespace ? `${o.metadata.namespace}/` : ''}${o.metadata.name}`;

/** Lists a kind, [] when the cluster does not serve it. */
async function listOrNone(ctx: Context, gvk: GVK, opts: { namespace?: string; labelSelector?: string } = {}) {
  try {
    return (await (await ctx.client()).listAll(gvk, opts)).items;
  } catch (err) {
    // Not served (or no longer: a CRD being deleted answers 404 without a NoKindMatch).
    if (isNotFound(err)) return [];
    throw err;
  }
}

/** True when the applier's inventory holds Tide itself (a toolkit CRD or a controller Deployment of `ns`). */
export function managesTide(applier: KubeObject, ns: string, controllerNames: readonly string[]): boolean {
  return (applier.status?.inventory?.entries ?? []).some((e: { id: string }) => {
    const m = parseId(e.id);
    if (m.kind === 'CustomResourceDefinition') return m.name.endsWith('.toolkit.fluxcd.io');
    return (
      m.kind === 'Deployment' && m.group === 'apps' && m.namespace === ns && controllerNames.includes(m.name)
    );
  });
}

/** --purge: delete the appliers (not those that apply Tide) and wait until their controllers pruned them. */
async function purge(ctx: Context, dryRun: boolean) {
  const client = await ctx.client();
  const names = chartComponents().map((c) => c.name);
  const doomed: KubeObject[] = [];
  for (const kind of [kustomizationKind, helmReleaseKind]) {
    for (const o of await listOrNone(ctx, kind.descriptor)) {
      if (managesTide(o, ctx.namespace, names)) {
        ctx.log.action(`keeping what ${subject(o)} applied: it manages Tide itself`);
        if (!dryRun) await client.removeFinalizer(o, FINALIZER);
      } else doomed.push(o);
    }
  }
  for (const o of doomed) {
    ctx.log.action(`${subject(o)} deleted${dryRun ? ' (dry run)' : ''}, pruning what it applied`);
    if (!dryRun) await client.delete(refOf(o));
  }
  if (dryRun || !doomed.length) return;
  await waitFor(ctx, `${doomed.length} Kustomization(s) and HelmRelease(s) to prune and go`, async () => {
    const left: string[] = [];
    for (const o of doomed) if (await client.tryGet(refOf(o))) left.push(subject(o));
    return left.length ? { pending: `still there: ${left.join(', ')}` } : { done: undefined };
  });
}

/** Removes the toolkit finalizer from every Tide object; returns how many had it. */
async function removeFinalizers(ctx: Context, dryRun: boolean, quiet = false): Promise<number> {
  const client = await ctx.client();
  let n = 0;
  for (const kind of allKinds)
    for (const o of await listOrNone(ctx, kind)) {
      if (!o.metadata.finalizers?.includes(FINALIZER)) continue;
      n++;
      if (!dryRun) await client.removeFinalizer(o, FINALIZER);
      if (!quiet) ctx.log.success(`${subject(o)} finalizers deleted${dryRun ? ' (dry run)' : ''}`);
    }
  return n;
}

/** The chart's objects of the namespace and its cluster-wide RBAC; then waits for the pods to end. */
async function deleteComponents(ctx: Context, dryRun: boolean) {
  const client = await ctx.client();
  const ns = ctx.namespace;
  const selector = `${Labels.partOf}=${PART_OF}`;
  const suffix = dryRun ? ' (dry run)' : '';
  ctx.log.action(`deleting components in ${ns} namespace`);
  for (const gvk of namespaced)
    for (const o of await listOrNone(ctx, gvk, { namespace: ns, labelSelector: selector })) {
      if (!dryRun) await client.delete(refOf(o), { propagationPolicy: 'Background' });
      ctx.log.success(`${subject(o)} deleted${suffix}`);
    }
  for (const gvk of clusterScoped)
    for (const o of await listOrNone(ctx, gvk, { labelSelector: `${selector},${Labels.instance}=${ns}` })) {
      if (!dryRun) await client.delete(refOf(o));
      ctx.log.success(`${subject(o)} deleted${suffix}`);
    }
  if (dryRun) return;
  // A controller still running could put a finalizer back: wait for the pods to end first.
  await waitFor(ctx, 'the controllers to stop', async () => {
    const pods = await listOrNone(
      ctx,
      { group: '', version: 'v1', kind: 'Pod' },
      { namespace: ns, labelSelector: selector },
    );
    return pods.length ? { pending: `${pods.length} pod(s) left` } : { done: undefined };
  });
}

/** Every Tide CRD, and with them every Tide object (their finalizers removed first, and again if put back). */
async function deleteCrds(ctx: Context, dryRun: boolean) {
  const client = await ctx.client();
  ctx.log.action('deleting toolkit.fluxcd.io finalizers in all namespaces');
  await removeFinalizers(ctx, dryRun);
  ctx.log.action('deleting toolkit.fluxcd.io custom resource definitions');
  const crds = allKinds.map((k) => `${k.plural}.${k.group}`);
  for (const name of crds) {
    if (!(await client.tryGet(crdRef(name)))) continue;
    if (!dryRun) await client.delete(crdRef(name));
    ctx.log.success(`CustomResourceDefinition/${name} deleted${dryRun ? ' (dry run)' : ''}`);
  }
  if (dryRun) return;
  await waitFor(
    ctx,
    'the custom resource definitions to go',
    async () => {
      const left: string[] = [];
      for (const name of crds) if (await client.tryGet(crdRef(name))) left.push(name);
      // Finalizers put back meanwhile (by a controller outside the cluster) are removed again.
      if (left.length) await removeFinalizers(ctx, false, true);
      return left.length ? { pending: left.join(', ') } : { done: undefined };
    },
    { announce: false },
  );
}

async function deleteNamespace(ctx: Context, dryRun: boolean) {
  const client = await ctx.client();
  const nsRef = { apiVersion: 'v1', kind: 'Namespace', name: ctx.namespace };
  if (!(await client.tryGet(nsRef))) return;
  if (!dryRun) await client.delete(nsRef);
  ctx.log.success(`Namespace/${ctx.namespace} deleted${dryRun ? ' (dry run)' : ''}`);
  if (dryRun) return;
  await waitFor(
    ctx,
    `namespace ${ctx.namespace} to go`,
    async () => ((await client.tryGet(nsRef)) ? { pending: 'terminating' } : { done: undefined }),
    { announce: false },
  );
}

async function run(ctx: Context, args: string[]): Promise<number> {
  if (args.length) throw new CliError(`tide uninstall takes no arguments, got: ${args.join(' ')}`);
  const dryRun = bool(ctx, 'dry-run');
  const what = bool(ctx, 'purge')
    ? 'Tide, its CRDs and everything its Kustomizations and HelmReleases applied'
    : 'Tide and its custom resource definitions';
  if (!dryRun && !bool(ctx, 'silent') && !(await ctx.confirm(`Are you sure you want to delete ${what}`)))
    throw new CliError('uninstall not confirmed (--silent uninstalls without asking)');
  if (bool(ctx, 'purge')) await purge(ctx, dryRun);
  await deleteComponents(ctx, dryRun);
  await deleteCrds(ctx, dryRun);
  if (!bool(ctx, 'keep-namespace')) await deleteNamespace(ctx, dryRun);
  ctx.log.success(`uninstall finished${dryRun ? ' (dry run)' : ''}`);
  return 0;
}

export const uninstallCommand: Command = {
  name: 'uninstall',
  summary: 'Uninstall Tide and its custom resource definitions',
  flags: {
    purge: {
      type: 'boolean',
      description:
        'also remove what Kustomizations and HelmReleases applied (not those that apply Tide itself)',
    },
    'keep-namespace': { type: 'boolean', description: 'do not delete the namespace' },
    'dry-run': { type: 'boolean', description: 'only print what would be deleted' },
    silent: commonFlags.silent,
  },
  run,
  help: `Uninstall Tide: its controllers, RBAC, Services and NetworkPolicies, then the toolkit finalizers of
every Tide object (so nothing hangs and nothing is pruned), the CRDs (and with them every Tide object)
and the namespace. What Kustomizations and HelmReleases applied stays in the cluster unless --purge.

Usage:
  tide uninstall [flags]

Examples:
  # Remove Tide, keep the workloads it deployed
  tide uninstall --silent

  # Remove Tide and everything it deployed
  tide uninstall --purge
`,
};
