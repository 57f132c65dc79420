import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { rm } from 'node:fs/promises';
import { promisify } from 'node:util';
import * as openpgp from 'openpgp';
import {
  loadSigningKey,
  parseAuthorizedKeys,
  signatureType,
  verificationKeysFromSecret,
  verifySignature,
} from '../../../controllers/runtime/git/signature.ts';
import { type PgpKeyPair, pgpKeyPair, sshKeyPair, sshSign } from '../../support/signing.ts';

const exec = promisify(execFile);
const payload = Buffer.from('tree 4b825dc642cb6eb9a060e54bf8d69288fbee4904\nauthor a <a@x> 1 +0000\n\nm\n');

describe('runtime/git signature', function () {
  this.timeout(30_000);
  let trusted: PgpKeyPair;
  let other: PgpKeyPair;
  before(async () => {
    [trusted, other] = await Promise.all([
      pgpKeyPair('Trusted', 'trusted@tide.invalid', 'correct horse'),
      pgpKeyPair('Other', 'other@tide.invalid'),
    ]);
  });

  it('tells signature types apart as Flux does', () => {
    assert.equal(signatureType('-----BEGIN PGP SIGNATURE-----\nx'), 'openpgp');
    assert.equal(signatureType('  -----BEGIN SSH SIGNATURE-----\nx'), 'ssh');
    assert.equal(signatureType('-----BEGIN SIGNED MESSAGE-----'), 'x509');
    assert.equal(signatureType(undefined), 'empty');
    assert.equal(signatureType('garbage'), 'unknown');
  });

  it('sorts Secret keys: *.sshpub are SSH keys, everything else PGP key rings', () => {
    const keys = verificationKeysFromSecret({
      'a.asc': 'A',
      'b.sshpub': Buffer.from('B'),
      legacy: 'C',
    });
    assert.deepEqual(keys, { pgp: ['A', 'C'], ssh: ['B'] });
  });

  it('verifies a PGP signature by a trusted key and names its primary key ID', async () => {
    const sig = await trusted.signer.sign(payload);
    const keys = { pgp: [other.publicKey, trusted.publicKey], ssh: [] };
    assert.equal(await verifySignature('commit', sig, payload, keys), trusted.keyId);
    assert.match(trusted.keyId, /^[0-9A-F]{16}$/);
    // One armored key ring holding both keys (as `gpg --export --armor a b` writes) works as well.
    const binary = async (armoredKey: string) => (await openpgp.readKey({ armoredKey })).write();
    const both = Buffer.concat([await binary(other.publicKey), await binary(trusted.publicKey)]);
    const ring = { pgp: [openpgp.armor(openpgp.enums.armor.publicKey, both)], ssh: [] };
    assert.equal(await verifySignature('tag', sig, payload, ring), trusted.keyId);
  });

  it('rejects a signature by an untrusted key, or over other bytes, with Flux messages', async () => {
    const keys = { pgp: [trusted.publicKey], ssh: [] };
    await assert.rejects(verifySignature('commit', await other.signer.sign(payload), payload, keys), {
      message:
        'unable to verify Git commit: unable to verify payload with any of the given key rings: no matching key',
    });
    const sig = await trusted.signer.sign(payload);
    await assert.rejects(verifySignature('tag', sig, Buffer.from('tampered'), keys), {
      message:
        'unable to verify Git tag: unable to verify payload with any of the given key rings: no matching key',
    });
  });

  it('rejects unsigned objects, unknown formats and signatures without keys of their kind', async () => {
    const keys = { pgp: [trusted.publicKey], ssh: [] };
    await assert.rejects(verifySignature('commit', undefined, payload, keys), {
      message: 'unsupported signature type: empty',
    });
    await assert.rejects(verifySignature('commit', '-----BEGIN SIGNED MESSAGE-----\n', payload, keys), {
      message: 'unsupported signature type: x509',
    });
    await assert.rejects(
      verifySignature('commit', await trusted.signer.sign(payload), payload, { pgp: [], ssh: ['k'] }),
      {
        message: 'PGP signature detected but no PGP public keys found in secret (keys with .asc suffix)',
      },
    );
    await assert.rejects(verifySignature('commit', '-----BEGIN SSH SIGNATURE-----\n', payload, keys), {
      message: 'SSH signature detected but no SSH public keys found in secret (keys with .sshpub suffix)',
    });
  });

  it('reports key rings that cannot be read, unless another one verifies', async () => {
    const sig = await trusted.signer.sign(payload);
    await assert.rejects(
      verifySignature('commit', sig, payload, { pgp: ['not a key'], ssh: [] }),
      /unable to verify Git commit: unable to read armored key ring/,
    );
    assert.equal(
      await verifySignature('commit', sig, payload, { pgp: ['not a key', trusted.publicKey], ssh: [] }),
      trusted.keyId,
    );
  });

  it('loads signing keys: a protected one needs the right passphrase, and errors hide the key', async () => {
    await assert.rejects(loadSigningKey(trusted.privateKey), /encrypted but no passphrase/);
    await assert.rejects(loadSigningKey(trusted.privateKey, 'wrong'), /could not be decrypted/);
    await assert.rejects(loadSigningKey(trusted.publicKey), /not an armored OpenPGP private key/);
    const key = await loadSigningKey(trusted.privateKey, 'correct horse');
    assert.equal(key.keyId, trusted.keyId);
  });

  describe('SSH signatures', () => {
    let signer: Awaited<ReturnType<typeof sshKeyPair>>;
    let stranger: Awaited<ReturnType<typeof sshKeyPair>>;
    before(async () => {
      [signer, stranger] = await Promise.all([sshKeyPair(), sshKeyPair()]);
    });
    after(async () => {
      await rm(signer.dir, { recursive: true, force: true });
      await rm(stranger.dir, { recursive: true, force: true });
    });

    it('verifies a signature by a trusted key and names its SHA256 fingerprint as ssh-keygen does', async () => {
      const sig = await sshSign(signer.privateKeyFile, payload);
      const keys = { pgp: [], ssh: [`# team\n${stranger.publicKey}\nrestrict,no-pty ${signer.publicKey}\n`] };
      const fingerprint = await verifySignature('commit', sig, payload, keys);
      const { stdout } = await exec('ssh-keygen', ['-lf', `${signer.privateKeyFile}.pub`]);
      assert.equal(fingerprint, stdout.split(' ')[1]);
    });

    it('rejects another key, other bytes and another namespace', async () => {
      const keys = { pgp: [], ssh: [signer.publicKey] };
      const noMatch = {
        message:
          'unable to verify Git commit SSH signature: unable to verify payload with any of the given authorized keys: no matching key',
      };
      await assert.rejects(
        verifySignature('commit', await sshSign(stranger.privateKeyFile, payload), payload, keys),
        noMatch,
      );
      const sig = await sshSign(signer.privateKeyFile, payload);
      await assert.rejects(verifySignature('commit', sig, Buffer.from('tampered'), keys), noMatch);
      await assert.rejects(
        verifySignature('commit', await sshSign(signer.privateKeyFile, payload, 'file'), payload, keys),
        noMatch,
      );
    });

    it('parses authorized_keys lines with options and comments, and refuses lines without a key', () => {
      assert.deepEqual(parseAuthorizedKeys('# c\n\ncommand="x y" ssh-ed25519 AAAAC3Nz me@host\n'), [
        { type: 'ssh-ed25519', blob: 'AAAAC3Nz' },
      ]);
      assert.throws(() => parseAuthorizedKeys('not a key'), /unable to parse authorized key/);
    });
  });
});
