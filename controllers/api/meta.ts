// Shared API pieces (the counterpart of fluxcd/pkg apis/meta): references, the Artifact,
// conditions, status mixins and the descriptor every kind exports. Names live in names.ts.
import type { V1ObjectMeta } from '@kubernetes/client-node';
import { type TObject, type TOptional, type TString, Type } from '@sinclair/typebox';
import { Annotations } from './names.ts';

export { Columns, describeKind, type KindDescriptor, type PrinterColumn } from './kinds.ts';

import {
  arr,
  bool,
  type CelRule,
  dateTime,
  enumOf,
  int64,
  obj,
  optional,
  type Static,
  str,
  stringMap,
} from './schema.ts';

// ---- Durations -------------------------------------------------------------------------------

/** Go duration accepted by every `interval` field: units ms, s, m and h, e.g. `1m30s`. */
export const INTERVAL_PATTERN = '^([0-9]+(\\.[0-9]+)?(ms|s|m|h))+$';
/** Timeouts of network operations in sources, where Flux does not accept hours. */
export const TIMEOUT_PATTERN = '^([0-9]+(\\.[0-9]+)?(ms|s|m))+$';

export const interval = (description: string, opts: { default?: string } = {}) =>
  str(description, { pattern: INTERVAL_PATTERN, ...opts });
export const timeout = (description: string, opts: { default?: string } = {}) =>
  str(description, { pattern: TIMEOUT_PATTERN, ...opts });

// ---- References ------------------------------------------------------------------------------

export const LocalObjectReference = (description: string) =>
  obj({ name: str('Name of the referenced object, in the same namespace.') }, description);
export type LocalObjectReference = Static<ReturnType<typeof LocalObjectReference>>;

export const NamespacedObjectReference = (description: string) =>
  obj(
    {
      name: str('Name of the referenced object.'),
      namespace: optional(
        str('Namespace of the referenced object; defaults to the namespace of the referrer.'),
      ),
    },
    description,
  );
export type NamespacedObjectReference = Static<ReturnType<typeof NamespacedObjectReference>>;

export const NamespacedObjectKindReference = (description: string) =>
  obj(
    {
      apiVersion: optional(str('API version of the referenced object; defaults to the preferred version.')),
      kind: str('Kind of the referenced object.'),
      name: str('Name of the referenced object.'),
      namespace: optional(
        str('Namespace of the referenced object; defaults to the namespace of the referrer.'),
      ),
    },
    description,
  );
export type NamespacedObjectKindReference = Static<ReturnType<typeof NamespacedObjectKindReference>>;

export const SecretKeyReference = (description: string) =>
  obj(
    {
      name: str('Name of the Secret, in the same namespace.'),
      key: optional(str('Key in the Secret; when empty a default key chosen by the consumer is used.')),
    },
    description,
  );
export type SecretKeyReference = Static<ReturnType<typeof SecretKeyReference>>;

export const DependencyReference = (description: string) =>
  obj(
    {
      name: str('Name of the object this one depends on.'),
      namespace: optional(str('Namespace of the dependency; defaults to the namespace of this object.')),
      readyExpr: optional(
        str(
          'CEL expression deciding when the dependency counts as ready. It replaces the built-in ' +
            'readiness check unless the AdditiveCELDependencyCheck feature gate makes it an extra check.',
        ),
      ),
    },
    description,
  );
export type DependencyReference = Static<ReturnType<typeof DependencyReference>>;

const kubeConfigRules: CelRule[] = [
  {
    rule: 'has(self.configMapRef) || has(self.secretRef)',
    message: 'exactly one of spec.kubeConfig.configMapRef or spec.kubeConfig.secretRef must be specified',
  },
  {
    rule: '!has(self.configMapRef) || !has(self.secretRef)',
    message: 'exactly one of spec.kubeConfig.configMapRef or spec.kubeConfig.secretRef must be specified',
  },
];

export const KubeConfigReference = (description: string) =>
  obj(
    {
      secretRef: optional(
        SecretKeyReference(
          'Secret holding a self-contained kubeconfig under the given key (default `value`). ' +
            'Only for the generic provider; mutually exclusive with configMapRef.',
        ),
      ),
      configMapRef: optional(
        LocalObjectReference(
          'ConfigMap describing a cloud cluster to reach with workload identity: `provider` ' +
            '(aws, azure, gcp or generic), `cluster`, `address`, `ca.crt`, `audiences` and ' +
            '`serviceAccountName`. Mutually exclusive with secretRef.',
        ),
      ),
    },
    description,
    { rules: kubeConfigRules },
  );
export type KubeConfigReference = Static<ReturnType<typeof KubeConfigReference>>;

export const ValuesReference = (description: string) =>
  obj(
    {
      kind: enumOf(['Secret', 'ConfigMap'] as const, 'Kind of the object holding the values.'),
      name: str('Name of the Secret or ConfigMap, in the same namespace.', { minLength: 1, maxLength: 253 }),
      valuesKey: optional(
        str('Data key holding a values YAML document or a single value; defaults to `values.yaml`.', {
          maxLength: 253,
          pattern: '^[\\-._a-zA-Z0-9]+$',
        }),
      ),
      targetPath: optional(
        str(
          'Dot-notation path at which the single value under valuesKey is merged; ' +
            'when empty the document is merged at the root.',
          { maxLength: 250, pattern: '^([a-zA-Z0-9_\\-.\\\\\\/]|\\[[0-9]{1,5}\\])+$' },
        ),
      ),
      optional: optional(
        bool(
          'Tolerate a missing object, or a missing key in it (as Flux does); a bad document or targetPath still fails the reconcile.',
        ),
      ),
      literal: optional(
        bool('Merge the value at targetPath verbatim instead of parsing it as a YAML scalar.'),
      ),
    },
    description,
  );
export type ValuesReference = Static<ReturnType<typeof ValuesReference>>;

export const AccessFrom = (description: string) =>
  obj(
    {
      namespaceSelectors: arr(
        obj(
          {
            matchLabels: optional(stringMap('Labels a namespace must carry; empty matches every namespace.')),
          },
          'Selects namespaces by their labels.',
        ),
        'Namespace selectors, combined with OR.',
      ),
    },
    description,
  );

// ---- Artifact and conditions -----------------------------------------------------------------

export const DIGEST_PATTERN = '^[a-z0-9]+(?:[.+_-][a-z0-9]+)*:[a-zA-Z0-9=_-]+$';

export const Artifact = (description: string) =>
  obj(
    {
      path: str('Path of the artifact file relative to the root of the controller storage.'),
      url: str('HTTP address from which consumers download the artifact.'),
      revision: str(
        'Source revision the artifact was built from, e.g. `main@sha1:<commit>` or a chart version.',
      ),
      digest: str('Digest of the artifact file as `<algorithm>:<checksum>`.', { pattern: DIGEST_PATTERN }),
      lastUpdateTime: dateTime('Time the artifact was last written.'),
      size: optional(int64('Size of the artifact file in bytes.')),
      metadata: optional(stringMap('Upstream metadata of the artifact, such as OCI annotations.')),
    },
    description,
  );
export type Artifact = Static<ReturnType<typeof Artifact>>;

export const Condition = obj(
  {
    type: str('Condition type, e.g. Ready, Reconciling or Stalled.', {
      maxLength: 316,
      pattern:
        '^([a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*/)?(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])$',
    }),
    status: enumOf(['True', 'False', 'Unknown'] as const, 'Status of the condition.'),
    observedGeneration: optional(
      Type.Integer({
        description: 'Generation of the object the condition was computed from.',
        format: 'int64',
        minimum: 0,
      }),
    ),
    lastTransitionTime: dateTime('Time the status of the condition last changed.'),
    reason: str('CamelCase identifier of the cause of the last transition.', {
      minLength: 1,
      maxLength: 1024,
      pattern: '^[A-Za-z]([A-Za-z0-9_,:]*[A-Za-z0-9_])?$',
    }),
    message: str('Human-readable details of the last transition; may be empty.', { maxLength: 32768 }),
  },
  'One aspect of the observed state of the object.',
);
export type Condition = Static<typeof Condition>;

/** observedGeneration, conditions and lastHandledReconcileAt, which every status carries. */
export function statusMixin(kind: string) {
  return {
    observedGeneration: optional(int64(`Last generation of the ${kind} the controller reconciled.`)),
    conditions: optional(arr(Condition, `Conditions of the ${kind}; Ready summarizes them.`)),
    lastHandledReconcileAt: optional(
      str(
        `Last value of the ${Annotations.reconcileRequestedAt} annotation the controller acted on, ` +
          'so clients can tell when a requested reconcile was handled.',
      ),
    ),
  };
}

/** Flux defaults observedGeneration to -1 so a fresh object never looks reconciled. */
export const STATUS_DEFAULT = { observedGeneration: -1 };

// ---- Kind descriptors ------------------------------------------------------------------------

/** Metadata is left to the API server (`type: object`); its static type is the client's. */
const ObjectMeta = Type.Unsafe<V1ObjectMeta>({ type: 'object' });

type Root<Spec extends TObject> = {
  apiVersion: TString;
  kind: TString;
  metadata: typeof ObjectMeta;
  spec: Spec;
};

/**
 * The root schema of a kind. Like Flux, the root has no `required` list (a manifest without
 * spec is accepted by the API server); the static type still has metadata and spec, which is
 * what every object read back from the API server carries in practice.
 */
export function kindSchema<Spec extends TObject>(
  kind: string,
  description: string,
  apiVersion: string,
  spec: Spec,
): TObject<Root<Spec>>;
export function kindSchema<Spec extends TObject, Status extends TObject>(
  kind: string,
  description: string,
  apiVersion: string,
  spec: Spec,
  status: Status,
): TObject<Root<Spec> & { status: TOptional<Status> }>;
export function kindSchema(
  kind: string,
  description: string,
  apiVersion: string,
  spec: TObject,
  status?: TObject,
): TObject {
  const schema = Type.Object(
    {
      apiVersion: str(`APIVersion of the object; \`${apiVersion}\`.`),
      kind: str(`Kind of the object; \`${kind}\`.`),
      metadata: ObjectMeta,
      spec,
      ...(status ? { status: optional(status) } : {}),
    },
    { description },
  );
  delete (schema as { required?: string[] }).required;
  return schema;
}
