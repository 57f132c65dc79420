// OpenPGP keys and signed tags for tests, made with the `openpgp` library (no gpg needed), and SSH
// signatures made with ssh-keygen -Y sign.
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import * as openpgp from 'openpgp';
import { localEnv } from '../../controllers/runtime/git/auth.ts';
import { loadSigningKey, type SigningKey } from '../../controllers/runtime/git/signature.ts';

const exec = promisify(execFile);

export interface PgpKeyPair {
  /** Armored private key (encrypted when a passphrase was given). */
  privateKey: string;
  /** Armored public key, as a verification Secret's `*.asc` value holds it. */
  publicKey: string;
  /** Primary key ID, as Flux reports it (16 upper-case hex digits). */
  keyId: string;
  signer: SigningKey;
}

/** A fresh ECC (ed25519) key pair with a signing subkey, like `gpg --quick-gen-key` makes. */
export async function pgpKeyPair(name: string, email: string, passphrase?: string): Promise<PgpKeyPair> {
  const { privateKey, publicKey } = await openpgp.generateKey({
    type: 'ecc',
    curve: 'curve25519Legacy',
    userIDs: [{ name, email }],
    format: 'armored',
    ...(passphrase ? { passphrase } : {}),
  });
  const key = await openpgp.readKey({ armoredKey: publicKey });
  return {
    privateKey,
    publicKey,
    keyId: key.getKeyID().toHex().toUpperCase(),
    signer: await loadSigningKey(privateKey, passphrase),
  };
}

/** The raw payload of a tag object (what its signature covers). */
export function tagPayload(target: string, name: string, message: string, when = '1700000000 +0000'): string {
  return `object ${target}\ntype commit\ntag ${name}\ntagger Tide Test <test@tide.invalid> ${when}\n\n${message}\n`;
}

/**
 * Creates an annotated tag `name` on `target` in the repository at `dir`, signed with `signer` (or
 * unsigned), via `git mktag`, and returns the tag object's hash. Push it with `refs/tags/<name>`.
 */
export async function createTag(
  dir: string,
  name: string,
  target: string,
  signer?: SigningKey,
  message = `release ${name}`,
): Promise<string> {
  const payload = tagPayload(target, name, message);
  const object = signer ? payload + (await signer.sign(Buffer.from(payload))) : payload;
  const git = (args: string[], input?: string) => {
    const p = exec('git', args, { cwd: dir, env: localEnv() });
    if (input !== undefined) p.child.stdin?.end(input);
    return p;
  };
  const hash = (await git(['mktag'], object)).stdout.trim();
  await git(['update-ref', `refs/tags/${name}`, hash]);
  return hash;
}

/** An SSH key pair (ed25519) for SSH signatures: the private key file and the public key line. */
export async function sshKeyPair(): Promise<{ dir: string; privateKeyFile: string; publicKey: string }> {
  const dir = await mkdtemp(join(tmpdir(), 'tide-sshsign-'));
  const privateKeyFile = join(dir, 'key');
  await exec('ssh-keygen', [
    '-q',
    '-t',
    'ed25519',
    '-N',
    '',
    '-C',
    'signer@tide.invalid',
    '-f',
    privateKeyFile,
  ]);
  return { dir, privateKeyFile, publicKey: (await readFile(`${privateKeyFile}.pub`, 'utf8')).trim() };
}

/** An armored SSHSIG signature (namespace `namespace`, default git) over `payload`. */
export async function sshSign(
  privateKeyFile: string,
  payload: Uint8Array,
  namespace = 'git',
): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'tide-sshsign-'));
  try {
    const file = join(dir, 'payload');
    await writeFile(file, payload);
    await exec('ssh-keygen', ['-Y', 'sign', '-q', '-f', privateKeyFile, '-n', namespace, file]);
    return await readFile(`${file}.sig`, 'utf8');
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
