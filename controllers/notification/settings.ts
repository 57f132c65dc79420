// A Provider's settings for one delivery, as Flux's createNotifier reads them: spec.address or the
// Secret's `address`, the Secret's `token`, `username`/`password` and `headers` (YAML), the proxy of
// proxySecretRef (or the deprecated spec.proxy and Secret `proxy`), the TLS material of certSecretRef
// (Git providers also take a `ca.crt` from their secretRef), and the commit status identifier.
import { load } from 'js-yaml';
import type { Alert, Provider } from '../api/notification.ts';
import { compileString } from '../runtime/cel.ts';
import type { Client } from '../runtime/client.ts';
import { readData } from '../runtime/configdata.ts';
import { parseDuration } from '../runtime/duration.ts';
import { type HttpClientOptions, httpClient, type ProxyConfig } from '../runtime/http.ts';
import { proxyFromSecret, type SecretData, tlsFromSecret } from '../runtime/http-secrets.ts';
import type { NotificationEvent } from './event.ts';
import { isCommitStatusType } from './providers/index.ts';
import type { ProviderSettings, RetryPolicy } from './providers/types.ts';

/** Flux's default time limit of one delivery, retries included. */
export const defaultTimeoutMs = 15_000;
const maxAddress = 2048;

async function secret(client: Client, namespace: string, name: string): Promise<SecretData> {
  const data = await readData(client, { kind: 'Secret', namespace, name });
  if (!data) throw new Error(`failed to get secret '${namespace}/${name}': not found`);
  return Object.fromEntries(Object.entries(data).map(([k, v]) => [k, Buffer.from(v, 'base64')]));
}

const text = (v: string | Uint8Array | undefined) =>
  v === undefined ? undefined : Buffer.from(v).toString('utf8');

function headersOf(raw: string): Record<string, string> {
  let parsed: unknown;
  try {
    parsed = load(raw);
  } catch (err) {
    throw new Error(`failed to read headers from secret: ${(err as Error).message.split('\n')[0]}`);
  }
  if (parsed === null || parsed === undefined) return {};
  if (typeof parsed !== 'object' || Array.isArray(parsed))
    throw new Error('failed to read headers from secret: want a map of header names to values');
  return Object.fromEntries(Object.entries(parsed).map(([k, v]) => [k, String(v)]));
}

/** The commit status identifier: commitStatusExpr, else `<kind>/<name>/<first part of the Provider uid>`. */
export function commitStatusId(provider: Provider, event: NotificationEvent, alert: Alert): string {
  const expr = provider.spec.commitStatusExpr;
  if (expr) {
    try {
      const program = compileString(expr, { variables: ['event', 'provider', 'alert'] });
      return program.evaluate({ event, provider, alert });
    } catch (err) {
      throw new Error(
        `failed to evaluate the spec.commitStatusExpr CEL expression for the event: ${(err as Error).message}`,
      );
    }
  }
  const uid = (provider.metadata.uid ?? '').split('-')[0];
  return `${event.involvedObject.kind}/${event.involvedObject.name}/${uid}`.toLowerCase();
}

export interface SettingsInput {
  provider: Provider;
  /** For Git providers: the identifier their commit status is written under. */
  commitStatus?: string;
  retry: RetryPolicy;
}

/** What the Secret of secretRef contributes: address, legacy proxy, headers and credentials. */
function fromSecret(data: SecretData, ref: string) {
  const out: {
    address?: string;
    proxy?: ProxyConfig;
    headers?: Record<string, string>;
    token?: string;
    basic?: { username: string; password: string };
  } = {};
  const addr = text(data.address);
  if (addr !== undefined && addr.length > maxAddress)
    throw new Error(`invalid address in secret: address exceeds maximum length of ${maxAddress} bytes`);
  if (addr !== undefined) out.address = addr.trim();
  const legacyProxy = text(data.proxy)?.trim();
  if (legacyProxy) out.proxy = proxyFromSecret({ address: legacyProxy }, `${ref} (key 'proxy')`);
  if (data.headers) out.headers = headersOf(text(data.headers) ?? '');
  const token = text(data.token)?.trim();
  if (token) out.token = token;
  const username = text(data.username);
  const password = text(data.password);
  if (username !== undefined && password !== undefined) out.basic = { username, password };
  if (!token && data.githubAppID)
    throw new Error(`secret '${ref}': GitHub App authentication is not supported by Tide; use a token`);
  return out;
}

/** TLS of certSecretRef; Git providers also take a CA or client certificate from their secretRef. */
async function tlsOf(client: Client, provider: Provider, data: SecretData | undefined) {
  const { spec } = provider;
  const ns = provider.metadata.namespace ?? '';
  if (spec.certSecretRef?.name)
    return tlsFromSecret(
      await secret(client, ns, spec.certSecretRef.name),
      `${ns}/${spec.certSecretRef.name}`,
    );
  if (data && isCommitStatusType(spec.type) && (data['ca.crt'] || data['tls.crt']))
    return tlsFromSecret(data, `${ns}/${spec.secretRef?.name}`);
  return undefined;
}

/** Reads the Provider's Secrets and builds its settings; errors name Secrets and keys, never values. */
export async function providerSettings(client: Client, input: SettingsInput): Promise<ProviderSettings> {
  const { provider } = input;
  const spec = provider.spec;
  const ns = provider.metadata.namespace ?? '';
  const data = spec.secretRef?.name ? await secret(client, ns, spec.secretRef.name) : undefined;
  const {
    proxy: legacyProxy,
    address,
    ...auth
  } = data ? fromSecret(data, `${ns}/${spec.secretRef?.name}`) : {};
  let proxy = spec.proxy ? proxyFromSecret({ address: spec.proxy }, 'spec.proxy') : undefined;
  proxy = legacyProxy ?? proxy;
  if (spec.proxySecretRef?.name)
    proxy = proxyFromSecret(
      await secret(client, ns, spec.proxySecretRef.name),
      `${ns}/${spec.proxySecretRef.name}`,
    );
  const tls = await tlsOf(client, provider, data);
  const options: HttpClientOptions = { userAgent: 'tide/notification-controller' };
  if (tls) options.tls = tls;
  if (proxy) options.proxy = proxy;
  return {
    ...auth,
    type: spec.type,
    address: address ?? spec.address ?? '',
    ...(address !== undefined ? { addressIsSecret: true } : {}),
    ...(spec.channel ? { channel: spec.channel } : {}),
    ...(spec.username ? { username: spec.username } : {}),
    ...(input.commitStatus ? { commitStatus: input.commitStatus } : {}),
    http: httpClient(options),
    retry: input.retry,
  };
}

/** spec.timeout, 15s when unset. */
export const providerTimeoutMs = (p: Provider) =>
  p.spec.timeout ? parseDuration(p.spec.timeout) : defaultTimeoutMs;
