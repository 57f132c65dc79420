// Drift ignore rules: which objects a rule selects, what drift detection leaves out, and whether an
// ignored field that differs is stripped from the payload or set to its live value.
import assert from 'node:assert/strict';
import {
  compileIgnoreRules,
  ignoredPaths,
  parseLabelSelector,
  resolveIgnoredDrift,
  withoutPaths,
} from '../../../controllers/runtime/apply/ignore.ts';
import type { KubeObject } from '../../../controllers/runtime/object.ts';

const deployment = (replicas: number, extra: Partial<KubeObject['metadata']> = {}): KubeObject => ({
  apiVersion: 'apps/v1',
  kind: 'Deployment',
  metadata: { name: 'web', namespace: 'apps', labels: { tier: 'front' }, ...extra },
  spec: {
    replicas,
    template: {
      spec: { containers: [{ name: 'app', image: 'app:1', resources: { limits: { cpu: '1' } } }] },
    },
  },
});
const apply = (manager: string, fieldsV1: Record<string, unknown>) => ({
  manager,
  operation: 'Apply',
  fieldsV1,
});

describe('runtime/apply/ignore', () => {
  it('selects by anchored regular expressions and label or annotation selectors', () => {
    const rules = compileIgnoreRules([
      { paths: ['/spec/replicas'], target: { kind: 'Deploy' } },
      { paths: ['/a'], target: { kind: 'Deploy.*', group: 'apps', version: 'v1', namespace: 'apps|other' } },
      { paths: ['/b'], target: { name: 'w.b', labelSelector: 'tier in (front, back),!legacy' } },
      { paths: ['/c'], target: { annotationSelector: 'scaler=hpa' } },
      { paths: ['/d'] },
    ]);
    assert.deepEqual(ignoredPaths(rules, deployment(1)), ['/a', '/b', '/d']);
    const annotated = deployment(1, {
      annotations: { scaler: 'hpa' },
      labels: { legacy: 'yes', tier: 'front' },
    });
    assert.deepEqual(ignoredPaths(rules, annotated), ['/a', '/c', '/d']);
  });

  it('parses Kubernetes selector expressions', () => {
    const m = (sel: string, labels: Record<string, string>) => parseLabelSelector(sel)(labels);
    assert.equal(m('a=1,b==2', { a: '1', b: '2' }), true);
    assert.equal(m('a!=1', {}), true);
    assert.equal(m('a notin (1, 2)', {}), true);
    assert.equal(m('a in (1, 2)', {}), false);
    assert.equal(m('a, !b', { a: '' }), true);
    assert.throws(() => parseLabelSelector('a in 1'), /invalid label selector 'a in 1'/);
  });

  it('refuses a bad regular expression or a path that is not a JSON pointer, naming the rule', () => {
    assert.throws(
      () => compileIgnoreRules([{ paths: ['/x'], target: { name: '(' } }]),
      /ignore\[0\]\.target: invalid name regex/,
    );
    assert.throws(
      () => compileIgnoreRules([{ paths: ['spec/replicas'] }]),
      /'spec\/replicas' is not a JSON pointer/,
    );
  });

  it('leaves the ignored fields out of a copy, escaped keys and list items included', () => {
    const obj = deployment(3, { annotations: { 'dns.io/host': 'x', keep: 'y' } });
    const out = withoutPaths(obj, [
      '/spec/replicas',
      '/metadata/annotations/dns.io~1host',
      '/spec/template/spec/containers/0/resources',
      '/no/such',
    ]);
    assert.equal(out.spec?.replicas, undefined);
    assert.deepEqual(out.metadata.annotations, { keep: 'y' });
    assert.deepEqual(out.spec?.template.spec.containers[0], { name: 'app', image: 'app:1' });
    assert.equal(obj.spec?.replicas, 3, 'the original is untouched');
  });

  it('sets an ignored field to its live value when only we apply it, and strips it when another Apply manager owns it', () => {
    const payload = deployment(1);
    const dry = deployment(1);
    const live = deployment(5, {
      managedFields: [apply('kustomize-controller', { 'f:spec': { 'f:replicas': {} } })],
    });
    assert.equal(
      resolveIgnoredDrift(payload, live, dry, ['/spec/replicas'], 'kustomize-controller').spec?.replicas,
      5,
    );

    const scaled = deployment(5, {
      managedFields: [
        apply('kustomize-controller', { 'f:spec': { 'f:template': {} } }),
        apply('autoscaler', { 'f:spec': { 'f:replicas': {} } }),
      ],
    });
    const stripped = resolveIgnoredDrift(payload, scaled, dry, ['/spec/replicas'], 'kustomize-controller');
    assert.equal('replicas' in (stripped.spec ?? {}), false);
    assert.equal(payload.spec?.replicas, 1, 'the payload given is untouched');
  });

  it('resolves a list index to the k: key of that item to find its owner, and leaves equal fields alone', () => {
    const path = '/spec/template/spec/containers/0/resources';
    const live = deployment(1, {
      managedFields: [
        apply('vpa', {
          'f:spec': {
            'f:template': { 'f:spec': { 'f:containers': { 'k:{"name":"app"}': { 'f:resources': {} } } } },
          },
        }),
      ],
    });
    live.spec.template.spec.containers[0].resources = { limits: { cpu: '2' } };
    const out = resolveIgnoredDrift(deployment(1), live, deployment(1), [path], 'kustomize-controller');
    assert.equal(out.spec?.template.spec.containers[0].resources, undefined);
    const same = resolveIgnoredDrift(
      deployment(1),
      deployment(1),
      deployment(1),
      [path],
      'kustomize-controller',
    );
    assert.deepEqual(same, deployment(1));
  });
});
