// helm.toolkit.fluxcd.io/v2: configuration of the Helm actions of a HelmRelease (install,
// upgrade, test, rollback, uninstall) and their remediation.
import { interval } from './meta.ts';
import { arr, bool, enumOf, int, obj, optional, type Static, str } from './schema.ts';

const actionTimeout = (action: string) =>
  optional(
    interval(
      `Time to wait for each Kubernetes operation (such as hook Jobs) of the Helm ${action}; defaults to spec.timeout.`,
    ),
  );

const common = (action: string) => ({
  timeout: actionTimeout(action),
  disableWait: optional(bool(`Do not wait for resources to become ready after the ${action}.`)),
  disableWaitForJobs: optional(bool(`Do not wait for Jobs to complete after the ${action}.`)),
  disableHooks: optional(bool(`Do not run chart hooks during the ${action}.`)),
});

const validation = (action: string) => ({
  disableOpenAPIValidation: optional(
    bool(
      `Do not validate the rendered manifests against the Kubernetes OpenAPI schema during the ${action}.`,
    ),
  ),
  disableSchemaValidation: optional(
    bool(`Do not validate the values against the chart JSON schema during the ${action}.`),
  ),
  disableTakeOwnership: optional(
    bool(`Do not take ownership of existing resources during the ${action}. Defaults to false.`),
  ),
});

const crds = (action: string, byDefault: 'Create' | 'Skip') =>
  optional(
    enumOf(
      ['Skip', 'Create', 'CreateReplace'] as const,
      `What to do with the CRDs in the chart crds/ directory during the ${action}: \`Skip\` them, ` +
        `\`Create\` missing ones, or \`CreateReplace\` (create missing, replace existing). ${byDefault} when unset.`,
    ),
  );

const strategy = (action: string) =>
  optional(
    obj(
      {
        name: enumOf(
          ['RemediateOnFailure', 'RetryOnFailure'] as const,
          `\`RemediateOnFailure\` runs the remediation after a failed ${action}; \`RetryOnFailure\` ` +
            'retries the action without remediation.',
        ),
        retryInterval: optional(interval('Wait between retries with RetryOnFailure; 5m when unset.')),
      },
      `What the controller does when the ${action} fails.`,
    ),
  );

const retries = (how: string) =>
  optional(
    int(
      `Failed attempts to retry before giving up (remediating with ${how} in between); 0 by default, negative for unlimited.`,
    ),
  );

export const Install = obj(
  {
    ...common('install'),
    ...validation('install'),
    strategy: strategy('install'),
    remediation: optional(
      obj(
        {
          retries: retries('an uninstall'),
          ignoreTestFailures: optional(
            bool('Do not remediate when the tests after the install fail; defaults to test.ignoreFailures.'),
          ),
          remediateLastFailure: optional(
            bool('Remediate the last failure too, when no retries remain. Defaults to false.'),
          ),
        },
        'Remediation of a failed install.',
      ),
    ),
    replace: optional(bool('Reuse the release name if it belongs to a deleted release kept in the history.')),
    skipCRDs: optional(bool('Deprecated: use crds: Skip.')),
    crds: crds('install', 'Create'),
    createNamespace: optional(
      bool('Create spec.targetNamespace when it does not exist; it is not deleted on uninstall.'),
    ),
    serverSideApply: optional(bool('Apply the release manifests with server-side apply.')),
  },
  'Configuration of the Helm install.',
);

export const Upgrade = obj(
  {
    ...common('upgrade'),
    ...validation('upgrade'),
    strategy: strategy('upgrade'),
    remediation: optional(
      obj(
        {
          retries: retries('the strategy'),
          ignoreTestFailures: optional(
            bool('Do not remediate when the tests after the upgrade fail; defaults to test.ignoreFailures.'),
          ),
          remediateLastFailure: optional(
            bool(
              'Remediate the last failure too, when no retries remain; defaults to true when retries > 0.',
            ),
          ),
          strategy: optional(
            enumOf(
              ['rollback', 'uninstall'] as const,
              'How to remediate a failed upgrade; rollback when unset.',
            ),
          ),
        },
        'Remediation of a failed upgrade.',
      ),
    ),
    force: optional(bool('Update resources through delete and recreate.')),
    preserveValues: optional(
      bool('Reuse the values of the previous release and merge spec.values over them; not declarative.'),
    ),
    cleanupOnFail: optional(bool('Delete resources created by a failed upgrade.')),
    crds: crds('upgrade', 'Skip'),
    serverSideApply: optional(
      enumOf(
        ['enabled', 'disabled', 'auto'] as const,
        'Server-side apply for the upgrade: `enabled`, `disabled`, or `auto` to keep the method of the previous release.',
      ),
    ),
    chartNameChangeStrategy: optional(
      enumOf(
        ['Reinstall', 'InPlaceUpdate'] as const,
        'What to do when the chart name changes: `Reinstall` the release or update it in place.',
      ),
    ),
  },
  'Configuration of the Helm upgrade.',
);

export const Test = obj(
  {
    enable: optional(bool('Run the Helm tests of the chart after each install or upgrade.')),
    timeout: actionTimeout('test'),
    ignoreFailures: optional(
      bool(
        'Do not remediate when tests fail; install and upgrade can override this with ignoreTestFailures.',
      ),
    ),
    filters: optional(
      arr(
        obj(
          {
            name: str('Name of the test.', { minLength: 1, maxLength: 253 }),
            exclude: optional(bool('Skip this test instead of running only the listed tests.')),
          },
          'A test to run or to skip.',
        ),
        'Tests to run or to skip; all tests run when unset.',
      ),
    ),
  },
  'Configuration of the Helm tests.',
);

export const Rollback = obj(
  {
    ...common('rollback'),
    recreate: optional(bool('Restart the pods of the rolled-back resources where applicable.')),
    force: optional(bool('Update resources through delete and recreate.')),
    cleanupOnFail: optional(bool('Delete resources created by a failed rollback.')),
  },
  'Configuration of the Helm rollback used as upgrade remediation.',
);

export const Uninstall = obj(
  {
    timeout: actionTimeout('uninstall'),
    disableHooks: optional(bool('Do not run chart hooks during the uninstall.')),
    keepHistory: optional(bool('Keep the release history, marking the release as uninstalled.')),
    disableWait: optional(bool('Do not wait for the resources to be deleted.')),
    deletionPropagation: optional(
      enumOf(
        ['background', 'foreground', 'orphan'] as const,
        'Deletion propagation policy of the uninstall.',
        {
          default: 'background',
        },
      ),
    ),
  },
  'Configuration of the Helm uninstall.',
);

export type Install = Static<typeof Install>;
export type Upgrade = Static<typeof Upgrade>;
export type Test = Static<typeof Test>;
export type Rollback = Static<typeof Rollback>;
export type Uninstall = Static<typeof Uninstall>;
