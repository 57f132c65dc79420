import assert from 'node:assert/strict';
import { ConfigError, parseConfig, Rng } from '../../../../hack/chaos/config.ts';
import { reconcileTotal } from '../../../../hack/chaos/controllers.ts';
import {
  convergenceStats,
  failuresOf,
  renderSummary,
  rssRecord,
  type Summary,
} from '../../../../hack/chaos/report.ts';

const base = (): Omit<Summary, 'failures'> => ({
  startedAt: '2026-01-01T00:00:00Z',
  finishedAt: '2026-01-01T00:30:00Z',
  seed: 7,
  durationS: 1800,
  settings: {},
  workload: { kustomizations: 22, helmReleases: 3, initialObjects: 210 },
  faults: [
    { name: 'restart-etcd', detail: 'down 5 s', endedAt: '2026-01-01T00:01:00Z', convergedS: 12 },
    { name: 'git-down', detail: '40 s', endedAt: '2026-01-01T00:03:00Z', convergedS: 30 },
  ],
  faultsByType: { 'restart-etcd': 1, 'git-down': 1 },
  published: { git: 10 },
  reconciles: { source: 100 },
  objectsApplied: 300,
  initialConvergenceS: 60,
  convergence: { p50S: 21, maxS: 30, timedOut: 0 },
  objectsLost: [],
  wronglyPruned: [],
  leakedSecrets: [],
  rss: { source: rssRecord(100, 120, 600, 2, 1.5, 20) },
  rssBound: 'end <= start x 1.5 + 20 MiB',
  sigterm: { clean: 1, forced: 0, nonZeroExit: 0 },
});

describe('chaos soak report', () => {
  it('passes a run with nothing lost, pruned or leaked and memory within its bound', () => {
    assert.deepEqual(failuresOf(base()), []);
    assert.match(renderSummary({ ...base(), failures: [] }), /result\s+PASS/);
  });

  it('fails on each broken promise, naming it', () => {
    const s = base();
    s.objectsLost = ['ns/ConfigMap/a'];
    s.wronglyPruned = [{ at: 'x', object: 'ns/ConfigMap/b' }];
    s.leakedSecrets = [{ where: 'events', marker: 'git-ab…' }];
    s.convergence = { ...s.convergence, timedOut: 1 };
    s.rss = { helm: rssRecord(100, 171, 60, 1, 1.5, 20) };
    const failures = failuresOf(s);
    assert.deepEqual(failures, [
      '1 object(s) lost',
      '1 object(s) wrongly pruned',
      '1 leaked secret(s)',
      '1 fault(s) never converged',
      'helm-controller RSS 171 MiB exceeds its bound 170 MiB',
    ]);
    assert.match(renderSummary({ ...s, failures }), /result\s+FAIL: 1 object\(s\) lost/);
  });

  it('bounds memory at start x factor + slack', () => {
    assert.equal(rssRecord(100, 170, 1, 1, 1.5, 20).ok, true);
    assert.equal(rssRecord(100, 170.5, 1, 1, 1.5, 20).ok, false);
  });

  it('reports p50 and max of the convergence times, and the faults that never converged', () => {
    const faults = [10, 20, 40, undefined].map((convergedS, i) => ({
      name: 'sigkill-controller',
      detail: '',
      endedAt: String(i),
      convergedS,
    }));
    assert.deepEqual(convergenceStats(faults), { p50S: 20, maxS: 40, timedOut: 1 });
  });

  it('sums gotk_reconcile_duration_seconds_count over every object', () => {
    const text = [
      '# TYPE gotk_reconcile_duration_seconds histogram',
      'gotk_reconcile_duration_seconds_bucket{kind="GitRepository",name="a",namespace="n",le="+Inf"} 3',
      'gotk_reconcile_duration_seconds_count{kind="GitRepository",name="a",namespace="n"} 3',
      'gotk_reconcile_duration_seconds_count{kind="GitRepository",name="b",namespace="n"} 4',
      'tide_reconcile_total{controller="x",kind="GitRepository",result="success"} 9',
    ].join('\n');
    assert.equal(reconcileTotal(text), 7);
  });
});

describe('chaos soak settings', () => {
  it('defaults to 30 minutes and takes a seed, duration and fault subset from the environment', () => {
    const d = parseConfig({}, '/out.json');
    assert.equal(d.durationMs, 30 * 60_000);
    assert.equal(d.out, '/out.json');
    const c = parseConfig(
      { CHAOS_DURATION: '3m', CHAOS_SEED: '42', CHAOS_FAULTS: 'git-down, restart-etcd' },
      '',
    );
    assert.equal(c.durationMs, 180_000);
    assert.equal(c.seed, 42);
    assert.deepEqual(c.faults, ['git-down', 'restart-etcd']);
  });

  it('refuses a duration or number it cannot read', () => {
    assert.throws(() => parseConfig({ CHAOS_DURATION: 'soon' }, ''), ConfigError);
    assert.throws(() => parseConfig({ CHAOS_PAIRS: '-1' }, ''), ConfigError);
  });

  it('replays the same sequence for the same seed', () => {
    const draw = (seed: number) => {
      const r = new Rng(seed);
      return [r.next(), r.int(1, 6), r.shuffle([1, 2, 3, 4, 5])];
    };
    assert.deepEqual(draw(7), draw(7));
    assert.notDeepEqual(draw(7), draw(8));
  });
});
