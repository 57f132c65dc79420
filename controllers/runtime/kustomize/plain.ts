// The build of a plain directory of manifests without running kustomize: most Kustomizations point at
// YAML files with no kustomization.yaml, or with one that only lists them, for which kustomize would
// only read the files and, with a namespace, set it. Doing that here saves a process per reconcile.
// Only the cases whose result is provably kustomize's take this path (an integration test compares both
// on the same inputs); anything else — any other kustomization field or overlay, a kustomization in a
// subdirectory, List kinds, kinds whose namespace kustomize rewrites elsewhere too (RoleBinding
// subjects, webhook configurations, ...) — goes to kustomize.
import { lstat, readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { CORE_SCHEMA, loadAll } from 'js-yaml';
import { jsonEqual, type KubeObject } from '../object.ts';
import { decodeUtf8 } from '../yamlguard.ts';
import type { BuildSpec } from './generate.ts';
import { BuildError, describeYamlError, isMap, objectRef, parseDocuments } from './objects.ts';
import { relToRoot } from './paths.ts';
import { findKustomizationFile } from './scan.ts';

// Namespaced built-in kinds whose only namespace is metadata.namespace (kustomize's namespace
// transformer changes nothing else in them), by `group/Kind`.
const namespaceOnly = new Set([
  '/ConfigMap',
  '/Secret',
  '/ServiceAccount',
  '/Service',
  '/Pod',
  '/PersistentVolumeClaim',
  '/Endpoints',
  '/LimitRange',
  '/ResourceQuota',
  'apps/Deployment',
  'apps/StatefulSet',
  'apps/DaemonSet',
  'apps/ReplicaSet',
  'batch/Job',
  'batch/CronJob',
  'networking.k8s.io/Ingress',
  'networking.k8s.io/NetworkPolicy',
  'policy/PodDisruptionBudget',
  'autoscaling/HorizontalPodAutoscaler',
  'rbac.authorization.k8s.io/Role',
  'discovery.k8s.io/EndpointSlice',
  'coordination.k8s.io/Lease',
]);

const groupKind = (o: KubeObject) => {
  const api = o.apiVersion ?? '';
  return `${api.includes('/') ? api.slice(0, api.lastIndexOf('/')) : ''}/${o.kind}`;
};

/** Spec overlays other than targetNamespace need kustomize. */
function onlyTargetNamespace(spec: BuildSpec): boolean {
  return !(
    spec.namePrefix ||
    spec.nameSuffix ||
    spec.patches?.length ||
    spec.images?.length ||
    spec.components?.length ||
    spec.buildMetadata?.length
  );
}

/**
 * The files a kustomization.yaml lists when it does nothing else (resources that are YAML files in
 * its directory or below, and maybe `namespace`), with that namespace; undefined otherwise.
 */
async function listedFiles(
  dir: string,
  file: string,
): Promise<{ files: string[]; namespace?: string } | undefined> {
  let k: unknown;
  try {
    [k] = parseDocuments(await readFile(file));
  } catch {
    return undefined;
  }
  if (
    !isMap(k) ||
    !Object.keys(k).every((key) => ['apiVersion', 'kind', 'resources', 'namespace'].includes(key))
  )
    return undefined;
  if (k.namespace !== undefined && typeof k.namespace !== 'string') return undefined;
  const resources = k.resources ?? [];
  if (!Array.isArray(resources)) return undefined;
  const files: string[] = [];
  for (const r of resources) {
    if (typeof r !== 'string' || !/\.ya?ml$/.test(r) || r.startsWith('/') || r.split('/').includes('..'))
      return undefined;
    const path = join(dir, r);
    if (!(await lstat(path).catch(() => undefined))?.isFile()) return undefined;
    files.push(path);
  }
  return { files, ...(k.namespace ? { namespace: k.namespace } : {}) };
}

/** The manifest files below dir in kustomize's generator order; undefined when a kustomization is found. */
async function plainFiles(dir: string): Promise<string[] | undefined> {
  const out: string[] = [];
  const walk = async (d: string): Promise<boolean> => {
    if (await findKustomizationFile(d)) return false;
    const names = (await readdir(d)).sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
    for (const name of names) {
      const path = join(d, name);
      const info = await lstat(path);
      if (info.isDirectory()) {
        if (!(await walk(path))) return false;
      } else if (info.isFile() && /\.ya?ml$/.test(name)) out.push(path);
    }
    return true;
  };
  return (await walk(dir)) ? out : undefined;
}

/** The objects of one manifest file, or undefined when one of them needs kustomize. */
async function fileObjects(
  root: string,
  file: string,
  namespace: string | undefined,
): Promise<KubeObject[] | undefined> {
  const bytes = await readFile(file);
  let docs: unknown[];
  let text: string;
  try {
    text = decodeUtf8(bytes);
    docs = parseDocuments(text);
  } catch (err) {
    throw new BuildError(
      `failed to decode Kubernetes YAML from '${relToRoot(root, file)}': ${describeYamlError(err)}`,
    );
  }
  // kustomize reads YAML as yaml.v3 does and we read its output as Go's YAML 1.1 decoder does; where
  // the two versions read a value differently (yes, 012, 1_000, 1:20) only kustomize gives its answer.
  if (
    !jsonEqual(
      docs,
      loadAll(text, { schema: CORE_SCHEMA }).filter((d) => d != null),
    )
  )
    return undefined;
  const out: KubeObject[] = [];
  for (const d of docs) {
    const ok =
      isMap(d) &&
      typeof d.apiVersion === 'string' &&
      typeof d.kind === 'string' &&
      isMap(d.metadata) &&
      typeof d.metadata.name === 'string' &&
      d.metadata.name !== '';
    // Not an object kustomize builds: its own message for this case is the one users know.
    if (!ok) return undefined;
    const o = d as KubeObject;
    if (o.kind?.endsWith('List')) return undefined;
    if (namespace && !namespaceOnly.has(groupKind(o))) return undefined;
    out.push(o);
  }
  return out;
}

/**
 * The objects kustomize would build from `dir`, or undefined when this directory needs kustomize
 * itself. Throws BuildError for what kustomize refuses (malformed YAML, the same object twice).
 */
export async function plainBuild(
  root: string,
  dir: string,
  spec: BuildSpec,
): Promise<KubeObject[] | undefined> {
  if (!onlyTargetNamespace(spec)) return undefined;
  const kustomization = await findKustomizationFile(dir);
  const listed = kustomization ? await listedFiles(dir, kustomization) : undefined;
  if (kustomization && !listed) return undefined;
  const files = listed?.files ?? (await plainFiles(dir));
  if (!files) return undefined;
  // targetNamespace replaces the kustomization's namespace, as Flux writes it into the file.
  const namespace = spec.targetNamespace || listed?.namespace;
  const objects: KubeObject[] = [];
  for (const file of files) {
    const found = await fileObjects(root, file, namespace);
    if (!found) return undefined;
    objects.push(...found);
  }
  const seen = new Set<string>();
  for (const o of objects) {
    if (namespace) o.metadata.namespace = namespace;
    const id = `${groupKind(o)}|${o.metadata.namespace ?? ''}|${o.metadata.name}`;
    if (seen.has(id))
      throw new BuildError(`may not add resource with an already registered id: ${objectRef(o)}`);
    seen.add(id);
  }
  return objects;
}
