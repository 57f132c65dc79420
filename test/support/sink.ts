// Loopback HTTP servers that stand in for Slack, Teams, GitHub's status API, Alertmanager and other
// notification targets: each records every request it gets and answers what the test says.
import { createServer, type IncomingHttpHeaders } from 'node:http';
import { poll } from '../../hack/testbed/proc.ts';
import { close, listen } from './listen.ts';

export interface Recorded {
  method: string;
  path: string;
  headers: IncomingHttpHeaders;
  body: string;
  /** When it arrived (Date.now()), to order deliveries between sinks. */
  at: number;
  // biome-ignore lint/suspicious/noExplicitAny: payloads are free-form JSON
  json(): any;
}

export interface Answer {
  status: number;
  body?: unknown;
}

export interface Sink {
  /** `http://127.0.0.1:<port>`. */
  url: string;
  requests: Recorded[];
  /** Resolves with the requests so far once `check` holds for them (60 s). */
  until(what: string, check: (requests: Recorded[]) => boolean): Promise<Recorded[]>;
  close(): Promise<void>;
}

/** Starts a sink; `answer` decides each response (200 with no body by default). */
export async function startSink(answer: (r: Recorded) => Answer = () => ({ status: 200 })): Promise<Sink> {
  const requests: Recorded[] = [];
  const server = createServer(async (req, res) => {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const body = Buffer.concat(chunks).toString('utf8');
    const r: Recorded = {
      method: req.method ?? '',
      path: req.url ?? '',
      headers: req.headers,
      body,
      at: Date.now(),
      json: () => JSON.parse(body),
    };
    requests.push(r);
    const a = answer(r);
    const text = a.body === undefined ? '' : typeof a.body === 'string' ? a.body : JSON.stringify(a.body);
    res.writeHead(a.status, { 'content-type': 'application/json' }).end(text);
  });
  const url = `http://${await listen(server)}`;
  return {
    url,
    requests,
    until: (what, check) =>
      poll(what, 60_000, async () => {
        if (check(requests)) return [...requests];
        throw new Error(`${requests.length} requests so far`);
      }),
    close: () => close(server),
  };
}
