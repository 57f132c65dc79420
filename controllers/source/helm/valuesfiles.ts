// HelmChart `.spec.valuesFiles`: the listed files are merged in order and replace the chart's
// values.yaml in the artifact (Flux's source-controller chart builders). For a HelmRepository chart the
// paths are inside the chart (`values.yaml` is the chart's own defaults); for GitRepository and Bucket
// they are relative to the source root, which they cannot leave.
import { readFile, realpath, stat } from 'node:fs/promises';
import { posix, sep } from 'node:path';
import { loadChartArchive } from '../../runtime/helm/chart.ts';
import { HelmError, HelmErrorCode } from '../../runtime/helm/errors.ts';
import { encodeValues, mergeValues, parseValues, type Values } from '../../runtime/helm/values.ts';

export interface MergeValuesOptions {
  /** Skip missing files instead of failing (Flux `.spec.ignoreMissingValuesFiles`). */
  ignoreMissing?: boolean;
}

export interface MergedValues {
  values: Values;
  /** The merged values as the new values.yaml. */
  yaml: string;
  /** The files that contributed, in order (Flux `.status.observedValuesFiles`). */
  files: string[];
}

const missing = (shown: string, ref: string) =>
  new HelmError(
    HelmErrorCode.ValuesFiles,
    shown === ref
      ? `no values file found at path '${ref}'`
      : `no values file found at path '${shown}' (reference '${ref}')`,
  );

// A path inside `root` like Flux's securejoin: `..` cannot climb above the root.
function clampedPath(ref: string): string {
  return posix.normalize(`/${ref.replace(/\\/g, '/')}`);
}

async function readFromDir(root: string, ref: string, ignoreMissing: boolean): Promise<string | undefined> {
  const inside = clampedPath(ref);
  const abs = posix.join(root, inside);
  const st = await stat(abs).catch((err: NodeJS.ErrnoException) => {
    if (err.code === 'ENOENT' || err.code === 'ENOTDIR') return undefined;
    throw err;
  });
  if (!st && ignoreMissing) return undefined;
  if (!st?.isFile()) throw missing(inside, ref);
  // A symlink may not lead out of the source either.
  const [realRoot, real] = await Promise.all([realpath(root), realpath(abs)]);
  if (!real.startsWith(realRoot + sep)) throw missing(inside, ref);
  return readFile(real, 'utf8');
}

/**
 * Merges values files in order. `source` is a directory the paths are relative to (the source
 * root of a GitRepository or Bucket artifact) or a chart archive (HelmRepository charts), where
 * `values.yaml` means the chart's default values.
 */
export async function mergeValuesFiles(
  source: string | Buffer,
  files: string[],
  opts: MergeValuesOptions = {},
): Promise<MergedValues> {
  const ignoreMissing = opts.ignoreMissing ?? false;
  let read: (ref: string) => Promise<string | undefined>;
  if (typeof source === 'string') {
    read = (ref) => readFromDir(source, ref, ignoreMissing);
  } else {
    const chart = await loadChartArchive(source);
    read = async (ref) => {
      const name = posix.normalize(ref.replace(/\\/g, '/'));
      if (name === 'values.yaml') return chart.values?.toString('utf8') ?? '';
      const file = chart.files.find((f) => f.name === name);
      if (file) return file.data.toString('utf8');
      if (ignoreMissing) return undefined;
      throw missing(ref, ref);
    };
  }
  let values: Values = {};
  const used: string[] = [];
  for (const ref of files) {
    const text = await read(ref);
    if (text === undefined) continue;
    values = mergeValues(values, parseValues(text, ref));
    used.push(ref);
  }
  return { values, yaml: encodeValues(values), files: used };
}
