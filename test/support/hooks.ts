// Mocha root hooks for integration runs: one test bed for the whole run, stopped at the end.
import { startTestbed, stopTestbed } from './testbed.ts';

/** Unit tests keep the unit suite's own timeout when one run holds both suites (make test). */
const unitTimeoutMs = 10_000;

export const mochaHooks = {
  async beforeAll(this: Mocha.Context) {
    this.timeout(300_000);
    await startTestbed();
  },
  beforeEach(this: Mocha.Context) {
    const test = this.currentTest;
    if (!test?.file?.includes('/test/unit/')) return;
    let root = test.parent;
    while (root?.parent) root = root.parent;
    // Only the run-wide default is narrowed; a timeout a unit test or suite sets itself stands.
    if (test.timeout() === root?.timeout()) test.timeout(unitTimeoutMs);
  },
  async afterAll(this: Mocha.Context) {
    this.timeout(120_000);
    await stopTestbed();
  },
};
