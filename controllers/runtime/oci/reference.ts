// OCI names: `oci://` repository URLs (OCIRepository.spec.url), image references
// (`host[:port]/path[:tag][@digest]`) and digests, after the distribution reference grammar.
import { createHash } from 'node:crypto';
import { OciReferenceError } from './errors.ts';

/** Docker Hub's canonical name; references without a registry host mean it. */
export const DOCKER_HUB = 'docker.io';
/** Where Docker Hub's registry API is actually served. */
const DOCKER_HUB_API = 'registry-1.docker.io';
const DOCKER_HUB_ALIASES = new Set([
  'docker.io',
  'index.docker.io',
  'registry-1.docker.io',
  'registry.hub.docker.com',
]);

export interface RepositoryName {
  /** `host[:port]` as written in references (`docker.io` for Docker Hub). */
  registry: string;
  /** Path inside the registry, e.g. `org/manifests/app`. */
  repository: string;
}

export interface ImageReference extends RepositoryName {
  tag?: string;
  digest?: string;
}

const pathComponent = /^[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*$/;
const domainComponent = '(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])';
const domain = new RegExp(
  `^(?:${domainComponent}(?:\\.${domainComponent})*|\\[[0-9a-fA-F:.]+\\])(?::[0-9]{1,5})?$`,
);
const tagPattern = /^[\w][\w.-]{0,127}$/;
const digestPattern = /^[a-z0-9]+(?:[.+_-][a-z0-9]+)*:[a-zA-Z0-9=_-]+$/;
const MAX_NAME_LENGTH = 255;

/** Digest algorithms the client can verify, with the length of their hex encoding. */
const hexLength: Record<string, number> = { sha256: 64, sha512: 128 };

export function isValidTag(tag: string): boolean {
  return tagPattern.test(tag);
}

/** Splits `algo:hex`; throws unless the algorithm is one the client verifies (sha256, sha512). */
export function parseDigest(digest: string): { algorithm: string; hex: string } {
  if (!digestPattern.test(digest)) {
    throw new OciReferenceError(
      `invalid digest "${digest}": expected <algorithm>:<hex>, e.g. sha256:<64 hex>`,
    );
  }
  const i = digest.indexOf(':');
  const algorithm = digest.slice(0, i);
  const hex = digest.slice(i + 1);
  const len = hexLength[algorithm];
  if (len === undefined) {
    throw new OciReferenceError(
      `unsupported digest algorithm "${algorithm}" in "${digest}" (sha256 or sha512)`,
    );
  }
  if (hex.length !== len || !/^[0-9a-f]+$/.test(hex)) {
    throw new OciReferenceError(`invalid digest "${digest}": ${algorithm} needs ${len} lowercase hex digits`);
  }
  return { algorithm, hex };
}

export function computeDigest(data: Uint8Array, algorithm = 'sha256'): string {
  return `${algorithm}:${createHash(algorithm).update(data).digest('hex')}`;
}

/** The host the registry API is served from (Docker Hub's references name another host than its API). */
export function registryApiHost(registry: string): string {
  return DOCKER_HUB_ALIASES.has(registry.toLowerCase()) ? DOCKER_HUB_API : registry;
}

/** Canonical registry name for matching credentials: lowercase, Docker Hub aliases folded to docker.io. */
export function canonicalRegistry(registry: string): string {
  const r = registry.toLowerCase();
  return DOCKER_HUB_ALIASES.has(r) ? DOCKER_HUB : r;
}

/** Why `repository` is not a valid repository path, or undefined when it is. */
function repositoryProblem(repository: string): string | undefined {
  if (repository === '') return 'no repository path';
  for (const c of repository.split('/')) {
    if (c === '') return `empty path component in "${repository}"`;
    if (!pathComponent.test(c)) {
      return c.toLowerCase() !== c
        ? `repository path "${repository}" must be lowercase`
        : `invalid repository path component "${c}" (allowed: a-z, 0-9 and single separators . _ __ -)`;
    }
  }
  return undefined;
}

/** Throws unless `repository` is a valid repository path (`org/app`): the client checks its arguments. */
export function checkRepository(repository: string): void {
  const problem = repositoryProblem(repository);
  if (problem) throw new OciReferenceError(`invalid repository "${repository}": ${problem}`);
}

/** Throws unless `reference` is a valid tag or a digest the client can verify. */
export function checkManifestReference(reference: string): void {
  if (reference.includes(':')) parseDigest(reference);
  else if (!isValidTag(reference)) {
    throw new OciReferenceError(
      `invalid tag "${reference}" (1-128 of A-Z a-z 0-9 _ . -, not starting with . or -)`,
    );
  }
}

function validateRepository(input: string, registry: string, repository: string): void {
  const bad = (why: string) => new OciReferenceError(`invalid OCI reference "${input}": ${why}`);
  if (!domain.test(registry)) throw bad(`"${registry}" is not a valid registry host[:port]`);
  const problem = repositoryProblem(repository);
  if (problem) throw bad(problem);
  if (registry.length + 1 + repository.length > MAX_NAME_LENGTH) {
    throw bad(`name longer than ${MAX_NAME_LENGTH} characters`);
  }
}

/**
 * Parses `[host[:port]/]path[:tag][@digest]`. As Docker does, a first component without `.` or `:`
 * (other than `localhost`) is not a host: the reference is on Docker Hub (`library/` for one-part names).
 */
export function parseImageReference(input: string): ImageReference {
  if (input === '') throw new OciReferenceError('invalid OCI reference "": empty');
  let rest = input;
  let digest: string | undefined;
  const at = rest.indexOf('@');
  if (at >= 0) {
    digest = rest.slice(at + 1);
    rest = rest.slice(0, at);
    try {
      parseDigest(digest);
    } catch (e) {
      throw new OciReferenceError(`invalid OCI reference "${input}": ${(e as Error).message}`);
    }
  }
  let tag: string | undefined;
  const colon = rest.lastIndexOf(':');
  if (colon > rest.lastIndexOf('/')) {
    tag = rest.slice(colon + 1);
    rest = rest.slice(0, colon);
    if (!isValidTag(tag)) {
      throw new OciReferenceError(
        `invalid OCI reference "${input}": invalid tag "${tag}" (1-128 of A-Z a-z 0-9 _ . -, not starting with . or -)`,
      );
    }
  }
  let registry = DOCKER_HUB;
  let repository = rest;
  const slash = rest.indexOf('/');
  const first = slash >= 0 ? rest.slice(0, slash) : '';
  if (slash >= 0 && (/[.:]/.test(first) || first === 'localhost' || first.toLowerCase() !== first)) {
    registry = first;
    repository = rest.slice(slash + 1);
  } else if (slash < 0) {
    repository = `library/${rest}`;
  }
  validateRepository(input, registry, repository);
  return {
    registry,
    repository,
    ...(tag === undefined ? {} : { tag }),
    ...(digest === undefined ? {} : { digest }),
  };
}

/**
 * Parses an OCIRepository URL `oci://host[:port]/repo/path` into registry and repository. Tags and
 * digests belong in `spec.ref`, so the URL must not carry them (as Flux rejects them).
 */
export function parseOciUrl(url: string): RepositoryName {
  const prefix = 'oci://';
  if (!url.startsWith(prefix)) {
    throw new OciReferenceError(`URL "${url}" must be in the format 'oci://<host>[:<port>]/<repository>'`);
  }
  const rest = url.slice(prefix.length);
  const slash = rest.indexOf('/');
  const first = slash < 0 ? rest : rest.slice(0, slash);
  if (slash < 0 || slash === rest.length - 1) {
    throw new OciReferenceError(`URL "${url}" has no repository path after the registry host "${first}"`);
  }
  if (rest.includes('@')) {
    throw new OciReferenceError(`URL "${url}" must not contain a digest; set spec.ref.digest instead`);
  }
  const colon = rest.lastIndexOf(':');
  if (colon > rest.lastIndexOf('/')) {
    throw new OciReferenceError(
      `URL "${url}" must not contain a tag; remove ':${rest.slice(colon + 1)}' and set spec.ref.tag instead`,
    );
  }
  let ref: ImageReference;
  try {
    ref = parseImageReference(rest);
  } catch (e) {
    throw new OciReferenceError(
      `URL "${url}": ${(e as Error).message.replace(/^invalid OCI reference "[^"]*": /, '')}`,
    );
  }
  return { registry: ref.registry, repository: ref.repository };
}

/** `registry/repository[:tag][@digest]`. */
export function formatReference(ref: ImageReference): string {
  return `${ref.registry}/${ref.repository}${ref.tag === undefined ? '' : `:${ref.tag}`}${ref.digest === undefined ? '' : `@${ref.digest}`}`;
}
