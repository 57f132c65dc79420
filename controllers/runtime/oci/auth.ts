// Registry credentials: pull secrets (`kubernetes.io/dockerconfigjson`, legacy `.dockercfg`) and the
// WWW-Authenticate challenges registries answer 401 with. Errors name the secret, never its data.
import { OciCredentialsError } from './errors.ts';
import { canonicalRegistry } from './reference.ts';

export interface Credentials {
  username: string;
  password: string;
}

/** The parts of a Kubernetes Secret read here (a V1Secret fits). `data` values are base64. */
export interface SecretLike {
  metadata?: { name?: string; namespace?: string };
  type?: string;
  data?: Record<string, string>;
}

export const DOCKER_CONFIG_JSON_KEY = '.dockerconfigjson';
export const DOCKER_CFG_KEY = '.dockercfg';

interface AuthEntry {
  auth?: unknown;
  username?: unknown;
  password?: unknown;
}

/** Registry key of a docker config (`host`, `https://host`, `https://host/v1/`) → canonical `host[:port]`. */
function registryOfKey(key: string): string {
  const host = key.replace(/^[a-z][a-z0-9+.-]*:\/\//i, '').split('/')[0] ?? '';
  return canonicalRegistry(host);
}

function entryCredentials(entry: AuthEntry, where: string): Credentials | undefined {
  if (typeof entry.username === 'string' && entry.username !== '' && typeof entry.password === 'string') {
    return { username: entry.username, password: entry.password };
  }
  if (typeof entry.auth === 'string' && entry.auth !== '') {
    const decoded = Buffer.from(entry.auth, 'base64').toString('utf8');
    const i = decoded.indexOf(':');
    if (i <= 0) throw new OciCredentialsError(`${where}: "auth" is not base64 of "<username>:<password>"`);
    return { username: decoded.slice(0, i), password: decoded.slice(i + 1) };
  }
  return undefined;
}

/**
 * Parses a docker config (`{"auths": {...}}`, or the legacy top-level map of `.dockercfg`) into
 * credentials per canonical registry. `source` names the origin in errors. Entries without
 * username/password or `auth` (e.g. only an `identitytoken`) are skipped.
 */
export function parseDockerConfig(json: string, source = 'docker config'): Map<string, Credentials> {
  let doc: unknown;
  try {
    doc = JSON.parse(json);
  } catch {
    // JSON.parse's message quotes the input, which holds credentials: say only where.
    throw new OciCredentialsError(`${source} is not valid JSON`);
  }
  if (typeof doc !== 'object' || doc === null || Array.isArray(doc)) {
    throw new OciCredentialsError(`${source} is not a JSON object`);
  }
  const top = doc as Record<string, unknown>;
  const auths = 'auths' in top ? top.auths : top;
  if (typeof auths !== 'object' || auths === null || Array.isArray(auths)) {
    throw new OciCredentialsError(`${source}: "auths" is not an object`);
  }
  const out = new Map<string, Credentials>();
  // An exact `host` key wins over `https://host` variants for the same registry.
  const keys = Object.keys(auths).sort((a, b) => Number(a.includes('://')) - Number(b.includes('://')));
  for (const key of keys) {
    const entry = (auths as Record<string, unknown>)[key];
    if (typeof entry !== 'object' || entry === null) continue;
    const registry = registryOfKey(key);
    if (registry === '' || out.has(registry)) continue;
    const creds = entryCredentials(entry as AuthEntry, `${source}: auths["${key}"]`);
    if (creds) out.set(registry, creds);
  }
  return out;
}

/** Looks up the credentials for `registry` (`host[:port]`) in parsed docker config entries. */
export function findCredentials(auths: Map<string, Credentials>, registry: string): Credentials | undefined {
  return auths.get(canonicalRegistry(registry));
}

function secretName(secret: SecretLike): string {
  const m = secret.metadata ?? {};
  return `secret '${m.namespace ? `${m.namespace}/` : ''}${m.name ?? '<unnamed>'}'`;
}

/**
 * Credentials for `registry` from a pull secret (`.dockerconfigjson`, else `.dockercfg`);
 * undefined when the secret has none for this registry (the client then goes anonymous).
 */
export function credentialsFromSecret(secret: SecretLike, registry: string): Credentials | undefined {
  const name = secretName(secret);
  const data = secret.data ?? {};
  const key = data[DOCKER_CONFIG_JSON_KEY] !== undefined ? DOCKER_CONFIG_JSON_KEY : DOCKER_CFG_KEY;
  const encoded = data[key];
  if (encoded === undefined) {
    throw new OciCredentialsError(
      `${name} (type ${secret.type ?? 'unset'}) has no '${DOCKER_CONFIG_JSON_KEY}' key; ` +
        `create it with 'kubectl create secret docker-registry'`,
    );
  }
  const json = Buffer.from(encoded, 'base64').toString('utf8');
  return findCredentials(parseDockerConfig(json, `${name} key '${key}'`), registry);
}

/** A docker config JSON document holding one registry's credentials (what `kubectl create secret docker-registry` writes). */
export function dockerConfigJson(registry: string, creds: Credentials): string {
  const auth = Buffer.from(`${creds.username}:${creds.password}`).toString('base64');
  return JSON.stringify({
    auths: { [registry]: { username: creds.username, password: creds.password, auth } },
  });
}

export interface Challenge {
  /** Lowercase scheme: `bearer`, `basic`, … */
  scheme: string;
  /** Auth parameters with lowercase names: `realm`, `service`, `scope`, `error`. */
  params: Record<string, string>;
}

const isSpace = (c: string | undefined) => c === ' ' || c === '\t';

/** A reader over a header value with the few reads the challenge grammar needs. */
function cursor(s: string) {
  const c = {
    i: 0,
    done: () => c.i >= s.length,
    peek: () => s[c.i],
    skip(pred: (ch: string | undefined) => boolean) {
      while (!c.done() && pred(s[c.i])) c.i++;
    },
    /** Characters up to whitespace, `,` or `=`. */
    token() {
      const start = c.i;
      c.skip((ch) => !isSpace(ch) && ch !== ',' && ch !== '=');
      return s.slice(start, c.i);
    },
    /** A quoted string (at its opening quote) with backslash escapes, or a bare token. */
    value() {
      if (c.peek() !== '"') {
        const start = c.i;
        c.skip((ch) => ch !== ',' && !isSpace(ch));
        return s.slice(start, c.i);
      }
      let out = '';
      c.i++;
      while (!c.done() && c.peek() !== '"') {
        if (c.peek() === '\\') c.i++;
        out += s[c.i] ?? '';
        c.i++;
      }
      c.i++;
      return out;
    },
  };
  return c;
}

/**
 * Parses a WWW-Authenticate value (RFC 9110 §11.6.1) into challenges: quoted strings may hold commas
 * (`scope="repository:a:pull,push"`) and escapes; several challenges may share one header line.
 */
export function parseWwwAuthenticate(header: string): Challenge[] {
  const out: Challenge[] = [];
  let current: Challenge | undefined;
  const c = cursor(header);
  while (!c.done()) {
    c.skip((ch) => isSpace(ch) || ch === ',');
    const token = c.token();
    if (token === '') {
      c.i++; // a stray '=': skip it
      continue;
    }
    c.skip(isSpace);
    if (c.peek() !== '=') {
      current = { scheme: token.toLowerCase(), params: {} };
      out.push(current);
      continue;
    }
    c.i++;
    c.skip(isSpace);
    const value = c.value();
    if (current) current.params[token.toLowerCase()] = value;
  }
  return out;
}
