// Prepares the build directory as Flux's kustomize generator does: writes a kustomization.yaml listing
// the manifests when the directory has none, then writes the Kustomization's overlays (targetNamespace,
// namePrefix/Suffix, patches, images, components, buildMetadata) into that file in place. commonMetadata
// is not a kustomize overlay in Flux: it is set on the built objects (setCommonMetadata).
import { lstat, readdir, readFile, realpath, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { KustomizationSpec } from '../../api/kustomize.ts';
import type { KubeObject } from '../object.ts';
import { BuildError, describeYamlError, dumpYaml, isMap, parseDocuments } from './objects.ts';
import { isRemoteRef, isWithin, relToRoot, resolveBuildDir, resolveRef } from './paths.ts';
import { findKustomizationFile, kustomizationFileNames, readKustomizationFile } from './scan.ts';

/** The parts of a Kustomization spec that shape the build. */
export type BuildSpec = Pick<
  KustomizationSpec,
  | 'path'
  | 'targetNamespace'
  | 'namePrefix'
  | 'nameSuffix'
  | 'patches'
  | 'images'
  | 'components'
  | 'ignoreMissingComponents'
  | 'buildMetadata'
>;

export interface GenerateResult {
  /** Absolute build directory (spec.path inside the root), symlinks resolved. */
  dir: string;
  /** Absolute path of the kustomization file that kustomize will read. */
  file: string;
  /** True when the file was generated because the directory had none. */
  generated: boolean;
}

const kustomizeApiVersion = 'kustomize.config.k8s.io/v1beta1';

/**
 * Resolves `spec.path` inside `root` (refusing paths that leave it), generates a kustomization.yaml
 * there when the directory has no kustomization file, and writes the spec's overlays into the file.
 * Components must be local paths inside the root; a missing one is an error unless
 * `ignoreMissingComponents` is set, in which case it is left out.
 */
export async function generateKustomization(root: string, spec: BuildSpec): Promise<GenerateResult> {
  const dir = await resolveBuildDir(root, spec.path);
  const realRoot = await realpath(root);
  const existing = await readKustomizationFile(realRoot, dir);
  const generated = existing === undefined;
  const file = existing?.file ?? join(dir, kustomizationFileNames[0]);
  const base = existing?.content ?? {
    apiVersion: kustomizeApiVersion,
    kind: 'Kustomization',
    resources: await listManifests(realRoot, dir),
  };
  const components = await localComponents(realRoot, dir, spec);
  const overlays = { ...spec, components };
  if (generated || hasOverlays(overlays)) {
    await writeFile(file, dumpYaml(applyOverlays(base, overlays)), { mode: 0o600 });
  }
  return { dir, file, generated };
}

function hasOverlays(s: BuildSpec): boolean {
  return Boolean(
    s.targetNamespace ||
      s.namePrefix ||
      s.nameSuffix ||
      s.patches?.length ||
      s.images?.length ||
      s.components?.length ||
      s.buildMetadata?.length,
  );
}

function list(v: unknown): unknown[] {
  return Array.isArray(v) ? v : [];
}

/**
 * The kustomization with the overlays written in, as Flux's generator does: targetNamespace replaces
 * `namespace`, namePrefix/nameSuffix replace theirs, patches and components are appended, an image
 * replaces the entry of the same name or is appended, buildMetadata options are added. Pure.
 */
export function applyOverlays(
  kustomization: Record<string, unknown>,
  spec: BuildSpec,
): Record<string, unknown> {
  const k: Record<string, unknown> = { ...kustomization };
  if (spec.targetNamespace) k.namespace = spec.targetNamespace;
  if (spec.namePrefix) k.namePrefix = spec.namePrefix;
  if (spec.nameSuffix) k.nameSuffix = spec.nameSuffix;
  if (spec.patches?.length) {
    k.patches = [
      ...list(k.patches),
      ...spec.patches.map((p) => {
        const target = p.target ? compact(p.target) : undefined;
        return target && Object.keys(target).length > 0 ? { patch: p.patch, target } : { patch: p.patch };
      }),
    ];
  }
  if (spec.images?.length) {
    const images = [...list(k.images)];
    for (const img of spec.images) {
      // Field by field: only kustomize's image fields reach the generated file.
      const entry = compact({ name: img.name, newName: img.newName, newTag: img.newTag, digest: img.digest });
      const i = images.findIndex((e) => isMap(e) && e.name === img.name);
      if (i >= 0) images[i] = entry;
      else images.push(entry);
    }
    k.images = images;
  }
  if (spec.components?.length) {
    const components = list(k.components);
    k.components = [...components, ...spec.components.filter((c) => !components.includes(c))];
  }
  if (spec.buildMetadata?.length) {
    const options = list(k.buildMetadata);
    k.buildMetadata = [...options, ...spec.buildMetadata.filter((o) => !options.includes(o))];
  }
  return k;
}

// Drops unset and empty fields, so the kustomization holds only what the spec says.
function compact<T extends object>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined && v !== '')) as Partial<T>;
}

async function localComponents(root: string, dir: string, spec: BuildSpec): Promise<string[]> {
  const kept: string[] = [];
  for (const c of spec.components ?? []) {
    const local = resolveRef(dir, c);
    const exists = (await lstat(local).catch(() => undefined)) !== undefined;
    if (isRemoteRef(c, exists))
      throw new BuildError(`component '${c}' is remote; components must be local paths`);
    if (!isWithin(root, local)) throw new BuildError(`component '${c}' points outside the source artifact`);
    if (exists) kept.push(c);
    else if (!spec.ignoreMissingComponents) throw new BuildError(`component '${c}' not found`);
  }
  return kept;
}

/**
 * The manifests below `dir` a generated kustomization lists, as Flux's generator scans them: walking
 * in name order, every `.yaml`/`.yml` file, and every subdirectory that has its own kustomization
 * file (listed as a directory and not descended into). Each file must parse as YAML whose documents
 * are Kubernetes objects (apiVersion and kind); the error names the file and the line. Symlinks are
 * skipped (artifacts have none). Paths are relative to `dir`, with forward slashes.
 */
export async function listManifests(root: string, dir: string): Promise<string[]> {
  const found: string[] = [];
  const walk = async (d: string, rel: string): Promise<void> => {
    const names = (await readdir(d)).sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
    for (const name of names) {
      const path = join(d, name);
      const relPath = rel ? `${rel}/${name}` : name;
      const info = await lstat(path);
      if (info.isDirectory()) {
        if (await findKustomizationFile(path)) found.push(relPath);
        else await walk(path, relPath);
      } else if (info.isFile() && /\.ya?ml$/.test(name)) {
        await checkManifest(root, path);
        found.push(relPath);
      }
    }
  };
  await walk(dir, '');
  return found;
}

async function checkManifest(root: string, path: string): Promise<void> {
  const name = relToRoot(root, path);
  let docs: unknown[];
  try {
    docs = parseDocuments(await readFile(path));
  } catch (err) {
    throw new BuildError(`failed to decode Kubernetes YAML from '${name}': ${describeYamlError(err)}`);
  }
  docs.forEach((d, i) => {
    if (!isMap(d) || typeof d.apiVersion !== 'string' || typeof d.kind !== 'string') {
      throw new BuildError(
        `failed to decode Kubernetes YAML from '${name}': document ${i + 1} is not a Kubernetes object ` +
          '(apiVersion and kind are required)',
      );
    }
  });
}

/**
 * Sets `commonMetadata` labels and annotations on every object, replacing existing values of the same
 * keys, on top-level metadata only (not on pod templates or selectors): Flux's SetCommonMetadata,
 * which the kustomize-controller runs on the built objects just before applying them.
 */
export function setCommonMetadata(
  objects: readonly KubeObject[],
  common: KustomizationSpec['commonMetadata'],
): KubeObject[] {
  const labels = common?.labels ?? {};
  const annotations = common?.annotations ?? {};
  if (Object.keys(labels).length === 0 && Object.keys(annotations).length === 0) return [...objects];
  return objects.map((o) => {
    const metadata = { ...o.metadata };
    if (Object.keys(labels).length > 0) metadata.labels = { ...metadata.labels, ...labels };
    if (Object.keys(annotations).length > 0)
      metadata.annotations = { ...metadata.annotations, ...annotations };
    return { ...o, metadata };
  });
}
