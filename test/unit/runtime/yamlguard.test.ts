import assert from 'node:assert/strict';
import { parseYaml } from '../../../controllers/runtime/helm/yaml.ts';
import { parseDocuments } from '../../../controllers/runtime/kustomize/objects.ts';
import {
  checkAliasExpansion,
  checkDocumentSizes,
  decodeUtf8,
  MAX_DOCUMENT_BYTES,
  YamlLimitError,
} from '../../../controllers/runtime/yamlguard.ts';
import { yamlBomb } from '../../support/hostile.ts';

describe('runtime/yamlguard', () => {
  it('refuses a billion laughs in both YAML readers, without expanding it', () => {
    const text = `apiVersion: v1\nkind: ConfigMap\nmetadata: {name: bomb}\ndata:\n${yamlBomb(9, '  ')}`;
    assert.throws(() => parseDocuments(text), /excessive aliasing/);
    assert.throws(() => parseYaml(yamlBomb()), YamlLimitError);
  });

  it('keeps documents whose aliases stay small', () => {
    const text = 'base: &b {a: 1, b: [1, 2, 3]}\none: *b\ntwo: {<<: *b, c: 2}\n';
    assert.deepEqual(parseYaml(text), {
      base: { a: 1, b: [1, 2, 3] },
      one: { a: 1, b: [1, 2, 3] },
      two: { a: 1, b: [1, 2, 3], c: 2 },
    });
    // A large document without aliases is no "expansion", however many nodes it has.
    const big = Object.fromEntries(Array.from({ length: 500_000 }, (_, i) => [`k${i}`, i]));
    assert.doesNotThrow(() => checkAliasExpansion([big]));
  });

  it('refuses a recursive alias', () => {
    const cyclic: Record<string, unknown> = { a: 1 };
    cyclic.self = [cyclic];
    assert.throws(() => checkAliasExpansion([cyclic]), /recursive alias/);
    assert.throws(
      () => parseDocuments('a: &a [*a]\n'),
      (e: Error) => /alias/.test(e.message),
    );
  });

  it('refuses deep nesting as a parse error, not a stack overflow', () => {
    const deep = `a: ${'['.repeat(50_000)}${']'.repeat(50_000)}\n`;
    assert.throws(() => parseDocuments(deep), /maxDepth/);
    assert.throws(() => parseYaml(deep), /maxDepth/);
  });

  it('refuses duplicate keys in manifests', () => {
    assert.throws(() => parseDocuments('a: 1\na: 2\n'), /duplicated mapping key/);
  });

  it('refuses a document over the size limit before parsing it, and counts per document', () => {
    const half = `a: "${'x'.repeat(MAX_DOCUMENT_BYTES / 2)}"\n`;
    assert.doesNotThrow(() => checkDocumentSizes(`${half}---\n${half}`));
    assert.throws(() => checkDocumentSizes(`${half}${half.replace('a:', 'b:')}`), /larger than/);
    assert.throws(() => parseDocuments(`${half}${half.replace('a:', 'b:')}`), YamlLimitError);
    // A Helm repository index is one large document: parseYaml takes it (its download is capped).
    assert.deepEqual(Object.keys(parseYaml(`${half}${half.replace('a:', 'b:')}`) as object), ['a', 'b']);
    // Multi-byte characters count as bytes.
    assert.throws(
      () => checkDocumentSizes(`a: "${'é'.repeat(MAX_DOCUMENT_BYTES / 2 + 1)}"\n`),
      /larger than/,
    );
  });

  it('refuses bytes that are not UTF-8 instead of replacing them', () => {
    const bad = Buffer.from([0x61, 0x3a, 0x20, 0xff, 0xfe, 0x0a]);
    assert.throws(() => decodeUtf8(bad), /invalid UTF-8/);
    assert.throws(() => parseDocuments(bad), /invalid UTF-8/);
    assert.deepEqual(parseDocuments(Buffer.from('a: é\n')), [{ a: 'é' }]);
  });
});
