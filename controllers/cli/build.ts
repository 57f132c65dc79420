// What a Kustomization would apply if its source held a local directory: the steps of the
// kustomize-controller's build (controllers/runtime/kustomize: generate the kustomization with the
// spec's overlays, kustomize build, postBuild substitution, commonMetadata, the owner labels) run on a
// copy of the local tree, for `tide build` and `tide diff`. SOPS-encrypted Secrets are left encrypted.
import { existsSync } from 'node:fs';
import { cp, mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { basename, dirname, join, relative, resolve } from 'node:path';
import { Labels } from '../api/names.ts';
import { readData } from '../runtime/configdata.ts';
import { kustomizeBuild } from '../runtime/kustomize/build.ts';
import { generateKustomization, setCommonMetadata } from '../runtime/kustomize/generate.ts';
import { isMap, parseDocuments } from '../runtime/kustomize/objects.ts';
import { resolveVars, substituteObjects, type VarSource } from '../runtime/kustomize/substitute.ts';
import type { KubeObject } from '../runtime/object.ts';
import { bool, type Context, type FlagSpecs, required, str } from './command.ts';
import { CliError } from './errors.ts';
import { kustomizationKind } from './kinds.ts';
import { getObject } from './kube.ts';
import { toolPath } from './package.ts';

export const buildFlags: FlagSpecs = {
  path: { type: 'string', description: "the local directory that stands for the Kustomization's spec.path" },
  'kustomization-file': {
    type: 'string',
    description: 'read the Kustomization from this YAML file instead of the cluster',
  },
  'dry-run': {
    type: 'boolean',
    description: 'with --kustomization-file: no cluster at all (substituteFrom is skipped)',
  },
};

/** The Git work tree around a path (the nearest directory with .git), else the path itself. */
export function buildRoot(path: string): string {
  for (let dir = path; ; dir = dirname(dir)) {
    if (existsSync(join(dir, '.git'))) return dir;
    if (dirname(dir) === dir) return path;
  }
}

/** The Kustomization: from --kustomization-file, else from the cluster. */
export async function loadKustomization(ctx: Context, name: string): Promise<KubeObject> {
  const file = str(ctx, 'kustomization-file');
  if (!file) return getObject(await ctx.client(), kustomizationKind, name, ctx.namespace);
  let docs: unknown[];
  try {
    docs = parseDocuments(await readFile(file, 'utf8'));
  } catch (err) {
    throw new CliError(`cannot read --kustomization-file ${file}: ${(err as Error).message}`);
  }
  const ks = docs.find(
    (d): d is KubeObject =>
      isMap(d) && d.kind === kustomizationKind.kind && isMap(d.metadata) && d.metadata.name === name,
  );
  if (!ks) throw new CliError(`no Kustomization '${name}' in ${file}`);
  ks.metadata.namespace ??= ctx.namespace;
  return ks;
}

/** Builds the local --path as the Kustomization would build its source; returns the objects to apply. */
export async function buildLocal(ctx: Context, ks: KubeObject): Promise<KubeObject[]> {
  const local = resolve(required(ctx, 'path'));
  if (!existsSync(local)) throw new CliError(`invalid --path "${str(ctx, 'path')}": no such directory`);
  const root = buildRoot(local);
  const work = await mkdtemp(join(tmpdir(), 'tide-build-'));
  try {
    const copy = join(work, 'src');
    await cp(root, copy, { recursive: true, filter: (src) => basename(src) !== '.git' });
    const spec = { ...ks.spec, path: relative(root, local) || '.' };
    await generateKustomization(copy, spec);
    let objects = await kustomizeBuild(copy, spec.path, { kustomizeBin: toolPath('kustomize', ctx.env) });
    const post = spec.postBuild;
    if (post) {
      const sources: VarSource[] = [];
      if (!bool(ctx, 'dry-run'))
        for (const from of post.substituteFrom ?? []) {
          const kind = from.kind as 'ConfigMap' | 'Secret';
          const data = await readData(await ctx.client(), {
            kind,
            namespace: ks.metadata.namespace ?? '',
            name: from.name,
          });
          sources.push({ kind, name: from.name, optional: from.optional, data });
        }
      objects = substituteObjects(objects, resolveVars(post.substitute, sources), {
        strict: true,
        always: post.substituteStrategy === 'Always',
      });
    }
    objects = setCommonMetadata(objects, spec.commonMetadata);
    const owner = {
      [Labels.kustomizeName]: ks.metadata.name ?? '',
      [Labels.kustomizeNamespace]: ks.metadata.namespace ?? '',
    };
    return objects.map((o) => ({
      ...o,
      metadata: { ...o.metadata, labels: { ...o.metadata.labels, ...owner } },
    }));
  } catch (err) {
    if ((err as { isCliError?: boolean }).isCliError) throw err;
    throw new CliError(`build failed: ${(err as Error).message}`);
  } finally {
    await rm(work, { recursive: true, force: true });
  }
}
