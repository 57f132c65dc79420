// YAML read and written the way Helm's Go code does (sigs.k8s.io/yaml over go-yaml v2): plain scalars
// resolve as go-yaml's resolver does (`yes`/`on` are booleans, `1e3` and `0x1F` are numbers, `1:20` and
// timestamps stay strings), duplicate keys let the last one win, and output has sorted keys with
// unindented sequences.
import { defineScalarTag, dump, loadAll, NOT_RESOLVED, Schema, visit, YAML11_SCHEMA } from 'js-yaml';
import { checkAliasExpansion } from '../yamlguard.ts';
import { type GoScalarTag, resolveGoScalar } from './goyaml.ts';

// The implicit null, bool, int and float tags resolve plain scalars with go-yaml v2's rules; explicit
// tags (`!!int "1"`) keep YAML 1.1's. No timestamp tag: Go decodes an untyped `2024-01-01` to a string.
const goTags = YAML11_SCHEMA.tags
  .filter((t) => !t.tagName.endsWith(':timestamp'))
  .map((t) => {
    const tag = t.tagName.slice('tag:yaml.org,2002:'.length) as GoScalarTag;
    if (t.nodeKind !== 'scalar' || !['null', 'bool', 'int', 'float'].includes(tag)) return t;
    return defineScalarTag(t.tagName, {
      ...t,
      implicitFirstChars: null,
      resolve: (source, isExplicit, tagName) => {
        if (isExplicit) return t.resolve(source, isExplicit, tagName);
        const r = resolveGoScalar(source);
        return r.tag === tag ? r.value : NOT_RESOLVED;
      },
    });
  });
const goSchema = new Schema(goTags);

/**
 * Parses the first YAML document; an empty or comment-only text gives `null`. Throws on bad YAML, and
 * (YamlLimitError) on a document expanding too much through aliases, as go-yaml does. No document size
 * limit here: a repository index.yaml is one document of tens of MiB (capped at download).
 */
export function parseYaml(text: string): unknown {
  const docs = loadAll(text, { schema: goSchema, json: true });
  checkAliasExpansion(docs.slice(0, 1));
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
