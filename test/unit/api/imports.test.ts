// The import graph of every controller, read from the sources: no controller imports another (they
// meet only through controllers/api and controllers/runtime), and none loads at run time the modules
// kept out for memory: the TypeBox schemas, @kubernetes/client-node, undici, a static openpgp, and an
// ES import of node:http, whose lazy WebSocket exports load Node's bundled undici (runtime/http.ts uses
// process.getBuiltinModule instead).
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import ts from 'typescript';

const root = resolve(import.meta.dirname, '..', '..', '..');
const controllersDir = join(root, 'controllers');
const controllers = readdirSync(controllersDir).filter(
  (d) => !['api', 'runtime', 'cli', 'ui'].includes(d) && existsSync(join(controllersDir, d, 'main.ts')),
);

/** Imports of a file that exist at run time (not `import type`, not only type specifiers). */
function runtimeImports(file: string): string[] {
  const sf = ts.createSourceFile(file, readFileSync(file, 'utf8'), ts.ScriptTarget.Latest, true);
  const out: string[] = [];
  for (const st of sf.statements) {
    if (!(ts.isImportDeclaration(st) || ts.isExportDeclaration(st)) || !st.moduleSpecifier) continue;
    const spec = (st.moduleSpecifier as ts.StringLiteral).text;
    if (ts.isImportDeclaration(st)) {
      const clause = st.importClause;
      if (clause?.isTypeOnly) continue;
      const named = clause?.namedBindings;
      const onlyTypes =
        clause &&
        !clause.name &&
        named &&
        ts.isNamedImports(named) &&
        named.elements.length > 0 &&
        named.elements.every((e) => e.isTypeOnly);
      if (onlyTypes) continue;
    } else if (st.isTypeOnly) continue;
    out.push(spec);
  }
  // Dynamic imports are loaded on first use only: not part of the start-up graph.
  return out;
}

/** Every file and bare module a controller's main.ts loads at start, transitively. */
function graph(main: string): { files: Set<string>; modules: Set<string> } {
  const files = new Set<string>();
  const modules = new Set<string>();
  const visit = (file: string) => {
    if (files.has(file)) return;
    files.add(file);
    for (const spec of runtimeImports(file)) {
      if (spec.startsWith('.')) visit(resolve(dirname(file), spec));
      else modules.add(spec);
    }
  };
  visit(main);
  return { files, modules };
}

const keptOut = ['@kubernetes/client-node', '@sinclair/typebox', 'undici', 'openpgp', 'node:http'];

describe('controllers: import graph', () => {
  it('finds the controllers', () => {
    assert.ok(controllers.length >= 6, controllers.join(', '));
  });

  for (const name of controllers) {
    it(`${name}: imports no other controller, and none of ${keptOut.join(', ')} at start`, () => {
      const { files, modules } = graph(join(controllersDir, name, 'main.ts'));
      const others = [...files]
        .map((f) => relative(controllersDir, f).split('/')[0] ?? '')
        .filter((d) => d !== name && d !== 'api' && d !== 'runtime');
      assert.deepEqual([...new Set(others)], [], `${name} reaches into another controller`);
      const heavy = keptOut.filter((m) => modules.has(m));
      assert.deepEqual(heavy, [], `${name} loads ${heavy.join(', ')}`);
      const schemas = [...files].filter((f) => /controllers\/api\/(?!kinds|names)[a-z-]+\.ts$/.test(f));
      assert.deepEqual(
        schemas.map((f) => relative(root, f)),
        [],
        'schema modules (TypeBox) are for CRDs and the CLI, not for a running controller',
      );
    });
  }
});
