// tide resume <kind> <name...> | --all
// Sets spec.suspend: false together with a reconcile request, then waits for the result like
// `reconcile` (F2 cmd/flux/resume.go).
import { bool, type Command, type Context } from '../command.ts';
import { isCliError } from '../errors.ts';
import { resolveKind } from '../kinds.ts';
import { findObjects } from '../kube.ts';
import { newToken, refOf, requestReconcile, waitForReconcile } from '../wait.ts';
import { targetNames } from './suspend.ts';

async function run(ctx: Context, args: string[]): Promise<number> {
  const { kinds, rest } = resolveKind(args, 'resume');
  const kind = kinds[0]!;
  const names = targetNames(ctx, kind, 'resume', rest);
  // Like flux: wait when resuming one named object, or when --wait asks for it.
  const wait = bool(ctx, 'wait') || names.length === 1;
  const { found, missing } = await findObjects(await ctx.client(), kind, ctx.namespace, names);
  let failed = missing.length > 0;
  for (const name of missing)
    ctx.log.failure(`${kind.kind} '${name}' not found in "${ctx.namespace}" namespace`);
  if (names.length === 0 && found.length === 0)
    ctx.log.failure(`no ${kind.kind} objects found in "${ctx.namespace}" namespace`);

  const resumed: { name: string; token: string }[] = [];
  for (const obj of found) {
    const name = obj.metadata.name ?? '';
    const token = newToken(ctx);
    ctx.log.action(`resuming ${kind.human} ${name} in ${ctx.namespace} namespace`);
    // One write: the controller sees the object resumed and the request together.
    await requestReconcile(ctx, kind, refOf(kind, name, ctx.namespace), token, { spec: { suspend: false } });
    ctx.log.success(`${kind.human} resumed`);
    resumed.push({ name, token });
  }
  if (!wait || resumed.length === 0) return failed ? 1 : 0;

  ctx.log.waiting(`waiting for ${kind.kind} reconciliation`);
  const results = await Promise.all(
    resumed.map(async ({ name, token }) => {
      try {
        return { name, obj: await waitForReconcile(ctx, kind, refOf(kind, name, ctx.namespace), token) };
      } catch (err) {
        if (!isCliError(err)) throw err;
        return { name, error: err.message };
      }
    }),
  );
  for (const r of results.sort((a, b) => a.name.localeCompare(b.name))) {
    if (r.error !== undefined) {
      failed = true;
      ctx.log.failure(resumed.length === 1 ? r.error : `${r.name}: ${r.error}`);
      continue;
    }
    ctx.log.success(`${kind.kind} ${r.name} reconciliation completed`);
    const message = r.obj && kind.success(r.obj);
    if (message) ctx.log.success(message);
  }
  return failed ? 1 : 0;
}

export const resumeCommand: Command = {
  name: 'resume',
  summary: 'Resume suspended resources',
  flags: {
    all: { type: 'boolean', description: 'resume all resources of the kind in the namespace' },
    wait: { type: 'boolean', description: 'wait for every resumed resource to be reconciled' },
  },
  words: ['source', 'image', 'kustomization', 'helmrelease', 'alert', 'alert-provider', 'receiver'],
  run,
  help: `Resume suspended resources: set spec.suspend to false and request a reconcile, then wait for
the controller to report Ready (by default when one name is given; --wait for --all or several
names). Exits 1 when an object is missing, fails to reconcile or --timeout runs out.

Usage:
  tide resume source <git|oci|helm|chart|bucket> <name>... [flags]
  tide resume kustomization <name>... [flags]   (alias: ks)
  tide resume helmrelease <name>... [flags]     (alias: hr)
  tide resume image <repository|update> <name>... [flags]
  tide resume alert <name>... [flags]           (also alert-provider, receiver)

Examples:
  # Resume a Kustomization and wait for it to apply
  tide resume ks apps

  # Resume every GitRepository in flux-system and wait for all of them
  tide resume source git --all --wait
`,
};
