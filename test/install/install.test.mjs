// The install test as Node tests, one per step, so that yarn test:all counts it:
//   node --test test/install/install.test.mjs
// SKIP_INSTALL_TEST=1 skips it on a developer's machine; under CI=true it always runs.
import { after, before, test } from 'node:test';
import { createContext, steps } from './run-install-test.mjs';

const inCi = process.env.CI === 'true';
if (process.env.SKIP_INSTALL_TEST === '1' && inCi) {
  console.log(
    '# SKIP_INSTALL_TEST=1 is ignored under CI=true: CI always runs the install test',
  );
}
const skip =
  process.env.SKIP_INSTALL_TEST === '1' && !inCi
    ? 'SKIP_INSTALL_TEST=1'
    : false;

let ctx;
if (!skip) {
  before(() => {
    ctx = createContext({ log: line => console.log(line) });
  });
  after(() => ctx?.cleanup());
}

let failedStep;
steps.forEach((step, index) => {
  test(step.name, { skip, timeout: 40 * 60_000 }, async t => {
    if (failedStep) {
      t.skip(`step ${failedStep} failed`);
      return;
    }
    try {
      await step.run(ctx);
    } catch (error) {
      failedStep = index + 1;
      throw error;
    }
  });
});
