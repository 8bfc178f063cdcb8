#!/usr/bin/env bash
# Runs every test and ends with one line that adds them up:
#   unit and backend tests (jest; backend tests on SQLite and PostgreSQL),
#   the example-repository script's tests (node --test),
#   the browser test (Playwright with the system's Chromium, against `yarn start`).
set -uo pipefail
cd "$(dirname "$0")/.."
mkdir -p test-results

# Backend tests run on PostgreSQL as well as SQLite; point this at another server if needed.
export BACKSTAGE_TEST_DATABASE_POSTGRES15_CONNECTION_STRING="${BACKSTAGE_TEST_DATABASE_POSTGRES15_CONNECTION_STRING:-postgresql://postgres@127.0.0.1:5432}"

status=0
CI=true backstage-cli repo test --json --outputFile="$PWD/test-results/jest.json" || status=1
node --test --test-reporter=spec --test-reporter-destination=stdout \
  --test-reporter=junit --test-reporter-destination=test-results/node-test.xml \
  scripts/*.test.mjs || status=1
if [ "${SKIP_BROWSER_TESTS:-}" != "1" ]; then
  playwright test || status=1
fi
node scripts/test-summary.mjs || status=1
exit $status
