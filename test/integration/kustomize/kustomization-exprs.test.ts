// CEL in a Kustomization: healthCheckExprs decide the health of a custom resource (with wait and with
// healthChecks), readyExpr decides when a dependency is ready, a bad expression stalls; plus what a
// user reads in status afterwards (history) and a refused spec field.

import assert from 'node:assert/strict';
import type { Kustomization } from '../../../controllers/api/kustomize.ts';
import { ConditionTypes } from '../../../controllers/api/names.ts';
import type { KubeObject } from '../../../controllers/runtime/object.ts';
import { condition, configMap, ksApiVersion, ready, useKustomizeEnv, yaml } from './kustomization-support.ts';

const group = `exprs-${process.pid}.tide.test`;
const crdName = `widgets.${group}`;
const widgetApiVersion = `${group}/v1`;
const widget = (name: string) => ({
  apiVersion: widgetApiVersion,
  kind: 'Widget',
  metadata: { name },
  spec: { size: 1 },
});

// Healthy once the test sets status.phase Ready; Failed when it sets Broken.
const healthCheckExprs = [
  {
    apiVersion: widgetApiVersion,
    kind: 'Widget',
    current: "has(status.phase) && status.phase == 'Ready'",
    failed: "has(status.phase) && status.phase == 'Broken'",
  },
];

describe('kustomize-controller: Kustomization CEL expressions', function () {
  this.timeout(240_000);
  const env = useKustomizeEnv('ks-exprs');
  const ns = () => env.ns();
  const widgetRef = (name: string) => ({
    apiVersion: widgetApiVersion,
    kind: 'Widget',
    namespace: ns(),
    name,
  });
  const setPhase = (name: string, phase: string) => env.client().patchStatus(widgetRef(name), { phase });
  const crdRef = { apiVersion: 'apiextensions.k8s.io/v1', kind: 'CustomResourceDefinition', name: crdName };
  /** Waits until the widget was applied and the Kustomization lists it while checking its health. */
  const healthChecking = (name: string, widgetName: string) =>
    env.until(`${name} checking the health of ${widgetName}`, async () => {
      const o = await env.getKs(name);
      const listed = o.status?.inventory?.entries.some(
        (e) => e.id === `${ns()}_${widgetName}_${group}_Widget`,
      );
      if (listed && (await env.tryGet(widgetRef(widgetName)))) return o;
      throw new Error(`inventory ${JSON.stringify(o.status?.inventory)}, Ready: ${ready(o)?.message}`);
    });
  const stalled = (name: string, reason: string) =>
    env.until(`${name} Stalled ${reason}`, async () => {
      const o = await env.getKs(name);
      const s = condition(o, ConditionTypes.Stalled);
      if (
        s?.status === 'True' &&
        s.reason === reason &&
        o.status?.observedGeneration === o.metadata.generation
      )
        return o;
      throw new Error(`Stalled=${s?.status} ${s?.reason}; Ready: ${ready(o)?.message}`);
    });

  before(async () => {
    await env.client().create({
      ...crdRef,
      metadata: { name: crdName },
      spec: {
        group,
        scope: 'Namespaced',
        names: { plural: 'widgets', singular: 'widget', kind: 'Widget', listKind: 'WidgetList' },
        versions: [
          {
            name: 'v1',
            served: true,
            storage: true,
            subresources: { status: {} },
            schema: { openAPIV3Schema: { type: 'object', 'x-kubernetes-preserve-unknown-fields': true } },
          },
        ],
      },
    });
    await env.until('Widget CRD established', async () => {
      const crd = await env.get(crdRef);
      const established = (crd.status?.conditions as { type: string; status: string }[] | undefined)?.some(
        (c) => c.type === 'Established' && c.status === 'True',
      );
      return established ? true : undefined;
    });
  });
  after(async () => {
    await env.client().delete(crdRef);
  });

  it('waits (wait: true) until the expressions find the custom resource current, then records history', async () => {
    const repo = await env.repo('exprs-wait', { 'app/widget.yaml': yaml(widget('w-wait')) });
    await env.createKs('exprs-wait', repo, {
      path: './app',
      targetNamespace: ns(),
      wait: true,
      timeout: '2m',
      healthCheckExprs,
    });
    await healthChecking('exprs-wait', 'w-wait');
    assert.notEqual(
      ready(await env.getKs('exprs-wait'))?.status,
      'True',
      'not healthy before its status says so',
    );

    await setPhase('w-wait', 'Ready');
    const ks = await env.waitReady('exprs-wait');
    assert.equal(condition(ks, ConditionTypes.Healthy)?.status, 'True');
    const [latest] = ks.status?.history ?? [];
    assert.equal(latest?.lastReconciledStatus, 'ReconciliationSucceeded');
    assert.equal(latest?.metadata?.revision, ks.status?.lastAppliedRevision);
    assert.match(latest?.digest ?? '', /^sha256:[0-9a-f]{64}$/);
    assert.equal(latest?.totalReconciliations, 1);
  });

  it('fails early (healthChecks) when the failed expression holds, naming the resource', async () => {
    const repo = await env.repo('exprs-failed', { 'app/widget.yaml': yaml(widget('w-broken')) });
    await env.createKs('exprs-failed', repo, {
      path: './app',
      targetNamespace: ns(),
      timeout: '10m',
      healthChecks: [{ apiVersion: widgetApiVersion, kind: 'Widget', name: 'w-broken' }],
      healthCheckExprs,
    });
    await healthChecking('exprs-failed', 'w-broken');
    await setPhase('w-broken', 'Broken');
    const ks = await env.waitNotReady('exprs-failed', /failed early due to stalled resources/);
    assert.equal(ready(ks)?.reason, 'HealthCheckFailed');
    assert.match(ready(ks)?.message ?? '', new RegExp(`Widget/${ns()}/w-broken status: 'Failed'`));
    assert.equal(condition(ks, ConditionTypes.Healthy)?.status, 'False');
    assert.equal(ks.status?.history?.[0]?.lastReconciledStatus, 'HealthCheckFailed');
  });

  it('stalls with InvalidCELExpression on a health expression that does not parse, applying nothing', async () => {
    const repo = await env.repo('exprs-invalid', { 'app/widget.yaml': yaml(widget('w-invalid')) });
    await env.createKs('exprs-invalid', repo, {
      path: './app',
      targetNamespace: ns(),
      wait: true,
      healthCheckExprs: [
        { apiVersion: widgetApiVersion, kind: 'Widget', current: "status.phase == 'Ready' &&" },
      ],
    });
    const ks = await stalled('exprs-invalid', 'InvalidCELExpression');
    assert.equal(ready(ks)?.status, 'False');
    assert.equal(ready(ks)?.reason, 'InvalidCELExpression');
    assert.match(
      ready(ks)?.message ?? '',
      /healthCheckExprs\[0\]: current: failed to parse the CEL expression/,
    );
    assert.equal(await env.tryGet(widgetRef('w-invalid')), undefined);
  });

  it('holds a dependent until its readyExpr holds, and stalls on a readyExpr that does not compile', async () => {
    const repo = await env.repo('exprs-deps', {
      'base/cm.yaml': yaml(configMap('expr-base', { v: '1' })),
      'app/cm.yaml': yaml(configMap('expr-app', { v: '1' })),
    });
    await env.createKs('expr-base', repo, { path: './base', targetNamespace: ns() });
    await env.waitReady('expr-base');
    const readyExpr =
      "dep.metadata.?labels[?'tide.test/release'].orValue('') == self.metadata.labels['tide.test/release']";
    await env.client().create<Kustomization>({
      apiVersion: ksApiVersion,
      kind: 'Kustomization',
      metadata: { name: 'expr-app', namespace: ns(), labels: { 'tide.test/release': 'r2' } },
      spec: {
        interval: '10m',
        prune: true,
        path: './app',
        targetNamespace: ns(),
        sourceRef: { kind: 'GitRepository', name: repo.name },
        dependsOn: [{ name: 'expr-base', readyExpr }],
      },
    } as Kustomization);
    const held = await env.waitNotReady('expr-app', /is not ready according to readyExpr eval/);
    assert.equal(ready(held)?.reason, 'DependencyNotReady');
    assert.equal(
      await env.tryGet({ apiVersion: 'v1', kind: 'ConfigMap', namespace: ns(), name: 'expr-app' }),
      undefined,
    );

    const baseRef = { apiVersion: ksApiVersion, kind: 'Kustomization', namespace: ns(), name: 'expr-base' };
    await env.client().patch(baseRef, 'merge', { metadata: { labels: { 'tide.test/release': 'r2' } } });
    await env.waitReady('expr-app');

    await env.patchKs('expr-app', {
      dependsOn: [{ name: 'expr-base', readyExpr: 'dep.status.conditions.exists(' }],
    });
    const bad = await stalled('expr-app', 'InvalidCELExpression');
    assert.match(
      ready(bad)?.message ?? '',
      new RegExp(
        `^Reconciliation failed terminally due to configuration error: failed to evaluate dependency ${ns()}/expr-base`,
      ),
    );
  });

  it('stalls with UnsupportedField naming a spec field Tide refuses', async () => {
    const repo = await env.repo('exprs-refused', { 'app/cm.yaml': yaml(configMap('refused', { v: '1' })) });
    await env.createKs('refused', repo, {
      path: './app',
      targetNamespace: ns(),
      decryption: { provider: 'sops', serviceAccountName: 'kms-reader' },
    });
    const ks = await stalled('refused', 'UnsupportedField');
    assert.equal(ready(ks)?.status, 'False');
    assert.match(
      condition(ks, ConditionTypes.Stalled)?.message ?? '',
      /^spec\.decryption\.serviceAccountName 'kms-reader' is not supported by Tide: /,
    );
    const cm: KubeObject | undefined = await env.tryGet({
      apiVersion: 'v1',
      kind: 'ConfigMap',
      namespace: ns(),
      name: 'refused',
    });
    assert.equal(cm, undefined);
  });
});
