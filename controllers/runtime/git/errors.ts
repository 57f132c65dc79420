// Typed Git failures with messages a person can act on, and the scrubbing that keeps credentials out
// of them. Kinds are decided from git's own stderr (run with LC_ALL=C, so the texts are stable).

export const GitErrorKind = {
  /** The repository, ref, tag or commit does not exist (or is not visible with these credentials). */
  NotFound: 'NotFound',
  /** The server refused the credentials, or none were given where some are needed. */
  Auth: 'Auth',
  /** The server's identity could not be verified: SSH host key unknown/changed, TLS certificate invalid. */
  HostKey: 'HostKey',
  /** No connection: DNS, refused, no route. */
  Unreachable: 'Unreachable',
  /** The operation ran past its deadline and was killed. */
  Timeout: 'Timeout',
  /** The request itself is wrong: bad URL, incomplete secret, malformed ref or semver range. */
  Invalid: 'Invalid',
  /** The checkout or the fetched objects exceed the size limit. */
  TooLarge: 'TooLarge',
  /**
   * A push was refused because the remote branch moved (non-fast-forward, fetch first, stale info):
   * fetch, reapply and push again.
   */
  Rejected: 'Rejected',
  /** Changes could not be applied on top of others (rebase, revert): the work tree is left as before. */
  Conflict: 'Conflict',
  Other: 'Other',
} as const;
export type GitErrorKind = (typeof GitErrorKind)[keyof typeof GitErrorKind];

export class GitError extends Error {
  readonly kind: GitErrorKind;

  constructor(kind: GitErrorKind, message: string) {
    super(message);
    this.name = 'GitError';
    this.kind = kind;
  }

  // A prototype marker instead of instanceof, so errors from another copy of this module still match.
  get isGitError(): true {
    return true;
  }
}

export function isGitError(err: unknown): err is GitError {
  return (err as { isGitError?: unknown } | null)?.isGitError === true;
}

// HTTP userinfo may be a token even without a colon; an SSH user name is no secret, a password is.
const httpUserinfo = /\b(https?:\/\/)[^\s/?#@]*@/gi;
const password = /\b([a-z][a-z0-9+.-]*:\/\/[^\s/?#@:]*):[^\s/?#@]*@/gi;
const authHeader = /(authorization:\s*(?:basic|bearer|token)?\s*)\S+/gi;

/**
 * Removes credentials from text: every given secret (and each of its lines, for multi-line keys),
 * HTTP userinfo (`https://user:pass@host` → `https://***@host`), passwords in other URLs
 * (`ssh://git:pw@host` → `ssh://git:***@host`) and Authorization header values.
 */
export function scrub(text: string, secrets: readonly string[] = []): string {
  let out = text;
  const pieces = new Set<string>();
  for (const s of secrets) {
    if (!s) continue;
    pieces.add(s);
    for (const line of s.split(/\r?\n/)) if (line.trim().length >= 8) pieces.add(line.trim());
  }
  // Longest first, so a secret that contains another is removed whole.
  for (const p of [...pieces].sort((a, b) => b.length - a.length)) out = out.split(p).join('***');
  return out.replace(httpUserinfo, '$1***@').replace(password, '$1:***@').replace(authHeader, '$1***');
}

interface Rule {
  kind: GitErrorKind;
  test: RegExp;
  /** Appended to git's words, to say what to check. */
  hint?: string;
  /** Replaces git's words when they would mislead (git asking for a username it may not use). */
  detail?: (credentialsGiven: boolean) => string;
}

// Checked in order: the first match decides. Host key problems come before auth ones because ssh
// prints both "Host key verification failed" and git's generic "Could not read from remote" text.
const rules: Rule[] = [
  {
    kind: 'HostKey',
    test: /REMOTE HOST IDENTIFICATION HAS CHANGED|Host key verification failed|host key is known for|Host key for .* has changed/i,
    hint: 'check known_hosts',
  },
  {
    kind: 'HostKey',
    test: /SSL certificate problem|server certificate verification failed|certificate verify failed|unable to get local issuer certificate/i,
    hint: 'check ca.crt',
  },
  {
    kind: 'Auth',
    test: /returned error: 407|Received HTTP code 407|CONNECT tunnel failed, response 407|Proxy Authentication Required/i,
    hint: 'the proxy refused the credentials: check the proxy Secret',
  },
  {
    kind: 'Auth',
    test: /Permission denied \(|Permission denied, please try again|Too many authentication failures/i,
    hint: 'check that the server accepts the identity key',
  },
  {
    // After a 401 git asks for a username, which is disabled: the credentials were wrong or missing.
    kind: 'Auth',
    test: /could not read (Username|Password)|terminal prompts disabled/i,
    detail: (given) =>
      given
        ? 'authentication failed: the server rejected the credentials (check username and password, or bearerToken)'
        : 'authentication required: the server asks for credentials and none were given',
  },
  {
    kind: 'Auth',
    test: /Authentication failed|returned error: 40[13]|HTTP 40[13]|\b403 Forbidden|access denied|not authorized/i,
    hint: 'check username and password, or bearerToken',
  },
  {
    kind: 'Unreachable',
    test: /Could not resolve host|Could not resolve hostname|Name or service not known|Temporary failure in name resolution|Connection refused|Failed to connect to|Couldn't connect to server|No route to host|Network is unreachable|Connection timed out|Connection reset by peer|Connection closed by|kex_exchange_identification|Empty reply from server|Operation timed out/i,
  },
  {
    kind: 'NotFound',
    test: /couldn't find remote ref|Remote branch .* not found|repository '.*' not found|does not appear to be a git repository|returned error: 404|HTTP 404|not our ref|unadvertised object|no such remote ref|not a valid object name|reference is not a tree|unable to read tree/i,
  },
];

// Lines that say nothing beyond the main error.
const noise = [
  /^(fatal: )?Could not read from remote repository\.?$/i,
  /^Please make sure you have the correct access rights/i,
  /^and the repository exists\.?$/i,
  /^@+$/,
  /^hint:/i,
  /^(warning: )?redirecting to/i,
];

/** The relevant lines of git's stderr, prefixes like `fatal:` removed, joined by "; ". */
export function summarizeStderr(stderr: string): string {
  const all = stderr
    .split(/\r?\n/)
    .map((l) => l.trim())
    .filter(Boolean);
  const meaningful = all.filter((l) => !noise.some((n) => n.test(l)));
  const lines = meaningful.length > 0 ? meaningful : all;
  // ssh's host key warning is a dozen lines; keep only its verdict.
  const verdict = lines.filter((l) =>
    /has changed and you have requested|host key is known for|verification failed/i.test(l),
  );
  const chosen = verdict.length > 0 ? verdict : lines;
  return chosen
    .map((l) => l.replace(/^(fatal|error|remote|ssh):\s*/i, ''))
    .slice(-4)
    .join('; ');
}

/** Decides the kind of a failed git command from its stderr. */
export function classifyStderr(stderr: string): GitErrorKind {
  return rules.find((r) => r.test.test(stderr))?.kind ?? 'Other';
}

export interface FailureContext {
  /** Strings to scrub from the message. */
  secrets?: readonly string[];
  /** Whether credentials were sent, so an authentication failure can say which case it is. */
  credentialsGiven?: boolean;
}

/**
 * Builds the GitError for a failed git command: `what` says what was attempted (e.g. "unable to
 * fetch 'refs/heads/main' from https://host/repo"), then git's own words, scrubbed.
 */
export function gitFailure(what: string, stderr: string, ctx: FailureContext = {}): GitError {
  const rule = rules.find((r) => r.test.test(stderr));
  const detail =
    rule?.detail?.(ctx.credentialsGiven ?? false) ??
    (summarizeStderr(stderr) || 'git failed without a message');
  const hint = rule?.hint ? ` (${rule.hint})` : '';
  return new GitError(rule?.kind ?? 'Other', scrub(`${what}: ${detail}${hint}`, ctx.secrets));
}
