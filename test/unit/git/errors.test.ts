import assert from 'node:assert/strict';
import {
  classifyStderr,
  GitError,
  gitFailure,
  isGitError,
  scrub,
} from '../../../controllers/runtime/git/errors.ts';

// stderr of git 2.39 / OpenSSH 9.2 (LC_ALL=C), captured from real failures.
const samples: Record<string, string> = {
  sshHostKeyChanged: `@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@
@    WARNING: REMOTE HOST IDENTIFICATION HAS CHANGED!     @
@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@
IT IS POSSIBLE THAT SOMEONE IS DOING SOMETHING NASTY!
Someone could be eavesdropping on you right now (man-in-the-middle attack)!
It is also possible that a host key has just been changed.
The fingerprint for the ED25519 key sent by the remote host is
SHA256:N3vnWvbK3ZyZORVE3XZGXoja4uRQQG2qAxhDgRWMldk.
Please contact your system administrator.
Add correct host key in /tmp/tide-git-x/known_hosts to get rid of this message.
Offending ED25519 key in /tmp/tide-git-x/known_hosts:1
  remove with:
  ssh-keygen -f "/tmp/tide-git-x/known_hosts" -R "[127.0.0.1]:45999"
Host key for [127.0.0.1]:45999 has changed and you have requested strict checking.
Host key verification failed.
fatal: Could not read from remote repository.

Please make sure you have the correct access rights
and the repository exists.
`,
  sshHostKeyUnknown: `No ED25519 host key is known for [127.0.0.1]:45999 and you have requested strict checking.
Host key verification failed.
fatal: Could not read from remote repository.

Please make sure you have the correct access rights
and the repository exists.
`,
  sshDenied: `git@127.0.0.1: Permission denied (publickey).
fatal: Could not read from remote repository.

Please make sure you have the correct access rights
and the repository exists.
`,
  sshRefused: `ssh: connect to host 127.0.0.1 port 1: Connection refused
fatal: Could not read from remote repository.

Please make sure you have the correct access rights
and the repository exists.
`,
  sshNoHost: `ssh: Could not resolve hostname git.invalid: Name or service not known
fatal: Could not read from remote repository.
`,
  httpRefused: `fatal: unable to access 'http://127.0.0.1:1/x.git/': Failed to connect to 127.0.0.1 port 1 after 0 ms: Couldn't connect to server
`,
  httpNoHost: `fatal: unable to access 'https://git.invalid/x.git/': Could not resolve host: git.invalid
`,
  httpNoCredentials: `fatal: could not read Username for 'http://127.0.0.1:33205': terminal prompts disabled
`,
  httpWrongCredentials: `fatal: Authentication failed for 'http://127.0.0.1:33205/r1.git/'
`,
  httpForbidden: `fatal: unable to access 'https://git.example/r.git/': The requested URL returned error: 403
`,
  httpTls: `fatal: unable to access 'https://127.0.0.1:8443/r.git/': SSL certificate problem: self-signed certificate
`,
  repoMissing: `fatal: repository 'http://127.0.0.1:33205/nope.git/' not found
`,
  branchMissing: `fatal: couldn't find remote ref refs/heads/nope
`,
  commitRefused: `error: Server does not allow request for unadvertised object bd4b1b73e101beac529284a98038274950af78cd
`,
  commitUnknownV2: `fatal: remote error: upload-pack: not our ref 0123456789abcdef0123456789abcdef01234567
`,
  httpProxyAuth: `fatal: unable to access 'http://127.0.0.1:45455/r.git/': The requested URL returned error: 407
`,
  httpsProxyAuth: `fatal: unable to access 'https://127.0.0.1:8443/r.git/': Received HTTP code 407 from proxy after CONNECT
`,
  other: `fatal: the remote end hung up unexpectedly
`,
};

describe('runtime/git errors', () => {
  it('classifies real git and ssh stderr', () => {
    const want: Record<string, string> = {
      sshHostKeyChanged: 'HostKey',
      sshHostKeyUnknown: 'HostKey',
      sshDenied: 'Auth',
      sshRefused: 'Unreachable',
      sshNoHost: 'Unreachable',
      httpRefused: 'Unreachable',
      httpNoHost: 'Unreachable',
      httpNoCredentials: 'Auth',
      httpWrongCredentials: 'Auth',
      httpForbidden: 'Auth',
      httpTls: 'HostKey',
      repoMissing: 'NotFound',
      branchMissing: 'NotFound',
      commitRefused: 'NotFound',
      commitUnknownV2: 'NotFound',
      httpProxyAuth: 'Auth',
      httpsProxyAuth: 'Auth',
      other: 'Other',
    };
    for (const [name, stderr] of Object.entries(samples))
      assert.equal(classifyStderr(stderr), want[name], name);
  });

  it('keeps the verdict of the host key warning and drops the boilerplate', () => {
    const e = gitFailure(
      "unable to clone 'ssh://git@127.0.0.1:45999/r.git'",
      samples.sshHostKeyChanged ?? '',
    );
    assert.equal(e.kind, 'HostKey');
    assert.match(e.message, /^unable to clone 'ssh:\/\/git@127\.0\.0\.1:45999\/r\.git': /);
    assert.match(e.message, /Host key for \[127\.0\.0\.1\]:45999 has changed/);
    assert.match(e.message, /check known_hosts/);
    assert.doesNotMatch(e.message, /NASTY|Please make sure|@@@/);
  });

  it('keeps what ssh says about a refused key, without the generic advice', () => {
    const e = gitFailure('unable to list', samples.sshDenied ?? '');
    assert.equal(
      e.message,
      'unable to list: git@127.0.0.1: Permission denied (publickey). (check that the server accepts the identity key)',
    );
  });

  it('says whether credentials were rejected or missing when git asks for a username', () => {
    const given = gitFailure('x', samples.httpNoCredentials ?? '', { credentialsGiven: true });
    const none = gitFailure('x', samples.httpNoCredentials ?? '', { credentialsGiven: false });
    assert.equal(given.kind, 'Auth');
    assert.match(given.message, /rejected the credentials/);
    assert.match(none.message, /none were given/);
    assert.doesNotMatch(given.message, /terminal prompts/);
  });

  it('scrubs secrets, URL userinfo and Authorization headers from messages', () => {
    const secret = 's3cr3t-Pa55';
    const key =
      '-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjEAAAAABG5vbmUAAAAEbm9uZQ\n-----END OPENSSH PRIVATE KEY-----\n';
    const text = [
      `fatal: Authentication failed for 'https://bob:${secret}@git.example/r.git/'`,
      `password was ${secret}`,
      'Authorization: Basic Ym9iOnMzY3IzdC1QYTU1',
      'Authorization: Bearer abc.def.ghi',
      'key line b3BlbnNzaC1rZXktdjEAAAAABG5vbmUAAAAEbm9uZQ leaked',
    ].join('\n');
    const out = scrub(text, [secret, key]);
    assert.doesNotMatch(out, /s3cr3t|Ym9iOnMzY3IzdC1QYTU1|abc\.def\.ghi|b3BlbnNzaC1rZXkt/);
    assert.match(out, /https:\/\/\*\*\*@git\.example\/r\.git/);
    assert.match(out, /password was \*\*\*/);
  });

  it('scrubs the message of a classified failure', () => {
    const e = gitFailure(
      'unable to fetch',
      `fatal: unable to access 'https://u:tok3n-XYZ@h/r/': The requested URL returned error: 403`,
      {
        secrets: ['tok3n-XYZ'],
      },
    );
    assert.doesNotMatch(e.message, /tok3n/);
    assert.equal(e.kind, 'Auth');
  });

  it('recognizes GitErrors across module copies by a marker', () => {
    const e = new GitError('Timeout', 'slow');
    assert.ok(isGitError(e));
    assert.ok(isGitError({ isGitError: true }));
    assert.ok(!isGitError(new Error('x')));
    assert.ok(!isGitError(undefined));
  });
});
