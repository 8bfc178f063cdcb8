#!/usr/bin/env bash
# Runs every check and test and ends with one line that adds them up:
#   the repository's checks first: lint, formatting, types, API reports;
#   unit and backend tests (jest; backend tests on SQLite and PostgreSQL),
#   the example-repository script's tests (node --test),
#   yarn bench --small (the backend at a small scale, every step of the benchmark),
#   the install test (the packed plugins in a fresh Backstage app, as the README says),
#   the browser test (Playwright with the system's Chromium, against `yarn start`).
# A failing step does not stop the others; each counts in the closing line.
set -uo pipefail
cd "$(dirname "$0")/.."
rm -rf test-results
mkdir -p test-results

# Backend tests run on PostgreSQL as well as SQLite; point this at another server if needed.
export BACKSTAGE_TEST_DATABASE_POSTGRES15_CONNECTION_STRING="${BACKSTAGE_TEST_DATABASE_POSTGRES15_CONNECTION_STRING:-postgresql://postgres@127.0.0.1:5432}"

status=0

# Runs one command as a named check and records its result in test-results/checks.jsonl.
check() {
  local name="$1"
  shift
  echo
  echo "=== $name"
  local started=$SECONDS ok=true
  "$@" || { ok=false; status=1; }
  printf '{"name":"%s","ok":%s,"seconds":%d}\n' "$name" "$ok" $((SECONDS - started)) \
    >>test-results/checks.jsonl
  echo "=== $name: $([ "$ok" = true ] && echo passed || echo FAILED) in $((SECONDS - started)) s"
}

check "lint:all" yarn lint:all
check "prettier:check" yarn prettier:check
check "tsc:full" yarn tsc:full
check "test:api-reports" yarn test:api-reports

echo
echo "=== unit and backend tests"
CI=true backstage-cli repo test --json --outputFile="$PWD/test-results/jest.json" || status=1
node --test --test-reporter=spec --test-reporter-destination=stdout \
  --test-reporter=junit --test-reporter-destination=test-results/node-test.xml \
  scripts/*.test.mjs || status=1

# The benchmark at a small scale: every step, checked, not timed; stopped if it hangs.
check "bench --small" timeout --kill-after=30s "${BENCH_TIMEOUT:-15m}" yarn bench --small

echo
echo "=== install test"
node --test --test-reporter=spec --test-reporter-destination=stdout \
  --test-reporter=junit --test-reporter-destination=test-results/install-test.xml \
  test/install/install.test.mjs || status=1

if [ "${SKIP_BROWSER_TESTS:-}" != "1" ]; then
  echo
  echo "=== browser test"
  playwright test || status=1
fi
node scripts/test-summary.mjs || status=1
exit $status
