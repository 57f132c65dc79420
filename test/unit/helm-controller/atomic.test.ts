// The release state machine over an in-memory Helm storage and a scripted helm: which action each
// state leads to, what the actions record, and how the reconcile ends.

import assert from 'node:assert/strict';
import type { HelmRelease } from '../../../controllers/api/helm.ts';
import { ConditionTypes, Labels } from '../../../controllers/api/names.ts';
import type { HelmAction, ReleaseEnv, Request } from '../../../controllers/helm/actions.ts';
import { atomicRelease } from '../../../controllers/helm/atomic.ts';
import type { HelmResult } from '../../../controllers/helm/helm.ts';
import type { Release, ReleaseStorage, StoredRelease } from '../../../controllers/helm/storage.ts';
import { getCondition } from '../../../controllers/runtime/conditions.ts';
import { valuesDigest } from '../../../controllers/runtime/helm/values.ts';
import type { Logger } from '../../../controllers/runtime/log.ts';

const quiet: Logger = { debug() {}, info() {}, error() {}, with: () => quiet };

/** What helm does for each action: `ok` writes the release as Helm would, else a failed one. */
type Script = Partial<Record<HelmAction['kind'], 'ok' | 'fail'>>;

function fakeEnv(script: Script, releases: Release[] = []) {
  const store = new Map<number, Release>(releases.map((r) => [r.version, structuredClone(r)]));
  const calls: string[] = [];
  const events: string[] = [];
  const stored = (r: Release): StoredRelease => ({
    key: `sh.helm.release.v1.${r.name}.v${r.version}`,
    version: r.version,
    status: r.info?.status,
    decode: () => structuredClone(r),
  });
  const storage: ReleaseStorage = {
    driver: 'secret',
    namespace: 'apps',
    history: async () => [...store.values()].sort((a, b) => b.version - a.version).map(stored),
    last: async () => {
      const v = Math.max(0, ...store.keys());
      return v ? structuredClone(store.get(v)) : undefined;
    },
    get: async (_n, v) => (store.has(v) ? structuredClone(store.get(v)) : undefined),
    update: async (r) => {
      store.set(r.version, structuredClone(r));
    },
  };
  const write = (req: Request, status: string, description: string) => {
    const version = Math.max(0, ...store.keys()) + 1;
    for (const r of store.values())
      if (r.info?.status === 'deployed' && status === 'deployed') r.info.status = 'superseded';
    store.set(version, {
      name: 'web',
      namespace: 'apps',
      version,
      info: {
        first_deployed: '2025-01-01T00:00:00Z',
        last_deployed: `2025-01-01T00:00:0${version}Z`,
        status,
        description,
      },
      chart: { metadata: { name: req.chart.name, version: req.chart.version } },
      config: req.values,
      manifest: '',
    });
  };
  // What each action leaves in storage when it succeeds (install and upgrade write a failed release too).
  const effects: Record<HelmAction['kind'], (action: HelmAction, req: Request, ok: boolean) => void> = {
    install: (a, req, ok) => write(req, ok ? 'deployed' : 'failed', `${a.kind} ${ok ? 'ok' : 'fail'}`),
    upgrade: (a, req, ok) => write(req, ok ? 'deployed' : 'failed', `${a.kind} ${ok ? 'ok' : 'fail'}`),
    uninstall: (_a, _req, ok) => ok && store.clear(),
    rollback: (a, req, ok) => {
      const target = a.kind === 'rollback' ? store.get(a.version) : undefined;
      if (ok && target)
        write({ ...req, values: target.config ?? {} }, 'deployed', `Rollback to ${target.version}`);
    },
    test: () => {},
  };
  const helm = async (action: HelmAction, req: Request): Promise<HelmResult> => {
    calls.push(action.kind);
    const ok = (script[action.kind] ?? 'ok') === 'ok';
    effects[action.kind](action, req, ok);
    return { ok, stdout: '', error: ok ? '' : `${action.kind} went wrong`, log: '' };
  };
  const env: ReleaseEnv = {
    releaseName: 'web',
    releaseNamespace: 'apps',
    storage,
    helm,
    diff: async () => ({ drifts: [], errors: [] }),
    correct: async () => ({ changes: [], errors: [] }),
    inventory: async () => [],
    event: (_t, reason) => events.push(reason),
    patchStatus: async () => {},
    now: () => new Date('2025-01-02T00:00:00Z'),
    log: quiet,
  };
  return { env, store, calls, events };
}

const hr = (spec: Partial<HelmRelease['spec']> = {}, status: HelmRelease['status'] = {}): HelmRelease =>
  ({
    apiVersion: 'helm.toolkit.fluxcd.io/v2',
    kind: 'HelmRelease',
    metadata: { name: 'web', namespace: 'apps', generation: 1 },
    spec: { interval: '5m', chartRef: { kind: 'OCIRepository', name: 'web' }, ...spec },
    status,
  }) as HelmRelease;

const request = (obj: HelmRelease, values: Record<string, unknown> = { a: 1 }): Request => ({
  obj,
  chart: {
    name: 'web',
    version: '1.0.0',
    archive: Buffer.alloc(0),
    chart: {
      metadata: { apiVersion: 'v2', name: 'web', version: '1.0.0' },
      templates: [],
      files: [],
      dependencies: [],
    },
    ociDigest: '',
  },
  values,
  configDigest: valuesDigest(values),
});

const ready = (o: HelmRelease) => {
  const c = getCondition(o, ConditionTypes.Ready);
  return [c?.status, c?.reason];
};

describe('helm-controller state machine', () => {
  it('installs an absent release and then has nothing to do', async () => {
    const f = fakeEnv({});
    const obj = hr();
    assert.deepEqual(await atomicRelease(request(obj), f.env), { kind: 'done' });
    assert.deepEqual(f.calls, ['install']);
    assert.deepEqual(ready(obj), ['True', 'InstallSucceeded']);
    assert.equal(obj.status?.history?.[0]?.action, 'install');
    assert.equal(obj.status?.history?.[0]?.status, 'deployed');

    // The next reconcile: the storage is what the snapshot recorded, chart and values unchanged.
    assert.deepEqual(await atomicRelease(request(obj), f.env), { kind: 'done' });
    assert.deepEqual(f.calls, ['install'], 'no helm run');
    // New values: an upgrade.
    await atomicRelease(request(obj, { a: 2 }), f.env);
    assert.deepEqual(f.calls, ['install', 'upgrade']);
    assert.deepEqual(ready(obj), ['True', 'UpgradeSucceeded']);
  });

  it('takes over a release it did not make, with an upgrade', async () => {
    const f = fakeEnv({});
    f.store.set(1, {
      name: 'web',
      namespace: 'apps',
      version: 1,
      info: { status: 'deployed' },
      chart: { metadata: { name: 'web', version: '1.0.0' } },
      config: { a: 1 },
    });
    const obj = hr();
    await atomicRelease(request(obj), f.env);
    assert.deepEqual(f.calls, ['upgrade']);
    assert.equal(f.store.get(2)?.info?.status, 'deployed');
  });

  it('unlocks a release left pending, then upgrades it', async () => {
    const f = fakeEnv({});
    const obj = hr();
    await atomicRelease(request(obj), f.env);
    f.store.set(2, {
      ...structuredClone(f.store.get(1) as Release),
      version: 2,
      info: { status: 'pending-upgrade' },
    });
    await atomicRelease(request(obj), f.env);
    assert.equal(f.store.get(2)?.info?.status, 'failed');
    assert.equal(f.store.get(2)?.info?.description, "Release unlocked from stale 'pending-upgrade' state");
    assert.ok(f.events.includes('PendingRelease'));
    assert.deepEqual(f.calls, ['install', 'upgrade'], 'the release the snapshot did not record is upgraded');
    assert.equal(f.store.get(3)?.info?.status, 'deployed');
    assert.deepEqual(ready(obj), ['True', 'UpgradeSucceeded']);
  });

  /** Installs {a: 1}, then stores v2 {a: 2} deployed as an upgrade ends, labelled for HelmRelease `owner`. */
  async function upgradedUnrecorded(owner: string) {
    const f = fakeEnv({});
    const obj = hr();
    await atomicRelease(request(obj), f.env);
    const v1 = f.store.get(1) as Release;
    f.store.set(2, {
      ...structuredClone(v1),
      version: 2,
      info: { ...v1.info, status: 'deployed', description: 'Upgrade complete' },
      config: { a: 2 },
      manifest: `apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: web\n  labels:\n    ${Labels.helmName}: ${owner}\n    ${Labels.helmNamespace}: apps\n`,
    });
    (v1.info as { status: string }).status = 'superseded';
    return { f, obj };
  }

  it('records an upgrade that ended but was never recorded (controller killed), without running it again', async () => {
    const { f, obj } = await upgradedUnrecorded('web');
    assert.deepEqual(await atomicRelease(request(obj, { a: 2 }), f.env), { kind: 'done' });
    assert.deepEqual(f.calls, ['install'], 'no second upgrade');
    assert.equal(obj.status?.history?.[0]?.version, 2);
    assert.equal(obj.status?.history?.[0]?.action, 'upgrade');
    assert.equal(obj.status?.lastAttemptedReleaseAction, 'upgrade');
    assert.deepEqual(ready(obj), ['True', 'UpgradeSucceeded']);
    assert.ok(f.events.includes('UpgradeSucceeded'));
  });

  it('upgrades over a release made after the recorded one that is not its own or not the desired one', async () => {
    const other = await upgradedUnrecorded('someone-else');
    await atomicRelease(request(other.obj, { a: 2 }), other.f.env);
    assert.deepEqual(other.f.calls, ['install', 'upgrade'], 'without its origin labels');
    const stale = await upgradedUnrecorded('web');
    await atomicRelease(request(stale.obj, { a: 3 }), stale.f.env);
    assert.deepEqual(stale.f.calls, ['install', 'upgrade'], 'with other values than asked');
    assert.equal(stale.f.store.get(3)?.config?.a, 3);
  });

  it('remediates a failed install with an uninstall, and comes back', async () => {
    const f = fakeEnv({ install: 'fail' });
    const obj = hr({ install: { remediation: { retries: 1 } } });
    assert.deepEqual(await atomicRelease(request(obj), f.env), { kind: 'requeue' });
    assert.deepEqual(f.calls, ['install', 'uninstall']);
    assert.equal(obj.status?.installFailures, 1);
    assert.equal(getCondition(obj, ConditionTypes.Remediated)?.reason, 'UninstallSucceeded');
    assert.equal(getCondition(obj, ConditionTypes.Reconciling)?.reason, 'ProgressingWithRetry');
    // The retry fails too: no retries left, it stalls.
    const outcome = await atomicRelease(request(obj), f.env);
    assert.deepEqual(outcome, {
      kind: 'stalled',
      reason: 'RetriesExceeded',
      message: 'Failed to install after 2 attempt(s)',
    });
  });

  it('stalls after a failed upgrade without remediating it when no retries are set (Flux default)', async () => {
    const f = fakeEnv({ upgrade: 'fail' });
    const obj = hr();
    await atomicRelease(request(obj), f.env);
    const outcome = await atomicRelease(request(obj, { a: 2 }), f.env);
    assert.deepEqual(outcome, {
      kind: 'stalled',
      reason: 'RetriesExceeded',
      message: 'Failed to upgrade after 1 attempt(s)',
    });
    assert.deepEqual(f.calls, ['install', 'upgrade']);
    assert.deepEqual(ready(obj), ['False', 'UpgradeFailed']);
  });

  it('rolls back a failed upgrade with remediateLastFailure', async () => {
    const f = fakeEnv({ upgrade: 'fail' });
    const obj = hr({ upgrade: { remediation: { remediateLastFailure: true } } });
    await atomicRelease(request(obj), f.env);
    const outcome = await atomicRelease(request(obj, { a: 2 }), f.env);
    assert.equal(outcome.kind, 'stalled');
    assert.deepEqual(f.calls, ['install', 'upgrade', 'rollback']);
    assert.equal(f.store.get(3)?.info?.description, 'Rollback to 1');
    assert.deepEqual(ready(obj), ['False', 'RollbackSucceeded']);
    assert.equal(obj.status?.history?.[0]?.action, 'rollback');
  });

  it('retries with RetryOnFailure after its interval, without remediation', async () => {
    const f = fakeEnv({ upgrade: 'fail' });
    const obj = hr({ upgrade: { strategy: { name: 'RetryOnFailure', retryInterval: '1m' } } });
    await atomicRelease(request(obj), f.env);
    assert.deepEqual(await atomicRelease(request(obj, { a: 2 }), f.env), { kind: 'retry', afterMs: 60_000 });
    assert.deepEqual(await atomicRelease(request(obj, { a: 2 }), f.env), { kind: 'retry', afterMs: 60_000 });
    assert.deepEqual(f.calls, ['install', 'upgrade', 'upgrade']);
    assert.equal(getCondition(obj, ConditionTypes.Reconciling)?.message, 'retrying after 1m');
  });
});
