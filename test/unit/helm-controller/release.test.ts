// What a HelmRelease says about its release (names, remediation, retry), the digests Flux records for
// post-renderers and common metadata (expected values from Go's encoding/json over Flux's types), and
// the summary of the release conditions into Ready.

import assert from 'node:assert/strict';
import type { HelmRelease } from '../../../controllers/api/helm.ts';
import { ConditionTypes } from '../../../controllers/api/names.ts';
import { ociVersion } from '../../../controllers/helm/chart.ts';
import {
  activeRemediation,
  activeRetry,
  commonMetadataDigest,
  installRemediation,
  postRenderersDigest,
  releaseName,
  shortenName,
  summarizeRelease,
  upgradeRemediation,
} from '../../../controllers/helm/release.ts';
import { getCondition, markFalse, markTrue } from '../../../controllers/runtime/conditions.ts';

const hr = (spec: Partial<HelmRelease['spec']> = {}, status: HelmRelease['status'] = {}): HelmRelease =>
  ({
    apiVersion: 'helm.toolkit.fluxcd.io/v2',
    kind: 'HelmRelease',
    metadata: { name: 'web', namespace: 'apps', generation: 2 },
    spec: { interval: '5m', chartRef: { kind: 'OCIRepository', name: 'web' }, ...spec },
    status,
  }) as HelmRelease;

describe('helm-controller release settings', () => {
  it('names the release as Flux: releaseName, else [targetNamespace-]name, shortened past 53', () => {
    assert.equal(releaseName(hr()), 'web');
    assert.equal(releaseName(hr({ targetNamespace: 'prod' })), 'prod-web');
    assert.equal(releaseName(hr({ releaseName: 'x', targetNamespace: 'prod' })), 'x');
    const long = 'a-very-long-target-namespace-name-that-goes-on-and-on-and-on';
    const short = shortenName(`${long}-web`);
    assert.equal(short.length, 53);
    assert.match(short, /^a-very-long-target-namespace-name-that-g-[0-9a-f]{12}$/);
    assert.equal(shortenName('x'.repeat(53)), 'x'.repeat(53));
  });

  it('reads remediation defaults and counters as Flux', () => {
    const obj = hr({ upgrade: { remediation: { retries: 2 } } }, { upgradeFailures: 2, installFailures: 1 });
    const up = upgradeRemediation(obj);
    assert.equal(up.strategy, 'rollback');
    assert.equal(up.mustRemediateLastFailure(), true, 'defaults to true with retries > 0');
    assert.equal(up.retriesExhausted(obj), false);
    up.incrementFailureCount(obj);
    assert.equal(up.retriesExhausted(obj), true);
    assert.equal(upgradeRemediation(hr()).mustRemediateLastFailure(), false);
    const inst = installRemediation(obj);
    assert.equal(inst.strategy, 'uninstall');
    assert.equal(inst.retriesExhausted(obj), true, 'no install retries by default');
    assert.equal(
      installRemediation(hr({ install: { remediation: { retries: -1 } } })).retriesExhausted(
        hr({}, { installFailures: 99 }),
      ),
      false,
      'negative: unlimited',
    );
    assert.equal(activeRemediation(hr()), undefined);
    assert.equal(activeRemediation(hr({}, { lastAttemptedReleaseAction: 'install' }))?.action, 'install');
  });

  it('retries with RetryOnFailure after its interval (5m by default)', () => {
    const obj = hr(
      {
        upgrade: { strategy: { name: 'RetryOnFailure', retryInterval: '30s' } },
        install: { strategy: { name: 'RetryOnFailure' } },
      },
      { lastAttemptedReleaseAction: 'upgrade' },
    );
    assert.deepEqual(activeRetry(obj), { intervalMs: 30_000, interval: '30s' });
    obj.status = { lastAttemptedReleaseAction: 'install' };
    assert.equal(activeRetry(obj)?.intervalMs, 300_000);
    assert.equal(
      activeRetry(
        hr(
          { upgrade: { strategy: { name: 'RemediateOnFailure' } } },
          { lastAttemptedReleaseAction: 'upgrade' },
        ),
      ),
      undefined,
    );
  });

  it("digests post-renderers and common metadata as Flux (Go's encoding of its structs)", () => {
    const obj = hr({
      postRenderers: [
        {
          kustomize: {
            patches: [
              {
                patch: '- op: add\n  path: /x\n  value: <&>',
                target: { kind: 'Deployment', name: 'web', namespace: 'apps', labelSelector: 'a=b' },
              },
            ],
            images: [
              { name: 'nginx', newTag: '1.2' },
              { name: 'redis', newName: 'valkey', digest: 'sha256:00' },
            ],
          },
        },
        {},
      ],
      commonMetadata: { labels: { z: '1', a: '2' }, annotations: { team: 'blue' } },
    });
    assert.equal(
      postRenderersDigest(obj),
      'sha256:18045fc6b7cbc584432661f7709af2169a52399609669880db7bbdaaec72036d',
    );
    assert.equal(
      commonMetadataDigest(obj),
      'sha256:dd0f09e7e33e4d16a1a51d2296d26cd6c20a1cc3081e519c300712b5bfb42785',
    );
    assert.equal(postRenderersDigest(hr()), '');
  });

  it('summarizes Ready from Remediated, TestSuccess and Released as Flux', () => {
    const obj = hr({ test: { enable: true } });
    markTrue(obj, 'Released', 'UpgradeSucceeded', 'upgraded');
    markFalse(obj, 'TestSuccess', 'TestFailed', 'test failed');
    summarizeRelease(obj);
    assert.deepEqual(
      [getCondition(obj, ConditionTypes.Ready)?.status, getCondition(obj, ConditionTypes.Ready)?.reason],
      ['False', 'TestFailed'],
    );
    obj.spec.test = { enable: true, ignoreFailures: true };
    summarizeRelease(obj);
    assert.equal(
      getCondition(obj, ConditionTypes.Ready)?.reason,
      'UpgradeSucceeded',
      'ignored test failures do not count',
    );
    markTrue(obj, 'Remediated', 'RollbackSucceeded', 'rolled back');
    summarizeRelease(obj);
    assert.deepEqual(
      [getCondition(obj, ConditionTypes.Ready)?.status, getCondition(obj, ConditionTypes.Ready)?.reason],
      ['False', 'RollbackSucceeded'],
      'a remediated release is not ready',
    );
    obj.spec.test = undefined;
    summarizeRelease(obj);
    assert.equal(
      getCondition(obj, ConditionTypes.TestSuccess),
      undefined,
      'TestSuccess goes when tests are disabled',
    );
  });

  it("puts the OCI digest in the chart version as Flux's mutateChartWithSourceRevision", () => {
    const hex = '0123456789abcdef'.repeat(4);
    assert.deepEqual(ociVersion('6.9.2', `6.9.2@sha256:${hex}`), {
      version: '6.9.2+0123456789ab',
      digest: `sha256:${hex}`,
    });
    assert.deepEqual(ociVersion('1.0.0+old', `latest@sha256:${hex}`), {
      version: '1.0.0+0123456789ab',
      digest: `latest@sha256:${hex}`,
    });
    assert.throws(
      () => ociVersion('6.9.2', `6.9.3@sha256:${hex}`),
      /artifact revision 6\.9\.3 does not match chart version 6\.9\.2/,
    );
    assert.throws(() => ociVersion('6.9.2', 'sha256:0123'), /invalid artifact revision/);
  });
});
