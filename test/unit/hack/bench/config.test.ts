import assert from 'node:assert/strict';
import { ConfigError, parseConfig } from '../../../../hack/bench/config.ts';

describe('bench settings', () => {
  it("defaults to every scenario at the issue's sizes, Tide alone without FLUX_BIN_DIR", () => {
    const c = parseConfig({}, '/out');
    assert.deepEqual(c.scenarios, ['fanout', 'commit', 'idle', 'ceiling', 'restart', 'helm']);
    assert.deepEqual(c.suites, ['tide']);
    assert.deepEqual(c.fanoutN, [100, 500, 1000]);
    assert.equal(c.concurrent, 4);
    assert.equal(c.commitObjects, 1000);
    assert.equal(c.commits, 20);
    assert.deepEqual([c.idlePairs, c.idleMinutes, c.idleInterval], [500, 10, '1m']);
    assert.deepEqual(c.ceilingConcurrency, [1, 4, 16, 64]);
    assert.equal(c.restartPairs, 1000);
    assert.equal(c.helmReleases, 200);
    assert.equal(c.outDir, '/out');
  });

  it('FLUX_BIN_DIR adds the Flux suite; the variables narrow the run', () => {
    const c = parseConfig(
      { FLUX_BIN_DIR: '/flux/bin', BENCH_SCENARIOS: 'fanout,restart', BENCH_N: '20, 50', BENCH_OUT: '/o' },
      '/out',
    );
    assert.deepEqual(c.suites, ['tide', 'flux']);
    assert.equal(c.fluxBinDir, '/flux/bin');
    assert.deepEqual(c.scenarios, ['fanout', 'restart']);
    assert.deepEqual(c.fanoutN, [20, 50]);
    assert.equal(c.outDir, '/o');
  });

  it('refuses what it cannot run, naming the variable', () => {
    assert.throws(
      () => parseConfig({ BENCH_SCENARIOS: 'fanout,speed' }, '/o'),
      /BENCH_SCENARIOS: unknown speed/,
    );
    assert.throws(
      () => parseConfig({ BENCH_N: '100,x' }, '/o'),
      /BENCH_N=100,x: want a comma-separated list/,
    );
    assert.throws(
      () => parseConfig({ BENCH_CONCURRENT: '0' }, '/o'),
      /BENCH_CONCURRENT=0: want a positive integer/,
    );
    assert.throws(() => parseConfig({ BENCH_SUITES: 'flux' }, '/o'), /needs FLUX_BIN_DIR/);
    assert.throws(() => parseConfig({ BENCH_IDLE_INTERVAL: '1h30' }, '/o'), ConfigError);
  });
});
