// No spec field silently ignored: every spec field of every kind a controller reconciles is either read
// by code (the controller's folder or the runtime it shares), or on that controller's unsupportedFields
// list, which makes the object Stalled naming the field. "Read" is decided from the TypeScript sources:
// each segment of the field's path must occur as a property read (`x.name`, `x['name']`, `{ name }`
// destructuring, `'name' in x`). A field nobody reads therefore fails this test the day it is added.
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import ts from 'typescript';
import { allKinds, type JsonSchema, type KindDescriptor, schemaOf } from '../../../controllers/api/index.ts';
import { helmReleaseController } from '../../../controllers/helm/helmrelease.ts';
import { imageUpdateAutomationController } from '../../../controllers/image-automation/imageupdateautomation.ts';
import { imagePolicyController } from '../../../controllers/image-reflector/imagepolicy.ts';
import { imageRepositoryController } from '../../../controllers/image-reflector/imagerepository.ts';
import { kustomizationController } from '../../../controllers/kustomize/kustomization.ts';
import { receiverController } from '../../../controllers/notification/receiver.ts';
import { alertKind, providerKind, type StaticKind } from '../../../controllers/notification/specs.ts';
import type { UnsupportedField } from '../../../controllers/runtime/fields.ts';
import type { ControllerDefinition } from '../../../controllers/runtime/reconciler.ts';
import { bucketController } from '../../../controllers/source/bucket.ts';
import { gitRepositoryController } from '../../../controllers/source/gitrepository.ts';
import { helmChartController } from '../../../controllers/source/helmchart.ts';
import { helmRepositoryController } from '../../../controllers/source/helmrepository.ts';
import { ociRepositoryController } from '../../../controllers/source/ocirepository.ts';

const root = new URL('../../../', import.meta.url).pathname;

// Building a definition touches none of its dependencies, so none are given.
const none = {} as never;

/**
 * Each controller folder, the definitions it runs, and the kinds it serves without a reconciler
 * (`statics`: no status to report on, see controllers/notification/specs.ts). A new controller adds a row.
 */
const controllers: {
  dir: string;
  definitions: () => ControllerDefinition<never>[];
  statics?: () => StaticKind[];
}[] = [
  {
    dir: 'controllers/source',
    definitions: () => [
      gitRepositoryController(none),
      ociRepositoryController(none),
      helmRepositoryController(none),
      helmChartController(none),
      bucketController(),
    ],
  },
  { dir: 'controllers/kustomize', definitions: () => [kustomizationController(none)] },
  {
    dir: 'controllers/notification',
    definitions: () => [receiverController()],
    statics: () => [providerKind, alertKind],
  },
  {
    dir: 'controllers/image-reflector',
    definitions: () => [imageRepositoryController(none), imagePolicyController(none)],
  },
  { dir: 'controllers/image-automation', definitions: () => [imageUpdateAutomationController(none)] },
  { dir: 'controllers/helm', definitions: () => [helmReleaseController(none)] },
];

function tsFiles(dir: string): string[] {
  return readdirSync(join(root, dir), { recursive: true, withFileTypes: true })
    .filter((e) => e.isFile() && e.name.endsWith('.ts'))
    .map((e) => join(e.parentPath, e.name));
}

/** Property names the code reads, from its syntax tree. */
function readNames(files: string[]): Set<string> {
  const names = new Set<string>();
  const visit = (node: ts.Node) => {
    if (ts.isPropertyAccessExpression(node)) names.add(node.name.text);
    else if (ts.isElementAccessExpression(node) && ts.isStringLiteralLike(node.argumentExpression))
      names.add(node.argumentExpression.text);
    else if (ts.isBindingElement(node) && ts.isObjectBindingPattern(node.parent)) {
      const key = node.propertyName ?? node.name;
      if (ts.isIdentifier(key) || ts.isStringLiteralLike(key)) names.add(key.text);
    } else if (
      ts.isBinaryExpression(node) &&
      node.operatorToken.kind === ts.SyntaxKind.InKeyword &&
      ts.isStringLiteralLike(node.left)
    )
      names.add(node.left.text);
    ts.forEachChild(node, visit);
  };
  for (const f of files) {
    visit(ts.createSourceFile(f, readFileSync(f, 'utf8'), ts.ScriptTarget.Latest, true));
  }
  return names;
}

/** Dotted paths of every field under spec (`[]` for array items); maps and free-form values are leaves. */
function specPaths(schema: JsonSchema, path = 'spec', out: string[] = []): string[] {
  const props = schema.properties as Record<string, JsonSchema> | undefined;
  if (props) {
    for (const [name, sub] of Object.entries(props)) {
      const p = `${path}.${name}`;
      out.push(p);
      specPaths(sub, p, out);
    }
  }
  const items = schema.items as JsonSchema | undefined;
  if (items?.properties) specPaths(items, `${path}[]`, out);
  return out;
}

const segments = (path: string) =>
  path
    .split('.')
    .slice(1)
    .map((s) => s.replace(/\[\]$/, ''));

/**
 * Fields neither read nor refused (a refused path covers the fields below it; a required spec field
 * refused for every value refuses every object, so it covers them all).
 */
function unaccounted(
  paths: string[],
  read: Set<string>,
  refused: readonly UnsupportedField[],
  required: readonly string[],
): string[] {
  if (refused.some((f) => !f.allowed && required.some((r) => f.path === `spec.${r}`))) return [];
  const covered = (p: string) =>
    refused.some((f) => p === f.path || p.startsWith(`${f.path}.`) || p.startsWith(`${f.path}[].`));
  return paths.filter((p) => !covered(p) && !segments(p).every((s) => read.has(s)));
}

const specSchema = (kind: KindDescriptor) =>
  (schemaOf(kind) as unknown as { properties: { spec: JsonSchema } }).properties.spec;

describe('api: every spec field of an implemented kind is read or refused', () => {
  const runtimeFiles = tsFiles('controllers/runtime');

  for (const c of controllers) {
    const defs = [...c.definitions(), ...(c.statics?.() ?? [])];
    const read = readNames([...tsFiles(c.dir), ...runtimeFiles]);
    for (const def of defs) {
      it(`${def.kind.kind} (${c.dir})`, () => {
        const kind = allKinds.find((k) => k.kind === def.kind.kind && k.group === def.kind.group);
        assert.ok(kind, `${def.kind.kind} is not a served kind`);
        const refused = def.unsupportedFields ?? [];
        const paths = specPaths(specSchema(kind));
        for (const f of refused) {
          assert.ok(
            paths.includes(f.path.replace(/\[\]/g, '[]')),
            `${def.kind.kind}: unsupportedFields names '${f.path}', which the schema does not have`,
          );
        }
        assert.deepEqual(
          unaccounted(paths, read, refused, (specSchema(kind).required as string[] | undefined) ?? []),
          [],
          `${def.kind.kind}: spec fields neither read by ${c.dir} or controllers/runtime nor refused`,
        );
      });
    }
  }

  it('lists every controller definition in the tree', () => {
    for (const dir of readdirSync(join(root, 'controllers'))) {
      if (['api', 'runtime', 'cli'].includes(dir)) continue;
      const calls = tsFiles(join('controllers', dir)).reduce(
        (n, f) => n + (readFileSync(f, 'utf8').match(/defineController</g)?.length ?? 0),
        0,
      );
      const listed = controllers.find((c) => c.dir === `controllers/${dir}`)?.definitions().length ?? 0;
      assert.equal(
        listed,
        calls,
        `controllers/${dir} defines ${calls} controllers, this test's table ${listed}`,
      );
    }
  });

  it('has a controller for every served kind, so no object of one sits without status', () => {
    const handled = controllers.flatMap((c) => [...c.definitions(), ...(c.statics?.() ?? [])]);
    for (const kind of allKinds)
      assert.ok(
        handled.some((d) => d.kind.kind === kind.kind && d.kind.group === kind.group),
        `${kind.group}/${kind.kind} is served but no controller reconciles or refuses it`,
      );
  });

  it('fails for a new spec field that nothing reads', () => {
    const kind = allKinds.find((k) => k.kind === 'GitRepository');
    assert.ok(kind);
    const spec = structuredClone(specSchema(kind)) as JsonSchema & { properties: Record<string, JsonSchema> };
    spec.properties.someNewUnreadField = { type: 'string' };
    spec.properties.ref = {
      ...(spec.properties.ref as JsonSchema),
      properties: {
        ...((spec.properties.ref as JsonSchema).properties as object),
        anotherUnreadRef: { type: 'string' },
      },
    };
    const read = readNames([...tsFiles('controllers/source'), ...runtimeFiles]);
    assert.deepEqual(unaccounted(specPaths(spec), read, [], []).sort(), [
      'spec.ref.anotherUnreadRef',
      'spec.someNewUnreadField',
    ]);
    const refused = [{ path: 'spec.someNewUnreadField', why: 'test' }];
    assert.deepEqual(unaccounted(specPaths(spec), read, refused, []), ['spec.ref.anotherUnreadRef']);
  });
});
