// HTTP client settings from the Secrets Flux specs point at, read as fluxcd/pkg runtime/secrets does:
// a proxy (proxySecretRef of GitRepository, OCIRepository, ImageRepository, notification Providers:
// `address` with http, https or socks5, optional `username` and `password`) and TLS material
// (certSecretRef: `ca.crt` and/or `tls.crt` with `tls.key`; the legacy `caFile`, `certFile`, `keyFile`
// are read too). Errors name the Secret and the key, never a value.
import type { ProxyConfig, TlsConfig } from './http.ts';

/** A Secret's data, decoded from base64 (strings are accepted too). */
export type SecretData = Readonly<Record<string, string | Uint8Array>>;

const supportedSchemes = ['http', 'https', 'socks5'];
const maxLength = 2048;

const text = (v: string | Uint8Array | undefined) =>
  v === undefined ? undefined : typeof v === 'string' ? v : Buffer.from(v).toString('utf8');

/**
 * Reads a proxy Secret. `ref` ("namespace/name") names the Secret in errors, which never contain the
 * credentials. Throws when `address` is missing, empty, too long, unparsable or of another scheme.
 */
export function proxyFromSecret(data: SecretData, ref: string): ProxyConfig {
  const address = text(data.address);
  if (address === undefined) throw new Error(`secret '${ref}': key 'address' not found`);
  if (address === '') throw new Error(`secret '${ref}': proxy address is empty`);
  if (address.length > maxLength)
    throw new Error(`secret '${ref}': proxy URL exceeds maximum length of ${maxLength} characters`);
  let u: URL;
  try {
    u = new URL(address);
  } catch {
    throw new Error(`secret '${ref}': failed to parse proxy address`);
  }
  const scheme = u.protocol.slice(0, -1);
  if (!supportedSchemes.includes(scheme))
    throw new Error(
      `secret '${ref}': proxy URL must use one of the supported schemes (${supportedSchemes.join(', ')}), got '${scheme}'`,
    );
  // Credentials in the address itself are kept out of it, like the Secret's username/password.
  const username = text(data.username) ?? (u.username ? decodeURIComponent(u.username) : undefined);
  const password = text(data.password) ?? (u.password ? decodeURIComponent(u.password) : undefined);
  u.username = '';
  u.password = '';
  return {
    address: u.toString().replace(/\/$/, ''),
    ...(username !== undefined ? { username } : {}),
    ...(password !== undefined && username !== undefined ? { password } : {}),
  };
}

/** The proxy URL with its credentials percent-encoded in the userinfo (for curl and git). */
export function proxyUrlWithCredentials(p: ProxyConfig): string {
  const u = new URL(p.address);
  if (p.username !== undefined) u.username = encodeURIComponent(p.username);
  if (p.password !== undefined) u.password = encodeURIComponent(p.password);
  return u.toString().replace(/\/$/, '');
}

/**
 * The TLS settings of a certSecretRef Secret: a CA added to the system roots, and/or a client
 * certificate and key. A certificate without its key (or the reverse) is refused, and so is a
 * Secret with neither.
 */
export function tlsFromSecret(data: SecretData, ref: string): TlsConfig {
  const bytes = (v: string | Uint8Array | undefined) => (v === undefined ? undefined : Buffer.from(v));
  const ca = bytes(data['ca.crt'] ?? data.caFile);
  const cert = bytes(data['tls.crt'] ?? data.certFile);
  const key = bytes(data['tls.key'] ?? data.keyFile);
  if (cert && !key) throw new Error(`secret '${ref}' contains 'tls.crt' but missing 'tls.key'`);
  if (key && !cert) throw new Error(`secret '${ref}' contains 'tls.key' but missing 'tls.crt'`);
  if (!ca && !cert) {
    throw new Error(`secret '${ref}' must contain either 'ca.crt' or both 'tls.crt' and 'tls.key'`);
  }
  return { ...(ca ? { ca } : {}), ...(cert && key ? { cert, key } : {}) };
}
