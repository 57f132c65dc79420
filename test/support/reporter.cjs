// Mocha's spec reporter plus the one summary line CI reads: "N passed, N failed".
const Mocha = require('mocha');

class TideReporter extends Mocha.reporters.Spec {
  constructor(runner, options) {
    super(runner, options);
    runner.once(Mocha.Runner.constants.EVENT_RUN_END, () => {
      const s = runner.stats ?? { passes: 0, failures: 0, pending: 0 };
      process.on('exit', () => {
        const skipped = s.pending ? `, ${s.pending} skipped` : '';
        console.log(`${s.passes} passed, ${s.failures} failed${skipped}`);
      });
    });
  }
}

module.exports = TideReporter;
