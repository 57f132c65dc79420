// Reaching the registry of an ImageRepository: its image name checked and made canonical as Flux
// does (go-containerregistry's rules), the credentials and CA its spec names, and a registry client
// that, like go-containerregistry, speaks plain HTTP to a local registry (localhost, loopback,
// private addresses) when HTTPS does not answer there.
import { isIP } from 'node:net';
import type { ImageRepository } from '../api/image.ts';
import type { Client } from '../runtime/client.ts';
import type { Credentials } from '../runtime/oci/auth.ts';
import {
  createRegistryClient,
  type ManifestInfo,
  type RegistryClient,
  type RequestOptions,
} from '../runtime/oci/client.ts';
import { isOciError } from '../runtime/oci/errors.ts';
import { DOCKER_HUB, parseImageReference } from '../runtime/oci/reference.ts';
import { credentialsFor, pullSecrets, registryCa } from '../runtime/pullsecrets.ts';

export interface ImageName {
  registry: string;
  repository: string;
  /** `status.canonicalImageName`: `index.docker.io/library/alpine` for `alpine`. */
  canonical: string;
}

/** go-containerregistry names Docker Hub `index.docker.io`. */
const registryString = (registry: string) => (registry === DOCKER_HUB ? 'index.docker.io' : registry);

/**
 * Parses spec.image (Flux's registry.ParseImageReference): no URL scheme, no tag or digest. Throws
 * Error with Flux's wording.
 */
export function parseImage(image: string): ImageName {
  const scheme = image.split('://');
  if (scheme.length > 1)
    throw new Error(`image '${image}' should not include URL scheme; remove '${scheme[0]}://'`);
  const ref = parseImageReference(image);
  const registry = registryString(ref.registry);
  const rest = image.startsWith(registry) ? image.slice(registry.length) : image;
  const parts = rest.split(':');
  if (parts.length > 1) throw new Error(`image '${image}' should not include a tag; remove ':${parts[1]}'`);
  return { registry: ref.registry, repository: ref.repository, canonical: `${registry}/${ref.repository}` };
}

export interface RegistryAccess {
  credentials?: Credentials;
  caCert?: Buffer;
}

/**
 * The credentials (spec.secretRef, then spec.serviceAccountName's imagePullSecrets; anonymous when
 * none holds any for the registry) and the CA of spec.certSecretRef. Throws Error naming the Secret
 * or ServiceAccount that is missing or unusable.
 */
export async function registryAccess(
  repo: ImageRepository,
  client: Client,
  registry: string,
): Promise<RegistryAccess> {
  const namespace = repo.metadata.namespace ?? '';
  const access: RegistryAccess = {};
  const cert = repo.spec.certSecretRef;
  if (cert) access.caCert = await registryCa(client, namespace, cert.name);
  const secrets = await pullSecrets(client, {
    namespace,
    secretRef: repo.spec.secretRef,
    serviceAccountName: repo.spec.serviceAccountName,
  });
  const credentials = credentialsFor(secrets, registry);
  if (credentials) access.credentials = credentials;
  return access;
}

/** go-containerregistry's Registry.Scheme: hosts it may reach over plain HTTP without `insecure`. */
export function mayUsePlainHttp(registry: string): boolean {
  if (registry.startsWith('localhost:') || /^127\./.test(registry) || /^\[::1\]/.test(registry)) return true;
  const host = registry.split(':')[0] ?? '';
  if (isIP(host) !== 4) return false;
  const [a = 0, b = 0] = host.split('.').map(Number);
  return a === 10 || (a === 172 && b >= 16 && b <= 31) || (a === 192 && b === 168);
}

/** The registry operations the image controllers use. */
export type ScanClient = Pick<RegistryClient, 'listTags' | 'headManifest' | 'close'>;

/** An HTTPS failure from a server that does speak TLS: its certificate is not trusted. */
function certificateProblem(err: Error): boolean {
  for (let e: unknown = err.cause; e instanceof Error; e = e.cause) {
    const code = (e as NodeJS.ErrnoException).code ?? '';
    if (/CERT|UNABLE_TO_VERIFY|SELF_SIGNED/.test(code)) return true;
  }
  return false;
}

/**
 * A client of `registry`: HTTPS (plain HTTP with `insecure`); for a local registry without
 * `insecure`, HTTPS first and plain HTTP when HTTPS fails to connect (go-containerregistry's ping),
 * unless the server speaks TLS with a certificate that is not trusted: that is reported as is.
 */
export function connectRegistry(
  opts: RegistryAccess & { registry: string; insecure: boolean; timeoutMs: number; userAgent: string },
): ScanClient {
  const make = (insecure: boolean) => createRegistryClient({ ...opts, insecure });
  const primary = make(opts.insecure);
  if (opts.insecure || !mayUsePlainHttp(opts.registry)) return primary;
  let fallback: RegistryClient | undefined;
  let current: RegistryClient = primary;
  async function withFallback<T>(op: (c: RegistryClient) => Promise<T>): Promise<T> {
    try {
      return await op(current);
    } catch (err) {
      if (current !== primary || !isOciError(err, 'Network') || certificateProblem(err)) throw err;
      fallback ??= make(true);
      current = fallback;
      return op(current);
    }
  }
  return {
    listTags: (repository: string, o?: RequestOptions & { pageSize?: number }) =>
      withFallback((c) => c.listTags(repository, o)),
    headManifest: (repository: string, reference: string, o?: RequestOptions): Promise<ManifestInfo> =>
      withFallback((c) => c.headManifest(repository, reference, o)),
    close: async () => {
      await Promise.all([primary.close(), fallback?.close()]);
    },
  };
}
