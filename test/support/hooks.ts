// Mocha root hooks for integration runs: one test bed for the whole run, stopped at the end.
import { startTestbed, stopTestbed } from './testbed.ts';

export const mochaHooks = {
  async beforeAll(this: Mocha.Context) {
    this.timeout(300_000);
    await startTestbed();
  },
  async afterAll(this: Mocha.Context) {
    this.timeout(120_000);
    await stopTestbed();
  },
};
