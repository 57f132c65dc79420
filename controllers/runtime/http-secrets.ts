// HTTP client settings from the Secrets Flux specs point at, read as fluxcd/pkg runtime/secrets does:
// a proxy (proxySecretRef: `address`, optional `username` and `password`) and TLS material
// (certSecretRef: `ca.crt` and/or `tls.crt` with `tls.key`; the legacy `caFile`, `certFile`, `keyFile`
// are read too). Errors name the Secret and the key, never a value.
import type { ProxyConfig, TlsConfig } from './http.ts';

/** A Secret's data, decoded from base64. */
export type SecretData = Record<string, Buffer>;

const PROXY_SCHEMES = ['http:', 'https:', 'socks5:'];
const MAX_PROXY_URL = 2048;

/** The proxy of a proxySecretRef Secret (`ref` is `namespace/name`, for messages). */
export function proxyFromSecret(data: SecretData, ref: string): ProxyConfig {
  const raw = data.address;
  if (raw === undefined) throw new Error(`secret '${ref}': key 'address' not found`);
  const address = raw.toString('utf8');
  if (address === '') throw new Error(`secret '${ref}': proxy address is empty`);
  if (address.length > MAX_PROXY_URL) {
    throw new Error(`secret '${ref}': proxy URL exceeds maximum length of ${MAX_PROXY_URL} characters`);
  }
  let url: URL;
  try {
    url = new URL(address);
  } catch {
    throw new Error(`secret '${ref}': failed to parse proxy address`);
  }
  if (!PROXY_SCHEMES.includes(url.protocol)) {
    throw new Error(
      `secret '${ref}': proxy URL must use one of the supported schemes (http, https, socks5), got '${url.protocol.replace(/:$/, '')}'`,
    );
  }
  const proxy: ProxyConfig = { url: url.toString() };
  if (data.username !== undefined) {
    proxy.username = data.username.toString('utf8');
    proxy.password = data.password?.toString('utf8') ?? '';
  }
  return proxy;
}

/**
 * The TLS settings of a certSecretRef Secret: a CA added to the system roots, and/or a client
 * certificate and key. A certificate without its key (or the reverse) is refused, and so is a
 * Secret with neither.
 */
export function tlsFromSecret(data: SecretData, ref: string): TlsConfig {
  const ca = data['ca.crt'] ?? data.caFile;
  const cert = data['tls.crt'] ?? data.certFile;
  const key = data['tls.key'] ?? data.keyFile;
  if (cert && !key) throw new Error(`secret '${ref}' contains 'tls.crt' but missing 'tls.key'`);
  if (key && !cert) throw new Error(`secret '${ref}' contains 'tls.key' but missing 'tls.crt'`);
  if (!ca && !cert) {
    throw new Error(`secret '${ref}' must contain either 'ca.crt' or both 'tls.crt' and 'tls.key'`);
  }
  return { ...(ca ? { ca } : {}), ...(cert && key ? { cert, key } : {}) };
}
