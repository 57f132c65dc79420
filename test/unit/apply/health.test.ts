// kstatus rules, kind by kind, from hand-written objects as the API server returns them.
import assert from 'node:assert/strict';
import { computeStatus, type Status } from '../../../controllers/runtime/apply/health.ts';
import type { KubeObject } from '../../../controllers/runtime/object.ts';

const cond = (type: string, status: string, reason = '', message = '') => ({ type, status, reason, message });

function obj(apiVersion: string, kind: string, rest: Partial<KubeObject> = {}): KubeObject {
  const { metadata, ...others } = rest;
  return { apiVersion, kind, metadata: { name: 'x', namespace: 'ns', ...metadata }, ...others };
}

const deployment = (spec: object, status: object, generation = 1) =>
  obj('apps/v1', 'Deployment', {
    metadata: { generation },
    spec: { replicas: 2, progressDeadlineSeconds: 600, ...spec },
    status: { observedGeneration: 1, ...status },
  });
const availableDeployment = {
  replicas: 2,
  updatedReplicas: 2,
  readyReplicas: 2,
  availableReplicas: 2,
  conditions: [
    cond('Available', 'True', 'MinimumReplicasAvailable'),
    cond('Progressing', 'True', 'NewReplicaSetAvailable'),
  ],
};

const now = Date.parse('2025-01-01T00:10:00Z');

interface Case {
  name: string;
  obj: KubeObject;
  status: Status;
  message?: RegExp;
}

const cases: Case[] = [
  // Generic rules, before any kind rule.
  {
    name: 'a deleting object is Terminating',
    obj: obj('v1', 'ConfigMap', { metadata: { deletionTimestamp: '2025-01-01T00:00:00Z' } }),
    status: 'Terminating',
  },
  {
    name: 'generation not observed → InProgress',
    obj: deployment({}, availableDeployment, 2),
    status: 'InProgress',
    message: /generation is 2, but latest observed generation is 1/,
  },
  {
    name: 'Stalled=True → Failed',
    obj: obj('example.io/v1', 'Thing', {
      status: { conditions: [cond('Stalled', 'True', 'Broken', 'it broke'), cond('Ready', 'False')] },
    }),
    status: 'Failed',
    message: /it broke/,
  },
  {
    name: 'Reconciling=True → InProgress',
    obj: obj('example.io/v1', 'Thing', {
      status: { conditions: [cond('Reconciling', 'True', 'Progressing', 'working'), cond('Ready', 'True')] },
    }),
    status: 'InProgress',
    message: /working/,
  },
  // Ready-condition kinds (Flux kinds and most operators).
  {
    name: 'Flux kind Ready=True → Current',
    obj: obj('kustomize.toolkit.fluxcd.io/v1', 'Kustomization', {
      metadata: { generation: 3 },
      status: {
        observedGeneration: 3,
        conditions: [cond('Ready', 'True', 'ReconciliationSucceeded', 'Applied')],
      },
    }),
    status: 'Current',
  },
  {
    name: 'Flux kind Ready=False → InProgress',
    obj: obj('source.toolkit.fluxcd.io/v1', 'GitRepository', {
      metadata: { generation: 3 },
      status: { observedGeneration: 3, conditions: [cond('Ready', 'False', 'GitOperationFailed', 'auth')] },
    }),
    status: 'InProgress',
    message: /auth/,
  },
  {
    name: 'Flux kind Ready=False with Stalled=True → Failed',
    obj: obj('kustomize.toolkit.fluxcd.io/v1', 'Kustomization', {
      status: {
        conditions: [cond('Ready', 'False', 'X'), cond('Stalled', 'True', 'InvalidCELExpression', 'bad')],
      },
    }),
    status: 'Failed',
  },
  {
    name: 'no conditions → Current',
    obj: obj('example.io/v1', 'Thing', { spec: { a: 1 } }),
    status: 'Current',
  },
  // Deployment.
  { name: 'Deployment available', obj: deployment({}, availableDeployment), status: 'Current' },
  {
    name: 'Deployment with too few replicas',
    obj: deployment({}, { ...availableDeployment, replicas: 1 }),
    status: 'InProgress',
    message: /Replicas: 1\/2/,
  },
  {
    name: 'Deployment rolling out',
    obj: deployment({}, { ...availableDeployment, updatedReplicas: 1 }),
    status: 'InProgress',
    message: /Updated: 1\/2/,
  },
  {
    name: 'Deployment not ready',
    obj: deployment({}, { ...availableDeployment, readyReplicas: 1, availableReplicas: 2 }),
    status: 'InProgress',
    message: /Ready: 1\/2/,
  },
  {
    name: 'Deployment with pods left to terminate',
    obj: deployment({}, { ...availableDeployment, replicas: 3 }),
    status: 'InProgress',
    message: /Pending termination: 1/,
  },
  {
    name: 'Deployment whose new ReplicaSet is not yet available',
    obj: deployment(
      {},
      {
        ...availableDeployment,
        conditions: [cond('Available', 'True'), cond('Progressing', 'True', 'ReplicaSetUpdated')],
      },
    ),
    status: 'InProgress',
    message: /ReplicaSet not Available/,
  },
  {
    name: 'Deployment past its progress deadline → Failed',
    obj: deployment(
      {},
      {
        replicas: 2,
        unavailableReplicas: 2,
        conditions: [
          cond('Available', 'False', 'MinimumReplicasUnavailable'),
          cond(
            'Progressing',
            'False',
            'ProgressDeadlineExceeded',
            'ReplicaSet "web-1" has timed out progressing.',
          ),
        ],
      },
    ),
    status: 'Failed',
    message: /Progress deadline exceeded/,
  },
  // StatefulSet.
  {
    name: 'StatefulSet ready',
    obj: obj('apps/v1', 'StatefulSet', {
      spec: { replicas: 2 },
      status: {
        replicas: 2,
        readyReplicas: 2,
        currentReplicas: 2,
        currentRevision: 'r1',
        updateRevision: 'r1',
      },
    }),
    status: 'Current',
  },
  {
    name: 'StatefulSet waiting for the update revision',
    obj: obj('apps/v1', 'StatefulSet', {
      spec: { replicas: 2 },
      status: {
        replicas: 2,
        readyReplicas: 2,
        currentReplicas: 2,
        currentRevision: 'r1',
        updateRevision: 'r2',
      },
    }),
    status: 'InProgress',
    message: /updated revision/,
  },
  {
    name: 'StatefulSet not ready',
    obj: obj('apps/v1', 'StatefulSet', { spec: { replicas: 2 }, status: { replicas: 2, readyReplicas: 1 } }),
    status: 'InProgress',
    message: /Ready: 1\/2/,
  },
  {
    name: 'StatefulSet with OnDelete updates',
    obj: obj('apps/v1', 'StatefulSet', {
      spec: { replicas: 2, updateStrategy: { type: 'OnDelete' } },
      status: {},
    }),
    status: 'Current',
  },
  // DaemonSet.
  {
    name: 'DaemonSet scheduled everywhere',
    obj: obj('apps/v1', 'DaemonSet', {
      metadata: { generation: 1 },
      status: {
        observedGeneration: 1,
        desiredNumberScheduled: 1,
        currentNumberScheduled: 1,
        updatedNumberScheduled: 1,
        numberAvailable: 1,
        numberReady: 1,
      },
    }),
    status: 'Current',
  },
  {
    name: 'DaemonSet not seen by its controller',
    obj: obj('apps/v1', 'DaemonSet', { metadata: { generation: 1 }, status: {} }),
    status: 'InProgress',
    message: /observedGeneration not found/,
  },
  {
    name: 'DaemonSet not available',
    obj: obj('apps/v1', 'DaemonSet', {
      metadata: { generation: 1 },
      status: {
        observedGeneration: 1,
        desiredNumberScheduled: 2,
        currentNumberScheduled: 2,
        updatedNumberScheduled: 2,
        numberAvailable: 1,
      },
    }),
    status: 'InProgress',
    message: /Available: 1\/2/,
  },
  // ReplicaSet.
  {
    name: 'ReplicaSet available',
    obj: obj('apps/v1', 'ReplicaSet', {
      spec: { replicas: 1 },
      status: { replicas: 1, fullyLabeledReplicas: 1, availableReplicas: 1, readyReplicas: 1 },
    }),
    status: 'Current',
  },
  {
    name: 'ReplicaSet with a ReplicaFailure',
    obj: obj('apps/v1', 'ReplicaSet', {
      spec: { replicas: 1 },
      status: { conditions: [cond('ReplicaFailure', 'True', 'FailedCreate')] },
    }),
    status: 'InProgress',
    message: /Replica Failure/,
  },
  // Pod.
  {
    name: 'Pod running and Ready',
    obj: obj('v1', 'Pod', { status: { phase: 'Running', conditions: [cond('Ready', 'True')] } }),
    status: 'Current',
  },
  {
    name: 'Pod succeeded',
    obj: obj('v1', 'Pod', { status: { phase: 'Succeeded' } }),
    status: 'Current',
  },
  {
    name: 'Pod failed: finished, so Current for kstatus',
    obj: obj('v1', 'Pod', { status: { phase: 'Failed' } }),
    status: 'Current',
    message: /not successfully/,
  },
  {
    name: 'Pod crash-looping → Failed',
    obj: obj('v1', 'Pod', {
      status: {
        phase: 'Running',
        conditions: [cond('Ready', 'False')],
        containerStatuses: [{ name: 'app', state: { waiting: { reason: 'CrashLoopBackOff' } } }],
      },
    }),
    status: 'Failed',
    message: /CrashLoop state: app/,
  },
  {
    name: 'Pod running, not ready',
    obj: obj('v1', 'Pod', { status: { phase: 'Running', conditions: [cond('Ready', 'False')] } }),
    status: 'InProgress',
  },
  {
    name: 'Pod unschedulable for a while → Failed',
    obj: obj('v1', 'Pod', {
      metadata: { creationTimestamp: '2025-01-01T00:00:00Z' },
      status: { phase: 'Pending', conditions: [cond('PodScheduled', 'False', 'Unschedulable')] },
    }),
    status: 'Failed',
  },
  {
    name: 'Pod unschedulable for its first seconds → InProgress',
    obj: obj('v1', 'Pod', {
      metadata: { creationTimestamp: '2025-01-01T00:09:55Z' },
      status: { phase: 'Pending', conditions: [cond('PodScheduled', 'False', 'Unschedulable')] },
    }),
    status: 'InProgress',
  },
  // Job (Flux's reader: only a complete Job is Current).
  {
    name: 'Job complete',
    obj: obj('batch/v1', 'Job', { status: { succeeded: 1, conditions: [cond('Complete', 'True')] } }),
    status: 'Current',
  },
  {
    name: 'Job running → InProgress',
    obj: obj('batch/v1', 'Job', { status: { active: 1, startTime: '2025-01-01T00:00:00Z' } }),
    status: 'InProgress',
  },
  {
    name: 'Job failed → Failed',
    obj: obj('batch/v1', 'Job', {
      status: { failed: 6, conditions: [cond('Failed', 'True', 'BackoffLimitExceeded')] },
    }),
    status: 'Failed',
    message: /Job Failed. failed: 6\/1/,
  },
  // PVC.
  {
    name: 'PVC bound',
    obj: obj('v1', 'PersistentVolumeClaim', { status: { phase: 'Bound' } }),
    status: 'Current',
  },
  {
    name: 'PVC pending',
    obj: obj('v1', 'PersistentVolumeClaim', { status: { phase: 'Pending' } }),
    status: 'InProgress',
  },
  // Service.
  {
    name: 'ClusterIP Service',
    obj: obj('v1', 'Service', { spec: { type: 'ClusterIP', clusterIP: '10.0.0.1' } }),
    status: 'Current',
  },
  {
    name: 'LoadBalancer Service without a cluster IP',
    obj: obj('v1', 'Service', { spec: { type: 'LoadBalancer' } }),
    status: 'InProgress',
  },
  {
    name: 'LoadBalancer Service with a cluster IP',
    obj: obj('v1', 'Service', { spec: { type: 'LoadBalancer', clusterIP: '10.0.0.2' }, status: {} }),
    status: 'Current',
  },
  // CRD.
  {
    name: 'CRD established',
    obj: obj('apiextensions.k8s.io/v1', 'CustomResourceDefinition', {
      status: { conditions: [cond('NamesAccepted', 'True'), cond('Established', 'True')] },
    }),
    status: 'Current',
  },
  {
    name: 'CRD installing',
    obj: obj('apiextensions.k8s.io/v1', 'CustomResourceDefinition', {
      status: { conditions: [cond('Established', 'False', 'Installing')] },
    }),
    status: 'InProgress',
  },
  {
    name: 'CRD with names not accepted → Failed',
    obj: obj('apiextensions.k8s.io/v1', 'CustomResourceDefinition', {
      status: { conditions: [cond('NamesAccepted', 'False', 'NameConflict', '"widgets" is already in use')] },
    }),
    status: 'Failed',
    message: /already in use/,
  },
  // PDB, and kinds that are always ready.
  {
    name: 'PodDisruptionBudget observed',
    obj: obj('policy/v1', 'PodDisruptionBudget', {
      metadata: { generation: 1 },
      status: { observedGeneration: 1 },
    }),
    status: 'Current',
  },
  {
    name: 'PodDisruptionBudget not observed',
    obj: obj('policy/v1', 'PodDisruptionBudget', {
      metadata: { generation: 2 },
      status: { observedGeneration: 1 },
    }),
    status: 'InProgress',
  },
  { name: 'ConfigMap', obj: obj('v1', 'ConfigMap', { data: {} }), status: 'Current' },
  { name: 'CronJob', obj: obj('batch/v1', 'CronJob', { spec: {} }), status: 'Current' },
];

describe('apply/health computeStatus', () => {
  for (const c of cases) {
    it(`${c.name}: ${c.status}`, () => {
      const got = computeStatus(c.obj, now);
      assert.equal(got.status, c.status, got.message);
      if (c.message) assert.match(got.message, c.message);
    });
  }
});
