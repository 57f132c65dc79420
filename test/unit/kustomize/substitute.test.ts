// biome-ignore-all lint/suspicious/noTemplateCurlyInString: Flux ${var} expressions are the subject of these tests

import assert from 'node:assert/strict';
import { Annotations } from '../../../controllers/api/names.ts';
import type { KubeObject } from '../../../controllers/runtime/kustomize/objects.ts';
import {
  resolveVars,
  substituteObjects,
  type VarSource,
} from '../../../controllers/runtime/kustomize/substitute.ts';

const b64 = (s: string) => Buffer.from(s).toString('base64');

const dataOf = (o: KubeObject | undefined) => o?.data as Record<string, unknown> | undefined;

function deployment(extra: Record<string, unknown> = {}): KubeObject {
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name: 'podinfo', namespace: 'apps', labels: { env: '${cluster_env:=dev}' } },
    spec: {
      replicas: '${REPLICAS}',
      template: {
        spec: {
          containers: [
            {
              name: 'app',
              image: 'podinfo:${TAG}',
              env: [{ name: 'PORT', value: '${quote}${PORT}${quote}' }],
            },
          ],
        },
      },
    },
    ...extra,
  };
}

describe('kustomize/build/substitute', () => {
  describe('resolveVars', () => {
    const cm = (name: string, data: Record<string, string> | undefined, optional = false): VarSource => ({
      kind: 'ConfigMap',
      name,
      optional,
      data,
    });

    it('inline substitute beats substituteFrom; a later source beats an earlier one', () => {
      const vars = resolveVars({ region: 'inline' }, [
        cm('first', { region: 'first', env: 'first', only1: 'a' }),
        cm('second', { env: 'second', only2: 'b' }),
      ]);
      assert.deepEqual({ ...vars }, { region: 'inline', env: 'second', only1: 'a', only2: 'b' });
    });

    it('decodes Secret data and removes newlines from every value, as Flux does', () => {
      const vars = resolveVars({ inline: 'a\nb' }, [
        { kind: 'Secret', name: 's', data: { token: b64('s3cr3t\n') } },
        cm('c', { multi: 'x\ny\n' }),
      ]);
      assert.deepEqual({ ...vars }, { token: 's3cr3t', multi: 'xy', inline: 'ab' });
    });

    it('skips a missing optional source and fails on a missing required one, naming it', () => {
      assert.deepEqual({ ...resolveVars({ a: '1' }, [cm('gone', undefined, true)]) }, { a: '1' });
      assert.throws(() => resolveVars({}, [cm('gone', undefined)]), /substitute from 'ConfigMap\/gone'/);
      assert.throws(
        () => resolveVars({}, [{ kind: 'Secret', name: 'creds', data: undefined }]),
        /'Secret\/creds' error: Secret not found/,
      );
    });

    it('treats prototype names as plain variables', () => {
      const vars = resolveVars({ constructor: 'c' });
      const [out] = substituteObjects(
        [{ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'x' }, data: { a: '${constructor}' } }],
        vars,
      );
      assert.deepEqual(out?.data, { a: 'c' });
      assert.throws(
        () =>
          substituteObjects(
            [{ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'x' }, data: { a: '${toString}' } }],
            vars,
          ),
        /"toString"/,
      );
    });
  });

  describe('substituteObjects', () => {
    const vars = { REPLICAS: '3', TAG: '6.5.0', PORT: '8080', quote: '"' };

    it('substitutes into the YAML text and re-parses it: an unquoted number becomes a number', () => {
      const [out] = substituteObjects([deployment()], vars);
      assert.equal(out?.spec.replicas, 3);
      const container = out?.spec.template.spec.containers[0];
      assert.equal(container.image, 'podinfo:6.5.0');
      // Flux's documented way to keep a number a string: a variable holding a double quote.
      assert.equal(container.env[0].value, '8080');
      assert.equal(out?.metadata.labels?.env, 'dev'); // default
    });

    it('reads substituted values as YAML 1.1, as Flux (sigs.k8s.io/yaml) does', () => {
      const obj: KubeObject = {
        apiVersion: 'v1',
        kind: 'ConfigMap',
        metadata: { name: 'c' },
        spec: { on: '${FLAG}' },
      };
      assert.equal(substituteObjects([obj], { FLAG: 'yes' })[0]?.spec.on, true);
    });

    it('keeps the types of values that held no variable (strings that look like numbers or booleans)', () => {
      const obj: KubeObject = {
        apiVersion: 'v1',
        kind: 'ConfigMap',
        metadata: { name: 'c' },
        data: { port: '8080', flag: 'on', yes: 'yes', date: '2024-01-01', oct: '012', v: '${X}' },
      };
      const [out] = substituteObjects([obj], { X: 'x' });
      assert.deepEqual(out?.data, {
        port: '8080',
        flag: 'on',
        yes: 'yes',
        date: '2024-01-01',
        oct: '012',
        v: 'x',
      });
    });

    it('keeps $${var} as a literal ${var}', () => {
      const obj: KubeObject = {
        apiVersion: 'v1',
        kind: 'ConfigMap',
        metadata: { name: 'c' },
        data: { s: 'echo $${HOME}' },
      };
      assert.equal(dataOf(substituteObjects([obj], { X: '1' })[0])?.s, 'echo ${HOME}');
    });

    it('strict mode: an unset variable fails, naming the variable and the object', () => {
      assert.throws(
        () => substituteObjects([deployment()], { TAG: '1', PORT: '1', quote: '' }),
        (e: Error) => e.message.includes('"REPLICAS"') && e.message.includes('Deployment/apps/podinfo'),
      );
    });

    it('non-strict mode: an unset variable becomes empty', () => {
      const obj: KubeObject = {
        apiVersion: 'v1',
        kind: 'ConfigMap',
        metadata: { name: 'c' },
        data: { a: 'x-${missing}' },
      };
      assert.equal(dataOf(substituteObjects([obj], { REPLICAS: '2' }, { strict: false })[0])?.a, 'x-');
    });

    it('skips objects labelled or annotated substitute: disabled', () => {
      const byAnnotation = deployment();
      byAnnotation.metadata.annotations = { [Annotations.substitute]: 'disabled' };
      const byLabel = deployment();
      byLabel.metadata.labels = { [Annotations.substitute]: 'disabled', env: '${X}' };
      // untouched even though the variables they use are unset in strict mode
      const out = substituteObjects([byAnnotation, byLabel, deployment()], vars);
      assert.equal(out[0]?.spec.replicas, '${REPLICAS}');
      assert.equal(out[1]?.metadata.labels?.env, '${X}');
      assert.equal(out[2]?.spec.replicas, 3);
    });

    it('WithVariables (default) leaves objects alone when there are no variables; Always substitutes defaults', () => {
      const obj: KubeObject = {
        apiVersion: 'v1',
        kind: 'ConfigMap',
        metadata: { name: 'c' },
        data: { env: '${env:=dev}' },
      };
      assert.equal(dataOf(substituteObjects([obj], {})[0])?.env, '${env:=dev}');
      assert.equal(dataOf(substituteObjects([obj], {}, { always: true })[0])?.env, 'dev');
    });

    it('rejects invalid variable names', () => {
      assert.throws(
        () => substituteObjects([deployment()], { 'my-var': 'x' }),
        /'my-var' var name is invalid/,
      );
      assert.throws(() => substituteObjects([deployment()], { '1abc': 'x' }), /var name is invalid/);
    });

    it('a value that breaks the YAML fails naming the object, without echoing the value', () => {
      const obj: KubeObject = {
        apiVersion: 'v1',
        kind: 'ConfigMap',
        metadata: { name: 'c' },
        data: { a: '${V}' },
      };
      assert.throws(
        () => substituteObjects([obj], { V: 'topsecret: [unclosed' }),
        (e: Error) => e.message.includes('ConfigMap/c') && !e.message.includes('topsecret'),
      );
    });

    it('does not modify its input', () => {
      const obj = deployment();
      const before = structuredClone(obj);
      substituteObjects([obj], vars);
      assert.deepEqual(obj, before);
    });
  });

  it('refuses a substitution that multiplies a large value past the document limit, naming the object', () => {
    const cm: KubeObject = {
      apiVersion: 'v1',
      kind: 'ConfigMap',
      metadata: { name: 'amplified' },
      data: Object.fromEntries(Array.from({ length: 100 }, (_, i) => [`k${i}`, '${big}'])),
    };
    const vars = { big: 'x'.repeat(1 << 20) }; // what a ConfigMap can hold
    assert.throws(
      () => substituteObjects([cm], vars),
      /^BuildError: post build failed for 'ConfigMap\/amplified': variable substitution failed: the substituted text is larger than \d+ bytes$/,
    );
  });
});
