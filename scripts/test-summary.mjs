// Adds up the results the test runners wrote into test-results/ and prints one closing line.
import fs from 'node:fs';

const read = file =>
  fs.existsSync(file) ? fs.readFileSync(file, 'utf8') : undefined;
let passed = 0;
let failed = 0;
let skipped = 0;
const parts = [];

const jest = read('test-results/jest.json');
if (jest) {
  const r = JSON.parse(jest);
  passed += r.numPassedTests;
  failed += r.numFailedTests + (r.numRuntimeErrorTestSuites ?? 0);
  skipped += r.numPendingTests;
  parts.push(`jest ${r.numPassedTests}/${r.numTotalTests}`);
}

const nodeTests = read('test-results/node-test.xml');
if (nodeTests) {
  const cases = [
    ...nodeTests.matchAll(/<testcase\b[^>]*?(\/>|>([\s\S]*?)<\/testcase>)/g),
  ];
  const bad = cases.filter(c => /<failure\b/.test(c[2] ?? '')).length;
  const skip = cases.filter(c => /<skipped\b/.test(c[2] ?? '')).length;
  passed += cases.length - bad - skip;
  failed += bad;
  skipped += skip;
  parts.push(`node ${cases.length - bad - skip}/${cases.length}`);
}

const browser = read('test-results/playwright.json');
if (browser) {
  const { stats } = JSON.parse(browser);
  passed += stats.expected + (stats.flaky ?? 0);
  failed += stats.unexpected;
  skipped += stats.skipped;
  parts.push(
    `browser ${stats.expected + (stats.flaky ?? 0)}/${
      stats.expected + stats.unexpected + (stats.flaky ?? 0) + stats.skipped
    }`,
  );
}

console.log(`\n(${parts.join(', ')})`);
console.log(`all: ${passed} passed, ${failed} failed, ${skipped} skipped`);
process.exit(failed > 0 || parts.length === 0 ? 1 : 0);
