// Writing to repositories on the test bed's real Git servers (git http-backend behind basic auth, and
// OpenSSH's sshd): clone a branch, commit (signed or not), push, a push rejected after someone else
// pushed, fetch and replay, revert. What the server ends up with is read from its bare repositories.
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { authFromSecret, type GitAuth } from '../../../controllers/runtime/git/auth.ts';
import { parseCommit } from '../../../controllers/runtime/git/objects.ts';
import {
  cloneBranch,
  commitAll,
  fetchBranch,
  headCommit,
  push,
  type Remote,
  rebaseOnto,
  revert,
} from '../../../controllers/runtime/git/repository.ts';
import { verifySignature } from '../../../controllers/runtime/git/signature.ts';
import { run } from '../../../hack/testbed/proc.ts';
import { rejectsKind } from '../../support/giterrors.ts';
import { type PgpKeyPair, pgpKeyPair } from '../../support/signing.ts';
import { testbed } from '../../support/testbed.ts';

const author = { name: 'Tide Bot', email: 'bot@tide.invalid' };

describe('runtime/git repository writes against the test bed servers', function () {
  this.timeout(180_000);
  let work: string;
  let key: PgpKeyPair;
  let n = 0;
  const dir = () => join(work, `wt-${++n}`);
  /** A new bare repository on the HTTP server with one commit on main; returns its remote and path. */
  const newRepo = async (name: string, files: Record<string, string> = { 'app.yaml': 'replicas: 1\n' }) => {
    const tb = testbed();
    const url = await tb.git.createRepo(`${name}-${process.pid}`);
    const auth = authFromSecret(url, { username: tb.git.username, password: tb.git.password });
    const remote: Remote = { url, auth, timeoutMs: 60_000 };
    const bare = join(tb.git.root, `${name}-${process.pid}.git`);
    const seed = await cloneBranch(remote, dir(), { branch: 'main', allowMissing: true });
    for (const [f, body] of Object.entries(files)) await writeFile(join(seed.dir, f), body);
    await commitAll(seed.dir, { author, message: 'seed' });
    await push(remote, seed.dir, { branch: 'main' });
    return { remote, bare };
  };
  /** `git <args>` in a bare repository of the server. */
  const server = (bare: string, ...args: string[]) => run('git', ['--git-dir', bare, ...args]);
  const serverCommit = async (bare: string, rev: string) =>
    parseCommit(Buffer.from(await server(bare, 'cat-file', 'commit', rev), 'utf8'));

  before(async () => {
    work = await mkdtemp(join(testbed().dir, 'git-write-'));
    key = await pgpKeyPair('Tide Bot', 'bot@tide.invalid', 'bot passphrase');
  });
  after(() => rm(work, { recursive: true, force: true }));

  it('clones a branch, commits a signed change and pushes it over HTTP with basic auth', async () => {
    const { remote, bare } = await newRepo('signed');
    const before = (await server(bare, 'rev-parse', 'main')).trim();
    const wt = await cloneBranch(remote, dir(), { branch: 'main', depth: 1 });
    assert.equal(wt.head, before);
    await writeFile(join(wt.dir, 'app.yaml'), 'replicas: 2\n');
    const sha = await commitAll(wt.dir, {
      author,
      committer: { name: 'Tide Committer', email: 'committer@tide.invalid' },
      message: 'Scale app to 2',
      signingKey: key.signer,
    });
    assert.ok(sha);
    const pushed = await push(remote, wt.dir, { branch: 'main' });
    assert.equal(pushed[0]?.to, 'refs/heads/main');

    assert.equal((await server(bare, 'rev-parse', 'main')).trim(), sha);
    assert.equal(await server(bare, 'show', 'main:app.yaml'), 'replicas: 2\n');
    const c = await serverCommit(bare, 'main');
    assert.deepEqual(c.parents, [before]);
    assert.equal(c.author?.email, 'bot@tide.invalid');
    assert.equal(c.committer?.name, 'Tide Committer');
    assert.equal(c.message, 'Scale app to 2\n');
    // The pushed commit's signature verifies with the public key, as a GitRepository would check it.
    assert.equal(
      await verifySignature('commit', c.signature, c.payload, { pgp: [key.publicKey], ssh: [] }),
      key.keyId,
    );
    // git itself accepts the object (fsck checks the signature header's format).
    await server(bare, 'fsck', '--strict', '--no-dangling');
  });

  it('makes no commit when nothing changed, and commits deletions and new files', async () => {
    const { remote } = await newRepo('nochange', { 'a.yaml': 'a\n', 'b.yaml': 'b\n' });
    const wt = await cloneBranch(remote, dir(), { branch: 'main' });
    assert.equal(await commitAll(wt.dir, { author, message: 'nothing' }), undefined);
    await writeFile(join(wt.dir, 'a.yaml'), 'a\n'); // same content
    assert.equal(await commitAll(wt.dir, { author, message: 'nothing' }), undefined);
    assert.equal(await headCommit(wt.dir), wt.head);
    await rm(join(wt.dir, 'b.yaml'));
    await writeFile(join(wt.dir, 'c.yaml'), 'c\n');
    const sha = await commitAll(wt.dir, { author, message: 'swap' });
    assert.ok(sha && sha !== wt.head);
    const files = await run('git', ['-C', wt.dir, 'ls-tree', '--name-only', 'HEAD']);
    assert.deepEqual(files.trim().split('\n'), ['a.yaml', 'c.yaml']);
  });

  it('rejects a push after someone else pushed, then pushes after fetching and replaying', async () => {
    const { remote, bare } = await newRepo('race', { 'app.yaml': 'replicas: 1\n', 'other.yaml': 'x: 1\n' });
    const ours = await cloneBranch(remote, dir(), { branch: 'main', depth: 1 });
    const theirs = await cloneBranch(remote, dir(), { branch: 'main' });

    await writeFile(join(theirs.dir, 'other.yaml'), 'x: 2\n');
    const theirCommit = await commitAll(theirs.dir, {
      author: { name: 'Someone', email: 's@tide.invalid' },
      message: 'theirs',
    });
    await push(remote, theirs.dir, { branch: 'main' });

    await writeFile(join(ours.dir, 'app.yaml'), 'replicas: 3\n');
    await commitAll(ours.dir, { author, message: 'ours', signingKey: key.signer });
    const message = await rejectsKind(
      push(remote, ours.dir, { branch: 'main' }),
      'Rejected',
      /refs\/heads\/main/,
    );
    assert.ok(!message.includes(testbed().git.password), 'no password in the error');
    assert.equal(
      (await server(bare, 'rev-parse', 'main')).trim(),
      theirCommit,
      'the remote branch kept their commit',
    );

    const upstream = await fetchBranch(remote, ours.dir, 'main');
    assert.equal(upstream, theirCommit);
    const replayed = await rebaseOnto(ours.dir, upstream ?? '', { signingKey: key.signer });
    await push(remote, ours.dir, { branch: 'main' });
    assert.equal((await server(bare, 'rev-parse', 'main')).trim(), replayed);
    assert.equal(await server(bare, 'show', 'main:app.yaml'), 'replicas: 3\n');
    assert.equal(await server(bare, 'show', 'main:other.yaml'), 'x: 2\n');
    const c = await serverCommit(bare, 'main');
    assert.deepEqual(c.parents, [theirCommit]);
    assert.equal(c.author?.email, author.email);
    assert.equal(
      await verifySignature('commit', c.signature, c.payload, { pgp: [key.publicKey], ssh: [] }),
      key.keyId,
    );
  });

  it('reports a replay that conflicts, leaving the work tree as it was', async () => {
    const { remote } = await newRepo('conflict');
    const ours = await cloneBranch(remote, dir(), { branch: 'main' });
    const theirs = await cloneBranch(remote, dir(), { branch: 'main' });
    await writeFile(join(theirs.dir, 'app.yaml'), 'replicas: 5\n');
    await commitAll(theirs.dir, { author, message: 'theirs' });
    await push(remote, theirs.dir, { branch: 'main' });
    await writeFile(join(ours.dir, 'app.yaml'), 'replicas: 7\n');
    const mine = await commitAll(ours.dir, { author, message: 'ours' });
    const upstream = await fetchBranch(remote, ours.dir, 'main');
    await rejectsKind(rebaseOnto(ours.dir, upstream ?? ''), 'Conflict');
    assert.equal(await headCommit(ours.dir), mine);
    assert.equal(await readFile(join(ours.dir, 'app.yaml'), 'utf8'), 'replicas: 7\n');
    assert.equal((await run('git', ['-C', ours.dir, 'status', '--porcelain'])).trim(), '');
  });

  it('pushes to another branch and to a refspec, and forces only when asked', async () => {
    const { remote, bare } = await newRepo('branches');
    const wt = await cloneBranch(remote, dir(), { branch: 'main' });
    await writeFile(join(wt.dir, 'app.yaml'), 'replicas: 4\n');
    const sha = await commitAll(wt.dir, { author, message: 'on auto' });
    await push(remote, wt.dir, { branch: 'auto', refspec: 'HEAD:refs/heads/also' });
    assert.equal((await server(bare, 'rev-parse', 'auto')).trim(), sha);
    assert.equal((await server(bare, 'rev-parse', 'also')).trim(), sha);
    assert.notEqual((await server(bare, 'rev-parse', 'main')).trim(), sha, 'main is untouched');

    // A rewritten history is refused without force and accepted with it.
    await run('git', ['-C', wt.dir, 'reset', '-q', '--hard', 'HEAD~1']);
    await writeFile(join(wt.dir, 'app.yaml'), 'replicas: 6\n');
    const rewritten = await commitAll(wt.dir, { author, message: 'rewritten' });
    await rejectsKind(push(remote, wt.dir, { branch: 'auto' }), 'Rejected');
    await push(remote, wt.dir, { branch: 'auto', force: true });
    assert.equal((await server(bare, 'rev-parse', 'auto')).trim(), rewritten);
  });

  it('starts the first commit of an empty repository (bootstrap)', async () => {
    const tb = testbed();
    const url = await tb.git.createRepo(`empty-${process.pid}`);
    const remote: Remote = {
      url,
      auth: authFromSecret(url, { username: tb.git.username, password: tb.git.password }),
      timeoutMs: 60_000,
    };
    await rejectsKind(cloneBranch(remote, dir(), { branch: 'main' }), 'NotFound', /refs\/heads\/main/);
    const wt = await cloneBranch(remote, dir(), { branch: 'main', allowMissing: true });
    assert.equal(wt.head, undefined);
    assert.equal(await commitAll(wt.dir, { author, message: 'nothing yet' }), undefined);
    await writeFile(join(wt.dir, 'kustomization.yaml'), 'resources: []\n');
    const sha = await commitAll(wt.dir, { author, message: 'Add sync manifests', signingKey: key.signer });
    await push(remote, wt.dir, { branch: 'main' });
    const bare = join(tb.git.root, `empty-${process.pid}.git`);
    assert.equal((await server(bare, 'rev-parse', 'main')).trim(), sha);
    assert.deepEqual((await serverCommit(bare, 'main')).parents, []);
  });

  it('reverts a commit and pushes the revert', async () => {
    const { remote, bare } = await newRepo('revert');
    const wt = await cloneBranch(remote, dir(), { branch: 'main' });
    await writeFile(join(wt.dir, 'app.yaml'), 'replicas: 9\n');
    const bad = (await commitAll(wt.dir, { author, message: 'Scale to 9' })) ?? '';
    await writeFile(join(wt.dir, 'notes.md'), 'later\n');
    await commitAll(wt.dir, { author, message: 'later change' });
    const reverted = await revert(wt.dir, bad, { author, signingKey: key.signer });
    assert.ok(reverted);
    await push(remote, wt.dir, { branch: 'main' });
    assert.equal(await server(bare, 'show', 'main:app.yaml'), 'replicas: 1\n');
    assert.equal(await server(bare, 'show', 'main:notes.md'), 'later\n');
    const c = await serverCommit(bare, 'main');
    assert.equal(c.message, `Revert "Scale to 9"\n\nThis reverts commit ${bad}.\n`);
    assert.equal(
      await verifySignature('commit', c.signature, c.payload, { pgp: [key.publicKey], ssh: [] }),
      key.keyId,
    );
  });

  it('reports a revert that conflicts with later changes, leaving the work tree as it was', async () => {
    const { remote } = await newRepo('revert-conflict');
    const wt = await cloneBranch(remote, dir(), { branch: 'main' });
    await writeFile(join(wt.dir, 'app.yaml'), 'replicas: 2\n');
    const first = (await commitAll(wt.dir, { author, message: 'two' })) ?? '';
    await writeFile(join(wt.dir, 'app.yaml'), 'replicas: 3\n');
    const second = await commitAll(wt.dir, { author, message: 'three' });
    await rejectsKind(revert(wt.dir, first, { author }), 'Conflict');
    assert.equal(await headCommit(wt.dir), second);
    assert.equal((await run('git', ['-C', wt.dir, 'status', '--porcelain'])).trim(), '');
  });

  it('fails with Auth for wrong credentials, without showing them', async () => {
    const { remote } = await newRepo('auth');
    const wt = await cloneBranch(remote, dir(), { branch: 'main' });
    await writeFile(join(wt.dir, 'app.yaml'), 'replicas: 8\n');
    await commitAll(wt.dir, { author, message: 'x' });
    const wrong: GitAuth = authFromSecret(remote.url, { username: 'tide', password: 'not-the-password' });
    const message = await rejectsKind(push({ ...remote, auth: wrong }, wt.dir, { branch: 'main' }), 'Auth');
    assert.ok(!message.includes('not-the-password'));
    await rejectsKind(cloneBranch({ ...remote, auth: undefined }, dir(), { branch: 'main' }), 'Auth');
  });

  it('clones, commits and pushes over SSH with identity and known_hosts', async () => {
    const tb = testbed();
    const { remote: http, bare } = await newRepo('ssh');
    const url = tb.ssh.urlFor(bare);
    const remote: Remote = {
      url,
      auth: authFromSecret(url, {
        identity: await readFile(tb.ssh.clientKey),
        known_hosts: tb.ssh.knownHosts,
      }),
      timeoutMs: 60_000,
    };
    const wt = await cloneBranch(remote, dir(), { branch: 'main', depth: 1 });
    assert.equal(wt.head, (await server(bare, 'rev-parse', 'main')).trim());
    await writeFile(join(wt.dir, 'app.yaml'), 'replicas: 11\n');
    const sha = await commitAll(wt.dir, { author, message: 'over ssh', signingKey: key.signer });
    await push(remote, wt.dir, { branch: 'main' });
    assert.equal((await server(bare, 'rev-parse', 'main')).trim(), sha);

    // Someone pushes over HTTP meanwhile: the SSH push is rejected the same way.
    const other = await cloneBranch(http, dir(), { branch: 'main' });
    await writeFile(join(other.dir, 'new.yaml'), 'n: 1\n');
    await commitAll(other.dir, { author, message: 'http' });
    await push(http, other.dir, { branch: 'main' });
    await writeFile(join(wt.dir, 'app.yaml'), 'replicas: 12\n');
    await commitAll(wt.dir, { author, message: 'again' });
    await rejectsKind(push(remote, wt.dir, { branch: 'main' }), 'Rejected');
  });
});
