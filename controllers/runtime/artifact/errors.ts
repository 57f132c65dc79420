// Typed failures of the artifact machinery, so consumers can branch on the cause (a missing artifact is
// retried later, a digest mismatch or an unsafe archive is not) without parsing messages.

export type ArtifactErrorCode =
  | 'ArtifactNotFound'
  | 'DigestMismatch'
  | 'InvalidDigest'
  | 'SizeLimitExceeded'
  | 'UnsafeArchive'
  | 'FetchFailed'
  | 'InvalidPath';

export class ArtifactError extends Error {
  readonly code: ArtifactErrorCode;

  constructor(code: ArtifactErrorCode, message: string, opts?: { cause?: unknown }) {
    super(message, opts);
    this.name = 'ArtifactError';
    this.code = code;
  }

  // A marker instead of instanceof, so errors from another copy of this module still match.
  get isArtifactError(): true {
    return true;
  }
}

/** The artifact server answered 404 (Flux's ErrFileNotFound): the source has not produced it yet, or GC removed it. */
export class ArtifactNotFoundError extends ArtifactError {
  readonly url: string;

  constructor(url: string) {
    super('ArtifactNotFound', `artifact not found: ${url}`);
    this.name = 'ArtifactNotFoundError';
    this.url = url;
  }
}

export class DigestMismatchError extends ArtifactError {
  readonly expected: string;
  readonly actual: string;

  constructor(expected: string, actual: string) {
    super('DigestMismatch', `computed digest ${actual} does not match expected ${expected}`);
    this.name = 'DigestMismatchError';
    this.expected = expected;
    this.actual = actual;
  }
}

export class SizeLimitError extends ArtifactError {
  readonly limit: number;

  constructor(what: 'download' | 'extracted', limit: number) {
    super('SizeLimitExceeded', `artifact ${what} size exceeds the limit of ${limit} bytes`);
    this.name = 'SizeLimitError';
    this.limit = limit;
  }
}

/** An archive entry that would escape the target directory or is of a forbidden type (device, FIFO...). */
export class UnsafeArchiveError extends ArtifactError {
  readonly entry: string;

  constructor(entry: string, reason: string) {
    super('UnsafeArchive', `refusing archive entry ${JSON.stringify(entry)}: ${reason}`);
    this.name = 'UnsafeArchiveError';
    this.entry = entry;
  }
}

export function isArtifactError(e: unknown): e is ArtifactError {
  return (
    typeof e === 'object' &&
    e !== null &&
    (e as { isArtifactError?: unknown }).isArtifactError === true &&
    typeof (e as { code?: unknown }).code === 'string'
  );
}
