// Proxy and TLS settings from Secrets, with fluxcd/pkg runtime/secrets' rules and messages.
import assert from 'node:assert/strict';
import {
  proxyFromSecret,
  type SecretData,
  tlsFromSecret,
} from '../../../controllers/runtime/http-secrets.ts';

const data = (d: Record<string, string>): SecretData =>
  Object.fromEntries(Object.entries(d).map(([k, v]) => [k, Buffer.from(v)]));

describe('runtime/http-secrets', () => {
  it('reads a proxy address with optional credentials', () => {
    assert.deepEqual(proxyFromSecret(data({ address: 'http://proxy:3128' }), 'ns/p'), {
      url: 'http://proxy:3128/',
    });
    assert.deepEqual(
      proxyFromSecret(data({ address: 'socks5://proxy:1080', username: 'u', password: 'pw' }), 'ns/p'),
      {
        url: 'socks5://proxy:1080',
        username: 'u',
        password: 'pw',
      },
    );
    // A username alone is sent with an empty password, as Go's url.User.
    assert.deepEqual(proxyFromSecret(data({ address: 'https://proxy', username: 'u' }), 'ns/p'), {
      url: 'https://proxy/',
      username: 'u',
      password: '',
    });
  });

  it('refuses a proxy Secret without a usable address, naming the Secret but no value', () => {
    assert.throws(
      () => proxyFromSecret(data({ username: 'u' }), 'ns/p'),
      /^Error: secret 'ns\/p': key 'address' not found$/,
    );
    assert.throws(
      () => proxyFromSecret(data({ address: '' }), 'ns/p'),
      /secret 'ns\/p': proxy address is empty/,
    );
    assert.throws(
      () => proxyFromSecret(data({ address: 'not a url' }), 'ns/p'),
      /secret 'ns\/p': failed to parse proxy address$/,
    );
    assert.throws(
      () => proxyFromSecret(data({ address: 'ftp://proxy' }), 'ns/p'),
      /supported schemes \(http, https, socks5\), got 'ftp'/,
    );
    assert.throws(
      () => proxyFromSecret(data({ address: `http://${'a'.repeat(2050)}` }), 'ns/p'),
      /exceeds maximum length of 2048/,
    );
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
