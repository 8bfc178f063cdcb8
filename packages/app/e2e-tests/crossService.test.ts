import { expect, Page, test } from '@playwright/test';
import { signInAsGuestOnceReady } from './signIn';

/**
 * Across services: the Overview card, the fleet page and a system's Promotions tab, read from
 * the example GitOps repository (examples/gitops) before any test promotes anything.
 */

// Run first, these tests may open the portal before its backend answers sign-in.
const signInAsGuest = (page: Page) => signInAsGuestOnceReady(page, 90_000);

async function screenshot(page: Page, name: string) {
  // Away from the sidebar, which opens over the page while the pointer rests on it.
  await page.mouse.move(1000, 950);
  await page.waitForTimeout(500);
  await page.screenshot({ path: `test-results/${name}.png`, fullPage: true });
}

test.beforeEach(async ({ page }) => {
  await signInAsGuest(page);
});

test('the Overview card shows each environment of a service with its version and drift, and links to the tab', async ({
  page,
}) => {
  // The tab does not ask again after a failed request, as while the development backend restarts.
  const card = page.getByRole('list', { name: 'Environments' });
  await expect(async () => {
    await page.goto('/catalog/default/component/checkout');
    await expect(card).toBeVisible({ timeout: 20_000 });
  }).toPass({ timeout: 60_000 });
  const row = (environment: string) =>
    card.getByRole('listitem', { name: `Environment ${environment}` });
  await expect(row('qa')).toContainText('2.8.0');
  await expect(row('prod-eu')).toContainText('2.7.1');
  await expect(row('staging-eu')).toContainText(/behind/i);
  await screenshot(page, 'overview-card');
  await page.getByRole('link', { name: 'Open the Promotions tab' }).click();
  await expect(page).toHaveURL(/\/component\/checkout\/promotions$/);
});

test('the fleet page shows every service in a matrix, filtered and sorted by the backend', async ({
  page,
}) => {
  await page.goto('/promotions/fleet');
  const table = page.getByRole('table', { name: 'Fleet' });
  await expect(table).toBeVisible({ timeout: 30_000 });
  const serviceLinks = table.getByRole('link');
  await expect(serviceLinks.first()).toBeVisible();
  const services = await serviceLinks.allTextContents();
  for (const service of ['checkout', 'payment', 'inventory', 'search']) {
    expect(services).toContain(service);
  }
  expect(services).toEqual([...services].sort());
  await expect(
    table.getByRole('cell', { name: /^prod-eu: 2\.7\.1/ }),
  ).toBeVisible();
  await screenshot(page, 'fleet');

  // Sorted by name, descending.
  await table.getByRole('button', { name: 'Service' }).click();
  await expect
    .poll(async () => serviceLinks.allTextContents())
    .toEqual([...services].sort().reverse());

  // Only the services behind their upstream in staging-eu: checkout alone fans out to it.
  await page.getByLabel('Drift', { exact: true }).click();
  await page.getByRole('option', { name: 'behind' }).click();
  for (const service of await serviceLinks.allTextContents()) {
    await expect(
      table
        .getByRole('row')
        .filter({ has: page.getByRole('link', { name: service, exact: true }) })
        .getByRole('cell', { name: /behind/ })
        .first(),
    ).toBeVisible();
  }
  await page.getByLabel('Drift in', { exact: true }).click();
  await page.getByRole('option', { name: 'staging-eu' }).click();
  await expect
    .poll(async () => serviceLinks.allTextContents())
    .toEqual(['checkout']);
  await expect(
    table.getByRole('cell', { name: /^staging-eu: .*behind/ }),
  ).toBeVisible();

  // A service's name opens its Promotions tab.
  await serviceLinks.filter({ hasText: /^checkout$/ }).click();
  await expect(page).toHaveURL(/\/component\/checkout\/promotions$/);
});

test("a system's Promotions tab lists its components' versions per environment and offers to promote them together", async ({
  page,
}) => {
  await page.goto('/catalog/default/system/gitops-demo/promotions');
  const versions = page.getByRole('table', {
    name: 'Versions per environment',
  });
  await expect(versions).toBeVisible({ timeout: 30_000 });
  for (const component of ['checkout', 'payment', 'catalog-api']) {
    await expect(versions).toContainText(component);
  }
  // One Promotions tab on a system: the system's own, not a component's as well.
  await expect(
    page.locator('a[href$="/system/gitops-demo/promotions"]', {
      hasText: /^Promotions$/,
    }),
  ).toHaveCount(1);
  await screenshot(page, 'system-promotions');

  await page.getByRole('button', { name: /promote together/i }).click();
  const dialog = page.getByRole('dialog');
  await expect(dialog).toBeVisible();
  await expect(dialog.getByLabel('Environment')).toBeVisible();
  await screenshot(page, 'promote-together');
  await dialog.getByRole('button', { name: 'Cancel' }).click();
  await expect(dialog).toBeHidden();
});
