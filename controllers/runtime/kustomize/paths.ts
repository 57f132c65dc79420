// Paths inside the extracted artifact: the build directory named by spec.path, containment checks,
// and recognising references kustomize would fetch over the network.
import { realpath, stat } from 'node:fs/promises';
import { isAbsolute, posix, relative, resolve, sep } from 'node:path';
import { GenericError } from '../errors.ts';
import { BuildError } from './objects.ts';

/** True when `p` is `root` or below it (both absolute and normalised). */
export function isWithin(root: string, p: string): boolean {
  return p === root || p.startsWith(root.endsWith(sep) ? root : root + sep);
}

/** `p` relative to `root` with forward slashes, `.` for the root itself: how messages name files. */
export function relToRoot(root: string, p: string): string {
  const r = relative(root, p).split(sep).join('/');
  return r === '' ? '.' : r;
}

/**
 * The absolute build directory for `spec.path` inside `root` (the extracted artifact). A leading `/`
 * means the artifact root, as in Flux; a path that climbs out of the root (`../x`, or a symlink
 * pointing outside) is refused. A missing directory fails with reason ArtifactFailed, as in Flux.
 */
export async function resolveBuildDir(root: string, specPath: string | undefined): Promise<string> {
  const realRoot = await realpath(resolve(root));
  const cleaned = posix.normalize(`./${(specPath ?? '').replaceAll('\\', '/').replace(/^\/+/, '')}`);
  if (cleaned === '..' || cleaned.startsWith('../')) {
    throw new BuildError(`spec.path '${specPath}' points outside the source artifact`);
  }
  const dir = resolve(realRoot, cleaned);
  const info = await stat(dir).catch(() => undefined);
  if (!info?.isDirectory()) {
    throw new GenericError('ArtifactFailed', `kustomization path not found: '${specPath ?? ''}'`);
  }
  const real = await realpath(dir);
  if (!isWithin(realRoot, real)) {
    throw new BuildError(`spec.path '${specPath}' points outside the source artifact`);
  }
  return real;
}

// A URL scheme (https://, ssh://, git://, file://, s3://...) or go-getter's forced form (git::https://...).
const schemeRef = /^[a-z][a-z0-9+.-]*(:\/\/|::)/i;
// scp-like SSH: git@github.com:org/repo, user@host:path.
const scpRef = /^[^\s/@:]+@[^\s/:]+:/;
// Hosts kustomize recognises without a scheme, and its gh: shorthand.
const knownHostRef = /^(gh:|(www\.)?(github\.com|gitlab\.com|bitbucket\.org)\/)/i;
// Query parameters only remote targets take.
const remoteQuery = /\?(.*&)?(ref|version|timeout|submodules)=/;
// host.tld/... or host:port/...: the first path segment looks like a host name.
const hostLike = /^[a-z0-9-]+(\.[a-z0-9-]+)+(:\d+)?\//i;

/**
 * True when kustomize would treat `ref` (an entry of resources, bases, components, generators,
 * transformers or validators) as remote: a URL, an SSH address, a known Git host, a `?ref=` query.
 * `existsLocally` says whether the path exists relative to the kustomization; it only matters for
 * ambiguous host-like paths (`example.com/org/repo`), which kustomize would otherwise try to fetch.
 */
export function isRemoteRef(ref: string, existsLocally = false): boolean {
  const r = ref.trim();
  if (schemeRef.test(r) || scpRef.test(r) || knownHostRef.test(r) || remoteQuery.test(r)) return true;
  return hostLike.test(r) && !existsLocally;
}

/** True when `ref` is a URL kustomize's file loader would GET (any file-valued field). */
export function isHttpRef(ref: string): boolean {
  return /^https?:\/\//i.test(ref.trim());
}

/** Resolves a reference found in a kustomization in `dir`; absolute references stay absolute. */
export function resolveRef(dir: string, ref: string): string {
  return isAbsolute(ref) ? resolve(ref) : resolve(dir, ref);
}
