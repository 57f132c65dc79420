// How an object that reads an OCI registry (OCIRepository, ImageRepository) authenticates, as Flux
// reads it: the docker config Secret of spec.secretRef, then the imagePullSecrets of
// spec.serviceAccountName, the first holding credentials for the registry winning; and the CA of
// spec.certSecretRef. Errors name Secrets and ServiceAccounts, never their data.
import { type Client, isNotFound } from './client.ts';
import { type Credentials, credentialsFromSecret, type SecretLike } from './oci/auth.ts';
import { getSecret as readRaw } from './secrets.ts';

export interface PullSecretRefs {
  namespace: string;
  secretRef?: { name: string };
  serviceAccountName?: string;
}

/** The pull secrets of secretRef, then those of the ServiceAccount's imagePullSecrets, in order. */
export async function pullSecrets(client: Client, refs: PullSecretRefs): Promise<SecretLike[]> {
  const { namespace, serviceAccountName: sa } = refs;
  const out: SecretLike[] = [];
  if (refs.secretRef) out.push((await readRaw(client, namespace, refs.secretRef.name)) as SecretLike);
  if (sa) {
    const account = await client
      .get({ apiVersion: 'v1', kind: 'ServiceAccount', namespace, name: sa })
      .catch((err: unknown) => {
        if (isNotFound(err)) throw new Error(`serviceaccount '${namespace}/${sa}' not found`);
        throw err;
      });
    const listed = (account as { imagePullSecrets?: { name?: string }[] }).imagePullSecrets ?? [];
    for (const ref of listed)
      if (ref.name) out.push((await readRaw(client, namespace, ref.name)) as SecretLike);
  }
  return out;
}

/** The credentials of the first secret that has some for `registry`; undefined means anonymous. */
export function credentialsFor(secrets: readonly SecretLike[], registry: string): Credentials | undefined {
  for (const secret of secrets) {
    const credentials = credentialsFromSecret(secret, registry);
    if (credentials) return credentials;
  }
  return undefined;
}

/**
 * The PEM CA of a certSecretRef Secret (`ca.crt`). Client certificates (`tls.crt`, `tls.key`) are
 * refused: the registry client trusts extra CAs but does not present certificates.
 */
export async function registryCa(client: Client, namespace: string, name: string): Promise<Buffer> {
  const data = ((await readRaw(client, namespace, name)) as SecretLike).data ?? {};
  if (data['tls.crt'] || data['tls.key']) {
    throw new Error('client certificates (tls.crt, tls.key) are not supported by Tide; only ca.crt');
  }
  const ca = data['ca.crt'];
  if (!ca) throw new Error(`secret '${namespace}/${name}' has no 'ca.crt' key`);
  return Buffer.from(ca, 'base64');
}
