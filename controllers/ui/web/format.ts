// Small text helpers of the pages.

/** `3m ago`, `2h ago`, `5d ago` of an RFC 3339 time. */
export function ago(time: string | undefined, now = Date.now()): string {
  if (!time) return '';
  const t = Date.parse(time);
  if (Number.isNaN(t)) return time;
  const s = Math.max(0, Math.round((now - t) / 1000));
  if (s < 60) return `${s}s ago`;
  if (s < 3600) return `${Math.floor(s / 60)}m ago`;
  if (s < 86400) return `${Math.floor(s / 3600)}h ago`;
  return `${Math.floor(s / 86400)}d ago`;
}

/** A revision with its hashes shortened to 12 characters, as flux prints them. */
export const shortRevision = (r: string) => r.replace(/\b([a-f0-9]{12})[a-f0-9]{28,116}\b/g, '$1');
