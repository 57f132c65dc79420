// Hostile HTTP clients on raw sockets, for the abuse tests: a client that streams a huge body, one that
// trickles its headers (slow loris), and one that sends a request line exactly as written (no URL
// normalization, unlike fetch).

import { connect, type Socket } from 'node:net';
import { connect as tlsConnect } from 'node:tls';

export interface Target {
  port: number;
  host?: string;
  /** Speak TLS (certificate not verified: the gateway's is self-signed). */
  tls?: boolean;
}

const open = (t: Target): Socket =>
  t.tls
    ? tlsConnect({ port: t.port, host: t.host ?? '127.0.0.1', rejectUnauthorized: false })
    : connect(t.port, t.host ?? '127.0.0.1');

/** The status of a raw HTTP response text, or 0 when none arrived. */
export const statusOf = (response: string): number => Number(/^HTTP\/1\.1 (\d{3})/.exec(response)?.[1] ?? 0);

export interface StreamResult {
  /** The status the server answered with, 0 when none arrived. */
  status: number;
  response: string;
  /** Body bytes the client got to send before the server ended the connection. */
  sent: number;
}

/**
 * POSTs a chunked body of `total` bytes as fast as the server takes it, reading whatever the server
 * answers meanwhile; resolves when the server closes the connection or the whole body is sent and
 * answered.
 */
export function streamBody(
  t: Target,
  path: string,
  total: number,
  headers: Record<string, string> = {},
): Promise<StreamResult> {
  return new Promise((resolve) => {
    let sent = 0;
    let response = '';
    let done = false;
    const s = open(t);
    const finish = () => {
      if (done) return;
      done = true;
      s.destroy();
      resolve({ status: statusOf(response), response, sent });
    };
    s.on('data', (d: Buffer) => {
      response += d.toString('latin1');
    });
    s.on('error', finish);
    s.on('close', finish);
    s.on('end', finish);
    const extra = Object.entries(headers)
      .map(([k, v]) => `${k}: ${v}\r\n`)
      .join('');
    s.write(
      `POST ${path} HTTP/1.1\r\nhost: 127.0.0.1:${t.port}\r\ntransfer-encoding: chunked\r\n${extra}\r\n`,
    );
    const chunk = Buffer.alloc(64 * 1024, 'a');
    const framed = Buffer.concat([
      Buffer.from(`${chunk.length.toString(16)}\r\n`),
      chunk,
      Buffer.from('\r\n'),
    ]);
    const pump = () => {
      while (!done && sent < total) {
        sent += chunk.length;
        if (!s.write(framed)) {
          s.once('drain', pump);
          return;
        }
      }
      if (!done) s.write('0\r\n\r\n');
    };
    pump();
  });
}

/** Sends `raw` bytes as they are and resolves with everything the server answers until it closes. */
export function rawRequest(t: Target, raw: string): Promise<{ status: number; response: string }> {
  return new Promise((resolve) => {
    let response = '';
    const s = open(t);
    s.on('data', (d: Buffer) => {
      response += d.toString('latin1');
    });
    const finish = () => resolve({ status: statusOf(response), response });
    s.on('close', finish);
    s.on('error', () => undefined);
    s.write(raw);
  });
}

/** One request over a fresh connection that the client closes after the answer (Connection: close). */
export function request(
  t: Target,
  method: string,
  path: string,
  body = '',
  headers: Record<string, string> = {},
): Promise<{ status: number; response: string }> {
  const all = { 'content-length': String(Buffer.byteLength(body)), ...headers };
  const lines = Object.entries(all)
    .map(([k, v]) => `${k}: ${v}\r\n`)
    .join('');
  return rawRequest(
    t,
    `${method} ${path} HTTP/1.1\r\nhost: 127.0.0.1:${t.port}\r\nconnection: close\r\n${lines}\r\n${body}`,
  );
}

/**
 * A slow-loris client: sends the request line and then one header byte every `everyMs`, never finishing
 * the headers. Resolves with what the server answered (Node answers 408) once it drops the connection.
 */
export function slowLoris(
  t: Target,
  everyMs = 500,
): Promise<{ status: number; response: string; bytes: number }> {
  return new Promise((resolve) => {
    let response = '';
    let bytes = 0;
    const s = open(t);
    s.write(`GET / HTTP/1.1\r\nhost: 127.0.0.1:${t.port}\r\nx-slow: `);
    const timer = setInterval(() => {
      if (s.writable) {
        s.write('a');
        bytes++;
      }
    }, everyMs);
    s.on('data', (d: Buffer) => {
      response += d.toString('latin1');
    });
    s.on('error', () => undefined);
    s.on('close', () => {
      clearInterval(timer);
      resolve({ status: statusOf(response), response, bytes });
    });
  });
}

/** The resident set size of a process in bytes (Linux), as `ps` shows it. */
export async function rssOf(pid: number): Promise<number> {
  const { readFile } = await import('node:fs/promises');
  const status = await readFile(`/proc/${pid}/status`, 'utf8');
  const kb = Number(/^VmRSS:\s+(\d+) kB/m.exec(status)?.[1]);
  return kb * 1024;
}
