// The generated CRDs: structural, documented, stable, named as Kubernetes and Flux name them.
import assert from 'node:assert/strict';
import { Type } from '@sinclair/typebox';
import { load } from 'js-yaml';
import {
  allKinds,
  CRD_HEADER,
  crdFileName,
  crdName,
  findKind,
  INTERVAL_PATTERN,
  type JsonSchema,
  type KindDescriptor,
  renderCrd,
  SchemaError,
  schemaOf,
  structural,
  toCRD,
} from '../../../controllers/api/index.ts';

const FORBIDDEN = ['$ref', '$id', '$schema', 'anyOf', 'oneOf', 'allOf', 'not', 'const', 'patternProperties'];

interface Node {
  path: string;
  schema: JsonSchema;
}

/** Every schema node of a CRD schema, with a readable path. */
function walk(schema: JsonSchema, path: string, out: Node[] = []): Node[] {
  out.push({ path, schema });
  const props = (schema.properties ?? {}) as Record<string, JsonSchema>;
  for (const [name, sub] of Object.entries(props)) walk(sub, `${path}.${name}`, out);
  if (schema.items) walk(schema.items as JsonSchema, `${path}[]`, out);
  if (schema.additionalProperties && typeof schema.additionalProperties === 'object') {
    walk(schema.additionalProperties as JsonSchema, `${path}{}`, out);
  }
  return out;
}

const openAPISchema = (crd: JsonSchema): JsonSchema => {
  const versions = (crd.spec as { versions: { schema: { openAPIV3Schema: JsonSchema } }[] }).versions;
  assert.equal(versions.length, 1);
  return versions[0]!.schema.openAPIV3Schema;
};

/** The CRD as the API server receives it: the YAML file parsed back. */
const parsedCrd = (d: KindDescriptor) => load(renderCrd(d, schemaOf(d))) as JsonSchema;

describe('api: generated CRDs', () => {
  it('serves the 13 Flux kinds at their current versions', () => {
    assert.deepEqual(
      allKinds.map((d) => `${d.apiVersion}/${d.kind}`),
      [
        'source.toolkit.fluxcd.io/v1/GitRepository',
        'source.toolkit.fluxcd.io/v1/OCIRepository',
        'source.toolkit.fluxcd.io/v1/HelmRepository',
        'source.toolkit.fluxcd.io/v1/HelmChart',
        'source.toolkit.fluxcd.io/v1/Bucket',
        'kustomize.toolkit.fluxcd.io/v1/Kustomization',
        'helm.toolkit.fluxcd.io/v2/HelmRelease',
        'image.toolkit.fluxcd.io/v1/ImageRepository',
        'image.toolkit.fluxcd.io/v1/ImagePolicy',
        'image.toolkit.fluxcd.io/v1/ImageUpdateAutomation',
        'notification.toolkit.fluxcd.io/v1beta3/Provider',
        'notification.toolkit.fluxcd.io/v1beta3/Alert',
        'notification.toolkit.fluxcd.io/v1/Receiver',
      ],
    );
  });

  for (const d of allKinds) {
    describe(d.kind, () => {
      const crd = parsedCrd(d);
      const nodes = walk(openAPISchema(crd), d.kind);

      it('is structural: no $ref, unions or consts, and a type (or preserve-unknown-fields) on every node', () => {
        for (const { path, schema } of nodes) {
          for (const key of FORBIDDEN) assert.ok(!(key in schema), `${path} has ${key}`);
          assert.ok(
            typeof schema.type === 'string' || schema['x-kubernetes-preserve-unknown-fields'] === true,
            `${path} has no type`,
          );
          if (schema.type === 'object' && path !== `${d.kind}.metadata`) {
            assert.ok(
              schema.properties ||
                schema.additionalProperties ||
                schema['x-kubernetes-preserve-unknown-fields'],
              `${path} is an object without properties, additionalProperties or preserve-unknown-fields`,
            );
          }
        }
      });

      it('describes every field (metadata is left to the API server)', () => {
        for (const { path, schema } of nodes) {
          if (path === `${d.kind}.metadata` || path.endsWith('[]') || path.endsWith('{}')) continue;
          assert.equal(typeof schema.description, 'string', `${path} has no description`);
          assert.ok((schema.description as string).trim().length > 10, `${path} has a trivial description`);
        }
        assert.deepEqual(
          openAPISchema(crd).properties && (openAPISchema(crd).properties as JsonSchema).metadata,
          {
            type: 'object',
          },
        );
      });

      it('lists only declared properties as required', () => {
        for (const { path, schema } of nodes) {
          const required = (schema.required ?? []) as string[];
          const props = Object.keys((schema.properties ?? {}) as object);
          for (const r of required) assert.ok(props.includes(r), `${path} requires undeclared ${r}`);
        }
      });

      it('is named <plural>.<group> and written to <group>_<plural>.yaml', () => {
        const meta = crd.metadata as { name: string };
        const spec = crd.spec as { group: string; names: Record<string, unknown>; scope: string };
        assert.equal(meta.name, `${d.plural}.${d.group}`);
        assert.equal(crdName(d), meta.name);
        assert.equal(crdFileName(d), `${d.group}_${d.plural}.yaml`);
        assert.equal(spec.group, d.group);
        assert.equal(spec.scope, 'Namespaced');
        assert.equal(spec.names.kind, d.kind);
        assert.equal(spec.names.listKind, `${d.kind}List`);
        assert.equal(spec.names.singular, d.kind.toLowerCase());
        assert.equal(spec.names.plural, d.plural);
        assert.match(d.plural, /^[a-z]+s$/);
        assert.deepEqual(spec.names.shortNames ?? [], [...d.shortNames]);
        assert.equal(findKind(d.apiVersion, d.kind), d);
      });

      it('renders to the same bytes every time, with sorted schema keys', () => {
        assert.equal(renderCrd(d, schemaOf(d)), renderCrd(d, schemaOf(d)));
        assert.ok(renderCrd(d, schemaOf(d)).startsWith(CRD_HEADER));
        for (const { path, schema } of nodes) {
          const keys = Object.keys(schema);
          assert.deepEqual(keys, [...keys].sort(), `${path} keys are not sorted`);
        }
        assert.deepEqual(parsedCrd(d), toCRD(d, schemaOf(d)));
      });

      it('has the printer columns, status subresource and status default of Flux', () => {
        const version = (crd.spec as { versions: JsonSchema[] }).versions[0]!;
        const columns = (version.additionalPrinterColumns as { name: string }[]).map((c) => c.name);
        assert.ok(columns.includes('Age'), 'Age column');
        const status = (openAPISchema(crd).properties as Record<string, JsonSchema>).status;
        if (d.statusSubresource) {
          assert.deepEqual(version.subresources, { status: {} });
          assert.ok(columns.includes('Ready') && columns.includes('Status'), 'Ready and Status columns');
          assert.deepEqual(status?.default, { observedGeneration: -1 });
          const statusProps = Object.keys((status?.properties ?? {}) as object);
          for (const p of ['observedGeneration', 'conditions', 'lastHandledReconcileAt']) {
            assert.ok(statusProps.includes(p), `status.${p}`);
          }
        } else {
          assert.equal(version.subresources, undefined);
          assert.equal(status, undefined);
        }
      });

      it('validates spec.interval with the Flux duration pattern', () => {
        const spec = (openAPISchema(crd).properties as Record<string, JsonSchema>).spec!;
        const interval = (spec.properties as Record<string, JsonSchema>).interval;
        if (d.kind === 'Alert') return assert.equal(interval, undefined);
        assert.equal(interval?.pattern, INTERVAL_PATTERN);
      });
    });
  }

  it('gives Flux short names and categories', () => {
    const names = Object.fromEntries(allKinds.map((d) => [d.kind, d.shortNames[0]]));
    assert.deepEqual(names, {
      GitRepository: 'gitrepo',
      OCIRepository: 'ocirepo',
      HelmRepository: 'helmrepo',
      HelmChart: 'hc',
      Bucket: undefined,
      Kustomization: 'ks',
      HelmRelease: 'hr',
      ImageRepository: 'imgrepo',
      ImagePolicy: 'imgpol',
      ImageUpdateAutomation: 'iua',
      Provider: undefined,
      Alert: undefined,
      Receiver: undefined,
    });
    for (const d of allKinds.filter((k) => k.group === 'source.toolkit.fluxcd.io')) {
      assert.deepEqual(d.categories, ['all', 'fluxcd', 'fluxcd-sources'], d.kind);
    }
  });

  it('carries the Flux CEL rule that a HelmRelease sets exactly one of chart and chartRef', () => {
    const spec = (
      openAPISchema(
        toCRD(
          findKind('helm.toolkit.fluxcd.io/v2', 'HelmRelease')!,
          schemaOf(findKind('helm.toolkit.fluxcd.io/v2', 'HelmRelease')!),
        ),
      ).properties as Record<string, JsonSchema>
    ).spec!;
    assert.deepEqual(spec['x-kubernetes-validations'], [
      {
        message: 'either chart or chartRef must be set',
        rule: '(has(self.chart) && !has(self.chartRef)) || (!has(self.chart) && has(self.chartRef))',
      },
    ]);
    const values = (spec.properties as Record<string, JsonSchema>).values!;
    assert.equal(values['x-kubernetes-preserve-unknown-fields'], true);
  });
});

describe('api: structural()', () => {
  it('refuses a union of literals, naming the field', () => {
    const schema = Type.Object({ mode: Type.Union([Type.Literal('a'), Type.Literal('b')]) });
    assert.throws(
      () => structural(schema, 'X'),
      (err: Error) => {
        assert.ok(err instanceof SchemaError);
        assert.match(err.message, /X\.mode: keyword 'anyOf' is not allowed/);
        return true;
      },
    );
  });

  it('refuses a node without a type and a record with patternProperties', () => {
    assert.throws(() => structural({ description: 'untyped' }, 'X'), /X: node has no type/);
    assert.throws(
      () => structural(Type.Record(Type.String(), Type.String()), 'X'),
      /keyword 'patternProperties' is not allowed/,
    );
  });

  it('drops TypeBox symbols and sorts keys and required', () => {
    const out = structural(Type.Object({ b: Type.String(), a: Type.Integer() }, { description: 'd' }));
    assert.deepEqual(Object.keys(out), ['description', 'properties', 'required', 'type']);
    assert.deepEqual(out.required, ['a', 'b']);
    assert.deepEqual(Object.getOwnPropertySymbols(out), []);
  });
});
