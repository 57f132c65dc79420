// One error class for Helm repository, chart and values work. `code` says what went wrong so that
// reconcilers can pick the condition reason and whether to stall; messages are written for the person
// reading the condition and never contain credentials.

export const HelmErrorCode = {
  /** The URL is not a valid http(s) URL. */
  InvalidUrl: 'InvalidUrl',
  /** DNS failure, refused or reset connection, TLS failure. */
  Unreachable: 'Unreachable',
  Timeout: 'Timeout',
  /** HTTP 401 or 403. */
  AuthenticationFailed: 'AuthenticationFailed',
  /** HTTP 404. */
  NotFound: 'NotFound',
  /** Any other unexpected HTTP status. */
  HttpStatus: 'HttpStatus',
  /** The response or archive is larger than the configured limit. */
  TooLarge: 'TooLarge',
  /** index.yaml is not YAML or not a Helm repository index. */
  InvalidIndex: 'InvalidIndex',
  /** No such chart, or no version matching the range; the spec must change. */
  ChartReference: 'ChartReference',
  /** The downloaded chart does not match the digest in the index. */
  DigestMismatch: 'DigestMismatch',
  /** The archive or directory is not a valid chart. */
  InvalidChart: 'InvalidChart',
  /** A chart dependency is missing or cannot be resolved. */
  Dependency: 'Dependency',
  /** A values file is missing or not a YAML map. */
  ValuesFiles: 'ValuesFiles',
  /** A HelmRelease valuesFrom reference cannot be resolved (object, key, document or targetPath). */
  ValuesReference: 'ValuesReference',
  /** The chart version cannot carry the requested build metadata. */
  Version: 'Version',
} as const;
export type HelmErrorCode = (typeof HelmErrorCode)[keyof typeof HelmErrorCode];

export class HelmError extends Error {
  readonly code: HelmErrorCode;
  /** HTTP status, when the error comes from a response. */
  readonly status: number | undefined;

  constructor(code: HelmErrorCode, message: string, opts: { cause?: unknown; status?: number } = {}) {
    super(message, opts.cause === undefined ? undefined : { cause: opts.cause });
    this.name = 'HelmError';
    this.code = code;
    this.status = opts.status;
  }

  // A prototype marker instead of instanceof, so errors from another copy of this module still match.
  get isHelmError(): true {
    return true;
  }
}

export function isHelmError(e: unknown, code?: HelmErrorCode): e is HelmError {
  return (
    typeof e === 'object' &&
    e !== null &&
    (e as { isHelmError?: unknown }).isHelmError === true &&
    (code === undefined || (e as { code?: unknown }).code === code)
  );
}
