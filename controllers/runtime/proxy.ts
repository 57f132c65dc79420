// Flux's proxy Secret (`spec.proxySecretRef` of GitRepository, OCIRepository, ImageRepository,
// notification Providers): `address` (required; http, https or socks5), optional `username` and
// `password` (fluxcd/pkg runtime/secrets ProxyURLFromSecret).

/** A Secret's data, already base64-decoded. */
export type ProxySecretData = Readonly<Record<string, string | Uint8Array>>;

export interface ProxyOptions {
  /** The proxy URL without credentials, e.g. `http://proxy.example:3128`. */
  address: string;
  username?: string;
  password?: string;
}

const supportedSchemes = ['http', 'https', 'socks5'];
const maxLength = 2048;

const text = (v: string | Uint8Array | undefined) =>
  v === undefined ? undefined : typeof v === 'string' ? v : Buffer.from(v).toString('utf8');

/**
 * Reads a proxy Secret. `ref` ("namespace/name") names the Secret in errors, which never contain the
 * credentials. Throws when `address` is missing, empty, too long, unparsable or of another scheme.
 */
export function proxyFromSecret(data: ProxySecretData, ref: string): ProxyOptions {
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
export function proxyUrlWithCredentials(p: ProxyOptions): string {
  const u = new URL(p.address);
  if (p.username !== undefined) u.username = encodeURIComponent(p.username);
  if (p.password !== undefined) u.password = encodeURIComponent(p.password);
  return u.toString().replace(/\/$/, '');
}
