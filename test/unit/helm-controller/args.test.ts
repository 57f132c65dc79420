// The helm command lines of the actions, from a HelmRelease as Flux configures the Helm SDK.
import assert from 'node:assert/strict';
import type { HelmRelease } from '../../../controllers/api/helm.ts';
import { helmArgs } from '../../../controllers/helm/args.ts';

const hr = (spec: Partial<HelmRelease['spec']> = {}): HelmRelease =>
  ({
    apiVersion: 'helm.toolkit.fluxcd.io/v2',
    kind: 'HelmRelease',
    metadata: { name: 'web', namespace: 'apps' },
    spec: { interval: '5m', chartRef: { kind: 'OCIRepository', name: 'web' }, ...spec },
  }) as HelmRelease;
const ctx = { releaseName: 'web', lastAppliedServerSide: false };

describe('helm-controller helm arguments', () => {
  it('installs with --skip-crds, server-side apply, ownership taken over and the kstatus wait', () => {
    assert.deepEqual(helmArgs({ kind: 'install' }, hr(), ctx), [
      'install',
      'web',
      'chart.tgz',
      '--values',
      'values.json',
      '--timeout',
      '300000ms',
      '--wait=watcher',
      '--wait-for-jobs',
      '--skip-crds',
      '--server-side=true',
      '--force-conflicts',
      '--take-ownership',
    ]);
  });

  it('maps the install options', () => {
    const args = helmArgs(
      { kind: 'install' },
      hr({
        targetNamespace: 'prod',
        timeout: '1m',
        waitStrategy: { name: 'legacy' },
        install: {
          timeout: '90s',
          disableWaitForJobs: true,
          disableHooks: true,
          disableOpenAPIValidation: true,
          disableSchemaValidation: true,
          disableTakeOwnership: true,
          replace: true,
          createNamespace: true,
          serverSideApply: false,
        },
      }),
      ctx,
    );
    assert.deepEqual(args.slice(5), [
      '--timeout',
      '90000ms',
      '--wait=legacy',
      '--skip-crds',
      '--server-side=false',
      '--no-hooks',
      '--disable-openapi-validation',
      '--skip-schema-validation',
      '--replace',
      '--create-namespace',
    ]);
    assert.ok(
      !helmArgs({ kind: 'install' }, hr({ install: { createNamespace: true } }), ctx).includes(
        '--create-namespace',
      ),
      'only with targetNamespace',
    );
  });

  it('upgrades following the apply method of the last release, replacing only client-side', () => {
    const up = (spec: Partial<HelmRelease['spec']>, ssa: boolean) =>
      helmArgs({ kind: 'upgrade' }, hr(spec), { ...ctx, lastAppliedServerSide: ssa });
    assert.deepEqual(up({}, true).slice(5), [
      '--timeout',
      '300000ms',
      '--wait=watcher',
      '--wait-for-jobs',
      '--reset-values',
      '--history-max',
      '5',
      '--server-side=true',
      '--force-conflicts',
      '--take-ownership',
    ]);
    const csa = up(
      {
        maxHistory: 0,
        upgrade: { force: true, preserveValues: true, cleanupOnFail: true, disableWait: true },
      },
      false,
    );
    assert.deepEqual(csa.slice(5), [
      '--timeout',
      '300000ms',
      '--wait=hookOnly',
      '--reuse-values',
      '--history-max',
      '0',
      '--server-side=false',
      '--force-replace',
      '--take-ownership',
      '--cleanup-on-fail',
    ]);
    assert.ok(
      up({ upgrade: { serverSideApply: 'enabled', force: true } }, false).includes('--server-side=true'),
    );
    assert.ok(
      !up({ upgrade: { serverSideApply: 'enabled', force: true } }, false).includes('--force-replace'),
    );
  });

  it('rolls back, uninstalls and tests with their own options', () => {
    assert.deepEqual(
      helmArgs(
        { kind: 'rollback', version: 3 },
        hr({ rollback: { disableHooks: true, cleanupOnFail: true } }),
        ctx,
      ),
      [
        'rollback',
        'web',
        '3',
        '--timeout',
        '300000ms',
        '--wait=watcher',
        '--wait-for-jobs',
        '--history-max',
        '5',
        '--server-side=false',
        '--no-hooks',
        '--cleanup-on-fail',
      ],
    );
    assert.deepEqual(
      helmArgs(
        { kind: 'uninstall', remediation: false },
        hr({ uninstall: { keepHistory: true, deletionPropagation: 'foreground', disableWait: true } }),
        ctx,
      ),
      [
        'uninstall',
        'web',
        '--timeout',
        '300000ms',
        '--wait=hookOnly',
        '--cascade',
        'foreground',
        '--keep-history',
      ],
    );
    assert.deepEqual(
      helmArgs(
        { kind: 'test' },
        hr({ test: { timeout: '2m', filters: [{ name: 'a' }, { name: 'b', exclude: true }] } }),
        ctx,
      ),
      ['test', 'web', '--timeout', '120000ms', '--filter', 'name=a', '--filter', '!name=b'],
    );
  });
});
