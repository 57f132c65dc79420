import assert from 'node:assert/strict';
import { percentile, round, spread } from '../../../../hack/bench/stats.ts';

describe('bench statistics', () => {
  it('percentiles interpolate between closest ranks, whatever the input order', () => {
    const v = [5, 1, 4, 2, 3];
    assert.equal(percentile(v, 0), 1);
    assert.equal(percentile(v, 50), 3);
    assert.equal(percentile(v, 100), 5);
    assert.equal(percentile([1, 2, 3, 4], 50), 2.5);
    // p95 of 1..20: rank 0.95 * 19 = 18.05, between 19 and 20.
    assert.equal(
      round(
        percentile(
          Array.from({ length: 20 }, (_, i) => i + 1),
          95,
        ),
        4,
      ),
      19.05,
    );
    assert.deepEqual(v, [5, 1, 4, 2, 3]);
  });

  it('no values give NaN, a percentile outside 0-100 is an error', () => {
    assert.ok(Number.isNaN(percentile([], 50)));
    assert.throws(() => percentile([1], 101), RangeError);
  });

  it('spread gives p50, p95, max and the count', () => {
    assert.deepEqual(spread([3, 1, 2]), { p50: 2, p95: 2.9, max: 3, n: 3 });
    assert.equal(round(0.1 + 0.2), 0.3);
  });
});
