// A controller built on the runtime (the Widget controller of widget.ts) against a real API server:
// the Flux contract of the runner (finalizers, suspend, requestedAt, status-only writes, events with
// Flux reasons, forwarding to notification-controller, metrics and readiness endpoints).

import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Annotations, ConditionTypes, FINALIZER } from '../../../controllers/api/names.ts';
import type { FluxEvent } from '../../../controllers/runtime/events.ts';
import { createManager, type Manager, parseFlags } from '../../../controllers/runtime/manager.ts';
import type { KubeObject } from '../../../controllers/runtime/object.ts';
import { poll } from '../../../hack/testbed/proc.ts';
import { testbed, useNamespace } from '../../support/testbed.ts';
import {
  adminClient,
  installWidgetCrd,
  isReady,
  testLogger,
  type Widget,
  waitWidget,
  widget,
  widgetController,
  widgetRef,
} from './widget.ts';

/** A stand-in for notification-controller's event endpoint: records every POSTed event. */
async function eventSink(): Promise<{ url: string; events: FluxEvent[]; close(): Promise<void> }> {
  const events: FluxEvent[] = [];
  const server: Server = createServer((req, res) => {
    let body = '';
    req.on('data', (c) => {
      body += c;
    });
    req.on('end', () => {
      if (req.method === 'POST' && req.headers['content-type'] === 'application/json')
        events.push(JSON.parse(body));
      res.writeHead(202).end();
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/`,
    events,
    close: () => new Promise((r) => server.close(() => r())),
  };
}

interface K8sEvent extends KubeObject {
  type: string;
  reason: string;
  message: string;
  count: number;
  involvedObject: { name: string; kind: string; uid: string };
  source: { component: string };
  reportingComponent: string;
}

describe('runtime/controller: a Widget controller on the runtime', function () {
  this.timeout(120_000);
  const ns = useNamespace('rt-ctrl');
  let c: ReturnType<typeof adminClient>;
  const runs = new Map<string, number>();
  const gates = new Map<string, Promise<void>>();
  const finalized: string[] = [];
  let failFinalizeOnce = new Set<string>();
  let manager: Manager;
  let sink: Awaited<ReturnType<typeof eventSink>>;
  const logs = testLogger();

  before(async () => {
    c = adminClient();
    await installWidgetCrd();
    sink = await eventSink();
    const { flags } = parseFlags([
      '--concurrent=4',
      '--metrics-addr=127.0.0.1:0',
      '--health-addr=127.0.0.1:0',
      '--enable-leader-election=false',
      '--watch-all-namespaces=false',
      `--events-addr=${sink.url}`,
    ]);
    manager = createManager({
      name: 'widget-controller',
      namespace: ns(),
      flags,
      kubeConfig: testbed().kubeconfig,
      log: logs.log,
      controllers: [
        widgetController({
          configMaps: true,
          async onReconcile(obj) {
            const name = obj.metadata.name ?? '';
            runs.set(name, (runs.get(name) ?? 0) + 1);
            await gates.get(name);
          },
          onFinalize(obj) {
            const name = obj.metadata.name ?? '';
            if (failFinalizeOnce.delete(name)) throw new Error(`cannot clean up ${name} yet`);
            finalized.push(name);
          },
        }),
      ],
      queue: { baseDelayMs: 200, maxDelayMs: 2_000 },
    });
    await manager.start();
    await manager.waitForSync();
  });

  after(async () => {
    await manager?.stop();
    await sink?.close();
  });

  it('reconciles: adds the finalizer, copies spec.value, marks Ready and observes the generation', async () => {
    await c.create(widget(ns(), 'basic', { value: 'one', interval: '5m' }));
    const w = await waitWidget(
      c,
      ns(),
      'basic',
      'Ready with observed=one',
      (x) => isReady(x) && x.status?.observed === 'one',
    );
    assert.deepEqual(w.metadata.finalizers, [FINALIZER]);
    assert.equal(w.status?.observedGeneration, w.metadata.generation);
    const ready = w.status?.conditions?.find((x) => x.type === ConditionTypes.Ready);
    assert.equal(ready?.reason, 'Succeeded');
    assert.equal(ready?.message, 'observed one');
    assert.ok(
      !w.status?.conditions?.some(
        (x) => x.type === ConditionTypes.Reconciling || x.type === ConditionTypes.Stalled,
      ),
    );

    await c.patch(widgetRef(ns(), 'basic'), 'merge', { spec: { value: 'two' } });
    await waitWidget(c, ns(), 'basic', 'observed=two', (x) => x.status?.observed === 'two' && isReady(x));
  });

  it('honours reconcile.fluxcd.io/requestedAt: reconciles again without a spec change and echoes the token', async () => {
    await c.create(widget(ns(), 'req', { value: 'a', interval: '1h' }));
    const first = await waitWidget(c, ns(), 'req', 'Ready', isReady);
    await new Promise((r) => setTimeout(r, 500));
    const before = runs.get('req') ?? 0;
    const token = new Date().toISOString();
    await c.patch(widgetRef(ns(), 'req'), 'merge', {
      metadata: { annotations: { [Annotations.reconcileRequestedAt]: token } },
    });
    const w = await waitWidget(
      c,
      ns(),
      'req',
      'lastHandledReconcileAt = token',
      (x) => x.status?.lastHandledReconcileAt === token,
    );
    assert.equal(w.metadata.generation, first.metadata.generation, 'annotating does not bump the generation');
    assert.ok((runs.get('req') ?? 0) > before, 'the reconcile ran again');
  });

  it('keeps a condition another writer owns, even one written while the reconcile was in flight', async () => {
    await c.create(widget(ns(), 'owned', { value: 'one', interval: '1h' }));
    await waitWidget(c, ns(), 'owned', 'Ready', isReady);
    let release = () => {};
    gates.set('owned', new Promise<void>((r) => (release = r)));
    const started = runs.get('owned') ?? 0;
    await c.patch(widgetRef(ns(), 'owned'), 'merge', { spec: { value: 'two' } });
    await poll('reconcile in flight', 30_000, async () =>
      (runs.get('owned') ?? 0) > started ? true : undefined,
    );
    // Another writer adds its own condition between the runner's read and its status write.
    const cur = await c.get<Widget>(widgetRef(ns(), 'owned'));
    const external = {
      type: 'ExternalApproval',
      status: 'True',
      reason: 'Approved',
      message: 'approved by a person',
      lastTransitionTime: '2026-01-01T00:00:00Z',
    };
    await c.patchStatus(
      widgetRef(ns(), 'owned'),
      { conditions: [...(cur.status?.conditions ?? []), external] },
      { resourceVersion: cur.metadata.resourceVersion },
    );
    gates.delete('owned');
    release();
    const w = await waitWidget(
      c,
      ns(),
      'owned',
      'observed two',
      (x) => x.status?.observed === 'two' && isReady(x),
    );
    assert.deepEqual(
      w.status?.conditions?.find((x) => x.type === 'ExternalApproval'),
      external,
      "the other writer's condition survived the runner's status write",
    );
    assert.equal(w.status?.conditions?.find((x) => x.type === ConditionTypes.Ready)?.message, 'observed two');
  });

  it('skips a suspended object, and catches up when resumed', async () => {
    await c.create(widget(ns(), 'sus', { value: 'a', interval: '1h' }));
    await waitWidget(c, ns(), 'sus', 'observed=a', (x) => x.status?.observed === 'a');
    await c.patch(widgetRef(ns(), 'sus'), 'merge', { spec: { suspend: true, value: 'b' } });
    await new Promise((r) => setTimeout(r, 1000));
    const runsWhileSuspended = runs.get('sus');
    await c.patch(widgetRef(ns(), 'sus'), 'merge', { spec: { value: 'c' } });
    await new Promise((r) => setTimeout(r, 2000));
    const suspended = await c.get<Widget>(widgetRef(ns(), 'sus'));
    assert.equal(suspended.status?.observed, 'a', 'spec changes of a suspended object do not reach status');
    assert.equal(runs.get('sus'), runsWhileSuspended, 'reconcile is not called while suspended');
    assert.ok(
      logs.lines.some((l) => l.name === 'sus' && l.msg === 'Reconciliation is suspended for this object'),
    );

    await c.patch(widgetRef(ns(), 'sus'), 'merge', { spec: { suspend: false } });
    await waitWidget(c, ns(), 'sus', 'observed=c after resume', (x) => x.status?.observed === 'c');
  });

  it('finalizes on delete, retrying a failed finalize, then removes its finalizer so the object goes', async () => {
    await c.create(widget(ns(), 'fin', { value: 'a' }));
    await waitWidget(
      c,
      ns(),
      'fin',
      'finalizer added',
      (x) => x.metadata.finalizers?.includes(FINALIZER) ?? false,
    );
    failFinalizeOnce = new Set(['fin']);
    await c.delete(widgetRef(ns(), 'fin'));
    await poll('fin deleted', 30_000, async () =>
      (await c.tryGet(widgetRef(ns(), 'fin'))) ? undefined : true,
    );
    assert.deepEqual(
      finalized.filter((n) => n === 'fin'),
      ['fin'],
      'finalize succeeded once, after the failed attempt',
    );
    const events = await c.list<K8sEvent>({ group: '', version: 'v1', kind: 'Event' }, { namespace: ns() });
    assert.ok(
      events.items.some(
        (e) =>
          e.involvedObject.name === 'fin' && e.type === 'Warning' && /cannot clean up fin/.test(e.message),
      ),
      'the failed finalize was recorded as a Warning event',
    );
  });

  it('writes only status: a spec change made during the reconcile survives the status write', async () => {
    await c.create(widget(ns(), 'race', { value: 'a', note: 'original' }));
    await waitWidget(c, ns(), 'race', 'Ready', isReady);
    let release: () => void = () => {};
    gates.set('race', new Promise<void>((r) => (release = r)));
    const before = runs.get('race') ?? 0;
    await c.patch(widgetRef(ns(), 'race'), 'merge', { spec: { value: 'b' } });
    await poll('reconcile of value b started', 10_000, async () =>
      (runs.get('race') ?? 0) > before ? true : undefined,
    );
    // "A user" edits the spec while the controller holds an older copy.
    await c.patch(widgetRef(ns(), 'race'), 'merge', { spec: { note: 'edited by user' } });
    gates.delete('race');
    release();
    const w = await waitWidget(
      c,
      ns(),
      'race',
      'observed=b',
      (x) => x.status?.observed === 'b' && isReady(x),
    );
    assert.equal(w.spec.note, 'edited by user');
    // The controller's own writes own nothing in spec: status (subresource) and its finalizer only.
    const mine = (
      w.metadata.managedFields as { manager: string; subresource?: string; fieldsV1: object }[]
    ).filter((m) => m.manager === 'widget-controller');
    assert.ok(mine.length > 0);
    for (const m of mine) {
      const fields = Object.keys(m.fieldsV1);
      if (m.subresource === 'status') assert.deepEqual(fields, ['f:status']);
      else assert.deepEqual(fields, ['f:metadata'], JSON.stringify(m.fieldsV1));
    }
  });

  it('records Flux events (aggregated, secrets redacted) and forwards them as Flux event JSON', async () => {
    await c.create(
      widget(ns(), 'ev', {
        value: 'fail:AuthFailed https://bob:s3cret@git.example/repo',
        retryInterval: '300ms',
      }),
    );
    await waitWidget(c, ns(), 'ev', 'Ready=False AuthFailed', (x) =>
      Boolean(
        x.status?.conditions?.some(
          (k) => k.type === ConditionTypes.Ready && k.status === 'False' && k.reason === 'AuthFailed',
        ),
      ),
    );
    const uid = (await c.get(widgetRef(ns(), 'ev'))).metadata.uid;
    const warnings = await poll('an aggregated Warning event with count >= 3', 20_000, async () => {
      const list = await c.list<K8sEvent>({ group: '', version: 'v1', kind: 'Event' }, { namespace: ns() });
      const mine = list.items.filter((e) => e.involvedObject.uid === uid && e.type === 'Warning');
      return mine.length === 1 && (mine[0]?.count ?? 0) >= 3 ? mine : undefined;
    });
    const warning = warnings[0]!;
    assert.equal(warning.reason, 'AuthFailed');
    assert.match(warning.message, /bob:\*\*\*@git\.example/);
    assert.doesNotMatch(warning.message, /s3cret/);
    assert.equal(warning.source.component, 'widget-controller');
    assert.equal(warning.reportingComponent, 'widget-controller');

    const forwarded = sink.events.filter((e) => e.involvedObject.name === 'ev' && e.severity === 'error');
    assert.ok(forwarded.length >= 1, 'the failure was forwarded');
    const e = forwarded[0]!;
    assert.deepEqual(Object.keys(e.involvedObject).sort(), [
      'apiVersion',
      'kind',
      'name',
      'namespace',
      'resourceVersion',
      'uid',
    ]);
    assert.equal(e.involvedObject.kind, 'Widget');
    assert.equal(e.involvedObject.apiVersion, 'test.tide.dev/v1');
    assert.equal(e.involvedObject.namespace, ns());
    assert.equal(e.involvedObject.uid, uid);
    assert.equal(e.reportingController, 'widget-controller');
    assert.ok(e.reportingInstance);
    assert.ok(!Number.isNaN(Date.parse(e.timestamp)));
    assert.doesNotMatch(JSON.stringify(sink.events), /s3cret/);

    // Fixed: Ready turns True, a Normal ReconciliationSucceeded event carries the revision metadata.
    await c.patch(widgetRef(ns(), 'ev'), 'merge', { spec: { value: 'good', interval: '5m' } });
    await waitWidget(c, ns(), 'ev', 'Ready', isReady);
    const ok = await poll('info event forwarded', 10_000, async () =>
      sink.events.find((x) => x.involvedObject.name === 'ev' && x.severity === 'info'),
    );
    assert.equal(ok.reason, 'ReconciliationSucceeded');
    assert.match(ok.message, /^Reconciliation finished in [\d.]+(µs|ms|s), next run in 5m0s$/);
    assert.deepEqual(ok.metadata, { 'test.tide.dev/revision': 'good' });
    const normal = await poll('Normal event recorded', 10_000, async () => {
      const list = await c.list<K8sEvent>({ group: '', version: 'v1', kind: 'Event' }, { namespace: ns() });
      return list.items.find((x) => x.involvedObject.uid === uid && x.type === 'Normal');
    });
    assert.equal(normal.reason, 'ReconciliationSucceeded');
    assert.equal(normal.metadata.annotations?.['test.tide.dev/revision'], 'good');
  });

  it('does not emit a success event for a reconcile that changes nothing in Ready', async () => {
    await c.create(widget(ns(), 'quiet', { value: 'q', interval: '1h' }));
    await waitWidget(c, ns(), 'quiet', 'Ready', isReady);
    await poll('first success event', 10_000, async () =>
      sink.events.find((x) => x.involvedObject.name === 'quiet') ? true : undefined,
    );
    const token = 'again';
    await c.patch(widgetRef(ns(), 'quiet'), 'merge', {
      metadata: { annotations: { [Annotations.reconcileRequestedAt]: token } },
    });
    await waitWidget(c, ns(), 'quiet', 'token handled', (x) => x.status?.lastHandledReconcileAt === token);
    await manager.recorder.flush();
    assert.equal(sink.events.filter((x) => x.involvedObject.name === 'quiet').length, 1);
  });

  it('waits for a watched ConfigMap and reconciles again when it appears or changes', async () => {
    await c.create(widget(ns(), 'dep', { value: 'cm:settings', interval: '1h' }));
    const waiting = await waitWidget(c, ns(), 'dep', 'Ready=False DependencyNotReady', (x) =>
      Boolean(
        x.status?.conditions?.some(
          (k) => k.type === ConditionTypes.Ready && k.reason === 'DependencyNotReady',
        ),
      ),
    );
    assert.equal(waiting.status?.observed, undefined);
    const cm = {
      apiVersion: 'v1',
      kind: 'ConfigMap',
      metadata: { name: 'settings', namespace: ns() },
      data: { value: 'from-cm' },
    };
    await c.create(cm);
    // Well before the 60 s WaitingError delay: the ConfigMap watch triggered the reconcile.
    await waitWidget(
      c,
      ns(),
      'dep',
      'observed from-cm',
      (x) => x.status?.observed === 'from-cm' && isReady(x),
      10_000,
    );
    await c.patch({ apiVersion: 'v1', kind: 'ConfigMap', name: 'settings', namespace: ns() }, 'merge', {
      data: { value: 'changed' },
    });
    await waitWidget(c, ns(), 'dep', 'observed changed', (x) => x.status?.observed === 'changed', 10_000);
  });

  it('serves readiness once synced, liveness, and the reconcile metrics', async () => {
    const { health, metrics } = manager.ports();
    assert.equal((await fetch(`http://127.0.0.1:${health}/readyz`)).status, 200);
    assert.equal((await fetch(`http://127.0.0.1:${health}/healthz`)).status, 200);
    const text = await (await fetch(`http://127.0.0.1:${metrics}/metrics`)).text();
    assert.match(
      text,
      new RegExp(
        `gotk_reconcile_duration_seconds_count\\{kind="Widget",name="basic",namespace="${ns()}"\\} [1-9]`,
      ),
    );
    assert.match(text, /tide_reconcile_total\{controller="widget",kind="Widget",result="success"\} [1-9]/);
    assert.match(text, /tide_reconcile_total\{controller="widget",kind="Widget",result="error"\} [1-9]/);
    assert.match(text, /tide_informer_healthy\{kind="Widget"\} 1/);
  });
});
