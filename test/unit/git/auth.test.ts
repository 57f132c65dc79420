import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtemp, readdir, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import {
  authFromSecret,
  type GitSession,
  openSession,
  withSession,
} from '../../../controllers/runtime/git/auth.ts';
import { GitError, isGitError } from '../../../controllers/runtime/git/errors.ts';
import { runCommand } from '../../../controllers/runtime/git/exec.ts';

const exec = promisify(execFile);
const soon = () => ({ deadline: Date.now() + 10_000 });

async function rejectsKind(p: Promise<unknown> | (() => unknown), kind: string, message?: RegExp) {
  try {
    await (typeof p === 'function' ? p() : p);
  } catch (err) {
    assert.ok(isGitError(err), `not a GitError: ${String(err)}`);
    assert.equal(err.kind, kind, err.message);
    if (message) assert.match(err.message, message);
    return;
  }
  assert.fail('no error thrown');
}

/** GIT_CONFIG_KEY_n/VALUE_n entries of a session as a map. */
function gitConfig(s: GitSession): Map<string, string> {
  const m = new Map<string, string>();
  for (let i = 0; i < Number(s.env.GIT_CONFIG_COUNT); i++)
    m.set(s.env[`GIT_CONFIG_KEY_${i}`] ?? '', s.env[`GIT_CONFIG_VALUE_${i}`] ?? '');
  return m;
}

describe('runtime/git auth', () => {
  let work: string;
  before(async () => {
    work = await mkdtemp(join(tmpdir(), 'tide-git-auth-test-'));
  });
  after(() => rm(work, { recursive: true, force: true }));

  describe('authFromSecret (Flux keys)', () => {
    it('reads basic auth, falling back to credentials in the URL', () => {
      const a = authFromSecret('https://git.example/r.git', { username: 'bob', password: Buffer.from('pw') });
      assert.deepEqual([a.transport, a.username, a.password], ['https', 'bob', 'pw']);
      const u = authFromSecret('https://ann:tok@git.example/r.git');
      assert.deepEqual([u.username, u.password], ['ann', 'tok']);
    });

    it('prefers bearerToken over username/password, and reads ca.crt or caFile and mTLS', () => {
      const a = authFromSecret('https://git.example/r.git', {
        bearerToken: 't0k',
        username: 'bob',
        password: 'pw',
        caFile: 'CA',
        'tls.crt': 'CRT',
        'tls.key': 'KEY',
      });
      assert.equal(a.bearerToken, 't0k');
      assert.equal(a.username, undefined);
      assert.equal(Buffer.from(a.caCert ?? []).toString(), 'CA');
      assert.equal(Buffer.from(a.tlsKey ?? []).toString(), 'KEY');
      const both = authFromSecret('https://h/r', { 'ca.crt': 'NEW', caFile: 'OLD' });
      assert.equal(Buffer.from(both.caCert ?? []).toString(), 'NEW');
    });

    it('requires identity and known_hosts for SSH; the user comes from the URL, default git', async () => {
      const a = authFromSecret('ssh://git.example/r.git', {
        identity: 'K',
        known_hosts: 'h ssh-ed25519 AAA',
      });
      assert.deepEqual([a.transport, a.username], ['ssh', 'git']);
      assert.equal(
        authFromSecret('ssh://deploy@h/r', { identity: 'K', known_hosts: 'x' }).username,
        'deploy',
      );
      await rejectsKind(
        () => authFromSecret('ssh://h/r', { known_hosts: 'x' }),
        'Invalid',
        /'identity' is required/,
      );
      await rejectsKind(
        () => authFromSecret('ssh://h/r', { identity: 'K' }),
        'Invalid',
        /'known_hosts' is required/,
      );
      await rejectsKind(() => authFromSecret('ssh://h/r'), 'Invalid');
    });

    it('rejects unsupported URLs and incomplete HTTP secrets', async () => {
      await rejectsKind(() => authFromSecret('git@github.com:org/repo.git'), 'Invalid', /must start with/);
      await rejectsKind(() => authFromSecret('file:///tmp/repo'), 'Invalid');
      await rejectsKind(
        () => authFromSecret('https://h/r', { password: 'pw' }),
        'Invalid',
        /requires 'username'/,
      );
      await rejectsKind(() => authFromSecret('https://h/r', { 'tls.crt': 'CRT' }), 'Invalid', /tls.key/);
    });
  });

  describe('openSession', () => {
    it('isolates git: no user or system config, no prompts, only network transports', async () => {
      await withSession('https://git.example/r.git', undefined, soon(), async (s) => {
        assert.equal(s.env.GIT_TERMINAL_PROMPT, '0');
        assert.equal(s.env.GIT_CONFIG_NOSYSTEM, '1');
        assert.equal(s.env.GIT_CONFIG_GLOBAL, '/dev/null');
        assert.equal(s.env.LC_ALL, 'C');
        assert.ok(s.env.HOME?.startsWith(tmpdir()));
        assert.equal(s.env.SSH_AUTH_SOCK, undefined);
        const cfg = gitConfig(s);
        assert.equal(cfg.get('protocol.allow'), 'never');
        assert.equal(cfg.get('protocol.https.allow'), 'always');
        assert.equal(s.credentialsGiven, false);
      });
    });

    it('sends HTTP credentials as an origin-scoped header, never in the URL', async () => {
      const auth = authFromSecret('http://bob:url-pw@127.0.0.1:8080/r.git', {
        username: 'bob',
        password: 'p@ss',
      });
      await withSession('http://bob:url-pw@127.0.0.1:8080/r.git', auth, soon(), async (s) => {
        assert.equal(s.url, 'http://127.0.0.1:8080/r.git');
        const basic = Buffer.from('bob:p@ss').toString('base64');
        assert.equal(
          gitConfig(s).get('http.http://127.0.0.1:8080/.extraHeader'),
          `Authorization: Basic ${basic}`,
        );
        assert.ok(s.secrets.includes('p@ss') && s.secrets.includes(basic));
        assert.ok(s.credentialsGiven);
      });
      const bearer = authFromSecret('https://h/r.git', { bearerToken: 'tok' });
      await withSession('https://h/r.git', bearer, soon(), async (s) => {
        assert.equal(gitConfig(s).get('http.https://h/.extraHeader'), 'Authorization: Bearer tok');
      });
    });

    it('writes CA and client certificate files 0600 in a 0700 directory and removes them on close', async () => {
      const auth = authFromSecret('https://h/r.git', {
        'ca.crt': 'MYCA',
        'tls.crt': 'CRT',
        'tls.key': 'KEY',
      });
      const s = await openSession('https://h/r.git', auth, soon());
      const cfg = gitConfig(s);
      const ca = cfg.get('http.https://h/.sslCAInfo') ?? '';
      const key = cfg.get('http.https://h/.sslKey') ?? '';
      assert.ok((await readFile(ca, 'utf8')).startsWith('MYCA\n'));
      assert.equal(await readFile(key, 'utf8'), 'KEY');
      for (const f of [ca, key, cfg.get('http.https://h/.sslCert') ?? ''])
        assert.equal((await stat(f)).mode & 0o777, 0o600);
      assert.equal((await stat(s.env.HOME ?? '')).mode & 0o777, 0o700);
      await s.close();
      await assert.rejects(stat(s.env.HOME ?? ''), { code: 'ENOENT' });
    });

    it('routes HTTP(S) through a proxy that replaces the environment one, and refuses it for SSH', async () => {
      const saved = { ...process.env };
      Object.assign(process.env, { https_proxy: 'http://env-proxy:1', no_proxy: '127.0.0.1' });
      try {
        const proxy = { address: 'http://proxy.local:3128', username: 'pu', password: 'p@ss word' };
        await withSession('https://h/r.git', undefined, { ...soon(), proxy }, async (s) => {
          assert.equal(gitConfig(s).get('http.proxy'), 'http://pu:p%40ss%20word@proxy.local:3128');
          assert.equal(s.env.https_proxy, undefined);
          assert.equal(s.env.no_proxy, undefined, 'no_proxy would bypass the proxy');
          assert.ok(s.secrets.includes('p@ss word') && s.secrets.includes('p%40ss%20word'));
        });
        await withSession('https://h/r.git', undefined, soon(), async (s) => {
          assert.equal(
            s.env.https_proxy,
            'http://env-proxy:1',
            'without a proxy, the environment one applies',
          );
          assert.equal(gitConfig(s).get('http.proxy'), undefined);
        });
      } finally {
        process.env = saved;
      }
      const ssh = authFromSecret('ssh://git@h/r.git', { identity: 'x', known_hosts: 'h ssh-ed25519 AAAA' });
      await rejectsKind(
        openSession('ssh://git@h/r.git', ssh, { ...soon(), proxy: { address: 'http://p:1' } }),
        'Invalid',
        /only supported for http\(s\) URLs/,
      );
    });

    it('removes its directory when the work fails', async () => {
      let home = '';
      await assert.rejects(
        withSession('https://h/r.git', undefined, soon(), async (s) => {
          home = s.env.HOME ?? '';
          throw new Error('boom');
        }),
        /boom/,
      );
      await assert.rejects(stat(home), { code: 'ENOENT' });
    });

    describe('SSH', () => {
      let plainKey: Buffer;
      let encKey: Buffer;
      before(async function () {
        this.timeout(20_000);
        await exec('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', join(work, 'plain')]);
        await exec('ssh-keygen', ['-q', '-t', 'ed25519', '-N', 'the passphrase', '-f', join(work, 'enc')]);
        plainKey = await readFile(join(work, 'plain'));
        encKey = await readFile(join(work, 'enc'));
      });
      const url = 'ssh://git@127.0.0.1:2222/r.git';
      const knownHosts =
        '[127.0.0.1]:2222 ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIKyUPZRLf/KFSDxeLSKet3DvatcYtRWSUMzCEOwMvXiN';

      it('checks host keys strictly against the Secret known_hosts, with only the given key', async () => {
        const auth = authFromSecret(url, { identity: plainKey, known_hosts: knownHosts });
        await withSession(url, auth, soon(), async (s) => {
          const cmd = s.env.GIT_SSH_COMMAND ?? '';
          for (const opt of [
            'StrictHostKeyChecking=yes',
            'IdentitiesOnly=yes',
            'BatchMode=yes',
            'IdentityAgent=none',
            'GlobalKnownHostsFile=/dev/null',
            '-F /dev/null',
          ])
            assert.ok(cmd.includes(opt), `${opt} missing from ${cmd}`);
          const kh = /UserKnownHostsFile='([^']+)'/.exec(cmd)?.[1] ?? '';
          assert.equal(await readFile(kh, 'utf8'), `${knownHosts}\n`);
          const id = /-i '([^']+)'/.exec(cmd)?.[1] ?? '';
          assert.equal((await stat(id)).mode & 0o777, 0o600);
          assert.ok(!cmd.includes(plainKey.toString()));
        });
      });

      it('decrypts a passphrase-protected identity into the session only', async () => {
        const auth = authFromSecret(url, {
          identity: encKey,
          known_hosts: knownHosts,
          password: 'the passphrase',
        });
        await withSession(url, auth, soon(), async (s) => {
          const id = /-i '([^']+)'/.exec(s.env.GIT_SSH_COMMAND ?? '')?.[1] ?? '';
          // An empty passphrase now reads the key: it was decrypted, to the same key.
          const pub = await exec('ssh-keygen', ['-y', '-P', '', '-f', id]);
          const want = await readFile(join(work, 'enc.pub'), 'utf8');
          const keyOf = (line: string) => line.trim().split(' ').slice(0, 2).join(' ');
          assert.equal(keyOf(pub.stdout), keyOf(want));
          // Nothing but the key and known_hosts is left in the session directory (no passphrase file).
          assert.deepEqual((await readdir(s.env.HOME ?? '')).sort(), ['identity', 'known_hosts']);
        });
        assert.equal(
          await readFile(join(work, 'enc'), 'utf8'),
          encKey.toString(),
          'the original stays encrypted',
        );
      });

      it('says when the passphrase is missing or wrong, and when the key is not a key', async () => {
        await rejectsKind(
          openSession(url, authFromSecret(url, { identity: encKey, known_hosts: knownHosts }), soon()),
          'Auth',
          /encrypted but the Secret has no 'password'/,
        );
        await rejectsKind(
          openSession(
            url,
            authFromSecret(url, { identity: encKey, known_hosts: knownHosts, password: 'nope' }),
            soon(),
          ),
          'Auth',
          /could not be decrypted/,
        );
        await rejectsKind(
          openSession(url, authFromSecret(url, { identity: 'not a key', known_hosts: knownHosts }), soon()),
          'Invalid',
          /not a valid private key/,
        );
      });
    });
  });

  describe('runCommand', () => {
    it('turns the deadline into a Timeout GitError saying what was attempted', async () => {
      await rejectsKind(
        runCommand('sleep', ['30'], {
          env: { PATH: process.env.PATH ?? '' },
          deadline: Date.now() + 200,
          secrets: [],
          what: 'sleeping',
        }),
        'Timeout',
        /^sleeping: timed out$/,
      );
    });

    it('stops when the watch returns a verdict, and on abort', async () => {
      await rejectsKind(
        runCommand('sleep', ['30'], {
          env: { PATH: process.env.PATH ?? '' },
          deadline: Date.now() + 10_000,
          secrets: [],
          what: 'w',
          watch: async () => new GitError('TooLarge', 'too big'),
          watchIntervalMs: 20,
        }),
        'TooLarge',
        /too big/,
      );
      const ac = new AbortController();
      setTimeout(() => ac.abort(), 50);
      await rejectsKind(
        runCommand('sleep', ['30'], {
          env: { PATH: process.env.PATH ?? '' },
          deadline: Date.now() + 10_000,
          secrets: [],
          what: 'w',
          signal: ac.signal,
        }),
        'Other',
        /aborted/,
      );
    });
  });
});
