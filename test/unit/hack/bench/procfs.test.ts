import assert from 'node:assert/strict';
import {
  cpuSeconds,
  parseProcStat,
  parseProcStatus,
  sampleProc,
  summarizeRss,
} from '../../../../hack/bench/procfs.ts';

describe('bench /proc readings', () => {
  it('reads utime, stime and the waited-for children times, also when the command name has spaces and parens', () => {
    // Fields 14-17 are utime stime cutime cstime; the name "(node (main)) x" would trip a naive split.
    const line =
      '4242 (node (main)) x) S 1 4242 4242 0 -1 4194560 100 0 0 0 250 50 700 300 20 0 11 0 1234 1000000 5000 18446744073709551615';
    assert.deepEqual(parseProcStat(line), { utime: 250, stime: 50, cutime: 700, cstime: 300 });
    assert.equal(cpuSeconds(parseProcStat(line), 100), 13);
  });

  it('refuses a line that is not /proc/<pid>/stat', () => {
    assert.throws(() => parseProcStat('hello'), /not a \/proc/);
  });

  it('reads the current and peak resident set from /proc/<pid>/status', () => {
    const status =
      'Name:\tnode\nVmPeak:\t 900000 kB\nVmHWM:\t  204800 kB\nVmRSS:\t  102400 kB\nThreads:\t11\n';
    assert.deepEqual(parseProcStatus(status), { rssKiB: 102400, hwmKiB: 204800 });
    assert.throws(() => parseProcStatus('Name:\tkthread\n'), /no VmRSS/);
  });

  it('samples this very process: CPU used so far and a peak at least the current RSS', async () => {
    const s = await sampleProc(process.pid);
    assert.ok(s);
    assert.ok(s.cpuS > 0);
    assert.ok(s.peakRssMiB >= s.rssMiB && s.rssMiB > 10);
    assert.equal(await sampleProc(2 ** 30), undefined);
  });

  it('summarizes RSS samples as average and maximum', () => {
    assert.deepEqual(summarizeRss([100, 200, 300]), { avgMiB: 200, maxMiB: 300, samples: 3 });
    assert.deepEqual(summarizeRss([]), { avgMiB: 0, maxMiB: 0, samples: 0 });
  });
});
