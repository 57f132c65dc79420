// Writes crds/<group>_<plural>.yaml for every kind in controllers/api, one CRD per file.
//   node hack/gen-crds.ts           regenerate crds/ (and remove stale generated files)
//   node hack/gen-crds.ts --check   write nothing; exit 1 listing stale, missing and extra files
import { mkdir, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { allKinds, crdFileName, renderCrd, schemaOf } from '../controllers/api/index.ts';

export const CRD_DIR = resolve(dirname(fileURLToPath(import.meta.url)), '..', 'crds');

/** File name to content of every CRD, in allKinds order. */
export function renderAll(): Map<string, string> {
  return new Map(allKinds.map((d) => [crdFileName(d), renderCrd(d, schemaOf(d))]));
}

export interface Drift {
  stale: string[];
  missing: string[];
  extra: string[];
}

async function listYaml(dir: string): Promise<string[]> {
  try {
    return (await readdir(dir)).filter((f) => f.endsWith('.yaml')).sort();
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw err;
  }
}

/** Compares the rendered CRDs with the files in dir. */
export async function diff(dir: string, rendered = renderAll()): Promise<Drift> {
  const drift: Drift = { stale: [], missing: [], extra: [] };
  const present = await listYaml(dir);
  for (const [file, content] of rendered) {
    if (!present.includes(file)) drift.missing.push(file);
    else if ((await readFile(join(dir, file), 'utf8')) !== content) drift.stale.push(file);
  }
  drift.extra = present.filter((f) => !rendered.has(f));
  return drift;
}

/** Brings dir in line with the rendered CRDs; returns what it changed. */
export async function write(dir: string, rendered = renderAll()): Promise<Drift> {
  const drift = await diff(dir, rendered);
  await mkdir(dir, { recursive: true });
  for (const file of [...drift.missing, ...drift.stale])
    await writeFile(join(dir, file), rendered.get(file)!);
  for (const file of drift.extra) await rm(join(dir, file));
  return drift;
}

function report(
  drift: Drift,
  verbs = { stale: 'stale:  ', missing: 'missing:', extra: 'extra:  ' },
): string[] {
  return [
    ...drift.stale.map((f) => `${verbs.stale} crds/${f}`),
    ...drift.missing.map((f) => `${verbs.missing} crds/${f}`),
    ...drift.extra.map((f) => `${verbs.extra} crds/${f}`),
  ];
}

async function main(args: string[]): Promise<number> {
  if (args.includes('--check')) {
    const lines = report(await diff(CRD_DIR));
    if (lines.length === 0) return 0;
    console.error(`crds/ is out of date; run: node hack/gen-crds.ts\n${lines.join('\n')}`);
    return 1;
  }
  const lines = report(await write(CRD_DIR), { stale: 'updated:', missing: 'created:', extra: 'removed:' });
  console.log(lines.length ? lines.join('\n') : 'crds/ is up to date');
  return 0;
}

if (import.meta.main) process.exitCode = await main(process.argv.slice(2));
