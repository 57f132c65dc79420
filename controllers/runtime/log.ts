// JSON-lines logger in the shape Flux controllers print (zap JSON): level, ts, msg, then fields.
// Callers use the Flux keys: controller, kind, name, namespace, revision, reconcileID.

export type LogLevel = 'debug' | 'info' | 'error';

export interface Logger {
  debug(msg: string, fields?: Record<string, unknown>): void;
  info(msg: string, fields?: Record<string, unknown>): void;
  error(msg: string, err?: unknown, fields?: Record<string, unknown>): void;
  /** A logger that adds these fields to every line. */
  with(fields: Record<string, unknown>): Logger;
}

export interface LoggerOptions {
  level?: LogLevel;
  /** Receives each line without its trailing newline; default writes to stdout. */
  out?: (line: string) => void;
  base?: Record<string, unknown>;
  now?: () => Date;
}

const rank: Record<LogLevel, number> = { debug: 0, info: 1, error: 2 };
const reserved = new Set(['level', 'ts', 'msg', 'error']);

// userinfo in any scheme://user:pass@host, and credential-looking query parameters.
const userinfo = /\b([a-z][a-z0-9+.-]*:\/\/)([^\s/?#@:]*):([^\s/?#@]*)@/gi;
const secretParam =
  /([?&](?:[\w.-]*(?:token|secret|password|passwd|pwd|signature|sig|credential|key|auth)[\w.-]*)=)[^&#\s"']*/gi;

/**
 * Replaces credentials in URLs inside a string: `https://user:pass@host` → `https://user:***@host`,
 * `?token=abc` → `?token=***`. Non-strings are returned as they are.
 */
export function redact<T>(value: T): T {
  if (typeof value !== 'string') return value;
  return value.replace(userinfo, '$1$2:***@').replace(secretParam, '$1***') as T;
}

function errorText(err: unknown): string {
  if (err instanceof Error) return err.message;
  if (typeof err === 'object' && err !== null && typeof (err as { message?: unknown }).message === 'string') {
    return (err as { message: string }).message;
  }
  return String(err);
}

// Errors serialize as their message; bigint as a string; strings are redacted.
function replacer(_key: string, value: unknown): unknown {
  if (value instanceof Error) return redact(value.message);
  if (typeof value === 'bigint') return value.toString();
  return redact(value);
}

function encode(entry: Record<string, unknown>): string {
  try {
    return JSON.stringify(entry, replacer);
  } catch {
    // Circular or otherwise unserializable fields: keep the line, drop the fields.
    const { level, ts, msg, error } = entry;
    return JSON.stringify({ level, ts, msg, error, logError: 'fields not serializable' }, replacer);
  }
}

export function createLogger(opts: LoggerOptions = {}): Logger {
  const min = rank[opts.level ?? 'info'];
  const out = opts.out ?? ((line: string) => process.stdout.write(`${line}\n`));
  const now = opts.now ?? (() => new Date());

  const make = (base: Record<string, unknown>): Logger => {
    const write = (
      level: LogLevel,
      msg: string,
      fields: Record<string, unknown> | undefined,
      err?: unknown,
    ) => {
      if (rank[level] < min) return;
      const entry: Record<string, unknown> = { level, ts: now().toISOString(), msg };
      if (err !== undefined) entry.error = redact(errorText(err));
      for (const src of [base, fields ?? {}]) {
        for (const [k, v] of Object.entries(src)) {
          if (!reserved.has(k) && v !== undefined) entry[k] = v;
        }
      }
      out(encode(entry));
    };
    return {
      debug: (msg, fields) => write('debug', msg, fields),
      info: (msg, fields) => write('info', msg, fields),
      error: (msg, err, fields) => write('error', msg, fields, err),
      with: (fields) => make({ ...base, ...fields }),
    };
  };
  return make({ ...opts.base });
}
