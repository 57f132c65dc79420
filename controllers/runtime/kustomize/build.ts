// Runs `kustomize build` on the prepared directory and parses its output into objects.
import { readFile, realpath } from 'node:fs/promises';
import { dirname } from 'node:path';
import type { KubeObject } from '../object.ts';
import { runProcess } from '../process.ts';
import { cleanStderr, withSandbox } from '../sandbox.ts';
import { YamlLimitError } from '../yamlguard.ts';
import { BuildError, describeYamlError, isMap, objectRef, parseDocuments } from './objects.ts';
import { isWithin, relToRoot, resolveBuildDir, resolveRef } from './paths.ts';
import { fileRefs, scanKustomizationTree, type TreeScan } from './scan.ts';

export interface KustomizeBuildOptions {
  /** Path of the pinned kustomize binary. */
  kustomizeBin: string;
  /** Kills kustomize after this long; defaults to 5 minutes. */
  timeoutMs?: number;
  signal?: AbortSignal;
}

/**
 * Builds the kustomization at `path` inside `root` (the extracted artifact, after
 * generateKustomization) and returns the objects in kustomize's output order.
 *
 * Before running, every kustomization the build would load is checked (scanKustomizationTree):
 * remote resources, bases and components are refused (Flux's --no-remote-bases), and so are local
 * ones leaving the root. kustomize then runs with `--load-restrictor LoadRestrictionsRootOnly`
 * (files only from each kustomization's own directory; other directories only as bases or
 * components, which the scan keeps inside the root), without `--enable-helm`,
 * `--enable-alpha-plugins` or `--enable-exec` (so exec and container KRM functions are refused
 * by kustomize itself), in a closed environment (withSandbox).
 *
 * Every failure is a BuildError: kustomize's stderr with root paths made relative, prefixed, when a
 * listed resource file is not valid YAML, with that file's path and line.
 */
export async function kustomizeBuild(
  root: string,
  path: string | undefined,
  opts: KustomizeBuildOptions,
): Promise<KubeObject[]> {
  const realRoot = await realpath(root);
  const dir = await resolveBuildDir(realRoot, path);
  const scan = await scanKustomizationTree(realRoot, dir);
  await checkYamlInputs(realRoot, scan);
  const args = ['build', dir, '--load-restrictor', 'LoadRestrictionsRootOnly'];
  const res = await withSandbox((env) =>
    runProcess(opts.kustomizeBin, args, {
      env,
      cwd: realRoot,
      timeoutMs: opts.timeoutMs ?? 300_000,
      ...(opts.signal ? { signal: opts.signal } : {}),
    }),
  ).catch((err: unknown) => {
    throw new BuildError(`kustomize build failed: ${(err as Error).message}`, { cause: err });
  });
  if (res.code !== 0) {
    const malformed = await firstMalformedFile(realRoot, scan.resourceFiles);
    const detail = cleanStderr(res.stderr, realRoot) || `exit code ${res.code}`;
    throw new BuildError(`kustomize build failed: ${malformed ? `${malformed}; ` : ''}${detail}`);
  }
  try {
    return parseBuildOutput(res.stdout.toString('utf8'));
  } catch (err) {
    // What kustomize passed on and Tide cannot read (nesting deeper than its limit, say): name the file.
    const malformed = await firstMalformedFile(realRoot, scan.resourceFiles);
    if (!malformed || !(err instanceof BuildError)) throw err;
    throw new BuildError(`${malformed}; ${err.message}`);
  }
}

/**
 * The objects of a kustomize build output. Each must have apiVersion, kind and metadata.name, as
 * kustomize-controller requires; otherwise a BuildError.
 */
export function parseBuildOutput(text: string): KubeObject[] {
  let docs: unknown[];
  try {
    docs = parseDocuments(text);
  } catch (err) {
    throw new BuildError(`kustomize build output is not valid YAML: ${describeYamlError(err)}`);
  }
  return docs.map((d) => {
    const o = d as KubeObject;
    const ok =
      isMap(d) &&
      typeof d.apiVersion === 'string' &&
      typeof d.kind === 'string' &&
      isMap(d.metadata) &&
      typeof d.metadata.name === 'string' &&
      d.metadata.name !== '';
    if (!ok) {
      throw new BuildError(
        `failed to decode Kubernetes apiVersion, kind and name from: ${isMap(d) ? objectRef(o) : typeof d}`,
      );
    }
    return o;
  });
}

// kustomize names a malformed file relative to the kustomization listing it; this names it from the
// root, with js-yaml's line and column. Only used to explain a failure kustomize already reported.
async function firstMalformedFile(root: string, files: readonly string[]): Promise<string | undefined> {
  for (const f of files) {
    const text = await readFile(f).catch(() => undefined);
    if (text === undefined) continue;
    try {
      parseDocuments(text);
    } catch (err) {
      return `malformed YAML in '${relToRoot(root, f)}': ${describeYamlError(err)}`;
    }
  }
  return undefined;
}

// Inline patches of a kustomization: YAML kustomize parses as it does files.
function inlinePatches(k: Record<string, unknown>): string[] {
  const out: string[] = [];
  for (const key of ['patches', 'patchesJson6902']) {
    for (const p of Array.isArray(k[key]) ? k[key] : []) {
      if (isMap(p) && typeof p.patch === 'string') out.push(p.patch);
    }
  }
  const psm = Array.isArray(k.patchesStrategicMerge) ? k.patchesStrategicMerge : [];
  return [...out, ...psm.filter((p): p is string => typeof p === 'string' && p.includes('\n'))];
}

/**
 * Reads the YAML kustomize would read (resource files, patch and config files, inline patches) with
 * Tide's limits before kustomize runs: go-yaml expands aliases eagerly, so a "billion laughs" file
 * makes kustomize take gigabytes of memory. A file over a limit is a BuildError naming it; anything
 * else (malformed, missing) is left to kustomize to report.
 */
async function checkYamlInputs(root: string, scan: TreeScan): Promise<void> {
  const files = new Set(scan.resourceFiles);
  for (const k of scan.kustomizations) {
    for (const ref of fileRefs(k.content)) {
      const path = resolveRef(dirname(k.file), ref);
      if (/\.(ya?ml|json)$/.test(ref) && isWithin(root, path)) files.add(path);
    }
    const name = relToRoot(root, k.file);
    for (const patch of inlinePatches(k.content)) {
      limited(() => parseDocuments(patch), `inline patch in '${name}'`);
    }
  }
  for (const f of files) {
    const bytes = await readFile(f).catch(() => undefined);
    if (bytes === undefined) continue;
    limited(() => parseDocuments(bytes), `'${relToRoot(root, f)}'`);
  }
}

function limited(parse: () => unknown, what: string): void {
  try {
    parse();
  } catch (err) {
    if (err instanceof YamlLimitError) throw new BuildError(`refused YAML in ${what}: ${err.message}`);
  }
}
