import assert from 'node:assert/strict';
import { createServer } from 'node:net';
import { freePort, poll } from '../../../hack/testbed/proc.ts';

describe('test bed process helpers', () => {
  it('poll returns the first defined value', async () => {
    let n = 0;
    const v = await poll('three tries', 2_000, async () => (++n >= 3 ? n : undefined), 5);
    assert.equal(v, 3);
  });

  it('poll fails after its timeout naming what it waited for and the last error', async () => {
    await assert.rejects(
      poll(
        'the moon',
        50,
        async () => {
          throw new Error('still dark');
        },
        5,
      ),
      /timed out after 50 ms waiting for the moon: still dark/,
    );
  });

  it('freePort gives a loopback port that can be bound', async () => {
    const port = await freePort();
    assert.ok(port > 0 && port < 65536);
    const srv = createServer();
    await new Promise<void>((resolve, reject) => {
      srv.once('error', reject);
      srv.listen(port, '127.0.0.1', resolve);
    });
    await new Promise((resolve) => srv.close(resolve));
  });
});
