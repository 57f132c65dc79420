// YAML read and written the way Helm's Go code does (sigs.k8s.io/yaml over YAML 1.1): `yes`/`on`
// are booleans, timestamps stay strings, duplicate keys let the last one win, and output has sorted
// keys with unindented sequences.
import { dump, loadAll, Schema, visit, YAML11_SCHEMA } from 'js-yaml';

// YAML 1.1 minus !!timestamp: Go decodes an untyped `2024-01-01` to a string, not a time.
const goSchema = new Schema(YAML11_SCHEMA.tags.filter((t) => !t.tagName.endsWith(':timestamp')));

/** Parses the first YAML document; an empty or comment-only text gives `null`. Throws on bad YAML. */
export function parseYaml(text: string): unknown {
  const docs = loadAll(text, { schema: goSchema, json: true });
  return docs[0] ?? null;
}

export function isMap(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v) && !(v instanceof Uint8Array);
}

/** Dumps with keys sorted by code unit, so equal values give equal bytes. */
export function dumpYaml(value: unknown): string {
  return dump(value, {
    seqNoIndent: true,
    lineWidth: -1,
    noRefs: true,
    transform: (docs) =>
      visit(docs, (node) => {
        if (node.kind !== 'mapping') return;
        node.items.sort((a, b) => {
          const x = a.key.kind === 'scalar' ? a.key.value : '';
          const y = b.key.kind === 'scalar' ? b.key.value : '';
          return x < y ? -1 : x > y ? 1 : 0;
        });
      }),
  });
}

/** The message of a YAML parse error without js-yaml's multi-line source excerpt. */
export function yamlErrorMessage(err: unknown): string {
  const msg = err instanceof Error ? err.message : String(err);
  return msg.split('\n')[0] ?? msg;
}
