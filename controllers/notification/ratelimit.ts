// Duplicate suppression of notification-controller's event intake (Flux: go-limiter with one token
// per key and --rate-limit-interval): the first event of a key passes, the same key again within the
// window is refused (the server answers 429, which emitters treat as delivered).

export interface RateLimiter {
  /** True for the first event of `key` in its window; false for a duplicate. */
  allow(key: string): boolean;
  /** Keys currently remembered (for tests and metrics). */
  size(): number;
}

export function createRateLimiter(intervalMs: number, now: () => number = Date.now): RateLimiter {
  const until = new Map<string, number>();
  let nextSweep = now() + intervalMs;
  // Expired windows are dropped once per interval, so memory stays bounded by one window's keys.
  const sweep = (t: number) => {
    if (t < nextSweep) return;
    for (const [k, end] of until) if (end <= t) until.delete(k);
    nextSweep = t + intervalMs;
  };
  return {
    allow(key) {
      const t = now();
      sweep(t);
      const end = until.get(key);
      if (end !== undefined && t < end) return false;
      until.set(key, t + intervalMs);
      return true;
    },
    size: () => until.size,
  };
}
