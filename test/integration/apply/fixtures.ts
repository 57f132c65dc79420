// Objects and clients shared by the apply engine's integration tests.
import { Labels } from '../../../controllers/api/names.ts';
import { type Client, createClient } from '../../../controllers/runtime/client.ts';
import type { KubeObject, ObjectRef } from '../../../controllers/runtime/object.ts';
import { testbed } from '../../support/testbed.ts';

export const fieldManager = 'kustomize-controller';
export const ownerLabels = {
  [Labels.kustomizeName]: 'apps',
  [Labels.kustomizeNamespace]: 'flux-system',
};

/** The admin client that applies (as kustomize-controller would). */
export const engineClient = (): Client => createClient(testbed().kubeconfig, { fieldManager });
/** Another writer, for set-up, drift and assertions. */
export const otherClient = (manager = 'other-tool'): Client =>
  createClient(testbed().kubeconfig, { fieldManager: manager });

export const refOf = (o: KubeObject): ObjectRef => ({
  apiVersion: o.apiVersion ?? '',
  kind: o.kind ?? '',
  name: o.metadata.name ?? '',
  namespace: o.metadata.namespace,
});

export const configMap = (
  ns: string,
  name: string,
  data: Record<string, string>,
  annotations = {},
): KubeObject => ({
  apiVersion: 'v1',
  kind: 'ConfigMap',
  metadata: { name, namespace: ns, annotations },
  data,
});

export function deployment(
  ns: string,
  name: string,
  opts: { replicas?: number; app?: string; nodeSelector?: Record<string, string>; deadline?: number } = {},
): KubeObject {
  const app = opts.app ?? name;
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name, namespace: ns },
    spec: {
      replicas: opts.replicas ?? 1,
      ...(opts.deadline ? { progressDeadlineSeconds: opts.deadline } : {}),
      selector: { matchLabels: { app } },
      template: {
        metadata: { labels: { app } },
        spec: {
          ...(opts.nodeSelector ? { nodeSelector: opts.nodeSelector } : {}),
          containers: [{ name: 'app', image: 'registry.example/app:1', ports: [{ containerPort: 8080 }] }],
        },
      },
    },
  };
}

export function job(ns: string, name: string, image: string): KubeObject {
  return {
    apiVersion: 'batch/v1',
    kind: 'Job',
    metadata: { name, namespace: ns },
    spec: {
      backoffLimit: 0,
      template: {
        spec: { restartPolicy: 'Never', containers: [{ name: 'run', image, command: ['true'] }] },
      },
    },
  };
}

/** A namespaced test CRD in a group unique to this run, so reruns and parallel runs do not collide. */
export function gizmoCrd(): {
  crd: KubeObject;
  group: string;
  gizmo: (ns: string, name: string, size: number) => KubeObject;
} {
  const group = `p${process.pid}.apply.tide.dev`;
  const crd: KubeObject = {
    apiVersion: 'apiextensions.k8s.io/v1',
    kind: 'CustomResourceDefinition',
    metadata: { name: `gizmos.${group}` },
    spec: {
      group,
      names: { kind: 'Gizmo', listKind: 'GizmoList', plural: 'gizmos', singular: 'gizmo' },
      scope: 'Namespaced',
      versions: [
        {
          name: 'v1',
          served: true,
          storage: true,
          schema: {
            openAPIV3Schema: {
              type: 'object',
              properties: { spec: { type: 'object', properties: { size: { type: 'integer' } } } },
            },
          },
        },
      ],
    },
  };
  const gizmo = (ns: string, name: string, size: number): KubeObject => ({
    apiVersion: `${group}/v1`,
    kind: 'Gizmo',
    metadata: { name, namespace: ns },
    spec: { size },
  });
  return { crd, group, gizmo };
}
