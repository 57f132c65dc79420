// The Git operations layer against the test bed's real servers: git http-backend behind basic auth
// and OpenSSH's sshd. Repositories are built here; expected commits come from the seed clones.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdir, mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { createServer, type Socket } from 'node:net';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { authFromSecret, type GitAuth } from '../../../controllers/runtime/git/auth.ts';
import { type CheckoutOptions, checkout } from '../../../controllers/runtime/git/checkout.ts';
import { type GitRef, lsRemote, remoteHead } from '../../../controllers/runtime/git/refs.ts';
import { freePort, run } from '../../../hack/testbed/proc.ts';
import { rejectsKind } from '../../support/giterrors.ts';
import { testbed } from '../../support/testbed.ts';

const timeoutMs = 60_000;

/** Processes (not zombies) whose command line contains `text`, with their argv and environment. */
async function processesWith(text: string): Promise<{ pid: number; argv: string; environ: string }[]> {
  const found = [];
  for (const name of await readdir('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    const read = (f: string) => readFile(`/proc/${name}/${f}`, 'utf8').catch(() => '');
    const [argv, st] = [(await read('cmdline')).replaceAll('\0', ' '), await read('stat')];
    if (!argv.includes(text) || /^\d+ \(.*\) [ZX]/.test(st)) continue;
    found.push({ pid: Number(name), argv, environ: (await read('environ')).replaceAll('\0', '\n') });
  }
  return found;
}

/** Names of the session temp directories (mkdtemp's `tide-git-XXXXXX`) currently present. */

describe('runtime/git against the test bed servers', function () {
  this.timeout(180_000);
  let work: string;
  let url: string;
  let auth: GitAuth;
  let seedEnv: NodeJS.ProcessEnv;
  // c1 (v1.0.0) ← mid ← c2 (v1.1.0 annotated, latest) ← c3 (main, v2.0.0-rc.1); c2 ← c4 (dev,
  // refs/pull/1/head). mid is the tip of no ref.
  const c = { c1: '', mid: '', c2: '', c3: '', c4: '', tagObject: '' };

  const git = async (cwd: string, ...args: string[]) =>
    (await run('git', args, { cwd, env: seedEnv })).trim();
  const commitAll = async (dir: string, message: string) => {
    await git(dir, 'add', '-A');
    await git(dir, 'commit', '-q', '-m', message);
    return git(dir, 'rev-parse', 'HEAD');
  };
  const newDir = async (name: string) => {
    const d = join(work, name);
    await rm(d, { recursive: true, force: true });
    return d;
  };
  /** Checks out into a fresh directory; returns the result and the directory. */
  const co = async (ref: GitRef | undefined, extra: Partial<CheckoutOptions> = {}) => {
    const dir = await newDir(`co-${Math.random().toString(36).slice(2, 10)}`);
    const result = await checkout({ url, ref, auth, dir, timeoutMs, ...extra });
    return { ...result, dir };
  };
  const readIn = (dir: string, file: string) => readFile(join(dir, file), 'utf8');

  before(async () => {
    const tb = testbed();
    work = await mkdtemp(join(tb.dir, 'git-ops-'));
    const basic = Buffer.from(`${tb.git.username}:${tb.git.password}`).toString('base64');
    // The seeding git authenticates like the code under test would: a header from the environment.
    const config = [
      [`http.${tb.git.url}/.extraHeader`, `Authorization: Basic ${basic}`],
      ['user.name', 'Tide Test'],
      ['user.email', 'test@tide.invalid'],
      ['init.defaultBranch', 'main'],
      ['advice.detachedHead', 'false'],
    ];
    seedEnv = {
      ...process.env,
      GIT_TERMINAL_PROMPT: '0',
      GIT_CONFIG_NOSYSTEM: '1',
      GIT_CONFIG_GLOBAL: '/dev/null',
      GIT_CONFIG_COUNT: String(config.length),
    };
    config.forEach(([k, v], i) => {
      seedEnv[`GIT_CONFIG_KEY_${i}`] = k;
      seedEnv[`GIT_CONFIG_VALUE_${i}`] = v;
    });

    url = await tb.git.createRepo('app');
    auth = authFromSecret(url, { username: tb.git.username, password: tb.git.password });
    const seed = join(work, 'seed');
    await git(work, 'clone', '-q', url, seed);
    for (const [f, body] of [
      ['README.md', 'app\n'],
      ['VERSION', '1\n'],
      ['deploy/app.yaml', 'kind: Deployment\n'],
      ['apps/web.yaml', 'kind: Service\n'],
      ['docs/notes.md', 'notes\n'],
    ] as const) {
      await mkdir(join(seed, f, '..'), { recursive: true });
      await writeFile(join(seed, f), body);
    }
    c.c1 = await commitAll(seed, 'first');
    await git(seed, 'tag', 'v1.0.0');
    await writeFile(join(seed, 'VERSION'), '1.5\n');
    c.mid = await commitAll(seed, 'between');
    await writeFile(join(seed, 'VERSION'), '2\n');
    c.c2 = await commitAll(seed, 'second\n\nwith a body');
    await git(seed, 'tag', '-a', '-m', 'release 1.1.0', 'v1.1.0');
    await git(seed, 'tag', 'latest');
    await writeFile(join(seed, 'VERSION'), '3\n');
    c.c3 = await commitAll(seed, 'third');
    await git(seed, 'tag', '-a', '-m', 'rc', 'v2.0.0-rc.1');
    await git(seed, 'push', '-q', 'origin', 'main', '--tags');
    await git(seed, 'checkout', '-q', '-b', 'dev', c.c2);
    await writeFile(join(seed, 'VERSION'), 'dev\n');
    c.c4 = await commitAll(seed, 'dev work');
    await git(seed, 'push', '-q', 'origin', 'dev', 'dev:refs/pull/1/head');
    c.tagObject = await git(seed, 'rev-parse', 'v1.1.0');
  });
  after(() => rm(work, { recursive: true, force: true }));

  describe('over HTTP with basic auth', () => {
    it('lists refs with annotated tags peeled to their commit', async () => {
      const refs = await lsRemote(url, auth, timeoutMs);
      assert.notEqual(c.tagObject, c.c2, 'v1.1.0 should be an annotated tag object');
      assert.equal(refs.get('refs/tags/v1.1.0'), c.c2);
      assert.equal(refs.get('refs/tags/v1.0.0'), c.c1);
      assert.equal(refs.get('refs/heads/main'), c.c3);
      assert.equal(refs.get('refs/pull/1/head'), c.c4);
      assert.ok(![...refs.keys()].some((k) => k.endsWith('^{}')));
    });

    it('lists refs with the credentials of the URL when no Secret gives any, as Flux does', async () => {
      const tb = testbed();
      const withCreds = new URL(url);
      withCreds.username = encodeURIComponent(tb.git.username);
      withCreds.password = encodeURIComponent(tb.git.password);
      const refs = await lsRemote(withCreds.toString(), undefined, timeoutMs);
      assert.equal(refs.get('refs/heads/main'), c.c3);
      await assert.rejects(lsRemote(url, undefined, timeoutMs), /authentication/i);
    });

    const cases: [string, GitRef, () => string, (sha: string) => string, string, string][] = [
      ['a branch', { branch: 'main' }, () => c.c3, (s) => `main@sha1:${s}`, '3', 'third'],
      ['another branch', { branch: 'dev' }, () => c.c4, (s) => `dev@sha1:${s}`, 'dev', 'dev work'],
      ['a lightweight tag', { tag: 'v1.0.0' }, () => c.c1, (s) => `v1.0.0@sha1:${s}`, '1', 'first'],
      ['an annotated tag', { tag: 'v1.1.0' }, () => c.c2, (s) => `v1.1.0@sha1:${s}`, '2', 'second'],
      [
        'the highest semver tag, pre-releases excluded',
        { semver: '>=1.0.0' },
        () => c.c2,
        (s) => `v1.1.0@sha1:${s}`,
        '2',
        'second',
      ],
      [
        'the highest semver tag, pre-releases included',
        { semver: '>=2.0.0-0' },
        () => c.c3,
        (s) => `v2.0.0-rc.1@sha1:${s}`,
        '3',
        'third',
      ],
      [
        'a pull request ref by name',
        { name: 'refs/pull/1/head' },
        () => c.c4,
        (s) => `refs/pull/1/head@sha1:${s}`,
        'dev',
        'dev work',
      ],
      [
        'an annotated tag by name',
        { name: 'refs/tags/v1.1.0' },
        () => c.c2,
        (s) => `refs/tags/v1.1.0@sha1:${s}`,
        '2',
        'second',
      ],
      ['a commit that no ref points at', { commit: '' }, () => c.mid, (s) => `sha1:${s}`, '1.5', 'between'],
    ];
    for (const [title, ref, want, revisionOf, version, subject] of cases) {
      it(`checks out ${title} shallowly, at the revision remoteHead announced`, async () => {
        const r = ref.commit === '' ? { commit: want() } : ref;
        const head = await remoteHead(url, r, auth, timeoutMs);
        const got = await co(r);
        assert.equal(got.commit, want());
        assert.equal(got.revision, revisionOf(want()));
        assert.equal(head.revision, got.revision);
        assert.equal(got.message, subject);
        assert.equal(await readIn(got.dir, 'VERSION'), `${version}\n`);
        assert.equal(await git(got.dir, 'rev-parse', 'HEAD'), want());
        // Depth 1: the commit has no parents locally, and no other branch or tag was fetched.
        assert.equal(await git(got.dir, 'rev-list', '--count', 'HEAD'), '1');
        const localRefs = (await git(got.dir, 'for-each-ref', '--format=%(refname)'))
          .split('\n')
          .filter(Boolean);
        assert.deepEqual(localRefs, r.branch ? [`refs/remotes/origin/${r.branch}`] : []);
        assert.ok(got.size > 0 && got.size < 1000, `size ${got.size}`);
        // Credentials stay out of the repository configuration.
        assert.doesNotMatch(await readIn(got.dir, '.git/config'), /tide-secret|Authorization/);
      });
    }

    it('returns the raw commit object, and the tag object for tag refs', async () => {
      const branch = await co({ branch: 'main' });
      assert.equal(branch.tag, undefined);
      assert.equal(branch.commitObject.message, 'third\n');
      assert.deepEqual(branch.commitObject.parents, [c.c2]);
      assert.equal(branch.commitObject.signature, undefined);
      const raw = await git(
        work,
        '--git-dir',
        join(testbed().git.root, 'app.git'),
        'cat-file',
        'commit',
        c.c3,
      );
      assert.equal(branch.commitObject.payload.toString('utf8').trim(), raw);

      const annotated = await co({ tag: 'v1.1.0' });
      assert.equal(annotated.tag?.name, 'v1.1.0');
      assert.equal(annotated.tag?.hash, c.tagObject);
      assert.equal(annotated.tag?.object?.object, c.c2);
      assert.equal(annotated.tag?.object?.message, 'release 1.1.0\n');
      const semver = await co({ semver: '~1.1' });
      assert.equal(semver.tag?.hash, c.tagObject);
      const byName = await co({ name: 'refs/tags/v1.1.0' });
      assert.equal(byName.tag?.hash, c.tagObject);
      assert.deepEqual(
        (await co({ tag: 'v1.0.0' })).tag,
        { name: 'v1.0.0' },
        'a lightweight tag has no object',
      );
    });

    it('checks out a commit with a branch from that branch, labelled by it', async () => {
      const got = await co({ commit: c.c1, branch: 'main' });
      assert.equal(got.commit, c.c1);
      assert.equal(got.revision, `main@sha1:${c.c1}`);
      assert.equal(
        (await remoteHead(url, { commit: c.c1, branch: 'main' }, auth, timeoutMs)).revision,
        got.revision,
      );
      assert.equal(await readIn(got.dir, 'VERSION'), '1\n');
      await rejectsKind(co({ commit: c.c4, branch: 'main' }), 'NotFound', /is not in branch "main"/);
    });

    it('reports an unknown branch, tag, ref, commit or repository as NotFound', async () => {
      await rejectsKind(co({ branch: 'nope' }), 'NotFound', /couldn't find remote ref "refs\/heads\/nope"/);
      await rejectsKind(
        remoteHead(url, { branch: 'nope' }, auth, timeoutMs),
        'NotFound',
        /"refs\/heads\/nope"/,
      );
      await rejectsKind(co(undefined), 'NotFound', /"refs\/heads\/master"/);
      await rejectsKind(co({ tag: 'v9.9.9' }), 'NotFound', /"refs\/tags\/v9\.9\.9"/);
      await rejectsKind(co({ name: 'refs/pull/2/head' }), 'NotFound', /"refs\/pull\/2\/head"/);
      await rejectsKind(co({ semver: '>=5' }), 'NotFound', /no match found for semver: >=5/);
      await rejectsKind(co({ commit: 'f'.repeat(40) }), 'NotFound', /commit f+ not found/);
      const missing = `${testbed().git.url}/missing.git`;
      await rejectsKind(lsRemote(missing, auth, timeoutMs), 'NotFound', /not found/);
      await rejectsKind(co({ semver: '>= nope' }), 'Invalid', /semver parse error/);
    });

    it('fails with Auth without or with wrong credentials, never showing a password', async () => {
      const tb = testbed();
      const none = await rejectsKind(lsRemote(url, undefined, timeoutMs), 'Auth', /none were given/);
      const wrongPassword = 'wr0ng-Pa55word';
      const wrong = authFromSecret(url, { username: tb.git.username, password: wrongPassword });
      const texts = [
        none,
        await rejectsKind(lsRemote(url, wrong, timeoutMs), 'Auth', /rejected the credentials/),
        await rejectsKind(co({ branch: 'main' }, { auth: wrong }), 'Auth'),
        await rejectsKind(remoteHead(url, { branch: 'main' }, wrong, timeoutMs), 'Auth'),
      ];
      const basic = Buffer.from(`${tb.git.username}:${wrongPassword}`).toString('base64');
      for (const t of texts) {
        assert.ok(!t.includes(wrongPassword) && !t.includes(basic), t);
        assert.ok(!t.includes(tb.git.password), t);
      }
    });

    it('reports a closed port as Unreachable, quickly', async () => {
      const port = await freePort();
      await rejectsKind(lsRemote(`http://127.0.0.1:${port}/app.git`, auth, timeoutMs), 'Unreachable');
      await rejectsKind(co({ branch: 'main' }, { url: `http://127.0.0.1:${port}/app.git` }), 'Unreachable');
    });

    it('materializes only the sparse checkout directories', async () => {
      const got = await co({ branch: 'main' }, { sparseCheckout: ['deploy', './apps/'] });
      assert.equal(got.revision, `main@sha1:${c.c3}`);
      assert.equal(await readIn(got.dir, 'deploy/app.yaml'), 'kind: Deployment\n');
      assert.equal(await readIn(got.dir, 'apps/web.yaml'), 'kind: Service\n');
      // As Flux (go-git): files outside the listed directories, top-level ones included, are left out.
      assert.deepEqual((await readdir(got.dir)).sort(), ['.git', 'apps', 'deploy']);
      await rejectsKind(
        co({ branch: 'main' }, { sparseCheckout: ['nope'] }),
        'NotFound',
        /'nope' does not exist/,
      );
    });

    it('kills git at the timeout, and no secret is on any command line meanwhile', async () => {
      const tb = testbed();
      // A server that accepts connections and never answers.
      const held: Socket[] = [];
      const silent = createServer((s) => held.push(s));
      await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
      const port = (silent.address() as { port: number }).port;
      const hanging = `http://127.0.0.1:${port}/app.git`;
      try {
        const started = Date.now();
        const pending = checkout({
          url: hanging,
          ref: { branch: 'main' },
          auth: authFromSecret(hanging, { username: tb.git.username, password: tb.git.password }),
          dir: await newDir('hanging'),
          timeoutMs: 4_000,
        });
        let seen: Awaited<ReturnType<typeof processesWith>> = [];
        for (let i = 0; i < 40 && seen.length === 0; i++) {
          await sleep(50);
          seen = await processesWith(`127.0.0.1:${port}`);
        }
        assert.ok(seen.length > 0, 'git was not seen running');
        const basic = Buffer.from(`${tb.git.username}:${tb.git.password}`).toString('base64');
        for (const p of seen) assert.ok(!p.argv.includes(tb.git.password) && !p.argv.includes(basic), p.argv);
        // The credentials are there, in the environment only the same user can read.
        assert.ok(seen.some((p) => p.environ.includes(`Authorization: Basic ${basic}`)));
        await rejectsKind(pending, 'Timeout', /timed out \(timeout 4s\)/);
        // Killed at its deadline, not at some later point (relative: twice the 4 s timeout).
        assert.ok(Date.now() - started < 2 * 4_000, `took ${Date.now() - started} ms`);
        await sleep(200);
        assert.deepEqual(await processesWith(`127.0.0.1:${port}`), [], 'git helpers survived the timeout');
      } finally {
        for (const s of held) s.destroy();
        silent.close();
      }
    });
  });

  describe('size limit', () => {
    let bigUrl: string;
    before(async () => {
      const tb = testbed();
      bigUrl = await tb.git.createRepo('big');
      const seed = join(work, 'big-seed');
      await git(work, 'clone', '-q', bigUrl, seed);
      // 3 MB that do not compress (a large pack) and 8 MB that do (a small pack, a large checkout).
      await writeFile(join(seed, 'random.bin'), randomBytes(3 << 20));
      await writeFile(join(seed, 'zeros.bin'), Buffer.alloc(8 << 20));
      await commitAll(seed, 'big files');
      await git(seed, 'push', '-q', 'origin', 'main');
    });

    it('fails with TooLarge over the limit and reports the size under it', async () => {
      const opts = { url: bigUrl, ref: { branch: 'main' }, auth, timeoutMs };
      await rejectsKind(
        checkout({ ...opts, dir: await newDir('big-1'), maxSizeBytes: 1 << 20 }),
        'TooLarge',
        /size limit of 1048576 bytes/,
      );
      // The pack (~3 MB) fits, the 11 MB of files do not: git is stopped while writing them, or after.
      await rejectsKind(
        checkout({ ...opts, dir: await newDir('big-2'), maxSizeBytes: 6 << 20 }),
        'TooLarge',
        /the checked-out files.* exceed the size limit of 6291456 bytes/,
      );
      const ok = await checkout({ ...opts, dir: await newDir('big-3'), maxSizeBytes: 16 << 20 });
      assert.equal(ok.size, (3 << 20) + (8 << 20));
      assert.equal((await stat(join(work, 'big-3', 'zeros.bin'))).size, 8 << 20);
    });
  });

  describe('submodules', () => {
    let parentUrl: string;
    let libCommit: string;
    before(async () => {
      const tb = testbed();
      const libUrl = await tb.git.createRepo('lib');
      const lib = join(work, 'lib-seed');
      await git(work, 'clone', '-q', libUrl, lib);
      await writeFile(join(lib, 'lib.txt'), 'library\n');
      libCommit = await commitAll(lib, 'lib');
      await git(lib, 'push', '-q', 'origin', 'main');
      parentUrl = await tb.git.createRepo('parent');
      const parent = join(work, 'parent-seed');
      await git(work, 'clone', '-q', parentUrl, parent);
      await writeFile(join(parent, 'main.txt'), 'parent\n');
      // The submodule URL carries no credentials: the checkout must bring its own.
      await git(parent, 'submodule', '-q', 'add', libUrl, 'vendor/lib');
      await commitAll(parent, 'with submodule');
      await git(parent, 'push', '-q', 'origin', 'main');
    });

    it('checks submodules out, with the same credentials, only when asked', async () => {
      const base = { url: parentUrl, ref: { branch: 'main' }, auth, timeoutMs };
      const without = await checkout({ ...base, dir: await newDir('sub-off') });
      assert.equal(await readIn(join(work, 'sub-off'), 'main.txt'), 'parent\n');
      assert.deepEqual(await readdir(join(work, 'sub-off', 'vendor', 'lib')), []);
      const withSubs = await checkout({ ...base, dir: await newDir('sub-on'), recurseSubmodules: true });
      assert.equal(withSubs.revision, without.revision);
      assert.equal(await readIn(join(work, 'sub-on'), 'vendor/lib/lib.txt'), 'library\n');
      assert.equal(await git(join(work, 'sub-on', 'vendor', 'lib'), 'rev-parse', 'HEAD'), libCommit);
    });
  });

  describe('over SSH', () => {
    let sshUrl: string;
    let identity: Buffer;
    let otherKey: Buffer;
    let otherPub: string;
    const sshAuth = (data: Record<string, string | Buffer>) =>
      authFromSecret(sshUrl, { identity, known_hosts: testbed().ssh.knownHosts, ...data });
    before(async () => {
      const tb = testbed();
      sshUrl = tb.ssh.urlFor(join(tb.git.root, 'app.git'));
      identity = await readFile(tb.ssh.clientKey);
      await run('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', join(work, 'other')]);
      otherKey = await readFile(join(work, 'other'));
      otherPub = (await readFile(join(work, 'other.pub'), 'utf8')).trim().split(' ').slice(0, 2).join(' ');
    });

    it('checks out with identity and known_hosts, at the same revision as over HTTP', async () => {
      const head = await remoteHead(sshUrl, { tag: 'v1.1.0' }, sshAuth({}), timeoutMs);
      const got = await checkout({
        url: sshUrl,
        ref: { tag: 'v1.1.0' },
        auth: sshAuth({}),
        dir: await newDir('ssh-1'),
        timeoutMs,
      });
      assert.equal(got.revision, `v1.1.0@sha1:${c.c2}`);
      assert.equal(head.revision, got.revision);
      assert.equal(await readIn(join(work, 'ssh-1'), 'VERSION'), '2\n');
    });

    it('falls back to a full fetch for a commit the server will not send directly', async () => {
      // This sshd passes no GIT_PROTOCOL, so upload-pack speaks v0 and refuses non-tip commits.
      const probe = await newDir('ssh-probe');
      await git(work, 'init', '-q', probe);
      const keyFile = join(work, 'client-key');
      await writeFile(keyFile, identity, { mode: 0o600 });
      await writeFile(join(work, 'kh'), testbed().ssh.knownHosts);
      const sshCmd = `ssh -F /dev/null -i ${keyFile} -o IdentitiesOnly=yes -o BatchMode=yes -o UserKnownHostsFile=${join(work, 'kh')}`;
      await assert.rejects(
        run('git', ['fetch', '-q', '--depth', '1', sshUrl, c.mid], {
          cwd: probe,
          env: { ...seedEnv, GIT_SSH_COMMAND: sshCmd },
        }),
        /unadvertised object|not our ref/,
      );
      const got = await checkout({
        url: sshUrl,
        ref: { commit: c.mid },
        auth: sshAuth({}),
        dir: await newDir('ssh-2'),
        timeoutMs,
      });
      assert.equal(got.revision, `sha1:${c.mid}`);
      assert.equal(await readIn(join(work, 'ssh-2'), 'VERSION'), '1.5\n');
    });

    it('fails with HostKey when known_hosts has another key or none for the host', async () => {
      const port = testbed().ssh.port;
      await rejectsKind(
        lsRemote(sshUrl, sshAuth({ known_hosts: `[127.0.0.1]:${port} ${otherPub}\n` }), timeoutMs),
        'HostKey',
        /has changed/,
      );
      await rejectsKind(
        checkout({
          url: sshUrl,
          ref: { branch: 'main' },
          auth: sshAuth({ known_hosts: `git.example ${otherPub}\n` }),
          dir: await newDir('ssh-3'),
          timeoutMs,
        }),
        'HostKey',
        /host key is known|Host key verification failed/,
      );
    });

    it('fails with Auth for a key the server does not accept', async () => {
      await rejectsKind(
        lsRemote(sshUrl, sshAuth({ identity: otherKey }), timeoutMs),
        'Auth',
        /Permission denied/,
      );
    });

    it('decrypts a passphrase-protected identity with the password field', async () => {
      const enc = join(work, 'client-enc');
      await writeFile(enc, identity, { mode: 0o600 });
      await run('ssh-keygen', ['-q', '-p', '-P', '', '-N', 'open sesame', '-f', enc]);
      const encrypted = await readFile(enc);
      const refs = await lsRemote(
        sshUrl,
        sshAuth({ identity: encrypted, password: 'open sesame' }),
        timeoutMs,
      );
      assert.equal(refs.get('refs/heads/main'), c.c3);
      const text = await rejectsKind(
        lsRemote(sshUrl, sshAuth({ identity: encrypted }), timeoutMs),
        'Auth',
        /encrypted/,
      );
      assert.ok(!text.includes('open sesame'));
    });

    it('reports a closed SSH port as Unreachable', async () => {
      const port = await freePort();
      const closed = `ssh://git@127.0.0.1:${port}/repo.git`;
      await rejectsKind(
        lsRemote(closed, authFromSecret(closed, { identity, known_hosts: 'x' }), timeoutMs),
        'Unreachable',
      );
    });
  });
});
