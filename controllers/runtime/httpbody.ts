// Request bodies read under a size limit, for every Tide server that takes one (the event intake, the
// webhook receiver, the dashboard, the helm API gateway). A body over the limit is refused as soon as
// it is known to be: from Content-Length, or at the first chunk past the limit; the rest is never
// buffered, and the connection is closed once the refusal is sent, so a client cannot keep streaming.
import type { IncomingMessage, ServerResponse } from 'node:http';

export class BodyTooLargeError extends Error {
  override name = 'BodyTooLargeError';
  readonly status = 413;
  constructor(max: number) {
    super(`request body exceeds the maximum size of ${max} bytes`);
  }
}

/**
 * The whole body, or BodyTooLargeError as soon as it exceeds `max` bytes. Unlike iterating the request,
 * a refusal does not destroy the socket: the caller can still answer 413 (see closeAfter).
 */
export function readBody(req: IncomingMessage, max: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    if (Number(req.headers['content-length']) > max) {
      req.pause();
      reject(new BodyTooLargeError(max));
      return;
    }
    const chunks: Buffer[] = [];
    let size = 0;
    const cleanup = () => {
      req.off('data', onData);
      req.off('end', onEnd);
      req.off('error', onError);
      req.off('aborted', onAborted);
    };
    const onData = (chunk: Buffer) => {
      size += chunk.length;
      if (size <= max) {
        chunks.push(chunk);
        return;
      }
      cleanup();
      chunks.length = 0;
      req.pause();
      reject(new BodyTooLargeError(max));
    };
    const onEnd = () => {
      cleanup();
      resolve(Buffer.concat(chunks));
    };
    const onError = (err: Error) => {
      cleanup();
      reject(err);
    };
    const onAborted = () => onError(new Error('request aborted'));
    req.on('data', onData);
    req.on('end', onEnd);
    req.on('error', onError);
    req.on('aborted', onAborted);
  });
}

/** How long, and how many more bytes, a refused upload is read and dropped before the connection ends. */
const lingerMs = 1000;
const lingerBytes = 4 * 1024 * 1024;

/**
 * Marks the answer as the connection's last and ends the connection once it is sent. Closing a socket
 * with unread bytes makes the kernel send a reset, which can destroy the answer before the client reads
 * it; so, as Go's net/http does, the write side is shut first and what still arrives is dropped unread,
 * for at most a second or 4 MiB, before the socket is destroyed (in place of Node's immediate close).
 */
export function closeAfter(req: IncomingMessage, res: ServerResponse): void {
  if (!res.headersSent) res.setHeader('connection', 'close');
  const socket = req.socket;
  socket.destroySoon = () => {
    let dropped = 0;
    const timer = setTimeout(() => socket.destroy(), lingerMs);
    timer.unref();
    socket.once('close', () => clearTimeout(timer));
    req.on('data', (chunk: Buffer) => {
      dropped += chunk.length;
      if (dropped > lingerBytes) socket.destroy();
    });
    req.resume();
    socket.end();
  };
}
