import assert from 'node:assert/strict';
import {
  matchesPattern,
  parsePktLines,
  parseV0Advertisement,
} from '../../../controllers/runtime/git/smarthttp.ts';

const pkt = (s: string) => `${(Buffer.byteLength(s) + 4).toString(16).padStart(4, '0')}${s}`;
const a = 'a'.repeat(40);
const b = 'b'.repeat(40);
const c = 'c'.repeat(40);

describe('runtime/git/smarthttp', () => {
  it('splits pkt-lines, flush packets and trailing newlines', () => {
    const data = Buffer.from(`${pkt('# service=git-upload-pack\n')}0000${pkt(`${a} HEAD\0multi_ack\n`)}0000`);
    assert.deepEqual(parsePktLines(data), ['# service=git-upload-pack', null, `${a} HEAD\0multi_ack`, null]);
    assert.throws(() => parsePktLines(Buffer.from('00ffshort')), /truncated/);
    assert.throws(() => parsePktLines(Buffer.from('zzzz')), /malformed/);
  });

  it('reads a v0 advertisement: capabilities dropped, annotated tags peeled', () => {
    const refs = parseV0Advertisement([
      '# service=git-upload-pack',
      null,
      `${a} HEAD\0multi_ack thin-pack side-band symref=HEAD:refs/heads/main`,
      `${a} refs/heads/main`,
      `${b} refs/tags/v1.0.0`,
      `${c} refs/tags/v1.0.0^{}`,
      null,
    ]);
    assert.deepEqual(
      [...refs],
      [
        ['HEAD', a],
        ['refs/heads/main', a],
        ['refs/tags/v1.0.0', c],
      ],
    );
    // An empty repository advertises only its capabilities.
    assert.equal(parseV0Advertisement([`${'0'.repeat(40)} capabilities^{}\0side-band`, null]).size, 0);
  });

  it('matches ls-remote patterns against the end of ref names, as git does', () => {
    assert.ok(matchesPattern('refs/heads/main', 'refs/heads/main'));
    assert.ok(matchesPattern('refs/heads/main', 'main'));
    assert.ok(!matchesPattern('refs/heads/main-2', 'refs/heads/main'));
    assert.ok(!matchesPattern('refs/heads/domain', 'main'));
    assert.ok(matchesPattern('refs/tags/v1', 'refs/tags/*'));
    assert.ok(!matchesPattern('refs/heads/v1', 'refs/tags/*'));
  });
});
