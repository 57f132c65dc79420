// helm-controller's state machine on failures, as processes on the test bed: an upgrade whose hook fails
// is rolled back (strategy rollback), one whose Deployment never becomes ready within the timeout is
// uninstalled (strategy uninstall), RetryOnFailure retries without remediating, and the chart's tests
// run with test.enable, their failure remediated unless ignoreFailures.

import assert from 'node:assert/strict';
import { ConditionTypes } from '../../../controllers/api/names.ts';
import { poll } from '../../../hack/testbed/proc.ts';
import { cond, eventsOf, helmHistory, patchHrSpec, useDemoSuite, waitHr, waitReady } from './support.ts';

describe('helm-controller: remediation and tests', function () {
  this.timeout(300_000);
  const { ns, hc, helm, create } = useDemoSuite('remed', { timeout: '20s' });

  const events = (name: string) => eventsOf(hc.client, ns(), name);

  it('rolls back an upgrade whose hook fails (strategy rollback), then stalls with its retries used up', async () => {
    await create('rb', {
      values: { message: 'v1' },
      upgrade: { remediation: { retries: 0, remediateLastFailure: true } },
    });
    await waitReady(hc.client, ns(), 'rb');
    await patchHrSpec(hc.client, ns(), 'rb', { values: { message: 'v2', failingHook: true } });
    const hr = await waitHr(
      hc.client,
      ns(),
      'rb',
      'stalled',
      (o) => cond(o, ConditionTypes.Stalled)?.status === 'True',
    );
    assert.equal(cond(hr, ConditionTypes.Stalled)?.reason, 'RetriesExceeded');
    assert.equal(cond(hr, ConditionTypes.Stalled)?.message, 'Failed to upgrade after 1 attempt(s)');
    assert.equal(cond(hr, ConditionTypes.Remediated)?.status, 'True');
    assert.equal(cond(hr, ConditionTypes.Remediated)?.reason, 'RollbackSucceeded');
    assert.match(
      cond(hr, ConditionTypes.Remediated)?.message ?? '',
      /Helm rollback to previous release .*\/rb\.v1 with chart demo@0\.1\.0 succeeded/,
    );
    assert.equal(cond(hr, ConditionTypes.Ready)?.status, 'False');
    assert.equal(cond(hr, ConditionTypes.Ready)?.reason, 'RollbackSucceeded');
    assert.equal(cond(hr, ConditionTypes.Released)?.reason, 'UpgradeFailed');
    assert.match(cond(hr, ConditionTypes.Released)?.message ?? '', /pre-upgrade hooks failed|hook/);
    assert.equal(hr.status?.upgradeFailures, 1);
    const history = await helmHistory(helm, ns(), 'rb');
    assert.deepEqual(
      history.map((h) => h.status),
      ['superseded', 'failed', 'deployed'],
      JSON.stringify(history),
    );
    assert.equal(history[2]?.description, 'Rollback to 1');
    const cm = await hc.client.get({
      apiVersion: 'v1',
      kind: 'ConfigMap',
      namespace: ns(),
      name: 'rb-config',
    });
    assert.equal(
      (cm.data as Record<string, string>).message,
      'v1',
      'the rolled back release is in the cluster',
    );
    const reasons = (await events('rb')).map((e) => e.reason);
    for (const r of ['InstallSucceeded', 'UpgradeFailed', 'RollbackSucceeded'])
      assert.ok(reasons.includes(r), `event ${r} in ${reasons}`);
  });

  it('uninstalls a release whose Deployment never becomes ready (strategy uninstall)', async () => {
    await create('un', {
      values: { message: 'v1' },
      upgrade: { remediation: { retries: 0, remediateLastFailure: true, strategy: 'uninstall' } },
    });
    await waitReady(hc.client, ns(), 'un');
    await patchHrSpec(hc.client, ns(), 'un', {
      timeout: '5s',
      values: { message: 'v2', unschedulable: true },
    });
    // The upgrade times out waiting, the release is uninstalled, and the reinstall (same values)
    // times out too: with no install retries left it stalls.
    const hr = await waitHr(
      hc.client,
      ns(),
      'un',
      'stalled',
      (o) => cond(o, ConditionTypes.Stalled)?.status === 'True',
      150_000,
    );
    const evs = await events('un');
    const uninstalled = evs.find((e) => e.reason === 'UninstallSucceeded');
    assert.ok(uninstalled, `an uninstall remediation event: ${JSON.stringify(evs)}`);
    assert.match(
      uninstalled.message,
      /Helm uninstall remediation for release .*\/un\.v2 with chart demo@0\.1\.0 succeeded/,
    );
    const failed = evs.find((e) => e.reason === 'UpgradeFailed');
    assert.match(failed?.message ?? '', /context deadline exceeded|timed out|not ready/i);
    assert.equal(cond(hr, ConditionTypes.Stalled)?.message, 'Failed to install after 1 attempt(s)');
    assert.equal(cond(hr, ConditionTypes.Released)?.reason, 'InstallFailed');
    // The old release history went with the uninstall: only the failed reinstall is left.
    assert.deepEqual(
      (await helmHistory(helm, ns(), 'un')).map((h) => [h.revision, h.status]),
      [[1, 'failed']],
    );
  });

  it('retries a failed upgrade with RetryOnFailure, without remediation, until it succeeds', async () => {
    await create('retry', {
      values: { message: 'v1' },
      upgrade: { strategy: { name: 'RetryOnFailure', retryInterval: '2s' } },
    });
    await waitReady(hc.client, ns(), 'retry');
    await patchHrSpec(hc.client, ns(), 'retry', { values: { message: 'v2', failingHook: true } });
    // Each retry is a new upgrade: failed releases pile up, none is rolled back.
    await poll('two failed upgrades', 120_000, async () => {
      const h = await helmHistory(helm, ns(), 'retry');
      return h.filter((r) => r.status === 'failed').length >= 2 ? h : undefined;
    });
    // Between two attempts it waits the retry interval, saying so.
    const hr = await waitHr(
      hc.client,
      ns(),
      'retry',
      'waiting to retry',
      (o) => cond(o, ConditionTypes.Reconciling)?.message === 'retrying after 2s',
    );
    assert.equal(cond(hr, ConditionTypes.Remediated), undefined);
    assert.equal(cond(hr, ConditionTypes.Stalled), undefined);
    assert.equal(cond(hr, ConditionTypes.Ready)?.reason, 'UpgradeFailed');
    assert.ok(!(await helmHistory(helm, ns(), 'retry')).some((r) => /Rollback/.test(r.description)));

    await patchHrSpec(hc.client, ns(), 'retry', { values: { message: 'v3', failingHook: false } });
    const ok = await waitReady(hc.client, ns(), 'retry');
    assert.equal(cond(ok, ConditionTypes.Ready)?.reason, 'UpgradeSucceeded');
    assert.equal(ok.status?.failures ?? 0, 0, 'a success clears the failure counters');
  });

  it('runs the chart tests with test.enable and records them in the history', async () => {
    await create('tested', { test: { enable: true } });
    const hr = await waitReady(
      hc.client,
      ns(),
      'tested',
      (o) => cond(o, ConditionTypes.TestSuccess)?.status === 'True',
    );
    assert.equal(cond(hr, ConditionTypes.Ready)?.reason, 'TestSucceeded');
    assert.match(
      cond(hr, ConditionTypes.TestSuccess)?.message ?? '',
      /Helm test succeeded for release .*\/tested\.v1 with chart demo@0\.1\.0: 1 test hook completed successfully/,
    );
    assert.equal(hr.status?.history?.[0]?.testHooks?.['tested-test']?.phase, 'Succeeded');
  });

  it('remediates a failed test (rollback) unless test.ignoreFailures', async () => {
    await create('badtest', {
      test: { enable: true },
      upgrade: { remediation: { retries: 0, remediateLastFailure: true } },
    });
    await waitReady(
      hc.client,
      ns(),
      'badtest',
      (o) => cond(o, ConditionTypes.TestSuccess)?.status === 'True',
    );
    await patchHrSpec(hc.client, ns(), 'badtest', { values: { testPhase: 'Failed' } });
    const hr = await waitHr(
      hc.client,
      ns(),
      'badtest',
      'stalled',
      (o) => cond(o, ConditionTypes.Stalled)?.status === 'True',
    );
    assert.equal(cond(hr, ConditionTypes.Remediated)?.reason, 'RollbackSucceeded');
    assert.equal(cond(hr, ConditionTypes.Ready)?.status, 'False');
    assert.ok((await events('badtest')).some((e) => e.reason === 'TestFailed'));
    const history = await helmHistory(helm, ns(), 'badtest');
    assert.equal(history.at(-1)?.description, 'Rollback to 1');

    await create('ignored', {
      test: { enable: true, ignoreFailures: true },
      values: { testPhase: 'Failed' },
    });
    const ignored = await waitReady(
      hc.client,
      ns(),
      'ignored',
      (o) => cond(o, ConditionTypes.TestSuccess)?.status === 'False',
    );
    assert.equal(cond(ignored, ConditionTypes.Ready)?.reason, 'InstallSucceeded');
    assert.equal(cond(ignored, ConditionTypes.TestSuccess)?.reason, 'TestFailed');
    assert.equal(ignored.status?.history?.[0]?.testHooks?.['ignored-test']?.phase, 'Failed');
    assert.deepEqual(
      (await helmHistory(helm, ns(), 'ignored')).map((h) => h.status),
      ['deployed'],
    );
  });
});
