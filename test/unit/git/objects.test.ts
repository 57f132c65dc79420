import assert from 'node:assert/strict';
import {
  addCommitSignature,
  parseCommit,
  parseTag,
  subject,
} from '../../../controllers/runtime/git/objects.ts';

const tree = '4b825dc642cb6eb9a060e54bf8d69288fbee4904';
const parent = '0123456789abcdef0123456789abcdef01234567';
const signature =
  '-----BEGIN PGP SIGNATURE-----\n\nwsBcBAABCAAQBQJlAAAA\n=abcd\n-----END PGP SIGNATURE-----\n';
const unsigned =
  `tree ${tree}\nparent ${parent}\n` +
  'author A U Thor <author@tide.invalid> 1700000000 +0100\n' +
  'committer C O Mitter <committer@tide.invalid> 1700000001 +0000\n' +
  '\nsubject line\n\nbody\n';
// As git writes it: the header after committer, continuation lines indented by one space (an empty
// line of the signature becomes a lone space).
const signed =
  `tree ${tree}\nparent ${parent}\n` +
  'author A U Thor <author@tide.invalid> 1700000000 +0100\n' +
  'committer C O Mitter <committer@tide.invalid> 1700000001 +0000\n' +
  'gpgsig -----BEGIN PGP SIGNATURE-----\n \n wsBcBAABCAAQBQJlAAAA\n =abcd\n -----END PGP SIGNATURE-----\n' +
  '\nsubject line\n\nbody\n';

describe('runtime/git objects', () => {
  it('parses a signed commit: fields, the signature, and the payload without it', () => {
    const c = parseCommit(signed);
    assert.equal(c.tree, tree);
    assert.deepEqual(c.parents, [parent]);
    assert.deepEqual(c.author, { name: 'A U Thor', email: 'author@tide.invalid', when: '1700000000 +0100' });
    assert.equal(c.committer?.name, 'C O Mitter');
    assert.equal(c.message, 'subject line\n\nbody\n');
    assert.equal(c.signature, signature);
    assert.equal(c.payload.toString('utf8'), unsigned);
  });

  it('parses an unsigned commit: no signature, the whole object is the payload', () => {
    const c = parseCommit(Buffer.from(unsigned));
    assert.equal(c.signature, undefined);
    assert.equal(c.payload.toString('utf8'), unsigned);
    assert.equal(subject(c.message), 'subject line');
  });

  it('inserts a signature where git does, so that parsing gives back the payload and signature', () => {
    const out = addCommitSignature(Buffer.from(unsigned), signature);
    assert.equal(out.toString('utf8'), signed);
    const c = parseCommit(out);
    assert.equal(c.signature, signature);
    assert.equal(c.payload.toString('utf8'), unsigned);
    assert.throws(() => addCommitSignature(out, signature), /already signed/);
  });

  it('keeps the bytes of non-UTF-8 commits and other multi-line headers in the payload', () => {
    const latin = Buffer.concat([
      Buffer.from(
        `tree ${tree}\nauthor J\xf6rg <j@tide.invalid> 1 +0000\ncommitter J <j@tide.invalid> 1 +0000\n`,
        'latin1',
      ),
      Buffer.from('encoding ISO-8859-1\nmergetag object abc\n type commit\n\nm\xe4ssage\n', 'latin1'),
    ]);
    const out = addCommitSignature(latin, signature);
    const c = parseCommit(out);
    assert.ok(c.payload.equals(latin), 'payload is the original bytes');
    // A second-algorithm signature header is not part of the payload either.
    const both = Buffer.from(
      out.toString('latin1').replace('gpgsig ', 'gpgsig-sha256 -----BEGIN PGP SIGNATURE-----\n x\ngpgsig '),
      'latin1',
    );
    assert.ok(parseCommit(both).payload.equals(latin));
  });

  it('parses a signed tag: the signature ends the message, the payload is everything before it', () => {
    const payload = `object ${parent}\ntype commit\ntag v1.0.0\ntagger T <t@tide.invalid> 1700000000 +0000\n\nrelease\n`;
    const t = parseTag(payload + signature);
    assert.equal(t.object, parent);
    assert.equal(t.type, 'commit');
    assert.equal(t.name, 'v1.0.0');
    assert.equal(t.tagger?.email, 't@tide.invalid');
    assert.equal(t.message, 'release\n');
    assert.equal(t.signature, signature);
    assert.equal(t.payload.toString('utf8'), payload);
  });

  it('finds no signature in an unsigned tag, even one quoting an armor line mid-line', () => {
    const payload = `object ${parent}\ntype commit\ntag v1\ntagger T <t@tide.invalid> 1 +0000\n\nsee -----BEGIN PGP SIGNATURE-----\n`;
    const t = parseTag(payload);
    assert.equal(t.signature, undefined);
    assert.equal(t.payload.toString('utf8'), payload);
    const ssh = parseTag(`${payload}-----BEGIN SSH SIGNATURE-----\nU1NIU0lH\n-----END SSH SIGNATURE-----\n`);
    assert.match(ssh.signature ?? '', /^-----BEGIN SSH SIGNATURE-----/);
    assert.equal(ssh.payload.toString('utf8'), payload);
  });
});
