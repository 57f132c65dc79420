// JSON as Go's encoding/json writes it, for digests that must equal those Flux's helm-controller
// computes (release snapshots, post-renderer digests): JSON.stringify of values whose keys are already
// in Go's order (struct field order, as Helm stored them, or sorted map keys), with Go's HTML-safe
// escapes of <, > and & and of U+2028/U+2029.
const goEscapes: Record<string, string> = {
  '<': '\\u003c',
  '>': '\\u003e',
  '&': '\\u0026',
  '\u2028': '\\u2028',
  '\u2029': '\\u2029',
};

export function goJson(value: unknown): string {
  // Outside strings JSON has none of these characters, so replacing them everywhere is exact.
  return JSON.stringify(value).replace(/[<>&\u2028\u2029]/g, (c) => goEscapes[c] ?? c);
}

/** A map with its keys sorted, as Go encodes map[string]T. */
export function sortedMap<T>(m: Record<string, T>): Record<string, T> {
  return Object.fromEntries(Object.entries(m).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
}
