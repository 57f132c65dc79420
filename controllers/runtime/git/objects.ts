// Raw Git commit and tag objects (as `git cat-file commit|tag` prints them): their fields, their
// signature and the exact bytes that signature covers, and inserting a signature into a commit.
//
// Bytes matter: a signature covers the object byte for byte, and a commit may carry a non-UTF-8
// `encoding`. Objects are therefore handled as latin1 strings (one character per byte) and only
// the display fields are decoded as UTF-8.

/** Headers git adds for commit signatures (one per hash algorithm); none is part of the payload. */
const signatureHeaders = ['gpgsig', 'gpgsig-sha256'];

/** Armor lines that start a signature at the end of a tag message (PGP, SSH, X.509). */
const signatureStarts = [
  '-----BEGIN PGP SIGNATURE-----',
  '-----BEGIN SSH SIGNATURE-----',
  '-----BEGIN SIGNED MESSAGE-----',
];

export interface Person {
  name: string;
  email: string;
  /** Seconds since the epoch and the `+hhmm` offset, as recorded. */
  when: string;
}

export interface CommitObject {
  tree: string;
  parents: string[];
  author?: Person;
  committer?: Person;
  message: string;
  /** The armored signature (`gpgsig` header), newline-terminated; undefined when unsigned. */
  signature?: string;
  /** The bytes the signature covers: the object without its signature headers. */
  payload: Buffer;
}

export interface TagObject {
  /** The object the tag points at (usually a commit). */
  object: string;
  type: string;
  /** The tag's own name (`tag` header). */
  name: string;
  tagger?: Person;
  message: string;
  /** The armored signature appended to the message; undefined when unsigned. */
  signature?: string;
  /** The bytes the signature covers: the object up to the signature. */
  payload: Buffer;
}

const utf8 = (latin1: string) => Buffer.from(latin1, 'latin1').toString('utf8');

interface Split {
  headers: { key: string; value: string; start: number; end: number }[];
  /** Offset of the message (after the blank line), or the end when there is none. */
  body: number;
  /** Whether a blank line ends the headers. */
  blank: boolean;
}

/** Splits an object into headers (continuation lines joined by "\n") and the message offset. */
function split(raw: string): Split {
  const headers: Split['headers'] = [];
  let pos = 0;
  while (pos < raw.length) {
    const nl = raw.indexOf('\n', pos);
    const end = nl < 0 ? raw.length : nl + 1;
    const line = raw.slice(pos, nl < 0 ? raw.length : nl);
    if (line === '') return { headers, body: end, blank: true };
    const last = headers.at(-1);
    if (line.startsWith(' ') && last) {
      last.value += `\n${line.slice(1)}`;
      last.end = end;
    } else {
      const sp = line.indexOf(' ');
      headers.push({
        key: sp < 0 ? line : line.slice(0, sp),
        value: sp < 0 ? '' : line.slice(sp + 1),
        start: pos,
        end,
      });
    }
    pos = end;
  }
  return { headers, body: raw.length, blank: false };
}

/** `Name <email> 1700000000 +0000` → its parts. */
export function parsePerson(value: string): Person | undefined {
  const m = /^(.*?) ?<([^>]*)> ?(.*)$/.exec(value);
  if (!m) return undefined;
  return { name: utf8(m[1] ?? ''), email: utf8(m[2] ?? ''), when: m[3] ?? '' };
}

const header = (s: Split, key: string) => s.headers.find((h) => h.key === key)?.value;

/** Parses a raw commit object. */
export function parseCommit(object: Uint8Array | string): CommitObject {
  const raw = typeof object === 'string' ? object : Buffer.from(object).toString('latin1');
  const s = split(raw);
  const sig = s.headers.find((h) => h.key === 'gpgsig');
  let payload = '';
  let pos = 0;
  for (const h of s.headers) {
    if (!signatureHeaders.includes(h.key)) continue;
    payload += raw.slice(pos, h.start);
    pos = h.end;
  }
  payload += raw.slice(pos);
  const author = header(s, 'author');
  const committer = header(s, 'committer');
  return {
    tree: header(s, 'tree') ?? '',
    parents: s.headers.filter((h) => h.key === 'parent').map((h) => h.value),
    author: author === undefined ? undefined : parsePerson(author),
    committer: committer === undefined ? undefined : parsePerson(committer),
    message: utf8(raw.slice(s.body)),
    signature: sig ? `${sig.value}\n` : undefined,
    payload: Buffer.from(payload, 'latin1'),
  };
}

/** Parses a raw (annotated) tag object. */
export function parseTag(object: Uint8Array | string): TagObject {
  const raw = typeof object === 'string' ? object : Buffer.from(object).toString('latin1');
  const s = split(raw);
  // As git: the signature starts at the last line that opens an armored signature block.
  let sigAt = -1;
  for (let pos = s.body; pos < raw.length; ) {
    if (signatureStarts.some((start) => raw.startsWith(start, pos))) sigAt = pos;
    const nl = raw.indexOf('\n', pos);
    pos = nl < 0 ? raw.length : nl + 1;
  }
  const end = sigAt < 0 ? raw.length : sigAt;
  const tagger = header(s, 'tagger');
  return {
    object: header(s, 'object') ?? '',
    type: header(s, 'type') ?? '',
    name: utf8(header(s, 'tag') ?? ''),
    tagger: tagger === undefined ? undefined : parsePerson(tagger),
    message: utf8(raw.slice(s.body, end)),
    signature: sigAt < 0 ? undefined : raw.slice(sigAt),
    payload: Buffer.from(raw.slice(0, end), 'latin1'),
  };
}

/**
 * Adds a `gpgsig` header carrying `signature` to an unsigned raw commit, at the end of its headers
 * (where git puts it), each signature line after the first indented by one space.
 */
export function addCommitSignature(object: Uint8Array | string, signature: string): Buffer {
  const raw = typeof object === 'string' ? object : Buffer.from(object).toString('latin1');
  const s = split(raw);
  if (s.headers.some((h) => signatureHeaders.includes(h.key)))
    throw new Error('the commit is already signed');
  const lines = signature.replace(/\n$/, '').split('\n');
  const value = `gpgsig ${lines.join('\n ')}\n`;
  const at = s.blank ? s.body - 1 : raw.length;
  return Buffer.from(raw.slice(0, at) + value + raw.slice(at), 'latin1');
}

/** The subject (first line) of a message. */
export const subject = (message: string) => message.split('\n', 1)[0] ?? '';
