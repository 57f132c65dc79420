// tide trace <resource> <name> | <resource>/<name> [--kind K --api-version V]
// Shows which Kustomization or HelmRelease manages an object (its kustomize/helm toolkit labels), from
// which source and revision, and the latest reconcile status of each (F2 cmd/flux/trace.go).
import { ConditionTypes, Labels } from '../../api/names.ts';
import { getCondition } from '../../runtime/conditions.ts';
import type { KubeObject } from '../../runtime/object.ts';
import { type Command, type Context, str } from '../command.ts';
import { resolveResource } from '../discovery.ts';
import { CliError } from '../errors.ts';
import { type CliKind, helmReleaseKind, kustomizationKind } from '../kinds.ts';
import { getObject } from '../kube.ts';

const field = (label: string, value: string) => `${`${label}:`.padEnd(17)}${value}`;

function statusLines(obj: KubeObject): string[] {
  const ready = getCondition(obj, ConditionTypes.Ready);
  if (!ready) return [field('Status', 'Unknown')];
  const when = ready.lastTransitionTime ?? '';
  return [
    field(
      'Status',
      ready.status === 'False' ? `Last reconciliation failed at ${when}` : `Last reconciled at ${when}`,
    ),
    field('Message', ready.message),
  ];
}

/** The block of an applier (Kustomization or HelmRelease). */
function applierBlock(kind: CliKind, obj: KubeObject): string[] {
  const lines = [field(kind.kind, obj.metadata.name ?? ''), field('Namespace', obj.metadata.namespace ?? '')];
  if (obj.spec?.targetNamespace) lines.push(field('Target', obj.spec.targetNamespace));
  if (kind === kustomizationKind) lines.push(field('Path', obj.spec?.path ?? ''));
  lines.push(field('Revision', kind.revision?.(obj) ?? ''));
  return [...lines, ...statusLines(obj)];
}

/** The block of a source: URL, the Git reference, the artifact revision, the status. */
function sourceBlock(kind: CliKind, obj: KubeObject): string[] {
  const lines = [field(kind.kind, obj.metadata.name ?? ''), field('Namespace', obj.metadata.namespace ?? '')];
  if (obj.spec?.url) lines.push(field('URL', obj.spec.url));
  if (obj.spec?.chart) lines.push(field('Chart', obj.spec.chart));
  const ref = obj.spec?.ref ?? {};
  if (ref.tag) lines.push(field('Tag', ref.tag));
  else if (ref.semver) lines.push(field('Tag', ref.semver));
  else if (ref.branch) lines.push(field('Branch', ref.branch));
  if (obj.status?.artifact?.revision) lines.push(field('Revision', obj.status.artifact.revision));
  return [...lines, ...statusLines(obj)];
}

/** The object's applier from its toolkit labels, if any. */
function managedBy(obj: KubeObject): { kind: CliKind; name: string; namespace: string } | undefined {
  const l = obj.metadata.labels ?? {};
  if (l[Labels.kustomizeName])
    return {
      kind: kustomizationKind,
      name: l[Labels.kustomizeName]!,
      namespace: l[Labels.kustomizeNamespace] ?? '',
    };
  if (l[Labels.helmName])
    return { kind: helmReleaseKind, name: l[Labels.helmName]!, namespace: l[Labels.helmNamespace] ?? '' };
  return undefined;
}

/** Every block of the trace, separated by `---`. */
export async function traceObject(ctx: Context, obj: KubeObject): Promise<string> {
  const client = await ctx.client();
  const blocks: string[][] = [];
  const head = [field('Object', `${(obj.kind ?? '').toLowerCase()}/${obj.metadata.name}`)];
  if (obj.metadata.namespace) head.push(field('Namespace', obj.metadata.namespace));
  const owner = managedBy(obj);
  if (!owner)
    throw new CliError(`object ${obj.kind}/${obj.metadata.name} is not managed by Flux (no toolkit labels)`);
  head.push(field('Status', 'Managed by Flux'));
  blocks.push(head);
  const applier = await getObject(client, owner.kind, owner.name, owner.namespace);
  blocks.push(applierBlock(owner.kind, applier));
  // Then the source chain: a HelmRelease's chart, the chart's repository, ...
  let current: { kind: CliKind; obj: KubeObject } = { kind: owner.kind, obj: applier };
  for (let depth = 0; depth < 3 && current.kind.source; depth++) {
    let target: ReturnType<NonNullable<CliKind['source']>>;
    try {
      target = current.kind.source(current.obj);
    } catch {
      break;
    }
    const src = await getObject(client, target.kind, target.name, target.namespace);
    blocks.push(sourceBlock(target.kind, src));
    current = { kind: target.kind, obj: src };
  }
  return `${blocks.map((b) => b.join('\n')).join('\n---\n')}\n`;
}

async function run(ctx: Context, args: string[]): Promise<number> {
  const kindFlag = str(ctx, 'kind');
  const apiVersion = str(ctx, 'api-version');
  if (Boolean(kindFlag) !== Boolean(apiVersion)) throw new CliError('--kind and --api-version go together');
  let targets: { word?: string; name: string }[];
  if (kindFlag) targets = args.map((name) => ({ name }));
  else if (args.length === 2 && !args[0]!.includes('/') && !args[1]!.includes('/'))
    targets = [{ word: args[0]!, name: args[1]! }];
  else
    targets = args.map((a) => {
      const [word, name, ...extra] = a.split('/');
      if (!word || !name || extra.length)
        throw new CliError(`expected <resource> <name> or <resource>/<name>, got "${a}"`);
      return { word, name };
    });
  if (targets.length === 0) throw new CliError('tide trace needs an object: <resource> <name>');
  const client = await ctx.client();
  const out: string[] = [];
  for (const t of targets) {
    const res = t.word
      ? await resolveResource(client, t.word)
      : { apiVersion: apiVersion!, kind: kindFlag!, namespaced: true };
    const ref = {
      apiVersion: res.apiVersion,
      kind: res.kind,
      name: t.name,
      namespace: res.namespaced ? ctx.namespace : undefined,
    };
    const obj = await client.tryGet(ref);
    if (!obj)
      throw new CliError(
        `${res.kind} '${t.name}' not found${res.namespaced ? ` in "${ctx.namespace}" namespace` : ''}`,
      );
    obj.apiVersion ??= res.apiVersion;
    obj.kind ??= res.kind;
    out.push(await traceObject(ctx, obj));
  }
  ctx.io.out(out.join('\n'));
  return 0;
}

export const traceCommand: Command = {
  name: 'trace',
  summary: 'Trace an object back to the Flux resources and source that manage it',
  flags: {
    kind: {
      type: 'string',
      description: 'the kind of the object (with --api-version), instead of a resource word',
    },
    'api-version': { type: 'string', description: 'the apiVersion of the object (with --kind)' },
  },
  run,
  help: `Show how an object is managed: the Kustomization or HelmRelease that applied it (from its toolkit
labels), the source and revision it came from, and the latest reconcile status of each.

Usage:
  tide trace <resource> <name> [flags]
  tide trace <resource>/<name>... [flags]
  tide trace <name> --kind <Kind> --api-version <group/version> [flags]

Examples:
  # Trace a Deployment
  tide trace -n apps deployment podinfo

  # Trace a ConfigMap and a Service
  tide trace -n apps cm/podinfo-config svc/podinfo
`,
};
