// Signing and verifying Git commits and tags, as Flux does (fluxcd/pkg git/signature):
// - OpenPGP with the `openpgp` library: detached, armored signatures over the object's payload;
//   verification reports the primary key ID of the signer (16 upper-case hex digits);
// - SSH signatures (SSHSIG, namespace "git") with OpenSSH's own `ssh-keygen -Y`, which the Git layer
//   already needs for SSH identities; verification reports the key's SHA256 fingerprint.
// Verification keys come from a Secret: `*.asc` values are PGP key rings, `*.sshpub` values are
// authorized_keys lines, any other key is a PGP key ring (Flux's backward compatibility).
import { createHash } from 'node:crypto';
import { chmod, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type * as OpenPGP from 'openpgp';

// Loaded on first use: most controllers never verify or sign, and openpgp costs about 20 MiB.
const loadOpenpgp = () => import('openpgp');

import { runCommand } from './exec.ts';

export const pgpKeySuffix = '.asc';
export const sshKeySuffix = '.sshpub';
/** SSHSIG namespace of Git signatures. */
const sshNamespace = 'git';

export type SignatureType = 'openpgp' | 'ssh' | 'x509' | 'empty' | 'unknown';

/** Flux's signature.GetSignatureType. */
export function signatureType(signature: string | undefined): SignatureType {
  const s = (signature ?? '').trim();
  if (s.startsWith('-----BEGIN PGP SIGNATURE-----')) return 'openpgp';
  if (s.startsWith('-----BEGIN SSH SIGNATURE-----')) return 'ssh';
  if (s.startsWith('-----BEGIN SIGNED MESSAGE-----')) return 'x509';
  if (!signature) return 'empty';
  return 'unknown';
}

/** Trusted keys, split by kind. */
export interface VerificationKeys {
  /** Armored PGP key rings. */
  pgp: string[];
  /** authorized_keys texts. */
  ssh: string[];
}

/** Sorts a Secret's values into PGP key rings and SSH authorized keys by their key's suffix. */
export function verificationKeysFromSecret(
  data: Readonly<Record<string, string | Uint8Array>>,
): VerificationKeys {
  const keys: VerificationKeys = { pgp: [], ssh: [] };
  for (const [k, v] of Object.entries(data)) {
    const value = typeof v === 'string' ? v : Buffer.from(v).toString('utf8');
    if (k.endsWith(sshKeySuffix)) keys.ssh.push(value);
    else keys.pgp.push(value);
  }
  return keys;
}

export class SignatureError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'SignatureError';
  }
}

/**
 * Verifies `signature` over `payload` with the trusted keys, dispatching on the signature type, and
 * returns the identity of the key that made it: the PGP primary key ID or the SSH SHA256
 * fingerprint. `what` ('commit' or 'tag') words the error as Flux does. Throws SignatureError.
 */
export async function verifySignature(
  what: 'commit' | 'tag',
  signature: string | undefined,
  payload: Uint8Array,
  keys: VerificationKeys,
  opts: { deadline?: number } = {},
): Promise<string> {
  const type = signatureType(signature);
  const sig = (signature ?? '').trim();
  if (type === 'openpgp') {
    if (keys.pgp.length === 0)
      throw new SignatureError(
        `PGP signature detected but no PGP public keys found in secret (keys with ${pgpKeySuffix} suffix)`,
      );
    try {
      return await verifyPgp(sig, payload, keys.pgp);
    } catch (err) {
      throw new SignatureError(`unable to verify Git ${what}: ${(err as Error).message}`);
    }
  }
  if (type === 'ssh') {
    if (keys.ssh.length === 0)
      throw new SignatureError(
        `SSH signature detected but no SSH public keys found in secret (keys with ${sshKeySuffix} suffix)`,
      );
    try {
      return await verifySsh(sig, payload, keys.ssh, opts.deadline ?? Date.now() + 30_000);
    } catch (err) {
      throw new SignatureError(`unable to verify Git ${what} SSH signature: ${(err as Error).message}`);
    }
  }
  throw new SignatureError(`unsupported signature type: ${type}`);
}

/** Returns the primary key ID of the key in `keyRings` that made the signature. */
async function verifyPgp(signature: string, payload: Uint8Array, keyRings: string[]): Promise<string> {
  const openpgp = await loadOpenpgp();
  let readError: Error | undefined;
  const keys: OpenPGP.Key[] = [];
  for (const ring of keyRings) {
    try {
      keys.push(...(await openpgp.readKeys({ armoredKeys: ring })));
    } catch (err) {
      readError ??= new Error(`unable to read armored key ring: ${(err as Error).message}`);
    }
  }
  if (keys.length === 0 && readError) throw readError;
  let parsed: OpenPGP.Signature;
  try {
    parsed = await openpgp.readSignature({ armoredSignature: signature });
  } catch (err) {
    throw new Error(`unable to read the signature: ${(err as Error).message}`);
  }
  const result = await openpgp.verify({
    message: await openpgp.createMessage({ binary: payload }),
    signature: parsed,
    verificationKeys: keys,
  });
  for (const s of result.signatures) {
    const ok = await s.verified.then(
      () => true,
      () => false,
    );
    const signer = ok ? keys.find((k) => k.getKeys(s.keyID).length > 0) : undefined;
    if (signer) return signer.getKeyID().toHex().toUpperCase();
  }
  throw new Error('unable to verify payload with any of the given key rings: no matching key');
}

/** `type base64` of every key in an authorized_keys text (options and comments dropped). */
export function parseAuthorizedKeys(text: string): { type: string; blob: string }[] {
  const out: { type: string; blob: string }[] = [];
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (!line || line.startsWith('#')) continue;
    const tokens = line.split(/\s+/);
    const i = tokens.findIndex((t) =>
      /^(ssh-(ed25519|rsa|dss)|ecdsa-sha2-nistp\d+|sk-\S+@openssh\.com)$/.test(t),
    );
    const blob = i < 0 ? undefined : tokens[i + 1];
    if (i < 0 || !blob || !/^[A-Za-z0-9+/]+=*$/.test(blob))
      throw new Error(`unable to parse authorized key: no key found in '${line.slice(0, 40)}'`);
    out.push({ type: tokens[i] ?? '', blob });
  }
  return out;
}

/** OpenSSH's SHA256 fingerprint of a public key blob. */
export function sshFingerprint(blob: string): string {
  const digest = createHash('sha256').update(Buffer.from(blob, 'base64')).digest('base64');
  return `SHA256:${digest.replace(/=+$/, '')}`;
}

/**
 * Verifies an SSHSIG signature with `ssh-keygen -Y`: the trusted keys become an allowed-signers file
 * (one made-up principal per key), find-principals picks the key that made the signature, verify
 * checks the signature with it. Returns that key's fingerprint.
 */
async function verifySsh(
  signature: string,
  payload: Uint8Array,
  authorizedKeys: string[],
  deadline: number,
): Promise<string> {
  let parseError: Error | undefined;
  const keys: { type: string; blob: string }[] = [];
  for (const text of authorizedKeys) {
    try {
      keys.push(...parseAuthorizedKeys(text));
    } catch (err) {
      parseError ??= new Error(`unable to parse authorized keys: ${(err as Error).message}`);
    }
  }
  if (keys.length === 0 && parseError) throw parseError;
  const noMatch = new Error(
    'unable to verify payload with any of the given authorized keys: no matching key',
  );
  if (keys.length === 0) throw noMatch;
  const dir = await mkdtemp(join(tmpdir(), 'tide-sshsig-'));
  try {
    await chmod(dir, 0o700);
    const allowed = join(dir, 'allowed_signers');
    const sigFile = join(dir, 'signature');
    const lines = keys.map((k, i) => `key${i} namespaces="${sshNamespace}" ${k.type} ${k.blob}`);
    await writeFile(allowed, `${lines.join('\n')}\n`, { mode: 0o600 });
    await writeFile(sigFile, `${signature}\n`, { mode: 0o600 });
    const env = { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: dir, LC_ALL: 'C' };
    const run = (args: string[], input?: Uint8Array) =>
      runCommand('ssh-keygen', args, { env, input, deadline, secrets: [], what: 'ssh-keygen' });
    const found = await run(['-Y', 'find-principals', '-s', sigFile, '-f', allowed]);
    const principals = found.code === 0 ? found.stdout.split('\n').filter((p) => /^key\d+$/.test(p)) : [];
    for (const principal of principals) {
      const res = await run(
        ['-Y', 'verify', '-f', allowed, '-I', principal, '-n', sshNamespace, '-s', sigFile],
        payload,
      );
      if (res.code === 0) return sshFingerprint(keys[Number(principal.slice(3))]?.blob ?? '');
    }
    throw noMatch;
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/** A decrypted OpenPGP private key that signs commit payloads. */
export interface SigningKey {
  /** Primary key ID, 16 upper-case hex digits. */
  keyId: string;
  /** A detached, armored signature over `payload`. */
  sign(payload: Uint8Array): Promise<string>;
}

/**
 * Reads an armored OpenPGP private key (Flux's `git.asc` in a signing Secret), decrypting it with
 * `passphrase` when it is protected. Errors never contain the key or the passphrase.
 */
export async function loadSigningKey(armoredKey: string, passphrase?: string): Promise<SigningKey> {
  const openpgp = await loadOpenpgp();
  let key: OpenPGP.PrivateKey;
  try {
    key = await openpgp.readPrivateKey({ armoredKey });
  } catch {
    throw new SignatureError('the signing key is not an armored OpenPGP private key');
  }
  if (!key.isDecrypted()) {
    if (!passphrase) throw new SignatureError('the signing key is encrypted but no passphrase was given');
    try {
      key = await openpgp.decryptKey({ privateKey: key, passphrase });
    } catch {
      throw new SignatureError('the signing key could not be decrypted with the given passphrase');
    }
  }
  const signer = key;
  return {
    keyId: signer.getKeyID().toHex().toUpperCase(),
    async sign(payload) {
      const message = await openpgp.createMessage({ binary: payload });
      const armored = await openpgp.sign({ message, signingKeys: signer, detached: true, format: 'armored' });
      return String(armored);
    },
  };
}
