// tide reconcile <kind> <name> [--with-source] [--force] [--reset]
// Asks the controller to reconcile now and waits for the result (F2 cmd/flux/reconcile.go,
// reconcile_with_source.go, reconcile_helmrelease.go).
import { Annotations } from '../../api/names.ts';
import type { KubeObject } from '../../runtime/object.ts';
import { bool, type Command, type Context } from '../command.ts';
import { CliError } from '../errors.ts';
import { type CliKind, kindWords, resolveKind } from '../kinds.ts';
import { getObject } from '../kube.ts';
import { newToken, refOf, requestReconcile, waitForReconcile } from '../wait.ts';

/**
 * Reconciles one object: refuses a suspended one; with `withSource` first reconciles its source the
 * same way (and the source's own source, for a HelmRelease's HelmChart); then annotates it (with the
 * same token in forceAt/resetAt for `force`/`reset`) and waits until its controller has handled the
 * request and reports Ready. Returns the reconciled object.
 */
export async function reconcileObject(
  ctx: Context,
  kind: CliKind,
  name: string,
  namespace: string,
  withSource: boolean,
  opts: { force?: boolean; reset?: boolean } = {},
): Promise<KubeObject> {
  const obj = await getObject(await ctx.client(), kind, name, namespace);
  if (kind.static) {
    ctx.log.success('reconciliation not supported by the object');
    return obj;
  }
  if (obj.spec?.suspend === true) throw new CliError('resource is suspended');
  if (withSource && kind.source) {
    const src = kind.source(obj);
    await reconcileObject(ctx, src.kind, src.name, src.namespace, withSource);
  }
  const ref = refOf(kind, name, namespace);
  const token = newToken(ctx);
  ctx.log.action(`annotating ${kind.kind} ${name} in ${namespace} namespace`);
  const extra = {
    ...(opts.force ? { [Annotations.reconcileForceAt]: token } : {}),
    ...(opts.reset ? { [Annotations.reconcileResetAt]: token } : {}),
  };
  await requestReconcile(
    ctx,
    kind,
    ref,
    token,
    Object.keys(extra).length ? { metadata: { annotations: extra } } : {},
  );
  ctx.log.success(`${kind.kind} annotated`);
  ctx.log.waiting(`waiting for ${kind.kind} reconciliation`);
  const done = await waitForReconcile(ctx, kind, ref, token);
  ctx.log.success(`${kind.kind} reconciliation completed`);
  const message = kind.success(done);
  if (message) ctx.log.success(message);
  return done;
}

async function run(ctx: Context, args: string[]): Promise<number> {
  const { kinds, rest } = resolveKind(args, 'reconcile');
  const kind = kinds[0]!;
  const withSource = bool(ctx, 'with-source');
  if (withSource && !kind.source)
    throw new CliError(`unknown flag: --with-source (tide reconcile ${kind.human})`);
  for (const flag of ['force', 'reset'])
    if (bool(ctx, flag) && !kind.forceable)
      throw new CliError(`unknown flag: --${flag} (tide reconcile ${kind.human})`);
  if (rest.length === 0) throw new CliError(`${kind.kind} name is required`);
  if (rest.length > 1)
    throw new CliError(`tide reconcile takes one name, got ${rest.length}: ${rest.join(' ')}`);
  await reconcileObject(ctx, kind, rest[0]!, ctx.namespace, withSource, {
    force: bool(ctx, 'force'),
    reset: bool(ctx, 'reset'),
  });
  return 0;
}

export const reconcileCommand: Command = {
  name: 'reconcile',
  summary: 'Reconcile sources and resources',
  flags: {
    'with-source': {
      type: 'boolean',
      description:
        'reconcile the source first (spec.sourceRef of a Kustomization; the chart and its source of a HelmRelease; spec.sourceRef of a HelmChart)',
    },
    force: { type: 'boolean', description: 'HelmRelease: force a one-off install or upgrade' },
    reset: { type: 'boolean', description: 'HelmRelease: reset the install and upgrade failure counters' },
  },
  words: ['source', 'image', 'kustomization', 'helmrelease', 'receiver'],
  run,
  help: `Trigger a reconciliation and wait for it: write the reconcile.fluxcd.io/requestedAt annotation,
wait until the controller has handled it (status.lastHandledReconcileAt), then report the Ready
condition. A suspended resource is refused. Exits 1 when Ready is False or --timeout runs out.

Usage:
  tide reconcile source <git|oci|helm|chart|bucket> <name> [flags]
  tide reconcile image <repository|policy|update> <name> [flags]
  tide reconcile kustomization <name> [--with-source] [flags]   (alias: ks)
  tide reconcile helmrelease <name> [--with-source] [--force] [--reset] [flags]   (alias: hr)
  tide reconcile receiver <name> [flags]

Kinds: ${kindWords()}

Examples:
  # Fetch the latest commit of a GitRepository now
  tide reconcile source git podinfo

  # Fetch the source, then apply the Kustomization
  tide reconcile ks apps --with-source

  # Re-read a Receiver's Secret now (e.g. after rotating its token)
  tide reconcile receiver github

  # Upgrade a HelmRelease now, even if nothing changed
  tide reconcile hr podinfo --force
`,
};
