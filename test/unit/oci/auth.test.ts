import assert from 'node:assert/strict';
import {
  credentialsFromSecret,
  DOCKER_CONFIG_JSON_KEY,
  dockerConfigJson,
  findCredentials,
  parseDockerConfig,
  parseWwwAuthenticate,
} from '../../../controllers/runtime/oci/auth.ts';
import { isOciError } from '../../../controllers/runtime/oci/errors.ts';

const b64 = (s: string) => Buffer.from(s).toString('base64');

function secretOf(config: unknown, key = DOCKER_CONFIG_JSON_KEY) {
  return {
    metadata: { name: 'pull', namespace: 'apps' },
    type: 'kubernetes.io/dockerconfigjson',
    data: { [key]: b64(typeof config === 'string' ? config : JSON.stringify(config)) },
  };
}

describe('oci/auth: docker config credentials', () => {
  it('reads `auth` (base64 user:password; the password may hold colons) and username/password', () => {
    const auths = parseDockerConfig(
      JSON.stringify({
        auths: {
          'ghcr.io': { auth: b64('bot:pa:ss:word') },
          'registry.example.com:5000': { username: 'alice', password: 's3cret' },
        },
      }),
    );
    assert.deepEqual(findCredentials(auths, 'ghcr.io'), { username: 'bot', password: 'pa:ss:word' });
    assert.deepEqual(findCredentials(auths, 'registry.example.com:5000'), {
      username: 'alice',
      password: 's3cret',
    });
    assert.equal(findCredentials(auths, 'registry.example.com'), undefined, 'the port is part of the key');
    assert.equal(findCredentials(auths, 'quay.io'), undefined);
  });

  it('matches https:// keys and Docker Hub aliases; an exact host key wins', () => {
    const auths = parseDockerConfig(
      JSON.stringify({
        auths: {
          'https://registry.example.com:5000/v2/': { username: 'https-key', password: 'p1' },
          'https://ghcr.io': { username: 'https-ghcr', password: 'p2' },
          'ghcr.io': { username: 'exact-ghcr', password: 'p3' },
          'https://index.docker.io/v1/': { username: 'hub', password: 'p4' },
        },
      }),
    );
    assert.equal(findCredentials(auths, 'registry.example.com:5000')?.username, 'https-key');
    assert.equal(findCredentials(auths, 'ghcr.io')?.username, 'exact-ghcr');
    assert.equal(findCredentials(auths, 'docker.io')?.username, 'hub');
    assert.equal(findCredentials(auths, 'registry-1.docker.io')?.username, 'hub');
  });

  it('reads a kubernetes.io/dockerconfigjson Secret, and the legacy .dockercfg layout', () => {
    const creds = { username: 'robot$ci', password: 'p@ss word' };
    const secret = secretOf(JSON.parse(dockerConfigJson('127.0.0.1:5000', creds)));
    assert.deepEqual(credentialsFromSecret(secret, '127.0.0.1:5000'), creds);
    assert.equal(credentialsFromSecret(secret, 'ghcr.io'), undefined, 'no entry: anonymous');
    const legacy = secretOf({ 'https://quay.io': { auth: b64('q:w') } }, '.dockercfg');
    assert.deepEqual(credentialsFromSecret(legacy, 'quay.io'), { username: 'q', password: 'w' });
  });

  it('names the secret and the problem, never the secret data', () => {
    const password = 'hunter2-Secret';
    const cases: Array<[Parameters<typeof credentialsFromSecret>[0], RegExp]> = [
      [
        { metadata: { name: 'pull', namespace: 'apps' }, type: 'Opaque', data: { password: b64(password) } },
        /secret 'apps\/pull' \(type Opaque\) has no '.dockerconfigjson' key/,
      ],
      [
        secretOf(`{"auths": {"ghcr.io": {"password": "${password}"`),
        /secret 'apps\/pull' key '.dockerconfigjson' is not valid JSON/,
      ],
      [
        secretOf({ auths: { 'ghcr.io': { auth: b64(password) } } }),
        /auths\["ghcr.io"\]: "auth" is not base64 of "<username>:<password>"/,
      ],
      [secretOf({ auths: [password] }), /"auths" is not an object/],
    ];
    for (const [secret, message] of cases) {
      assert.throws(
        () => credentialsFromSecret(secret, 'ghcr.io'),
        (e: unknown) => {
          assert.ok(isOciError(e, 'InvalidCredentials'), String(e));
          assert.match(e.message, message);
          assert.ok(!e.message.includes(password) && !e.message.includes(b64(password)), e.message);
          return true;
        },
      );
    }
  });
});

describe('oci/auth: WWW-Authenticate', () => {
  it('parses a Bearer challenge whose quoted scope holds commas', () => {
    assert.deepEqual(
      parseWwwAuthenticate(
        'Bearer realm="https://auth.docker.io/token",service="registry.docker.io",scope="repository:library/nginx:pull,push"',
      ),
      [
        {
          scheme: 'bearer',
          params: {
            realm: 'https://auth.docker.io/token',
            service: 'registry.docker.io',
            scope: 'repository:library/nginx:pull,push',
          },
        },
      ],
    );
  });

  it('parses Basic, unquoted values, escapes, spaces and case-insensitive names', () => {
    assert.deepEqual(parseWwwAuthenticate('Basic realm="Registry Realm"'), [
      { scheme: 'basic', params: { realm: 'Registry Realm' } },
    ]);
    assert.deepEqual(
      parseWwwAuthenticate('BEARER Realm = "https://t/x" , Service=reg,error="insufficient_scope"'),
      [{ scheme: 'bearer', params: { realm: 'https://t/x', service: 'reg', error: 'insufficient_scope' } }],
    );
    assert.deepEqual(parseWwwAuthenticate('Basic realm="a \\"quoted\\" \\\\ realm"'), [
      { scheme: 'basic', params: { realm: 'a "quoted" \\ realm' } },
    ]);
  });

  it('splits several challenges in one header value', () => {
    const got = parseWwwAuthenticate('Basic realm="basic", Bearer realm="https://t/token",scope="a:b:pull"');
    assert.deepEqual(got, [
      { scheme: 'basic', params: { realm: 'basic' } },
      { scheme: 'bearer', params: { realm: 'https://t/token', scope: 'a:b:pull' } },
    ]);
    assert.deepEqual(parseWwwAuthenticate(''), []);
  });
});
