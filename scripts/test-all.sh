#!/usr/bin/env bash
# Runs every check and test and ends with one line that adds them up:
#   the repository's checks first: lint, formatting, types, API reports, changesets;
#   unit and backend tests (jest; backend tests on SQLite and PostgreSQL),
#   the tests of the scripts and of the install test's own checks (node --test),
#   yarn bench --small (the backend at a small scale, every step of the benchmark),
#   the install test (the packed plugins in a fresh Backstage app, as the README says),
#   the browser test (Playwright with the system's Chromium, against `yarn start`), and its
#   journey again with the backend on PostgreSQL (playwright.postgres.config.ts),
#   and docs/reliability.md written again from those results, checked against the committed one.
# A failing step does not stop the others; each counts in the closing line.
set -uo pipefail
cd "$(dirname "$0")/.."
rm -rf test-results
mkdir -p test-results

# Backend tests run on PostgreSQL as well as SQLite; point this at another server if needed.
export BACKSTAGE_TEST_DATABASE_POSTGRES15_CONNECTION_STRING="${BACKSTAGE_TEST_DATABASE_POSTGRES15_CONNECTION_STRING:-postgresql://postgres@127.0.0.1:5432}"

status=0

# Runs one command as a named step of a group (checks, bench) and records its result in
# test-results/steps.jsonl for the closing line.
step() {
  local group="$1" name="$2"
  shift 2
  echo
  echo "=== $name"
  local started=$SECONDS code=0
  "$@" || code=$?
  local took=$((SECONDS - started)) verdict=passed
  if [ "$code" = 124 ]; then
    verdict="FAILED: stopped after its time limit"
  elif [ "$code" != 0 ]; then
    verdict="FAILED with exit code $code"
  fi
  [ "$code" = 0 ] || status=1
  printf '{"group":"%s","name":"%s","ok":%s,"seconds":%d}\n' "$group" "$name" \
    "$([ "$code" = 0 ] && echo true || echo false)" "$took" >>test-results/steps.jsonl
  echo "=== $name: $verdict in $took s"
}

step checks "lint:all" yarn lint:all
step checks "prettier:check" yarn prettier:check
step checks "tsc:full" yarn tsc:full
step checks "test:api-reports" yarn test:api-reports
step checks "changesets" node scripts/check-changesets.mjs

echo
echo "=== unit and backend tests"
CI=true backstage-cli repo test --json --outputFile="$PWD/test-results/jest.json" || status=1
node --test --test-reporter=spec --test-reporter-destination=stdout \
  --test-reporter=junit --test-reporter-destination=test-results/node-test.xml \
  scripts/*.test.mjs test/install/checks.test.mjs || status=1

# The benchmark at a small scale: every step, checked, not timed; stopped if it hangs.
step bench "bench --small" timeout --kill-after=30s "${BENCH_TIMEOUT:-15m}" yarn bench --small

echo
echo "=== install test"
node --test --test-reporter=spec --test-reporter-destination=stdout \
  --test-reporter=junit --test-reporter-destination=test-results/install-test.xml \
  test/install/install.test.mjs || status=1

if [ "${SKIP_BROWSER_TESTS:-}" != "1" ]; then
  echo
  echo "=== browser test"
  playwright test || status=1
  echo
  echo "=== browser journey with the backend on PostgreSQL"
  playwright test --config playwright.postgres.config.ts || status=1
fi
# docs/reliability.md: every hostile input and fault the tests above tried, from their results.
step checks "reliability table" node scripts/reliability.mjs --check
node scripts/test-summary.mjs || status=1
exit $status
