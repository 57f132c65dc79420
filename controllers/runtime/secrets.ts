// Reading the Secrets a spec names (credentials, CAs, signing keys, proxies), in the object's
// namespace. A missing Secret is an error the user must fix, named in the message; its data never is.
import { type Client, isNotFound } from './client.ts';
import type { KubeObject } from './object.ts';

export type SecretData = Record<string, Buffer>;

/** The Secret as the API returns it (data base64); `secret '<ns>/<name>' not found` when missing. */
export async function getSecret(client: Client, namespace: string, name: string): Promise<KubeObject> {
  try {
    return await client.get({ apiVersion: 'v1', kind: 'Secret', namespace, name });
  } catch (err) {
    if (isNotFound(err)) throw new Error(`secret '${namespace}/${name}' not found`);
    throw err;
  }
}

/** The Secret's data, decoded. */
export async function readSecret(client: Client, namespace: string, name: string): Promise<SecretData> {
  const data = ((await getSecret(client, namespace, name)).data ?? {}) as Record<string, string>;
  return Object.fromEntries(Object.entries(data).map(([k, v]) => [k, Buffer.from(v, 'base64')]));
}
