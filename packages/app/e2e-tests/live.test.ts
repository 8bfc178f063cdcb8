import { test, expect, Page } from '@playwright/test';
import { signInAsGuestOnceReady } from './signIn';

const signInAsGuest = (page: Page) => signInAsGuestOnceReady(page, 240_000);

const openPromotions = (page: Page, service: string) =>
  page.goto(`/catalog/default/component/${service}/promotions`);

const environment = (page: Page, name: string) =>
  page.getByRole('region', { name: `Environment ${name}` });

const liveOf = (page: Page, name: string) =>
  environment(page, name).getByRole('region', { name: 'Live state' });

test('the demo Argo CD shows each live state and each Git-vs-live drift on the payment service', async ({
  page,
}) => {
  test.setTimeout(360_000);
  await signInAsGuest(page);
  await openPromotions(page, 'payment');

  // dev runs what Git says: synced, healthy, mapped to its environment by the application's name.
  const dev = liveOf(page, 'dev');
  await expect(
    dev.getByRole('group', { name: 'Application payment-dev' }),
  ).toBeVisible();
  await expect(dev).toContainText('Synced');
  await expect(dev).toContainText('Healthy');
  await expect(dev).toContainText('demo-simulated');
  await expect(dev).toContainText('mapped by name payment-{env}');
  await expect(dev).toContainText('ghcr.io/acme/payment:1.5.0');
  await expect(dev).toContainText(/synced .* ago/);

  // staging has not synced the promotion of 1.5.0 yet, and still runs 1.4.2.
  const staging = environment(page, 'staging');
  await expect(
    staging.getByRole('group', { name: 'Drift: waiting for sync' }),
  ).toContainText(
    /payment-staging runs [0-9a-f]{7}, 1 change behind [0-9a-f]{7}, waiting for sync since/,
  );
  await expect(
    staging.getByRole('group', { name: 'Drift: live mismatch' }),
  ).toContainText(
    'payment-staging runs ghcr.io/acme/payment:1.4.2 where Git has ghcr.io/acme/payment:1.5.0',
  );

  // prod is mid-canary: paused after its first step, the stable image beside the canary.
  const rollout = liveOf(page, 'prod').getByRole('group', {
    name: /^Rollout /,
  });
  await expect(rollout).toContainText(
    /Canary step 1 of \d+, weight \d+%, paused/,
  );
  await expect(rollout).toContainText('stable ghcr.io/acme/payment:1.4.1');
  await expect(rollout).toContainText('canary ghcr.io/acme/payment:1.4.2');
  await expect(liveOf(page, 'prod')).toContainText('Suspended');
  await expect(
    environment(page, 'prod').getByRole('group', { name: /^Drift: live/ }),
  ).toHaveCount(0);

  await page.mouse.move(1000, 900);
  await page.waitForTimeout(500);
  await page.screenshot({ path: 'docs/live-state.png', fullPage: true });
});

test('an environment Argo CD reports OutOfSync and a live image Git does not have are named', async ({
  page,
}) => {
  await signInAsGuest(page);
  await openPromotions(page, 'orders');
  const staging = environment(page, 'staging');
  await expect(
    staging.getByRole('group', { name: 'Drift: out of sync' }),
  ).toContainText(/^out of sync.*Argo CD reports orders-staging OutOfSync/);
  await expect(liveOf(page, 'prod')).toContainText('Degraded');

  await openPromotions(page, 'catalog-api');
  await expect(
    environment(page, 'prod').getByRole('group', {
      name: 'Drift: live mismatch',
    }),
  ).toContainText(
    'catalog-api-prod runs ghcr.io/acme/catalog-api:3.1.1-hotfix where Git has ghcr.io/acme/catalog-api:3.1.0',
  );
});
