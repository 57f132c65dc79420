// notification.toolkit.fluxcd.io: Provider and Alert (v1beta3, no status), Receiver (v1).
import {
  COMMIT_STATUS_TYPES,
  NOTIFIABLE_KINDS,
  NOTIFICATION_V1,
  NOTIFICATION_V1BETA3,
  PROVIDER_TYPES,
  RECEIVER_TYPES,
} from './kinds.ts';
import { interval, kindSchema, LocalObjectReference, STATUS_DEFAULT, statusMixin, timeout } from './meta.ts';
import { arr, bool, enumOf, obj, optional, type Static, str, stringMap } from './schema.ts';

export const CrossNamespaceObjectReference = (description: string) =>
  obj(
    {
      apiVersion: optional(str('API version of the object.')),
      kind: enumOf(NOTIFIABLE_KINDS, 'Kind of the object.'),
      name: str('Name of the object, or `*` for every object (optionally narrowed by matchLabels).', {
        minLength: 1,
        maxLength: 253,
      }),
      namespace: optional(
        str('Namespace of the object; defaults to the namespace of the Alert or Receiver.', {
          minLength: 1,
          maxLength: 253,
        }),
      ),
      matchLabels: optional(stringMap('Labels the objects must carry; requires name `*`.')),
    },
    description,
  );
export type CrossNamespaceObjectReference = Static<ReturnType<typeof CrossNamespaceObjectReference>>;

// ---- Provider --------------------------------------------------------------------------------

export const ProviderSpec = obj(
  {
    type: enumOf(PROVIDER_TYPES, 'Notification service or Git forge events are sent to.'),
    interval: optional(interval('Deprecated and unused.')),
    channel: optional(
      str('Destination channel, room or topic, where the provider has one.', { maxLength: 2048 }),
    ),
    username: optional(
      str('Name events are posted under, where the provider supports it.', { maxLength: 2048 }),
    ),
    address: optional(
      str('Endpoint events are sent to: an HTTP(S) URL, or a project or namespace for some providers.', {
        maxLength: 2048,
      }),
    ),
    timeout: optional(timeout('Time limit for sending an event; 15s when unset.')),
    proxy: optional(
      str('Deprecated: HTTP(S) proxy address; use proxySecretRef.', {
        pattern: '^(http|https)://.*$',
        maxLength: 2048,
      }),
    ),
    proxySecretRef: optional(
      LocalObjectReference('Secret with the proxy `address` and optional `username` and `password`.'),
    ),
    secretRef: optional(
      LocalObjectReference('Secret with credentials for the provider, e.g. `token` or `address`.'),
    ),
    serviceAccountName: optional(
      str(
        'ServiceAccount whose workload identity authenticates to azureeventhub, azuredevops or googlepubsub; ' +
          'not together with static credentials in secretRef.',
      ),
    ),
    certSecretRef: optional(
      LocalObjectReference('Secret with `ca.crt` and/or `tls.crt` and `tls.key` for TLS to the provider.'),
    ),
    suspend: optional(bool('Stop sending events through this provider until set back to false.')),
    commitStatusExpr: optional(
      str(
        `CEL expression computing the commit status identifier; only for ${COMMIT_STATUS_TYPES.join(', ')}. ` +
          'Variables: event, provider, alert.',
      ),
    ),
  },
  'Desired state of a Provider: where and how events are delivered.',
  {
    rules: [
      {
        rule: `${COMMIT_STATUS_TYPES.map((t) => `self.type == '${t}'`).join(' || ')} || !has(self.commitStatusExpr)`,
        message: `spec.commitStatusExpr is only supported for the ${COMMIT_STATUS_TYPES.map((t) => `'${t}'`).join(', ')} provider types`,
      },
    ],
  },
);

export const ProviderSchema = kindSchema(
  'Provider',
  'Provider is a destination for notifications: a chat service, an alerting system or a Git forge commit status.',
  NOTIFICATION_V1BETA3,
  ProviderSpec,
);
export type Provider = Static<typeof ProviderSchema>;
export type ProviderSpec = Static<typeof ProviderSpec>;

// ---- Alert -----------------------------------------------------------------------------------

export const AlertSpec = obj(
  {
    providerRef: LocalObjectReference('Provider the events are sent to.'),
    eventSeverity: optional(
      enumOf(['info', 'error'] as const, 'Lowest severity forwarded; `info` forwards everything.', {
        default: 'info',
      }),
    ),
    eventSources: arr(
      CrossNamespaceObjectReference('Object whose events are forwarded.'),
      'Objects whose events are forwarded.',
    ),
    inclusionList: optional(
      arr(str('Go regular expression.'), 'Only events whose message matches one of these are forwarded.'),
    ),
    exclusionList: optional(
      arr(str('Go regular expression.'), 'Events whose message matches one of these are dropped.'),
    ),
    eventMetadata: optional(
      stringMap('Metadata added to every event; keys already set by the emitter are not overridden.'),
    ),
    summary: optional(str('Short description of the impact and the affected cluster.', { maxLength: 255 })),
    suspend: optional(bool('Stop forwarding events until set back to false.')),
  },
  'Desired state of an Alert: which events go to which Provider.',
);

export const AlertSchema = kindSchema(
  'Alert',
  'Alert forwards the events of selected objects to a Provider.',
  NOTIFICATION_V1BETA3,
  AlertSpec,
);
export type Alert = Static<typeof AlertSchema>;
export type AlertSpec = Static<typeof AlertSpec>;

// ---- Receiver --------------------------------------------------------------------------------

export const OIDCProvider = obj(
  {
    issuerURL: str("OIDC issuer URL; must equal the token's `iss` claim.", { pattern: '^https?://' }),
    audience: optional(str('Expected `aud` claim; `notification-controller` when unset.')),
    variables: optional(
      arr(
        obj(
          {
            name: str('Variable name, a CEL identifier.'),
            expression: str('CEL expression computing the value.'),
          },
          'A named CEL expression, available as `vars.<name>`.',
        ),
        'CEL expressions over `claims`, evaluated in order and shared by the validations.',
      ),
    ),
    validations: arr(
      obj(
        {
          expression: str('CEL boolean expression over `claims` and `vars`.'),
          message: str('Message returned to the caller when the expression is false.'),
        },
        'A condition the token must satisfy.',
      ),
      'Conditions on the token claims, all of which must hold; constrain the caller identity.',
      { minItems: 1 },
    ),
  },
  'OIDC issuer trusted to authenticate webhook calls.',
);

export const ReceiverResource = obj(
  {
    ...CrossNamespaceObjectReference('').properties,
    filter: optional(
      str(
        'CEL expression over `res` (the object) and `req` (the JSON body of the webhook); the object is ' +
          'reconciled only when it and resourceFilter (when set) are true.',
      ),
    ),
  },
  'Object to reconcile, with an optional filter of its own.',
);

export const ReceiverSpec = obj(
  {
    type: enumOf(RECEIVER_TYPES, 'Webhook sender; decides how requests are authenticated and parsed.'),
    interval: optional(interval('How often the Receiver is reconciled with its Secret.', { default: '10m' })),
    events: optional(
      arr(str('Event type.'), 'Event types to act on, e.g. `push` for GitHub; all when unset.'),
    ),
    resources: arr(
      ReceiverResource,
      'Objects whose reconciliation is requested when a valid webhook arrives.',
    ),
    resourceFilter: optional(
      str(
        'CEL expression over `res` (the object) and `req` (the JSON body of the webhook), evaluated per ' +
          'resource; resources for which it is false are not reconciled.',
      ),
    ),
    secretRef: optional(
      LocalObjectReference(
        'Secret with the `token` that authenticates webhooks (gcr also needs `email` and `audience`); ' +
          'required unless type is generic-oidc.',
      ),
    ),
    oidcProviders: optional(
      arr(OIDCProvider, 'OIDC issuers for type generic-oidc, keyed by issuerURL.', {
        listMapKeys: ['issuerURL'],
      }),
    ),
    suspend: optional(bool('Stop handling webhooks until set back to false.')),
  },
  'Desired state of a Receiver: which webhooks to accept and which objects to reconcile.',
  {
    rules: [
      {
        rule: "self.type != 'generic-oidc' || (has(self.oidcProviders) && size(self.oidcProviders) > 0)",
        message: 'generic-oidc receivers must define at least one oidcProvider',
      },
      {
        rule: "self.type == 'generic-oidc' || !has(self.oidcProviders) || size(self.oidcProviders) == 0",
        message: 'oidcProviders can only be set when type is generic-oidc',
      },
      {
        rule: "self.type != 'generic-oidc' || !has(self.secretRef)",
        message: 'secretRef cannot be set when type is generic-oidc',
      },
      {
        rule: "self.type == 'generic-oidc' || has(self.secretRef)",
        message: 'secretRef is required when type is not generic-oidc',
      },
    ],
  },
);

export const ReceiverStatus = obj(
  {
    ...statusMixin('Receiver'),
    webhookPath: optional(str('Path of the webhook: `/hook/` and the SHA-256 of token, name and namespace.')),
  },
  'Observed state of a Receiver.',
  { default: STATUS_DEFAULT },
);

export const ReceiverSchema = kindSchema(
  'Receiver',
  'Receiver accepts webhooks and requests the reconciliation of the objects it lists.',
  NOTIFICATION_V1,
  ReceiverSpec,
  ReceiverStatus,
);
export type Receiver = Static<typeof ReceiverSchema>;
export type ReceiverSpec = Static<typeof ReceiverSpec>;
export type ReceiverStatus = Static<typeof ReceiverStatus>;
