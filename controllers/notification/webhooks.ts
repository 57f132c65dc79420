// Authenticating a webhook call by Receiver type (Flux internal/server/receiver_handlers.go validate):
// HMAC signatures (GitHub and Bitbucket Server X-Hub-Signature[-256], generic-hmac X-Signature, Nexus
// X-Nexus-Webhook-Signature), shared tokens in headers (GitLab, Harbor), Google-signed ID tokens (GCR),
// or the secret webhook path alone (generic, Quay, Docker Hub, ACR, CDEvents, whose payloads must
// parse). Every comparison of a secret is constant-time. Failures throw; nothing else happens.
import { createHmac, timingSafeEqual } from 'node:crypto';
import type { IncomingHttpHeaders } from 'node:http';
import type { GcrVerifier } from './gcr.ts';

export interface WebhookCall {
  headers: IncomingHttpHeaders;
  body: Buffer;
}

export interface WebhookAuth {
  type: string;
  /** The Secret's `token`. */
  token: string;
  /** The whole Secret, for types needing more keys (gcr: `email`, `audience`). */
  secret: Record<string, Buffer>;
  /** spec.events: accepted event types, compared case-insensitively; all when empty. */
  events: readonly string[];
  gcr: GcrVerifier;
}

export interface Accepted {
  /** What the resource filters see as `req` when it is JSON (gcr: the unwrapped event). */
  body: Buffer;
  /** For the log line: the event type or origin. */
  note: string;
}

const header = (h: IncomingHttpHeaders, name: string): string => {
  const v = h[name.toLowerCase()];
  return (Array.isArray(v) ? v[0] : v) ?? '';
};

/** Constant-time equality of two strings (the length still shows, as with any MAC comparison). */
export function safeEqual(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

const algorithms: Record<string, string> = { sha1: 'sha1', sha256: 'sha256', sha512: 'sha512' };

/** Checks `<algorithm>=<hex HMAC of the body>` (GitHub's ValidateSignature). */
export function verifySignature(signature: string, body: Buffer, key: string): void {
  if (!signature) throw new Error('missing signature');
  const eq = signature.indexOf('=');
  const algorithm = algorithms[signature.slice(0, eq)];
  if (eq < 0 || !algorithm) throw new Error(`unsupported signature '${signature.split('=')[0]}'`);
  if (!key) throw new Error('the Secret token is empty');
  const expected = createHmac(algorithm, key).update(body).digest('hex');
  if (!safeEqual(signature.slice(eq + 1).toLowerCase(), expected))
    throw new Error('payload signature check failed');
}

function allowEvent(event: string, auth: WebhookAuth, who: string): void {
  if (auth.events.length === 0) return;
  if (!auth.events.some((e) => e.toLowerCase() === event.toLowerCase()))
    throw new Error(`the ${who} event '${event}' is not authorised`);
}

function json<T>(body: Buffer, what: string): T {
  try {
    return JSON.parse(body.toString('utf8')) as T;
  } catch (err) {
    throw new Error(`cannot decode ${what} webhook payload: ${(err as Error).message}`);
  }
}

/** GitHub's ValidatePayload: the signature over the raw body; JSON or form-encoded `payload`. */
function githubPayload(call: WebhookCall, token: string): Buffer {
  const sig = header(call.headers, 'x-hub-signature-256') || header(call.headers, 'x-hub-signature');
  verifySignature(sig, call.body, token);
  const type = header(call.headers, 'content-type').split(';')[0]?.trim().toLowerCase();
  if (type === 'application/json') return call.body;
  if (type === 'application/x-www-form-urlencoded')
    return Buffer.from(new URLSearchParams(call.body.toString('utf8')).get('payload') ?? '');
  throw new Error(`webhook request has unsupported Content-Type '${type}'`);
}

const validators: Record<string, (call: WebhookCall, auth: WebhookAuth) => Promise<Accepted> | Accepted> = {
  generic: (call) => ({ body: call.body, note: 'generic' }),
  'generic-hmac': (call, auth) => {
    verifySignature(header(call.headers, 'x-signature'), call.body, auth.token);
    return { body: call.body, note: 'generic-hmac' };
  },
  github: (call, auth) => {
    const body = githubPayload(call, auth.token);
    const event = header(call.headers, 'x-github-event');
    allowEvent(event, auth, 'GitHub');
    return { body, note: `GitHub event: ${event}` };
  },
  bitbucket: (call, auth) => {
    const body = githubPayload(call, auth.token);
    const event = header(call.headers, 'x-event-key');
    allowEvent(event, auth, 'Bitbucket server');
    return { body, note: `Bitbucket server event: ${event}` };
  },
  gitlab: (call, auth) => {
    if (!safeEqual(header(call.headers, 'x-gitlab-token'), auth.token))
      throw new Error('the X-Gitlab-Token header value does not match the receiver token');
    const event = header(call.headers, 'x-gitlab-event');
    allowEvent(event, auth, 'GitLab');
    return { body: call.body, note: `GitLab event: ${event}` };
  },
  harbor: (call, auth) => {
    if (!safeEqual(header(call.headers, 'authorization'), auth.token))
      throw new Error('the Harbor Authorization header value does not match the receiver token');
    return { body: call.body, note: 'Harbor event' };
  },
  quay: (call) => {
    const p = json<{ docker_url?: string }>(call.body, 'Quay');
    return { body: call.body, note: `Quay event from ${p?.docker_url ?? ''}` };
  },
  dockerhub: (call) => {
    const p = json<{ push_data?: { tag?: string }; repository?: { repo_url?: string } }>(
      call.body,
      'DockerHub',
    );
    return {
      body: call.body,
      note: `DockerHub event from ${p?.repository?.repo_url} for tag ${p?.push_data?.tag}`,
    };
  },
  acr: (call) => {
    const p = json<{ target?: { repository?: string; tag?: string } }>(call.body, 'ACR');
    return { body: call.body, note: `ACR event from ${p?.target?.repository} for tag ${p?.target?.tag}` };
  },
  nexus: (call, auth) => {
    const signature = header(call.headers, 'x-nexus-webhook-signature');
    if (!signature) throw new Error('the Nexus signature is missing from header');
    if (!auth.token) throw new Error('the Secret token is empty');
    const expected = createHmac('sha1', auth.token).update(call.body).digest('hex');
    if (!safeEqual(signature, expected)) throw new Error('invalid Nexus signature');
    const p = json<{ repositoryName?: string }>(call.body, 'Nexus');
    return { body: call.body, note: `Nexus event from ${p?.repositoryName}` };
  },
  cdevents: (call, auth) => {
    const event = header(call.headers, 'ce-type');
    const e = json<{ context?: Record<string, unknown>; subject?: Record<string, unknown> }>(
      call.body,
      'CDEvent',
    );
    const missing = ['id', 'source', 'type', 'timestamp'].filter((k) => typeof e?.context?.[k] !== 'string');
    if (missing.length > 0 || typeof e?.subject !== 'object' || e.subject === null)
      throw new Error(
        `unable to validate CDEvent event: missing ${missing.length ? `context.${missing.join(', context.')}` : 'subject'}`,
      );
    if (!/^dev\.cdevents\.[a-z]+\.[a-z]+\.\d+\.\d+\.\d+/.test(String(e.context?.type)))
      throw new Error(`unable to validate CDEvent event: unknown type '${String(e.context?.type)}'`);
    allowEvent(event, auth, 'CDEvent');
    return { body: call.body, note: `CDEvent: ${event}` };
  },
  gcr: async (call, auth) => {
    const email = auth.secret.email?.toString('utf8');
    const audience = auth.secret.audience?.toString('utf8');
    if (!email) throw new Error("invalid secret data: required field 'email' for GCR receiver");
    if (!audience) throw new Error("invalid secret data: required field 'audience' for GCR receiver");
    await auth.gcr.verify(header(call.headers, 'authorization'), email, audience);
    const p = json<{ message?: { data?: string } }>(call.body, 'GCR');
    const inner = Buffer.from(p?.message?.data ?? '', 'base64');
    const d = json<{ action?: string; digest?: string; tag?: string }>(inner, 'GCR');
    // The resource filters see the unwrapped registry event, as in Flux.
    const unwrapped = Buffer.from(JSON.stringify({ action: d?.action, digest: d?.digest, tag: d?.tag }));
    return { body: unwrapped, note: `GCR event from ${d?.digest} for tag ${d?.tag}` };
  },
};

/** Receiver types Tide can authenticate. */
export const webhookTypes: readonly string[] = Object.keys(validators);

/** Authenticates the call; throws with the reason (answered 400, logged) when it is refused. */
export async function validateWebhook(call: WebhookCall, auth: WebhookAuth): Promise<Accepted> {
  const validate = validators[auth.type];
  if (!validate) throw new Error(`receiver type '${auth.type}' not supported`);
  return validate(call, auth);
}
