// source-controller's GitRepository: spec.verify (signed commits and tags), spec.proxySecretRef and
// spec.provider, against the test bed's Git servers. Signed commits are made with Tide's own Git
// layer and openpgp keys; SSH-signed ones by git itself.

import assert from 'node:assert/strict';
import { mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { ConditionTypes } from '../../../controllers/api/names.ts';
import type { GitRepository } from '../../../controllers/api/source.ts';
import { authFromSecret } from '../../../controllers/runtime/git/auth.ts';
import { cloneBranch, commitAll, push, type Remote } from '../../../controllers/runtime/git/repository.ts';
import type { SigningKey } from '../../../controllers/runtime/git/signature.ts';
import { makePki } from '../../../hack/testbed/pki.ts';
import { run } from '../../../hack/testbed/proc.ts';
import { startProxy, startTlsTerminator, type TestProxy } from '../../support/proxy.ts';
import { createTag, type PgpKeyPair, pgpKeyPair, sshKeyPair } from '../../support/signing.ts';
import {
  sourceApiVersion as apiVersion,
  cond,
  download,
  sha256,
  useSourceController,
} from '../../support/sources.ts';
import { testbed, useNamespace } from '../../support/testbed.ts';

const author = { name: 'Tide Test', email: 'test@tide.invalid' };

describe('source-controller: GitRepository verification, proxy and provider', function () {
  this.timeout(180_000);
  const ns = useNamespace('gitverify');
  const source = useSourceController(['--concurrent=4']);
  const { patchSpec, requestReconcile, waitReady, waitNotReady, get } = source.kind<GitRepository>(
    'GitRepository',
    ns,
  );
  let trusted: PgpKeyPair;
  let stranger: PgpKeyPair;
  let url: string;
  let remote: Remote;
  let work: string;

  /** Writes files in the work tree, commits (signed by `signer`, if any) and pushes main. */
  const commit = async (files: Record<string, string>, signer?: SigningKey) => {
    for (const [f, body] of Object.entries(files)) await writeFile(join(work, f), body);
    const sha = await commitAll(work, {
      author,
      message: `change ${Object.keys(files).join(', ')}`,
      signingKey: signer,
    });
    await push(remote, work, { branch: 'main' });
    return sha ?? '';
  };
  const secret = (name: string, stringData: Record<string, string>) =>
    source.client.create({
      apiVersion: 'v1',
      kind: 'Secret',
      metadata: { name, namespace: ns() },
      stringData,
    });
  const create = (name: string, spec: Partial<GitRepository['spec']>) =>
    source.client.create({
      apiVersion,
      kind: 'GitRepository',
      metadata: { name, namespace: ns() },
      spec: { url, interval: '10m', secretRef: { name: 'http-auth' }, ref: { branch: 'main' }, ...spec },
    });

  before(async () => {
    const tb = testbed();
    [trusted, stranger] = await Promise.all([
      pgpKeyPair('Trusted Author', 'trusted@tide.invalid'),
      pgpKeyPair('Stranger', 'stranger@tide.invalid'),
    ]);
    url = await tb.git.createRepo(`verify-${process.pid}`);
    remote = {
      url,
      auth: authFromSecret(url, { username: tb.git.username, password: tb.git.password }),
      timeoutMs: 60_000,
    };
    work = (
      await cloneBranch(remote, await mkdtemp(join(tb.dir, 'verify-work-')), {
        branch: 'main',
        allowMissing: true,
      })
    ).dir;
    await commit({ 'README.md': 'seed\n' });
    await secret('http-auth', { username: tb.git.username, password: tb.git.password });
    await secret('pgp-keys', { 'author.asc': trusted.publicKey });
  });

  describe('spec.verify', () => {
    let good: string;

    it('accepts a commit signed by a key of the Secret (HEAD)', async () => {
      good = await commit({ 'app.yaml': 'replicas: 1\n' }, trusted.signer);
      await create('head', { verify: { mode: 'HEAD', secretRef: { name: 'pgp-keys' } } });
      const o = await waitReady('head');
      assert.equal(o.status?.artifact?.revision, `main@sha1:${good}`);
      const v = cond(o, ConditionTypes.SourceVerified);
      assert.equal(v?.status, 'True');
      assert.equal(v?.reason, 'Succeeded');
      assert.equal(v?.message, `verified signature of\n\t- commit '${good}' with key '${trusted.keyId}'`);
      assert.equal(o.status?.sourceVerificationMode, 'HEAD');
    });

    it('rejects an unsigned commit and keeps serving the last verified artifact', async () => {
      const before = (await get('head')).status!.artifact!;
      const unsigned = await commit({ 'app.yaml': 'replicas: 2\n' });
      await requestReconcile('head', 'unsigned');
      const o = await waitNotReady('head', /signature verification of commit/);
      const v = cond(o, ConditionTypes.SourceVerified);
      assert.equal(v?.status, 'False');
      assert.equal(v?.reason, 'InvalidCommitSignature');
      assert.equal(
        v?.message,
        `signature verification of commit '${unsigned}' failed: unsupported signature type: empty`,
      );
      assert.equal(cond(o, ConditionTypes.Ready)?.reason, 'InvalidCommitSignature');
      assert.equal(o.status?.artifact?.revision, before.revision, 'no artifact for the unsigned commit');
      assert.equal(sha256(await download(o.status!.artifact!.url)), before.digest);
    });

    it('rejects a commit signed by a key not in the Secret', async () => {
      const signed = await commit({ 'app.yaml': 'replicas: 3\n' }, stranger.signer);
      await requestReconcile('head', 'stranger');
      const o = await waitNotReady('head', new RegExp(`commit '${signed}' failed: .*no matching key`));
      assert.equal(cond(o, ConditionTypes.SourceVerified)?.reason, 'InvalidCommitSignature');
      assert.equal(
        cond(o, ConditionTypes.SourceVerified)?.message,
        `signature verification of commit '${signed}' failed: unable to verify Git commit: unable to verify payload with any of the given key rings: no matching key`,
      );
      assert.equal(o.status?.artifact?.revision, `main@sha1:${good}`);
    });

    it('recovers with the next commit signed by a trusted key', async () => {
      const signed = await commit({ 'app.yaml': 'replicas: 4\n' }, trusted.signer);
      await requestReconcile('head', 'trusted-again');
      const o = await waitReady('head', (x) => x.status?.artifact?.revision === `main@sha1:${signed}`);
      assert.equal(cond(o, ConditionTypes.SourceVerified)?.status, 'True');
      good = signed;
    });

    it('verifies a signed annotated tag (Tag), and tag and commit (TagAndHEAD)', async () => {
      const tagHash = await createTag(work, 'v1.0.0', good, trusted.signer);
      await push(remote, work, { refspec: 'refs/tags/v1.0.0:refs/tags/v1.0.0' });
      await create('tag', {
        ref: { tag: 'v1.0.0' },
        verify: { mode: 'Tag', secretRef: { name: 'pgp-keys' } },
      });
      await create('both', {
        ref: { semver: '^1.0.0' },
        verify: { mode: 'TagAndHEAD', secretRef: { name: 'pgp-keys' } },
      });
      const tag = await waitReady('tag');
      assert.equal(tag.status?.artifact?.revision, `v1.0.0@sha1:${good}`);
      assert.equal(
        cond(tag, ConditionTypes.SourceVerified)?.message,
        `verified signature of\n\t- tag 'v1.0.0@${tagHash}' with key '${trusted.keyId}'`,
      );
      assert.equal(tag.status?.sourceVerificationMode, 'Tag');
      const both = await waitReady('both');
      assert.equal(
        cond(both, ConditionTypes.SourceVerified)?.message,
        `verified signature of\n\t- tag 'v1.0.0@${tagHash}' with key '${trusted.keyId}'\n\t- commit '${good}' with key '${trusted.keyId}'`,
      );
      assert.equal(both.status?.sourceVerificationMode, 'TagAndHEAD');
    });

    it('refuses tag verification without a tag ref (stalled) and for unsigned or lightweight tags', async () => {
      await create('tag-on-branch', { verify: { mode: 'Tag', secretRef: { name: 'pgp-keys' } } });
      let o = await waitNotReady('tag-on-branch', /a tag reference is not specified/);
      assert.equal(cond(o, ConditionTypes.Stalled)?.reason, 'InvalidVerificationMode');
      assert.equal(cond(o, ConditionTypes.SourceVerified)?.status, 'False');
      assert.equal(o.status?.artifact, undefined);

      await createTag(work, 'v1.1.0', good); // annotated, unsigned
      await run('git', ['-C', work, 'tag', 'v1.2.0', good]); // lightweight
      await push(remote, work, { refspec: 'refs/tags/v1.1.0:refs/tags/v1.1.0' });
      await push(remote, work, { refspec: 'refs/tags/v1.2.0:refs/tags/v1.2.0' });
      await create('unsigned-tag', {
        ref: { tag: 'v1.1.0' },
        verify: { mode: 'Tag', secretRef: { name: 'pgp-keys' } },
      });
      o = await waitNotReady('unsigned-tag', /since it is not signed/);
      assert.match(
        cond(o, ConditionTypes.SourceVerified)?.message ?? '',
        /^cannot verify signature of tag 'v1\.1\.0@[0-9a-f]{40}' since it is not signed$/,
      );
      assert.equal(cond(o, ConditionTypes.SourceVerified)?.reason, 'InvalidGitObject');
      await create('light-tag', {
        ref: { tag: 'v1.2.0' },
        verify: { mode: 'Tag', secretRef: { name: 'pgp-keys' } },
      });
      o = await waitNotReady('light-tag', /cannot verify signature of tag 'v1\.2\.0' since it is not signed/);
    });

    it('accepts a commit SSH-signed by git with a key of the Secret (*.sshpub)', async () => {
      const ssh = await sshKeyPair();
      await writeFile(join(work, 'ssh.yaml'), 'signed: ssh\n');
      const git = (...args: string[]) =>
        run('git', [
          '-C',
          work,
          '-c',
          'gpg.format=ssh',
          '-c',
          `user.signingkey=${ssh.privateKeyFile}`,
          '-c',
          `user.name=${author.name}`,
          '-c',
          `user.email=${author.email}`,
          ...args,
        ]);
      await git('add', '-A');
      await git('commit', '-q', '-S', '-m', 'ssh signed');
      const sha = (await git('rev-parse', 'HEAD')).trim();
      await push(remote, work, { branch: 'main' });
      await secret('ssh-keys', { 'author.sshpub': `${ssh.publicKey}\n` });
      await create('ssh-signed', { verify: { mode: 'HEAD', secretRef: { name: 'ssh-keys' } } });
      const o = await waitReady('ssh-signed');
      const fingerprint = (await run('ssh-keygen', ['-lf', `${ssh.privateKeyFile}.pub`])).split(' ')[1];
      assert.equal(
        cond(o, ConditionTypes.SourceVerified)?.message,
        `verified signature of\n\t- commit '${sha}' with key '${fingerprint}'`,
      );
      // The PGP-only Secret cannot verify it, and says why.
      await create('ssh-signed-pgp-keys', { verify: { mode: 'HEAD', secretRef: { name: 'pgp-keys' } } });
      await waitNotReady(
        'ssh-signed-pgp-keys',
        /SSH signature detected but no SSH public keys found in secret \(keys with \.sshpub suffix\)/,
      );
    });

    it('reports a missing verification Secret', async () => {
      await create('no-keys', { verify: { mode: 'HEAD', secretRef: { name: 'missing' } } });
      const o = await waitNotReady('no-keys', /public keys secret error/);
      assert.equal(cond(o, ConditionTypes.SourceVerified)?.reason, 'VerificationError');
    });

    it('drops SourceVerified and sourceVerificationMode when verification is removed', async () => {
      await patchSpec('head', { verify: null });
      const o = await waitReady('head', (x) => !cond(x, ConditionTypes.SourceVerified));
      assert.equal(o.status?.sourceVerificationMode, undefined);
    });
  });

  describe('spec.proxySecretRef', () => {
    let proxy: TestProxy;
    const proxyAuth = { username: 'proxy-user', password: 'proxy-secret-pw' };
    before(async () => {
      proxy = await startProxy(proxyAuth);
      await secret('proxy', { address: proxy.url, ...proxyAuth });
    });
    after(() => proxy?.close());

    it('fetches an http:// repository through the proxy, with its credentials', async () => {
      proxy.requests.length = 0;
      await create('via-proxy', { proxySecretRef: { name: 'proxy' } });
      const o = await waitReady('via-proxy');
      assert.ok(o.status?.artifact);
      const path = new URL(url).pathname;
      const through = proxy.requests.filter((r) => r.target.includes(path));
      assert.ok(
        through.some((r) => r.authorized && r.target.includes('git-upload-pack')),
        JSON.stringify(proxy.requests),
      );
    });

    it('tunnels an https:// repository through the proxy (CONNECT), trusting the Secret CA', async () => {
      const tb = testbed();
      const pki = await makePki(await mkdtemp(join(tb.dir, 'tls-')));
      const gitPort = Number(new URL(tb.git.url).port);
      const tls = await startTlsTerminator(gitPort, {
        certFile: pki.apiserverCert,
        keyFile: pki.apiserverKey,
      });
      try {
        await secret('https-auth', {
          username: tb.git.username,
          password: tb.git.password,
          'ca.crt': await readFile(pki.caCert, 'utf8'),
        });
        proxy.requests.length = 0;
        await create('https-proxy', {
          url: url.replace(`http://127.0.0.1:${gitPort}`, `https://127.0.0.1:${tls.port}`),
          secretRef: { name: 'https-auth' },
          proxySecretRef: { name: 'proxy' },
        });
        const o = await waitReady('https-proxy');
        assert.ok(o.status?.artifact);
        assert.ok(
          proxy.requests.some(
            (r) => r.method === 'CONNECT' && r.target === `127.0.0.1:${tls.port}` && r.authorized,
          ),
          JSON.stringify(proxy.requests),
        );
      } finally {
        await tls.close();
      }
    });

    it('fails without leaking the proxy password when the proxy refuses, and names a bad Secret', async () => {
      await secret('proxy-wrong', { address: proxy.url, username: 'proxy-user', password: 'wrong-proxy-pw' });
      await create('proxy-wrong', { proxySecretRef: { name: 'proxy-wrong' } });
      let o = await waitNotReady('proxy-wrong', /the proxy refused the credentials/);
      assert.equal(cond(o, ConditionTypes.FetchFailed)?.reason, 'AuthenticationFailed');
      assert.ok(!JSON.stringify(o.status).includes('wrong-proxy-pw'), JSON.stringify(o.status));
      const events = await source.client.list(
        { group: '', version: 'v1', kind: 'Event' },
        { namespace: ns() },
      );
      assert.ok(!JSON.stringify(events).includes('wrong-proxy-pw'), 'the password is in an event');

      await secret('proxy-no-address', { username: 'u' });
      await create('proxy-no-address', { proxySecretRef: { name: 'proxy-no-address' } });
      o = await waitNotReady('proxy-no-address', /failed to configure proxy options/);
      assert.equal(cond(o, ConditionTypes.FetchFailed)?.reason, 'AuthenticationFailed');
      assert.equal(
        cond(o, ConditionTypes.FetchFailed)?.message,
        `failed to configure proxy options: secret '${ns()}/proxy-no-address': key 'address' not found`,
      );
    });

    it('refuses a proxy for an ssh:// repository', async () => {
      const tb = testbed();
      await secret('ssh-auth', {
        identity: await readFile(tb.ssh.clientKey, 'utf8'),
        known_hosts: tb.ssh.knownHosts,
      });
      await create('ssh-proxy', {
        url: tb.ssh.urlFor(join(tb.git.root, `verify-${process.pid}.git`)),
        secretRef: { name: 'ssh-auth' },
        proxySecretRef: { name: 'proxy' },
      });
      const o = await waitNotReady('ssh-proxy', /only supported for http\(s\) URLs/);
      assert.equal(cond(o, ConditionTypes.Stalled)?.status, 'True');
    });
  });

  describe('spec.provider and spec.serviceAccountName', () => {
    it('works with provider generic and refuses the cloud providers by name', async () => {
      await create('generic', { provider: 'generic' });
      await waitReady('generic');
      await create('aws', { provider: 'aws', serviceAccountName: 'sa' });
      const o = await waitNotReady('aws', /spec\.provider 'aws' is not supported by Tide/);
      assert.equal(cond(o, ConditionTypes.Stalled)?.reason, 'UnsupportedField');
      await create('github', { provider: 'github' });
      await waitNotReady('github', /spec\.provider 'github' is not supported by Tide/);
    });
  });
});
