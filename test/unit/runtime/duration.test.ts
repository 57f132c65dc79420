import assert from 'node:assert/strict';
import { formatDuration, jitter, parseDuration } from '../../../controllers/runtime/duration.ts';

describe('runtime/duration', () => {
  it('parses Go duration strings into milliseconds', () => {
    const cases: Array<[string, number]> = [
      ['10s', 10_000],
      ['1m30s', 90_000],
      ['500ms', 500],
      ['1.5h', 5_400_000],
      ['1h2m3s', 3_723_000],
      ['.5s', 500],
      ['1.1s', 1100],
      ['2us', 0.002],
      ['2µs', 0.002],
      ['250ns', 0.00025],
      ['0', 0],
      ['-2s', -2000],
      ['+3m', 180_000],
    ];
    for (const [input, ms] of cases) assert.equal(parseDuration(input), ms, input);
  });

  it('formats milliseconds the way Go prints durations', () => {
    const cases: Array<[number, string]> = [
      [0, '0s'],
      [150, '150ms'],
      [1500, '1.5s'],
      [90_000, '1m30s'],
      [300_000, '5m0s'],
      [3_600_000, '1h0m0s'],
      [5_400_000, '1h30m0s'],
      [3_723_004.5, '1h2m3.0045s'],
      [0.0015, '1.5µs'],
      [0.0001, '100ns'],
      [-1500, '-1.5s'],
    ];
    for (const [ms, text] of cases) assert.equal(formatDuration(ms), text, String(ms));
  });

  it('round-trips formatted durations', () => {
    for (const ms of [1, 750, 1000, 61_000, 90_500, 3_600_000, 86_400_000, 123_456_789]) {
      assert.equal(parseDuration(formatDuration(ms)), ms);
    }
    for (const s of ['1m30s', '5m0s', '10s', '2h0m1.5s', '150ms'])
      assert.equal(formatDuration(parseDuration(s)), s);
  });

  it('rejects bad input with an error naming it', () => {
    for (const bad of ['', '1', '10x', 'abc', '1m 2s', '1.2.3s', '.s', '-', 'm']) {
      assert.throws(
        () => parseDuration(bad),
        (e: Error) => e.message.includes(`"${bad}"`),
        bad,
      );
    }
    assert.throws(() => parseDuration('30'), /missing unit/);
  });

  it('jitters within ±fraction and spreads values', () => {
    const seen = new Set<number>();
    for (let i = 0; i < 500; i++) {
      const v = jitter(60_000);
      assert.ok(v >= 57_000 && v <= 63_000, `${v} outside 60s ± 5%`);
      seen.add(Math.round(v));
    }
    assert.ok(seen.size > 100, 'jitter should vary');
    assert.equal(
      jitter(10_000, 0.1, () => 0),
      9000,
    );
    assert.equal(
      jitter(10_000, 0.1, () => 1),
      11_000,
    );
    assert.equal(jitter(10_000, 0), 10_000);
  });
});
