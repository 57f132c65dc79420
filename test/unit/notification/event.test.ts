// The event as notification-controller reads it: parsing, the metadata alerting keeps, the duplicate
// key, RFC 0008's metadata precedence, the commit of a revision, and the rate limiter's window.
import assert from 'node:assert/strict';
import {
  cleanupMetadata,
  combineMetadata,
  commitOf,
  excludeInternalMetadata,
  parseEvent,
  rateLimitKey,
  revisionOf,
} from '../../../controllers/notification/event.ts';
import { createRateLimiter } from '../../../controllers/notification/ratelimit.ts';
import { alert, event, sha } from './fixtures.ts';

describe('notification: events', () => {
  it('parses the JSON controllers post and refuses what is not an event', () => {
    const e = parseEvent(Buffer.from(JSON.stringify(event())));
    assert.equal(e.involvedObject.name, 'apps');
    assert.equal(e.metadata?.['kustomize.toolkit.fluxcd.io/revision'], `main@sha1:${sha}`);
    assert.throws(() => parseEvent(Buffer.from('{')), /decoding the request body failed/);
    assert.throws(() => parseEvent(Buffer.from('{"message":"x"}')), /no involvedObject/);
    const noNs = { ...event(), involvedObject: { kind: 'Kustomization', name: 'apps' } };
    assert.throws(() => parseEvent(Buffer.from(JSON.stringify(noNs))), /involvedObject.namespace/);
    assert.throws(
      () => parseEvent(Buffer.from(JSON.stringify({ ...event(), severity: 'fatal' }))),
      /severity/,
    );
  });

  it("keeps the event group's and the object group's metadata, without checksum and digest", () => {
    const e = event({
      metadata: {
        'kustomize.toolkit.fluxcd.io/revision': 'r',
        'kustomize.toolkit.fluxcd.io/digest': 'sha256:x',
        'kustomize.toolkit.fluxcd.io/checksum': 'x',
        'event.toolkit.fluxcd.io/env': 'prod',
        'source.toolkit.fluxcd.io/revision': 'other group',
        unrelated: 'x',
      },
    });
    cleanupMetadata(e);
    assert.deepEqual(e.metadata, {
      'kustomize.toolkit.fluxcd.io/revision': 'r',
      'event.toolkit.fluxcd.io/env': 'prod',
    });
  });

  it('keys duplicates by object, message, revision and token', () => {
    const base = rateLimitKey(event());
    assert.equal(rateLimitKey(event({ timestamp: '2030-01-01T00:00:00Z', reportingInstance: 'kc-2' })), base);
    assert.notEqual(rateLimitKey(event({ message: 'other' })), base);
    assert.notEqual(
      rateLimitKey(
        event({ metadata: { 'kustomize.toolkit.fluxcd.io/revision': `main@sha1:${'f'.repeat(40)}` } }),
      ),
      base,
    );
    const token = (t: string) =>
      event({ metadata: { ...event().metadata, 'kustomize.toolkit.fluxcd.io/token': t } });
    assert.notEqual(rateLimitKey(token('1')), rateLimitKey(token('2')));
    const internal = token('1');
    excludeInternalMetadata(internal);
    assert.equal(internal.metadata?.['kustomize.toolkit.fluxcd.io/token'], undefined);
  });

  it('combines metadata lowest first: annotations, eventMetadata, summary, then the controller', () => {
    const e = event({
      metadata: {
        'event.toolkit.fluxcd.io/env': 'from-annotation',
        'event.toolkit.fluxcd.io/team': 'ops',
        'kustomize.toolkit.fluxcd.io/revision': 'rev',
      },
    });
    const { metadata, conflicts } = combineMetadata(
      e,
      alert({ eventMetadata: { env: 'from-alert', revision: 'from-alert' }, summary: 'impact' }),
    );
    assert.deepEqual(metadata, { env: 'from-alert', team: 'ops', revision: 'rev', summary: 'impact' });
    assert.deepEqual(Object.keys(conflicts).sort(), ['env', 'revision']);
    assert.deepEqual(combineMetadata(event(), alert()).conflicts, {});
  });

  it('takes the commit from commit, originRevision, then revision, in every revision format', () => {
    assert.equal(revisionOf({ revision: 'r', originRevision: 'o', commit: 'c' }), 'c');
    assert.equal(revisionOf({ revision: 'r', originRevision: 'o' }), 'o');
    assert.equal(revisionOf({ revision: 'r' }), 'r');
    assert.equal(revisionOf({}), undefined);
    for (const rev of [`main@sha1:${sha}`, `sha1:${sha}`, `refs/heads/main@sha1:${sha}`, `main/${sha}`, sha])
      assert.equal(commitOf(rev), sha, rev);
    assert.throws(() => commitOf(`latest@sha256:${'a'.repeat(64)}`), /failed to extract commit hash/);
    assert.throws(() => commitOf('v1.2.3'), /failed to extract commit hash/);
  });
});

describe('notification: rate limiter', () => {
  it('passes the first event of a key, refuses it again within the window, passes it after', () => {
    let t = 0;
    const limiter = createRateLimiter(5_000, () => t);
    assert.equal(limiter.allow('a'), true);
    assert.equal(limiter.allow('a'), false);
    assert.equal(limiter.allow('b'), true, 'another key has its own window');
    t = 4_999;
    assert.equal(limiter.allow('a'), false);
    t = 5_000;
    assert.equal(limiter.allow('a'), true, 'a new window');
    t = 20_000;
    limiter.allow('c');
    assert.equal(limiter.size(), 1, 'expired keys are dropped');
  });
});
