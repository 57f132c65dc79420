// Walks the kustomization files a build would load, before kustomize runs: refuses remote
// references (Flux's --no-remote-bases) and local ones that leave the artifact root, naming the file.
import { lstat, readdir, readFile, realpath } from 'node:fs/promises';
import { isAbsolute, join } from 'node:path';
import { YamlLimitError } from '../yamlguard.ts';
import { BuildError, describeYamlError, isMap, parseDocuments } from './objects.ts';
import { isHttpRef, isRemoteRef, isWithin, relToRoot, resolveRef } from './paths.ts';

/** The file names kustomize recognises, in its order of preference. */
export const kustomizationFileNames = ['kustomization.yaml', 'kustomization.yml', 'Kustomization'] as const;

/** A parsed kustomization file. */
export interface KustomizationFile {
  /** Absolute directory holding the file. */
  dir: string;
  /** Absolute path of the file. */
  file: string;
  content: Record<string, unknown>;
}

/** The kustomization file in `dir`, if any; more than one is an error, as for kustomize. */
export async function findKustomizationFile(dir: string): Promise<string | undefined> {
  const names = new Set(await readdir(dir).catch(() => [] as string[]));
  const found: string[] = [];
  for (const n of kustomizationFileNames) {
    if (!names.has(n)) continue;
    const info = await lstat(join(dir, n));
    if (info.isFile()) found.push(n);
  }
  if (found.length > 1) {
    throw new BuildError(`found multiple kustomization files in '${dir}': ${found.join(', ')}`);
  }
  return found[0] === undefined ? undefined : join(dir, found[0]);
}

/** Reads and parses the kustomization file in `dir`; messages name it relative to `root`. */
export async function readKustomizationFile(
  root: string,
  dir: string,
): Promise<KustomizationFile | undefined> {
  const file = await findKustomizationFile(dir);
  if (file === undefined) return undefined;
  let docs: unknown[];
  try {
    docs = parseDocuments(await readFile(file));
  } catch (err) {
    throw new BuildError(`invalid kustomization file '${relToRoot(root, file)}': ${describeYamlError(err)}`);
  }
  const content = docs[0] ?? {};
  if (docs.length > 1 || !isMap(content)) {
    throw new BuildError(`invalid kustomization file '${relToRoot(root, file)}': not a single YAML mapping`);
  }
  return { dir, file, content };
}

// Fields whose entries may be kustomization directories (new build roots) or remote targets.
const rootFields = ['resources', 'bases', 'components', 'generators', 'transformers', 'validators'] as const;
// Plugin-config fields that name files (builtin generators and transformers).
const pluginFileFields = ['path', 'paths', 'files', 'envs', 'env', 'valuesFile'] as const;

function strings(v: unknown): string[] {
  if (typeof v === 'string') return [v];
  return Array.isArray(v) ? v.filter((x): x is string => typeof x === 'string') : [];
}

function field(v: unknown, key: string): unknown {
  return isMap(v) ? v[key] : undefined;
}

// `key=path` or `path` in a generator's files list.
function fileSourcePath(entry: string): string {
  const i = entry.indexOf('=');
  return i < 0 ? entry : entry.slice(i + 1);
}

/** Every file-valued reference of a kustomization outside the root fields (patches, generators...). */
export function fileRefs(k: Record<string, unknown>): string[] {
  const refs: string[] = [];
  for (const key of ['patches', 'patchesJson6902', 'replacements']) {
    for (const p of Array.isArray(k[key]) ? k[key] : []) refs.push(...strings(field(p, 'path')));
  }
  refs.push(...strings(k.patchesStrategicMerge).filter((p) => !p.includes('\n')));
  refs.push(...strings(k.crds), ...strings(k.configurations), ...strings(field(k.openapi, 'path')));
  for (const key of ['configMapGenerator', 'secretGenerator']) {
    for (const g of Array.isArray(k[key]) ? k[key] : []) {
      refs.push(...strings(field(g, 'files')).map(fileSourcePath));
      refs.push(...strings(field(g, 'envs')), ...strings(field(g, 'env')));
    }
  }
  return refs;
}

// File references inside builtin plugin configs (a generators/transformers entry, file or inline).
function pluginRefs(docs: unknown[]): string[] {
  const refs: string[] = [];
  for (const d of docs) {
    for (const f of pluginFileFields) {
      const v = field(d, f);
      refs.push(...(f === 'files' ? strings(v).map(fileSourcePath) : strings(v)));
    }
    for (const r of Array.isArray(field(d, 'replacements')) ? (field(d, 'replacements') as unknown[]) : []) {
      refs.push(...strings(field(r, 'path')));
    }
  }
  return refs;
}

/** What a walk found: the local files listed as resources, for diagnosing a failed build. */
export interface TreeScan {
  kustomizations: KustomizationFile[];
  resourceFiles: string[];
}

/**
 * Loads the kustomization in `dir` and every local kustomization it reaches through resources,
 * bases, components, generators, transformers and validators. Throws a BuildError naming the file
 * when an entry is remote (a URL, SSH address, Git host, `?ref=`), when any file-valued field is an
 * http(s) URL, or when an entry is absolute or resolves (through `..` or a symlink) outside `root`.
 * `root` must be a real (symlink-free) absolute path.
 */
export async function scanKustomizationTree(root: string, dir: string): Promise<TreeScan> {
  const scan: TreeScan = { kustomizations: [], resourceFiles: [] };
  await visitTree(root, dir, scan, new Set());
  return scan;
}

async function visitTree(root: string, dir: string, scan: TreeScan, visited: Set<string>): Promise<void> {
  if (visited.has(dir)) return;
  visited.add(dir);
  const kf = await readKustomizationFile(root, dir);
  if (!kf) return;
  scan.kustomizations.push(kf);
  const refuse = refuser(root, kf);
  const remote = fileRefs(kf.content).find(isHttpRef);
  if (remote) throw refuse(`remote file '${remote}' is not allowed, remote bases are disabled`);
  for (const [key, ref] of rootEntries(kf.content)) {
    const target = await checkRootEntry(root, dir, key, ref, refuse);
    if (!target) continue;
    if (target.dir) await visitTree(root, target.path, scan, visited);
    else if (key === 'resources' || key === 'bases') scan.resourceFiles.push(target.path);
    else if (key !== 'components') await scanPluginFile(target.path, refuse);
  }
}

function refuser(root: string, kf: KustomizationFile): (why: string) => BuildError {
  const name = relToRoot(root, kf.file);
  return (why) => new BuildError(`kustomization '${name}': ${why}`);
}

function rootEntries(k: Record<string, unknown>): [string, string][] {
  return rootFields.flatMap((key) => strings(k[key]).map((ref): [string, string] => [key, ref]));
}

// Checks one entry of a root field of the kustomization in `dir`; returns the local file or
// directory it names (symlinks resolved), or undefined when it is inline or missing.
async function checkRootEntry(
  root: string,
  dir: string,
  key: string,
  ref: string,
  refuse: (why: string) => BuildError,
): Promise<{ path: string; dir: boolean } | undefined> {
  // generators/transformers/validators also take inline plugin configs.
  if (ref.includes('\n')) {
    scanInline(ref, refuse);
    return undefined;
  }
  const local = resolveRef(dir, ref);
  const info = await lstat(local).catch(() => undefined);
  if (isRemoteRef(ref, info !== undefined)) {
    throw refuse(`remote ${key} entry '${ref}' is not allowed, remote bases are disabled`);
  }
  if (isAbsolute(ref)) throw refuse(`${key} entry '${ref}' is an absolute path`);
  const outside = refuse(`${key} entry '${ref}' points outside the source artifact`);
  if (!isWithin(root, local)) throw outside;
  if (!info) return undefined; // kustomize reports what is missing
  const real = await realpath(local);
  if (!isWithin(root, real)) throw outside;
  return { path: real, dir: (await lstat(real)).isDirectory() };
}

function scanInline(text: string, refuse: (why: string) => BuildError): void {
  let docs: unknown[] = [];
  try {
    docs = parseDocuments(text);
  } catch (err) {
    // Over Tide's limits (an alias bomb kustomize would expand): refused here. Malformed: kustomize reports it.
    if (err instanceof YamlLimitError) throw refuse(`refused plugin config: ${err.message}`);
    return;
  }
  for (const ref of pluginRefs(docs)) {
    if (isHttpRef(ref)) throw refuse(`remote file '${ref}' is not allowed, remote bases are disabled`);
  }
}

async function scanPluginFile(file: string, refuse: (why: string) => BuildError): Promise<void> {
  scanInline(await readFile(file, 'utf8'), refuse);
}
