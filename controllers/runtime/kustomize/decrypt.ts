// SOPS decryption with age keys through the pinned sops binary, as kustomize-controller's decryptor:
//  - decryptObjects: built objects that carry a top-level `sops` block (with a MAC) are decrypted
//    whole; for Secrets without one, each `data` value that is itself a SOPS document (a
//    secretGenerator file encrypted on its own) is decrypted in place;
//  - decryptSources: before the build, secretGenerator `files`/`envs` and patch files that are
//    SOPS-encrypted are decrypted in place in the extracted artifact (an encrypted .env file cannot
//    be decrypted after kustomize has split it into keys).
// Like Flux, the MAC is not checked (`--ignore-mac`): kustomize legitimately changes encrypted
// objects (namespace, labels, name prefix). Keys go to sops only through SOPS_AGE_KEY in the child's
// environment; no key or decrypted value is logged or put in an error message.

import { lstat, readFile, realpath, writeFile } from 'node:fs/promises';
import { basename, extname } from 'node:path';
import { Annotations } from '../../api/names.ts';
import type { KubeObject } from '../object.ts';
import { runProcess } from '../process.ts';
import { withSandbox } from '../sandbox.ts';
import { BuildError, isMap, objectRef } from './objects.ts';
import { isHttpRef, isWithin, relToRoot, resolveRef } from './paths.ts';
import { type KustomizationFile, scanKustomizationTree } from './scan.ts';

export interface DecryptOptions {
  /** Path of the pinned sops binary. */
  sopsBin: string;
  /** age identities (`AGE-SECRET-KEY-1...`, or whole key files with comments). */
  ageKeys: readonly string[];
  /** Per sops run; defaults to 30 seconds. */
  timeoutMs?: number;
  signal?: AbortSignal;
}

/** Largest encrypted source file decryptSources handles, as Flux's limit. */
const maxSourceBytes = 5 << 20;

/**
 * The age identities in a decryption Secret's `.data` (base64 values, as the API returns them):
 * the values of keys ending in `.agekey`. Other key types (`.asc`, KMS credentials) are not supported.
 */
export function ageKeysFromSecret(data: Record<string, string> | undefined): string[] {
  return Object.entries(data ?? {})
    .filter(([k]) => extname(k) === '.agekey')
    .map(([, v]) => Buffer.from(v, 'base64').toString('utf8').trim())
    .filter((v) => v !== '');
}

/** True for an object with a top-level `sops` block holding a MAC: a whole-object SOPS document. */
export function isSopsEncrypted(obj: KubeObject): boolean {
  const sops = obj.sops;
  return isMap(sops) && typeof sops.mac === 'string' && sops.mac !== '';
}

/**
 * True for a v1 Secret that still has a `sops` block. Flux refuses to apply such a Secret ("is SOPS
 * encrypted, configuring decryption is required for this secret to be reconciled") unless it is
 * annotated `kustomize.toolkit.fluxcd.io/decrypt: disabled`.
 */
export function isEncryptedSecret(obj: KubeObject): boolean {
  return (
    obj.kind === 'Secret' && obj.apiVersion === 'v1' && obj.sops !== undefined && !isDecryptDisabled(obj)
  );
}

export function isDecryptDisabled(obj: KubeObject): boolean {
  return obj.metadata?.annotations?.[Annotations.decrypt]?.toLowerCase() === 'disabled';
}

type SopsFormat = 'binary' | 'dotenv' | 'ini' | 'json' | 'yaml';

// How sops marks each format's encrypted documents (Flux's sopsFormatToMarkerBytes).
const markers: [SopsFormat, string][] = [
  ['yaml', 'mac: ENC['],
  ['json', '"mac": "ENC['],
  ['dotenv', 'sops_mac=ENC['],
  ['ini', '[sops]'],
];

/** sops' format for a file or Secret key by its extension (`.dockerconfigjson` is JSON). */
export function formatForPath(path: string): SopsFormat {
  if (path.endsWith('.dockerconfigjson')) return 'json';
  switch (extname(path)) {
    case '.json':
      return 'json';
    case '.yaml':
    case '.yml':
      return 'yaml';
    case '.env':
      return 'dotenv';
    case '.ini':
      return 'ini';
    default:
      return 'binary';
  }
}

// The format of an encrypted document from its markers; a JSON envelope with only `data` and
// `sops` is sops' binary format. Undefined when the bytes are not a SOPS document.
function detectFormat(data: Buffer): SopsFormat | undefined {
  const text = data.toString('utf8');
  const found = markers.find(([, m]) => text.includes(m))?.[0];
  if (found !== 'json') return found;
  try {
    const doc = JSON.parse(text);
    return isMap(doc) && Object.keys(doc).sort().join() === 'data,sops' ? 'binary' : 'json';
  } catch {
    return 'json';
  }
}

// sops explains failures on stderr; it can quote input ("Input string ... does not match sops'
// data format"), so only the first line is kept, with any quoted input redacted.
function sopsReason(stderr: string, code: number | null): string {
  const line = stderr.split('\n').find((l) => l.trim() !== '') ?? `sops exited with code ${code}`;
  return line.replace(/Input string .* does not match/, 'Input string <redacted> does not match').trim();
}

type Sops = (input: Buffer, from: SopsFormat, to: SopsFormat) => Promise<Buffer>;

async function withSops<T>(opts: DecryptOptions, fn: (sops: Sops) => Promise<T>): Promise<T> {
  const extra: Record<string, string> =
    opts.ageKeys.length > 0 ? { SOPS_AGE_KEY: opts.ageKeys.join('\n') } : {};
  return withSandbox(
    (env, home) =>
      fn(async (input, from, to) => {
        // No file argument: sops reads stdin. cwd is the empty HOME, so no .sops.yaml is found.
        const args = ['decrypt', '--input-type', from, '--output-type', to, '--ignore-mac'];
        const res = await runProcess(opts.sopsBin, args, {
          env,
          cwd: home,
          input,
          timeoutMs: opts.timeoutMs ?? 30_000,
          ...(opts.signal ? { signal: opts.signal } : {}),
        });
        if (res.code !== 0) throw new Error(sopsReason(res.stderr, res.code));
        return res.stdout;
      }),
    extra,
  );
}

/**
 * Decrypts the SOPS-encrypted objects among `objects` (see the file comment) and returns all of
 * them in order; others, and those annotated `kustomize.toolkit.fluxcd.io/decrypt: disabled`, are
 * returned as they are. A failure is a BuildError naming the object (and the Secret key), never its
 * content.
 */
export async function decryptObjects(
  objects: readonly KubeObject[],
  opts: DecryptOptions,
): Promise<KubeObject[]> {
  const todo = objects.some(
    (o) => !isDecryptDisabled(o) && (isSopsEncrypted(o) || encryptedDataKeys(o).length > 0),
  );
  if (!todo) return [...objects];
  return withSops(opts, async (sops) => {
    const out: KubeObject[] = [];
    for (const obj of objects) {
      if (isDecryptDisabled(obj)) out.push(obj);
      else if (isSopsEncrypted(obj)) out.push(await decryptWhole(obj, sops));
      else out.push(await decryptDataValues(obj, sops));
    }
    return out;
  });
}

async function decryptWhole(obj: KubeObject, sops: Sops): Promise<KubeObject> {
  let out: Buffer;
  try {
    out = await sops(Buffer.from(JSON.stringify(obj)), 'json', 'json');
  } catch (err) {
    throw new BuildError(`decryption failed for '${objectRef(obj)}': ${(err as Error).message}`);
  }
  let plain: unknown;
  try {
    plain = JSON.parse(out.toString('utf8'));
  } catch {
    plain = undefined; // JSON.parse quotes the text in its message: never pass it on
  }
  if (!isMap(plain))
    throw new BuildError(`decryption failed for '${objectRef(obj)}': sops returned no object`);
  return plain as KubeObject;
}

function encryptedDataKeys(obj: KubeObject): string[] {
  if (obj.kind !== 'Secret' || !isMap(obj.data)) return [];
  return Object.entries(obj.data)
    .filter(([, v]) => typeof v === 'string' && detectFormat(Buffer.from(v, 'base64')) !== undefined)
    .map(([k]) => k);
}

async function decryptDataValues(obj: KubeObject, sops: Sops): Promise<KubeObject> {
  const keys = encryptedDataKeys(obj);
  if (keys.length === 0) return obj;
  const data = { ...(obj.data as Record<string, string>) };
  for (const key of keys) {
    const raw = Buffer.from(data[key] ?? '', 'base64');
    try {
      data[key] = (await sops(raw, detectFormat(raw) ?? 'binary', formatForPath(key))).toString('base64');
    } catch (err) {
      throw new BuildError(
        `decryption failed for '${objectRef(obj)}' Secret field '${key}': ${(err as Error).message}`,
      );
    }
  }
  return { ...obj, data };
}

// Format of a secretGenerator `files` entry: `key=path` takes the key's, `path` the path's.
function fileSource(entry: string): { path: string; format: SopsFormat } {
  const i = entry.indexOf('=');
  const key = i < 0 ? entry : entry.slice(0, i);
  return { path: i < 0 ? entry : entry.slice(i + 1), format: formatForPath(basename(key)) };
}

function strings(v: unknown): string[] {
  if (typeof v === 'string') return [v];
  return Array.isArray(v) ? v.filter((x): x is string => typeof x === 'string') : [];
}

/**
 * Decrypts in place, under `root`, the SOPS-encrypted files that the kustomizations reachable from
 * `dir` use as secretGenerator `files`/`envs`/`env` and as patch `path`s (Flux's DecryptSources).
 * Files that are missing, not regular, larger than 5 MiB, outside the root, or not SOPS documents
 * of their format are left for kustomize. Returns the decrypted files, relative to `root`.
 */
export async function decryptSources(rootPath: string, dir: string, opts: DecryptOptions): Promise<string[]> {
  const root = await realpath(rootPath);
  const scan = await scanKustomizationTree(root, await realpath(dir));
  const candidates = await encryptedSources(root, scan.kustomizations.flatMap(sourceRefs));
  if (candidates.length === 0) return [];
  return withSops(opts, async (sops) => {
    const decrypted: string[] = [];
    for (const c of candidates) {
      const name = relToRoot(root, c.path);
      try {
        await writeFile(c.path, await sops(c.data, c.format, c.format), { mode: 0o600 });
      } catch (err) {
        throw new BuildError(`decryption failed for '${name}': ${(err as Error).message}`);
      }
      decrypted.push(name);
    }
    return decrypted;
  });
}

interface SourceRef {
  path: string;
  format: SopsFormat;
}

// The secretGenerator sources and patch files of one kustomization, with their sops formats.
function sourceRefs(k: KustomizationFile): SourceRef[] {
  const refs = generatorRefs(k);
  for (const p of Array.isArray(k.content.patches) ? k.content.patches : []) {
    const path = isMap(p) && typeof p.path === 'string' ? p.path : undefined;
    if (path && !isHttpRef(path)) refs.push(at(k.dir, { path, format: formatForPath(path) }));
  }
  return refs;
}

function generatorRefs(k: KustomizationFile): SourceRef[] {
  const refs: SourceRef[] = [];
  for (const g of Array.isArray(k.content.secretGenerator) ? k.content.secretGenerator : []) {
    if (!isMap(g)) continue;
    for (const f of strings(g.files)) refs.push(at(k.dir, fileSource(f)));
    for (const e of [...strings(g.envs), ...strings(g.env)]) {
      const format = formatForPath(e);
      refs.push(at(k.dir, { path: e, format: format === 'binary' ? 'dotenv' : format }));
    }
  }
  return refs;
}

// The referenced files that exist inside the root, are small regular files, and carry the SOPS
// marker of their format, with their content.
async function encryptedSources(root: string, refs: SourceRef[]): Promise<(SourceRef & { data: Buffer })[]> {
  const seen = new Set<string>();
  const found: (SourceRef & { data: Buffer })[] = [];
  for (const ref of refs) {
    if (seen.has(ref.path) || !isWithin(root, ref.path)) continue;
    seen.add(ref.path);
    const info = await lstat(ref.path).catch(() => undefined);
    if (!info?.isFile() || info.size > maxSourceBytes) continue;
    const data = await readFile(ref.path);
    const marker = markers.find(([f]) => f === (ref.format === 'binary' ? 'json' : ref.format))?.[1];
    if (marker && data.toString('utf8').includes(marker)) found.push({ ...ref, data });
  }
  return found;
}

function at(dir: string, ref: SourceRef): SourceRef {
  return { path: resolveRef(dir, ref.path), format: ref.format };
}
