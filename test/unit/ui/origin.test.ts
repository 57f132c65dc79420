// The dashboard's sign-in form refuses a POST another site made (login CSRF): sameOrigin compares the
// Origin a browser sends with the Host it asked for.
import assert from 'node:assert/strict';
import type { IncomingMessage } from 'node:http';
import { sameOrigin } from '../../../controllers/ui/auth.ts';

const req = (headers: Record<string, string>) => ({ headers }) as unknown as IncomingMessage;

describe('ui/auth: sameOrigin', () => {
  it('accepts the dashboard posting to itself, and a client that sends no Origin', () => {
    assert.equal(sameOrigin(req({ host: '127.0.0.1:9080', origin: 'http://127.0.0.1:9080' })), true);
    assert.equal(sameOrigin(req({ host: 'tide.example.com', origin: 'https://tide.example.com' })), true);
    assert.equal(sameOrigin(req({ host: 'Tide.Example.com', origin: 'https://tide.example.com' })), true);
    assert.equal(sameOrigin(req({ host: '127.0.0.1:9080' })), true);
  });

  it("trusts the browser's Sec-Fetch-Site over Origin, which no-referrer makes 'null' for its own form", () => {
    const own = { host: '127.0.0.1:9080', origin: 'null', 'sec-fetch-site': 'same-origin' };
    assert.equal(sameOrigin(req(own)), true);
    assert.equal(sameOrigin(req({ ...own, 'sec-fetch-site': 'none' })), true);
    assert.equal(sameOrigin(req({ ...own, 'sec-fetch-site': 'cross-site' })), false);
    assert.equal(sameOrigin(req({ ...own, 'sec-fetch-site': 'same-site' })), false);
    assert.equal(
      sameOrigin(
        req({ host: '127.0.0.1:9080', origin: 'http://127.0.0.1:9080', 'sec-fetch-site': 'cross-site' }),
      ),
      false,
    );
  });

  it('refuses another site, another port, an opaque origin and garbage', () => {
    assert.equal(sameOrigin(req({ host: 'tide.example.com', origin: 'https://evil.example' })), false);
    assert.equal(sameOrigin(req({ host: '127.0.0.1:9080', origin: 'http://127.0.0.1:9081' })), false);
    assert.equal(sameOrigin(req({ host: 'tide.example.com', origin: 'null' })), false);
    assert.equal(sameOrigin(req({ host: 'tide.example.com', origin: 'not a url' })), false);
    assert.equal(sameOrigin(req({ origin: 'https://tide.example.com' })), false);
  });
});
