// The browser's side of the API: JSON reads and writes, and the live store fed by the server's event
// stream (a snapshot of every row, then batches of changes), which every page renders from.
import { useEffect, useState } from 'preact/hooks';
import type { KindInfo, Row } from '../model/rows.ts';

export class ApiError extends Error {
  readonly status: number;
  constructor(status: number, message: string) {
    super(message);
    this.status = status;
  }
}

async function answer<T>(res: Response): Promise<T> {
  const text = await res.text();
  let body: unknown;
  try {
    body = text ? JSON.parse(text) : undefined;
  } catch {
    body = { message: text };
  }
  if (!res.ok) throw new ApiError(res.status, (body as { message?: string })?.message ?? res.statusText);
  return body as T;
}

export const getJson = async <T>(path: string, signal?: AbortSignal): Promise<T> =>
  answer<T>(await fetch(path, { headers: { accept: 'application/json' }, signal }));

export const postJson = async <T>(path: string, body: unknown): Promise<T> =>
  answer<T>(
    await fetch(path, {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'application/json', 'x-tide-request': '1' },
      body: JSON.stringify(body),
    }),
  );

export const objectPath = (kind: string, namespace: string, name: string) =>
  `/api/objects/${encodeURIComponent(kind)}/${encodeURIComponent(namespace)}/${encodeURIComponent(name)}`;

export type Connection = 'connecting' | 'live' | 'reconnecting';

type Change =
  | { type: 'upsert'; row: Row }
  | { type: 'delete'; key: string }
  | { type: 'kinds'; kinds: KindInfo[] };

/** Every row the viewer may see, current with the cluster. */
export class LiveStore {
  rows = new Map<string, Row>();
  kinds: KindInfo[] = [];
  connection: Connection = 'connecting';
  /** Bumped on every change; pages memoize on it. */
  version = 0;
  /** When the first snapshot arrived (performance.now()), for the benchmark. */
  loadedAt: number | undefined;
  #listeners = new Set<() => void>();
  #scheduled = false;
  #source: EventSource | undefined;

  connect(url = '/api/stream') {
    const es = new EventSource(url);
    this.#source = es;
    es.addEventListener('snapshot', (e) => {
      const data = JSON.parse((e as MessageEvent).data) as { kinds: KindInfo[]; rows: Row[] };
      this.rows = new Map(data.rows.map((r) => [r.key, r]));
      this.kinds = data.kinds;
      this.connection = 'live';
      this.loadedAt ??= performance.now();
      this.#changed();
    });
    es.addEventListener('changes', (e) => {
      for (const c of JSON.parse((e as MessageEvent).data) as Change[]) {
        if (c.type === 'upsert') this.rows.set(c.row.key, c.row);
        else if (c.type === 'delete') this.rows.delete(c.key);
        else this.kinds = c.kinds;
      }
      this.#changed();
    });
    es.addEventListener('open', () => {
      if (this.connection === 'reconnecting') this.#changed();
    });
    es.addEventListener('error', () => {
      this.connection = 'reconnecting';
      this.#changed();
    });
  }

  close() {
    this.#source?.close();
  }

  subscribe(fn: () => void): () => void {
    this.#listeners.add(fn);
    return () => this.#listeners.delete(fn);
  }

  // Many changes in one frame render once.
  #changed() {
    this.version++;
    if (this.#scheduled) return;
    this.#scheduled = true;
    requestAnimationFrame(() => {
      this.#scheduled = false;
      for (const l of this.#listeners) l();
    });
  }
}

export const live = new LiveStore();

/** Re-renders the component whenever the live store changes; returns its version. */
export function useLive(): number {
  const [version, setVersion] = useState(live.version);
  useEffect(() => live.subscribe(() => setVersion(live.version)), []);
  return version;
}

/** Loads `path` and loads it again whenever `deps` change; keeps the last answer while reloading. */
export function useJson<T>(path: string | undefined, deps: readonly unknown[]) {
  const [state, setState] = useState<{ data?: T; error?: ApiError; loading: boolean }>({ loading: true });
  useEffect(() => {
    if (!path) return;
    const ac = new AbortController();
    setState((s) => ({ ...s, loading: true }));
    getJson<T>(path, ac.signal).then(
      (data) => setState({ data, loading: false }),
      (err: Error) => {
        if (ac.signal.aborted) return;
        setState((s) => ({
          ...s,
          error: err instanceof ApiError ? err : new ApiError(0, err.message),
          loading: false,
        }));
      },
    );
    return () => ac.abort();
  }, [path, ...deps]);
  return state;
}
