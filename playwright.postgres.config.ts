import { defineConfig } from '@playwright/test';
import base from './playwright.config';

/**
 * The browser journey again, with the portal's backend on PostgreSQL instead of its embedded
 * SQLite default. Each run drops the databases of the last one (prefix `journey_`) and rebuilds
 * the example repositories, so that it starts from what a fresh clone has.
 */
const postgres =
  process.env.JOURNEY_POSTGRES_CONNECTION_STRING ??
  'postgresql://postgres@127.0.0.1:5432';
const prefix = 'journey_';

export default defineConfig({
  ...base,
  testMatch: 'journey.test.ts',
  reporter: [
    ['list'],
    ['json', { outputFile: 'test-results/playwright-postgres.json' }],
  ],
  outputDir: 'test-results/playwright-postgres',
  metadata: { screenshots: 'test-results/journey-postgres' },
  webServer: {
    command: [
      `psql "$JOURNEY_POSTGRES" -Atc "SELECT datname FROM pg_database WHERE left(datname, ${prefix.length}) = '${prefix}'"`,
      `xargs -r -n1 dropdb --maintenance-db="$JOURNEY_POSTGRES"`,
    ]
      .join(' | ')
      .concat(
        ' && node scripts/prepare-example-repo.mjs --force && yarn start',
      ),
    url: 'http://localhost:3000',
    timeout: 300_000,
    stdout: 'ignore',
    stderr: 'pipe',
    env: {
      JOURNEY_POSTGRES: postgres,
      APP_CONFIG_backend_database_client: 'pg',
      APP_CONFIG_backend_database_connection: postgres,
      APP_CONFIG_backend_database_prefix: prefix,
    },
    // Never a portal left running on SQLite by the other browser tests.
    reuseExistingServer: false,
  },
});
