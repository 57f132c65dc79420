// Typed failures of the OCI client. Controllers map them to reconcile outcomes (a bad reference or
// refused credentials stall; a network failure retries). Messages never carry credentials or tokens.

export type OciErrorCode =
  | 'InvalidReference'
  | 'InvalidCredentials'
  | 'NotFound'
  | 'Unauthorized'
  | 'DigestMismatch'
  | 'SizeLimit'
  | 'UnsupportedMediaType'
  | 'InvalidManifest'
  | 'Registry'
  | 'Network';

export class OciError extends Error {
  readonly code: OciErrorCode;

  constructor(code: OciErrorCode, message: string, opts?: { cause?: unknown }) {
    super(message, opts);
    this.name = 'OciError';
    this.code = code;
  }

  // A prototype marker instead of instanceof, so errors from another copy of this module still match.
  get isOciError(): true {
    return true;
  }
}

/** A malformed `oci://` URL, image reference, tag, digest or semver range: the spec must change. */
export class OciReferenceError extends OciError {
  constructor(message: string) {
    super('InvalidReference', message);
    this.name = 'OciReferenceError';
  }
}

/** A pull secret that cannot be used (missing key, bad JSON, bad `auth`). Names the secret, never its data. */
export class OciCredentialsError extends OciError {
  constructor(message: string) {
    super('InvalidCredentials', message);
    this.name = 'OciCredentialsError';
  }
}

export type NotFoundSubject = 'repository' | 'tag' | 'manifest' | 'blob' | 'semver' | 'layer' | 'platform';

/** The registry (or the artifact) has no such thing: a tag, digest, repository, semver match or layer. */
export class OciNotFoundError extends OciError {
  readonly subject: NotFoundSubject;

  constructor(subject: NotFoundSubject, message: string) {
    super('NotFound', message);
    this.name = 'OciNotFoundError';
    this.subject = subject;
  }
}

/** 401/403: anonymous access refused, credentials refused, or not allowed for this repository. */
export class OciAuthError extends OciError {
  readonly status: number;

  constructor(status: number, message: string) {
    super('Unauthorized', message);
    this.name = 'OciAuthError';
    this.status = status;
  }
}

/** Content whose digest is not the one asked for (or announced): never used. */
export class OciDigestMismatchError extends OciError {
  readonly expected: string;
  readonly actual: string;

  constructor(what: string, expected: string, actual: string) {
    super('DigestMismatch', `${what}: digest mismatch: expected ${expected}, got ${actual}`);
    this.name = 'OciDigestMismatchError';
    this.expected = expected;
    this.actual = actual;
  }
}

export class OciSizeLimitError extends OciError {
  readonly limit: number;

  constructor(what: string, limit: number, size?: number) {
    super(
      'SizeLimit',
      `${what} exceeds the size limit of ${limit} bytes${size === undefined ? '' : ` (size ${size})`}`,
    );
    this.name = 'OciSizeLimitError';
    this.limit = limit;
  }
}

/** Any other registry answer: the HTTP status and the registry's error codes (`MANIFEST_INVALID`, …). */
export class OciRegistryError extends OciError {
  readonly status: number;
  readonly registryCodes: string[];

  constructor(
    message: string,
    status: number,
    registryCodes: string[] = [],
    code: OciErrorCode = 'Registry',
  ) {
    super(code, message);
    this.name = 'OciRegistryError';
    this.status = status;
    this.registryCodes = registryCodes;
  }
}

export function isOciError(e: unknown, code?: OciErrorCode): e is OciError {
  if (typeof e !== 'object' || e === null || (e as { isOciError?: unknown }).isOciError !== true)
    return false;
  return code === undefined || (e as OciError).code === code;
}
