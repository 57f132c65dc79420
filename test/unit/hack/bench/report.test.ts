import assert from 'node:assert/strict';
import { emptyCalls } from '../../../../hack/bench/audit.ts';
import {
  ceilingRate,
  mdTable,
  parseResults,
  type Results,
  type RunMeta,
  renderFanoutSvg,
  renderReadme,
  withScenario,
} from '../../../../hack/bench/report.ts';

const meta: RunMeta = {
  startedAt: '2026-12-05T10:00:00.000Z',
  finishedAt: '2026-12-05T10:30:00.000Z',
  note: 'busy machine',
  machine: { cpu: 'AMD EPYC', cores: 2, memoryGiB: 23.5, kernel: '6.1', loadAvg: [1, 2, 3] },
  versions: {
    node: 'v24.21.0',
    tide: 'abc123',
    kubernetes: 'v1.36.3',
    flux: '2.7.3',
    'source-controller': 'v1.7.3',
    'kustomize-controller': 'v1.7.2',
    'helm-controller': 'v1.4.3',
    go: 'go1.26.8',
  },
  flags: { tide: { 'kustomize-controller': ['node', 'controllers/kustomize/main.ts', '--concurrent=4'] } },
  apiserverFlags: ['--enable-priority-and-fairness=true'],
  settings: { concurrent: 4, n: [100, 500] },
};

const api = { ...emptyCalls(), total: 30, byVerb: { get: 10, patch: 15, 'patch (dry-run)': 5 } };
const results: Results = {
  schema: 1,
  scenarios: {
    fanout: {
      meta,
      notes: ['Tide N=500: only 400/500 Ready within the timeout'],
      rows: [
        {
          suite: 'flux',
          n: 100,
          timeToReadyS: 40,
          objectsPerS: 10,
          cpuS: { source: 8, kustomize: 12 },
          peakRssMiB: { source: 98, kustomize: 87 },
          api,
        },
        {
          suite: 'tide',
          n: 100,
          timeToReadyS: 60,
          objectsPerS: 6.7,
          cpuS: { source: 23, kustomize: 19 },
          peakRssMiB: { source: 188, kustomize: 307 },
          api,
        },
        { suite: 'tide', n: 500, ready: 400 },
      ],
    },
    ceiling: {
      meta,
      notes: [],
      rows: [
        { concurrency: 1, objects: 400, objectsPerS: 50 },
        { concurrency: 4, objects: 400, objectsPerS: 200 },
      ],
    },
  },
};

describe('bench report', () => {
  it('renders markdown tables, escaping pipes', () => {
    assert.equal(mdTable(['a', 'b'], [['1', 'x|y']]), '| a | b |\n| --- | --- |\n| 1 | x\\|y |');
  });

  it('the README puts Tide next to Flux: time ratio, share of the apply ceiling, CPU and memory per controller', () => {
    const md = renderReadme(results);
    assert.ok(md.startsWith('# Benchmarks\n'));
    assert.ok(md.includes('| 100 | Flux | 40.0 | — |'));
    // Tide took 1.5 times Flux's time; 6.7 objects/s is 3.4 % of the best ceiling rate (200/s).
    assert.ok(md.includes('| 100 | Tide | 60.0 | 1.50× |'));
    assert.ok(md.includes('| 6.7 | 3.4 % | 23.0 + 19.0 | 188 / 307 |'));
    assert.ok(md.includes('| 500 | Tide | timeout (400/500) |'));
    assert.ok(md.includes('| N | suite | total | get | patch | patch (dry-run) |'));
    assert.ok(md.includes('Flux 2.7.3 (source-controller v1.7.3, kustomize-controller v1.7.2'));
    assert.ok(md.includes('Note: busy machine.'));
    assert.ok(md.includes('- Tide N=500: only 400/500 Ready within the timeout'));
    assert.ok(md.includes('tide kustomize-controller: node controllers/kustomize/main.ts --concurrent=4'));
    assert.ok(md.includes('## Apply ceiling'));
    // The ceiling ran with the same flags as the fan-out: they are listed once.
    assert.equal(md.split('<summary>flags</summary>').length, 2);
    assert.ok(md.includes('_Flags as above._'));
    assert.ok(!md.includes('## Idle'));
    assert.equal(ceilingRate(results), 200);
  });

  it('a run of one scenario replaces it and keeps the others; unreadable JSON starts afresh', () => {
    const again = withScenario(results, 'ceiling', {
      meta,
      notes: [],
      rows: [{ concurrency: 8, objects: 4, objectsPerS: 1 }],
    });
    assert.equal(again.scenarios.fanout, results.scenarios.fanout);
    assert.equal(again.scenarios.ceiling?.rows[0]?.concurrency, 8);
    assert.deepEqual(parseResults(JSON.stringify(results)), results);
    assert.deepEqual(parseResults('{"schema":0}'), { schema: 1, scenarios: {} });
    assert.deepEqual(parseResults(undefined), { schema: 1, scenarios: {} });
  });

  it('the chart has time, memory and CPU against N for each suite, and is absent without fan-out rows', () => {
    const svg = renderFanoutSvg(results)!;
    for (const label of ['Tide (time)', 'Flux (time)', 'Tide kustomize-controller', 'Flux source-controller'])
      assert.ok(svg.includes(`>${label}</text>`), label);
    assert.ok(svg.includes('Peak memory per controller') && svg.includes('CPU-seconds per controller'));
    assert.equal(renderFanoutSvg({ schema: 1, scenarios: {} }), undefined);
  });
});
