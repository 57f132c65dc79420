// SOPS decryption with age keys through the pinned sops binary, on kustomize-built objects.
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { isReconcileError } from '../../../controllers/runtime/errors.ts';
import { kustomizeBuild } from '../../../controllers/runtime/kustomize/build.ts';
import {
  ageKeysFromSecret,
  decryptObjects,
  decryptSources,
  isEncryptedSecret,
} from '../../../controllers/runtime/kustomize/decrypt.ts';
import { generateKustomization } from '../../../controllers/runtime/kustomize/generate.ts';
import type { KubeObject } from '../../../controllers/runtime/kustomize/objects.ts';
import { runProcess } from '../../../controllers/runtime/process.ts';
import { withSandbox } from '../../../controllers/runtime/sandbox.ts';
import { toolPaths } from '../../../hack/testbed/tools.ts';
import { ageKeyPair } from '../../support/age.ts';
import { manifest, useTempDir, writeTree } from '../../unit/kustomize/support.ts';

const plainSecret = `apiVersion: v1
kind: Secret
metadata:
  name: db-credentials
type: Opaque
stringData:
  password: hunter2-plaintext
  port: "5432"
`;

describe('kustomize/build: SOPS decryption with age', function () {
  this.timeout(60_000);
  const tmp = useTempDir('tide-ksops-');
  let kustomizeBin = '';
  let sopsBin = '';
  const key = ageKeyPair();
  const otherKey = ageKeyPair();

  before(async () => {
    ({ kustomize: kustomizeBin, sops: sopsBin } = await toolPaths(['kustomize', 'sops']));
  });

  // Encrypts with the sops binary, the way a user prepares a repository.
  const encrypt = (text: string, type: string, extra: string[] = []) =>
    withSandbox(async (env, home) => {
      // No file argument: sops reads stdin (encrypt wants a file name for its config lookup).
      const io = ['--input-type', type, '--output-type', type, '--filename-override', `input.${type}`];
      const args = ['encrypt', '--age', key.recipient, ...io, ...extra];
      const res = await runProcess(sopsBin, args, { env, cwd: home, input: text, timeoutMs: 30_000 });
      assert.equal(res.code, 0, res.stderr);
      return res.stdout.toString('utf8');
    });

  const buildTree = async (path: string, targetNamespace?: string) => {
    await generateKustomization(tmp(), { path, ...(targetNamespace ? { targetNamespace } : {}) });
    return kustomizeBuild(tmp(), path, { kustomizeBin });
  };

  const secretOf = (objects: KubeObject[], name: string) => {
    const s = objects.find((o) => o.kind === 'Secret' && o.metadata.name?.startsWith(name));
    assert.ok(s, `no Secret ${name}`);
    return s;
  };

  it("generates age keys in age's bech32 form", () => {
    assert.match(key.identity, /^AGE-SECRET-KEY-1[0-9A-Z]{58}$/);
    assert.match(key.recipient, /^age1[0-9a-z]{58}$/);
  });

  it('decrypts a SOPS-encrypted Secret after kustomize changed it (namespace), leaving other objects alone', async () => {
    const encrypted = await encrypt(plainSecret, 'yaml', ['--encrypted-regex', '^(data|stringData)$']);
    assert.ok(!encrypted.includes('hunter2'));
    await writeTree(tmp(), {
      'app/secret.yaml': encrypted,
      'app/cm.yaml': manifest('ConfigMap', 'settings'),
    });
    const built = await buildTree('app', 'apps');
    assert.ok(isEncryptedSecret(secretOf(built, 'db-credentials')));

    const objects = await decryptObjects(built, { sopsBin, ageKeys: [otherKey.identity, key.identity] });
    const secret = secretOf(objects, 'db-credentials');
    assert.deepEqual(secret.stringData, { password: 'hunter2-plaintext', port: '5432' });
    assert.equal(secret.sops, undefined);
    assert.equal(secret.metadata.namespace, 'apps');
    assert.ok(!isEncryptedSecret(secret));
    assert.deepEqual(
      objects.find((o) => o.kind === 'ConfigMap'),
      built.find((o) => o.kind === 'ConfigMap'),
    );
  });

  it('a wrong key fails naming the Secret, without its content or the key', async () => {
    const encrypted = await encrypt(plainSecret, 'yaml', ['--encrypted-regex', '^(data|stringData)$']);
    await writeTree(tmp(), { 'app/secret.yaml': encrypted });
    const built = await buildTree('app');
    for (const ageKeys of [[otherKey.identity], []]) {
      await assert.rejects(
        decryptObjects(built, { sopsBin, ageKeys }),
        (e: unknown) =>
          isReconcileError(e) &&
          e.reason === 'BuildFailed' &&
          e.message.startsWith("decryption failed for 'Secret/db-credentials'") &&
          !e.message.includes('hunter2') &&
          !e.message.includes(otherKey.identity),
      );
    }
  });

  it('leaves objects annotated decrypt: disabled encrypted', async () => {
    const annotated = plainSecret.replace(
      'metadata:\n',
      'metadata:\n  annotations:\n    kustomize.toolkit.fluxcd.io/decrypt: Disabled\n',
    );
    await writeTree(tmp(), {
      'app/secret.yaml': await encrypt(annotated, 'yaml', ['--encrypted-regex', '^stringData$']),
    });
    const built = await buildTree('app');
    const secret = secretOf(
      await decryptObjects(built, { sopsBin, ageKeys: [key.identity] }),
      'db-credentials',
    );
    assert.deepEqual(secret, built[0]);
    assert.match(String((secret.stringData as Record<string, string>).password), /^ENC\[/);
    assert.ok(!isEncryptedSecret(secret)); // the apply guard lets it through, as Flux
  });

  it('decrypts secretGenerator sources before the build (an encrypted .env file)', async () => {
    await writeTree(tmp(), {
      'app/kustomization.yaml':
        'secretGenerator:\n  - name: app-env\n    envs: [app.env]\ngeneratorOptions:\n  disableNameSuffixHash: true\n',
      'app/app.env': await encrypt('API_TOKEN=t0ken-plain\nMODE=prod\n', 'dotenv'),
    });
    const decrypted = await decryptSources(tmp(), join(tmp(), 'app'), { sopsBin, ageKeys: [key.identity] });
    assert.deepEqual(decrypted, ['app/app.env']);
    assert.equal(await readFile(join(tmp(), 'app/app.env'), 'utf8'), 'API_TOKEN=t0ken-plain\nMODE=prod\n');
    const secret = secretOf(await buildTree('app'), 'app-env');
    const data = Object.fromEntries(
      Object.entries(secret.data as Record<string, string>).map(([k, v]) => [
        k,
        Buffer.from(v, 'base64').toString(),
      ]),
    );
    assert.deepEqual(data, { API_TOKEN: 't0ken-plain', MODE: 'prod' });
  });

  it('decrypts Secret data values that are SOPS documents (secretGenerator files encrypted on their own)', async () => {
    await writeTree(tmp(), {
      'app/kustomization.yaml':
        'secretGenerator:\n  - name: app-files\n    files: [token=token.encrypted, config.yaml=config.encrypted]\n' +
        'generatorOptions:\n  disableNameSuffixHash: true\n',
      'app/token.encrypted': await encrypt('raw-token-bytes', 'binary'),
      'app/config.encrypted': await encrypt('user: admin\npass: s3cret\n', 'yaml'),
    });
    // No decryptSources here: the values reach the built Secret still encrypted.
    const built = await buildTree('app');
    const before = secretOf(built, 'app-files').data as Record<string, string>;
    assert.ok(
      Buffer.from(before.token ?? '', 'base64')
        .toString()
        .includes('ENC['),
    );

    const secret = secretOf(await decryptObjects(built, { sopsBin, ageKeys: [key.identity] }), 'app-files');
    const data = secret.data as Record<string, string>;
    assert.equal(Buffer.from(data.token ?? '', 'base64').toString(), 'raw-token-bytes');
    assert.equal(Buffer.from(data['config.yaml'] ?? '', 'base64').toString(), 'user: admin\npass: s3cret\n');
  });

  it('reads age keys from a decryption Secret: only *.agekey entries', () => {
    const b64 = (s: string) => Buffer.from(s).toString('base64');
    const keys = ageKeysFromSecret({
      'identity.agekey': b64(`# created: today\n${key.identity}\n`),
      'other.agekey': b64(otherKey.identity),
      'identity.asc': b64('-----BEGIN PGP PRIVATE KEY BLOCK-----'),
      'sops.vault-token': b64('token'),
    });
    assert.deepEqual(keys.sort(), [`# created: today\n${key.identity}`, otherKey.identity].sort());
  });
});
