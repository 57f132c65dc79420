// Proxy and TLS settings from Secrets, with fluxcd/pkg runtime/secrets' rules and messages.
import assert from 'node:assert/strict';
import {
  proxyFromSecret,
  proxyUrlWithCredentials,
  type SecretData,
  tlsFromSecret,
} from '../../../controllers/runtime/http-secrets.ts';

const data = (d: Record<string, string>): SecretData =>
  Object.fromEntries(Object.entries(d).map(([k, v]) => [k, Buffer.from(v)]));

describe('runtime/http-secrets', () => {
  it("reads Flux's proxy Secret: address, optional username and password", () => {
    assert.deepEqual(proxyFromSecret({ address: 'http://proxy.local:3128' }, 'ns/p'), {
      address: 'http://proxy.local:3128',
    });
    assert.deepEqual(
      proxyFromSecret(
        { address: Buffer.from('socks5://proxy.local:1080'), username: 'u', password: 'pw' },
        'ns/p',
      ),
      { address: 'socks5://proxy.local:1080', username: 'u', password: 'pw' },
    );
    // Credentials written into the address are moved out of it.
    assert.deepEqual(proxyFromSecret({ address: 'https://a:b%40c@proxy.local' }, 'ns/p'), {
      address: 'https://proxy.local',
      username: 'a',
      password: 'b@c',
    });
  });

  it('refuses a missing, empty, unparsable or unsupported address with Flux messages', () => {
    assert.throws(() => proxyFromSecret({ username: 'u' }, 'ns/p'), {
      message: "secret 'ns/p': key 'address' not found",
    });
    assert.throws(() => proxyFromSecret({ address: '' }, 'ns/p'), {
      message: "secret 'ns/p': proxy address is empty",
    });
    assert.throws(() => proxyFromSecret({ address: 'ftp://proxy' }, 'ns/p'), {
      message:
        "secret 'ns/p': proxy URL must use one of the supported schemes (http, https, socks5), got 'ftp'",
    });
    assert.throws(() => proxyFromSecret({ address: 'not a url' }, 'ns/p'), /failed to parse proxy address/);
    assert.throws(
      () => proxyFromSecret({ address: `http://${'a'.repeat(2048)}` }, 'ns/p'),
      /maximum length of 2048/,
    );
  });

  it('never puts the password in an error', () => {
    assert.throws(
      () => proxyFromSecret({ address: 'ftp://u:hunter2@proxy' }, 'ns/p'),
      (err: Error) => !err.message.includes('hunter2'),
    );
  });

  it('builds the URL curl and git take, credentials percent-encoded', () => {
    assert.equal(
      proxyUrlWithCredentials({ address: 'http://proxy.local:3128', username: 'u@x', password: 'p:w' }),
      'http://u%40x:p%3Aw@proxy.local:3128',
    );
    assert.equal(proxyUrlWithCredentials({ address: 'http://proxy.local:3128' }), 'http://proxy.local:3128');
  });
  it('reads a CA and/or a client certificate pair, also under the legacy keys', () => {
    assert.deepEqual(tlsFromSecret(data({ 'ca.crt': 'CA' }), 'ns/c'), { ca: Buffer.from('CA') });
    assert.deepEqual(tlsFromSecret(data({ 'tls.crt': 'C', 'tls.key': 'K' }), 'ns/c'), {
      cert: Buffer.from('C'),
      key: Buffer.from('K'),
    });
    assert.deepEqual(tlsFromSecret(data({ caFile: 'CA', certFile: 'C', keyFile: 'K' }), 'ns/c'), {
      ca: Buffer.from('CA'),
      cert: Buffer.from('C'),
      key: Buffer.from('K'),
    });
  });

  it('refuses half a certificate pair, or a Secret with no TLS material', () => {
    assert.throws(
      () => tlsFromSecret(data({ 'tls.crt': 'C' }), 'ns/c'),
      /secret 'ns\/c' contains 'tls.crt' but missing 'tls.key'/,
    );
    assert.throws(
      () => tlsFromSecret(data({ 'tls.key': 'K' }), 'ns/c'),
      /secret 'ns\/c' contains 'tls.key' but missing 'tls.crt'/,
    );
    assert.throws(
      () => tlsFromSecret(data({ other: 'x' }), 'ns/c'),
      /secret 'ns\/c' must contain either 'ca.crt' or both 'tls.crt' and 'tls.key'/,
    );
  });
});
