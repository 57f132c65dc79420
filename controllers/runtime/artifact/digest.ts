// Artifact digests in the `<algorithm>:<hex>` form of Flux (opencontainers/go-digest). sha256 is the
// canonical algorithm (`--artifact-digest-algo=sha256`); sha384 and sha512 are accepted when verifying.

import { createHash, type Hash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { ArtifactError } from './errors.ts';

export const CANONICAL_ALGORITHM = 'sha256';

const HEX_LENGTH: Record<string, number> = { sha256: 64, sha384: 96, sha512: 128 };

export interface ParsedDigest {
  algorithm: string;
  hex: string;
}

/** Parses `sha256:<hex>`; a bare hex string means sha256 (as Flux's fetcher). Throws on anything else. */
export function parseDigest(digest: string): ParsedDigest {
  const i = digest.indexOf(':');
  const algorithm = i < 0 ? CANONICAL_ALGORITHM : digest.slice(0, i);
  const hex = i < 0 ? digest : digest.slice(i + 1);
  const len = HEX_LENGTH[algorithm];
  if (len === undefined)
    throw new ArtifactError('InvalidDigest', `unsupported digest algorithm in '${digest}'`);
  if (hex.length !== len || !/^[0-9a-f]+$/.test(hex)) {
    throw new ArtifactError('InvalidDigest', `malformed ${algorithm} digest '${digest}'`);
  }
  return { algorithm, hex };
}

export function formatDigest(algorithm: string, hash: Hash): string {
  return `${algorithm}:${hash.digest('hex')}`;
}

export function newHash(algorithm: string = CANONICAL_ALGORITHM): Hash {
  return createHash(algorithm);
}

/** Streams a file through the hash; returns `<algorithm>:<hex>`. */
export async function digestFile(path: string, algorithm: string = CANONICAL_ALGORITHM): Promise<string> {
  const hash = createHash(algorithm);
  for await (const chunk of createReadStream(path)) hash.update(chunk as Buffer);
  return formatDigest(algorithm, hash);
}
