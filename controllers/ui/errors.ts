// Errors the dashboard's API answers with: an HTTP status and a message the page shows as it is. An
// API server refusal keeps its status (403 stays 403) and its own message, without the client's
// `METHOD /path:` prefix.
import type { IncomingMessage } from 'node:http';
import { isApiError } from '../runtime/client.ts';
import { BodyTooLargeError, readBody } from '../runtime/httpbody.ts';

export class UiError extends Error {
  override name = 'UiError';
  readonly status: number;
  constructor(status: number, message: string) {
    super(message);
    this.status = status;
  }
  get isUiError(): true {
    return true;
  }
}

const isUiError = (err: unknown): err is UiError => (err as UiError | undefined)?.isUiError === true;

/** The API server's message of an ApiError (its Status message), else the error's message. */
export function apiMessage(err: unknown): string {
  const msg = err instanceof Error ? err.message : String(err);
  if (!isApiError(err)) return msg;
  if (err.status === 0) return `unable to reach the Kubernetes API server: ${msg.replace(/^\S+ \S+: /, '')}`;
  return msg.replace(/^[A-Z]+ \S+: \d{3} /, '');
}

/** The status and message to answer for any error. */
export function problemOf(err: unknown): { status: number; message: string } {
  if (isUiError(err)) return { status: err.status, message: err.message };
  if (isApiError(err)) return { status: err.status === 0 ? 502 : err.status, message: apiMessage(err) };
  return { status: 500, message: err instanceof Error ? err.message : String(err) };
}

/** The request body, or UiError 413 once it exceeds `max` bytes (the rest is not read). */
export async function readBodyOr413(req: IncomingMessage, max: number): Promise<Buffer> {
  try {
    return await readBody(req, max);
  } catch (err) {
    if (err instanceof BodyTooLargeError) throw new UiError(413, err.message);
    throw err;
  }
}
