// Adds up the results the checks and test runners wrote into test-results/ and prints one
// closing line. A runner that wrote no results counts as one failure.
import fs from 'node:fs';

const read = file =>
  fs.existsSync(file) ? fs.readFileSync(file, 'utf8') : undefined;
let passed = 0;
let failed = 0;
let skipped = 0;
const parts = [];
const failures = [];

const missing = what => {
  failed += 1;
  parts.push(`${what} no results`);
  failures.push(`${what} (wrote no results)`);
};

// The repository's checks and the benchmark, one line per step from scripts/test-all.sh.
const steps = read('test-results/steps.jsonl');
if (steps) {
  const results = steps
    .split('\n')
    .filter(Boolean)
    .map(line => JSON.parse(line));
  for (const group of [...new Set(results.map(r => r.group))]) {
    const all = results.filter(r => r.group === group);
    const ok = all.filter(r => r.ok);
    passed += ok.length;
    failed += all.length - ok.length;
    parts.push(`${group} ${ok.length}/${all.length}`);
    failures.push(...all.filter(r => !r.ok).map(r => r.name));
  }
} else {
  missing('checks');
}

const jest = read('test-results/jest.json');
if (jest) {
  const r = JSON.parse(jest);
  passed += r.numPassedTests;
  failed += r.numFailedTests + (r.numRuntimeErrorTestSuites ?? 0);
  skipped += r.numPendingTests;
  parts.push(`jest ${r.numPassedTests}/${r.numTotalTests}`);
  for (const suite of r.testResults ?? []) {
    if (suite.status === 'failed') {
      failures.push(`jest ${suite.name.replace(`${process.cwd()}/`, '')}`);
    }
  }
} else {
  missing('jest');
}

/** Counts a JUnit file of Node's test runner. */
function junit(file, label) {
  const xml = read(file);
  if (!xml) {
    missing(label);
    return;
  }
  const cases = [
    ...xml.matchAll(/<testcase\b([^>]*?)(\/>|>([\s\S]*?)<\/testcase>)/g),
  ];
  const isFailure = c => /<failure\b/.test(c[3] ?? '');
  const bad = cases.filter(isFailure);
  const skip = cases.filter(c => /<skipped\b/.test(c[3] ?? '')).length;
  passed += cases.length - bad.length - skip;
  failed += bad.length;
  skipped += skip;
  parts.push(`${label} ${cases.length - bad.length - skip}/${cases.length}`);
  for (const c of bad) {
    failures.push(`${label}: ${c[1].match(/name="([^"]*)"/)?.[1] ?? '?'}`);
  }
}
junit('test-results/node-test.xml', 'node');
junit('test-results/install-test.xml', 'install');

/** Counts a Playwright JSON report. */
function playwright(file, label) {
  const report = read(file);
  if (!report) {
    if (process.env.SKIP_BROWSER_TESTS !== '1') missing(label);
    return;
  }
  const { stats } = JSON.parse(report);
  passed += stats.expected + (stats.flaky ?? 0);
  failed += stats.unexpected;
  skipped += stats.skipped;
  parts.push(
    `${label} ${stats.expected + (stats.flaky ?? 0)}/${
      stats.expected + stats.unexpected + (stats.flaky ?? 0) + stats.skipped
    }`,
  );
  if (stats.unexpected > 0) failures.push(label);
}
playwright('test-results/playwright.json', 'browser');
// The browser journey again, with the backend on PostgreSQL (playwright.postgres.config.ts).
playwright('test-results/playwright-postgres.json', 'browser on PostgreSQL');

if (failures.length > 0) console.log(`\nfailed: ${failures.join('; ')}`);
console.log(`\n(${parts.join(', ')})`);
console.log(`all: ${passed} passed, ${failed} failed, ${skipped} skipped`);
process.exit(failed > 0 || parts.length === 0 ? 1 : 0);
