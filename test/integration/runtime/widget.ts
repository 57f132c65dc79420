// A tiny kind and controller for testing the runtime against a real API server: Widget
// (test.tide.dev/v1) with spec.interval/suspend/value/retryInterval and a status subresource. Its
// reconcile copies spec.value to status.observed; a spec.value "fail:<Reason> <rest>" fails the reconcile
// with that reason, so tests can drive both outcomes.

import { ConditionTypes } from '../../../controllers/api/names.ts';
import { type Client, createClient } from '../../../controllers/runtime/client.ts';
import { GenericError, WaitingError } from '../../../controllers/runtime/errors.ts';
import { createLogger, type Logger } from '../../../controllers/runtime/log.ts';
import type { KubeObject } from '../../../controllers/runtime/object.ts';
import { defineController, type ReconcileContext } from '../../../controllers/runtime/reconciler.ts';
import { poll } from '../../../hack/testbed/proc.ts';
import { testbed } from '../../support/testbed.ts';

export const widgetKind = { group: 'test.tide.dev', version: 'v1', kind: 'Widget', plural: 'widgets' };
export const widgetApiVersion = 'test.tide.dev/v1';

export interface Widget extends KubeObject {
  spec: { value?: string; interval?: string; retryInterval?: string; suspend?: boolean; note?: string };
  status?: {
    observed?: string;
    reconciledBy?: string;
    lastHandledReconcileAt?: string;
    observedGeneration?: number;
    conditions?: { type: string; status: string; reason: string; message: string }[];
  };
}

const crd = {
  apiVersion: 'apiextensions.k8s.io/v1',
  kind: 'CustomResourceDefinition',
  metadata: { name: 'widgets.test.tide.dev' },
  spec: {
    group: 'test.tide.dev',
    names: { kind: 'Widget', listKind: 'WidgetList', plural: 'widgets', singular: 'widget' },
    scope: 'Namespaced',
    versions: [
      {
        name: 'v1',
        served: true,
        storage: true,
        subresources: { status: {} },
        schema: {
          openAPIV3Schema: {
            type: 'object',
            properties: {
              spec: {
                type: 'object',
                properties: {
                  value: { type: 'string' },
                  note: { type: 'string' },
                  interval: { type: 'string' },
                  retryInterval: { type: 'string' },
                  suspend: { type: 'boolean' },
                },
              },
              status: { type: 'object', 'x-kubernetes-preserve-unknown-fields': true },
            },
          },
        },
      },
    ],
  },
};

/** An admin client for test set-up and assertions (field manager "test-user"). */
export function adminClient(fieldManager = 'test-user'): Client {
  return createClient(testbed().kubeconfig, { fieldManager });
}

/** Applies the Widget CRD (idempotent) and waits until Widgets are served. */
export async function installWidgetCrd(): Promise<void> {
  const c = adminClient('tide-test');
  await c.apply(crd, { force: true });
  await poll('Widget CRD established', 30_000, async () => {
    const got = await c.get({ apiVersion: crd.apiVersion, kind: crd.kind, name: crd.metadata.name });
    const established = (got.status?.conditions ?? []).some(
      (x: { type: string; status: string }) => x.type === 'Established' && x.status === 'True',
    );
    if (!established) return undefined;
    await c.list(widgetKind, { limit: 1 });
    return true;
  });
}

export interface WidgetControllerOptions {
  /** Written to status.reconciledBy, to tell two managers apart. */
  id?: string;
  /** Called at the start of every reconcile (tests count runs or slow it down). */
  onReconcile?(obj: Widget, ctx: ReconcileContext): Promise<void> | void;
  onFinalize?(obj: Widget): Promise<void> | void;
  /** Resolve a spec.value "cm:<name>" from that ConfigMap's data.value, and watch ConfigMaps for it. */
  configMaps?: boolean;
}

const configMapKind = { group: '', version: 'v1', kind: 'ConfigMap', plural: 'configmaps' };

export function widgetController(opts: WidgetControllerOptions = {}) {
  return defineController<Widget>({
    name: 'widget',
    kind: widgetKind,
    conditionPolicy: { owned: [], negativePolarity: [] },
    async reconcile(obj, ctx) {
      await opts.onReconcile?.(obj, ctx);
      let value = obj.spec.value ?? '';
      if (opts.configMaps && value.startsWith('cm:')) {
        const cm = ctx.cached(configMapKind, `${obj.metadata.namespace}/${value.slice(3)}`);
        if (!cm)
          throw new WaitingError('DependencyNotReady', `ConfigMap ${value.slice(3)} not found`, 60_000);
        value = String((cm.data as Record<string, string> | undefined)?.value ?? '');
      }
      if (value.startsWith('fail:')) {
        throw new GenericError(value.slice(5).split(' ')[0] ?? '', `cannot use value ${value}`);
      }
      obj.status = { ...obj.status, observed: value, ...(opts.id ? { reconciledBy: opts.id } : {}) };
      return { readyMessage: `observed ${value}`, eventMetadata: { 'test.tide.dev/revision': value } };
    },
    async finalize(obj) {
      await opts.onFinalize?.(obj);
    },
    watches: opts.configMaps
      ? [
          {
            kind: configMapKind,
            map: (cm, primary) =>
              primary
                .list()
                .filter(
                  (w) =>
                    w.metadata.namespace === cm.metadata.namespace &&
                    w.spec?.value === `cm:${cm.metadata.name}`,
                )
                .map((w) => `${w.metadata.namespace}/${w.metadata.name}`),
          },
        ]
      : [],
  });
}

export function widget(namespace: string, name: string, spec: Widget['spec']): Widget {
  return { apiVersion: widgetApiVersion, kind: 'Widget', metadata: { name, namespace }, spec };
}

export const widgetRef = (namespace: string, name: string) => ({
  apiVersion: widgetApiVersion,
  kind: 'Widget',
  name,
  namespace,
});

/** Waits until check(widget) is true; on timeout reports the last status seen. */
export async function waitWidget(
  c: Client,
  namespace: string,
  name: string,
  what: string,
  check: (w: Widget) => boolean,
  timeoutMs = 30_000,
): Promise<Widget> {
  return poll(`${namespace}/${name}: ${what}`, timeoutMs, async () => {
    const w = await c.get<Widget>(widgetRef(namespace, name));
    if (check(w)) return w;
    throw new Error(`last seen spec ${JSON.stringify(w.spec)} status ${JSON.stringify(w.status ?? {})}`);
  });
}

/** Collects log lines, for asserting and for printing when TIDE_TEST_VERBOSE is set. */
export function testLogger(): { log: Logger; lines: Record<string, unknown>[] } {
  const lines: Record<string, unknown>[] = [];
  const log = createLogger({
    level: 'debug',
    out: (line) => {
      lines.push(JSON.parse(line));
      if (process.env.TIDE_TEST_VERBOSE) console.error(line);
    },
  });
  return { log, lines };
}

export const isReady = (w: Widget) =>
  w.status?.conditions?.some((c) => c.type === ConditionTypes.Ready && c.status === 'True') ?? false;
