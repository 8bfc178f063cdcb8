import { test, expect, Page } from '@playwright/test';

/** Signs in as one of the example users (examples/org.yaml) on the example sign-in page. */
async function signInAs(page: Page, displayName: string) {
  await page.goto('/');
  const signIn = page.getByRole('button', {
    name: `Sign in as ${displayName}`,
  });
  await expect(signIn).toBeVisible();
  await signIn.click();
  await expect(
    page.getByRole('link', { name: 'Catalog' }).first(),
  ).toBeVisible();
}

const signInAsGuest = (page: Page) => signInAs(page, 'Guest');

/** A component's Promotions tab: the link named Promotions that opens its tab. */
const entityTab = (page: Page, component: string) =>
  page.locator(`a[href$="/component/${component}/promotions"]`, {
    hasText: /^Promotions$/,
  });

test('the Promotions tab shows a fan-out pipeline with versions and drift', async ({
  page,
}) => {
  await signInAsGuest(page);
  await page.goto('/catalog/default/component/checkout');
  // The entity's tab, not the sidebar's Promotions page of the same name.
  await entityTab(page, 'checkout').click();

  // The example repository is read in the background; the tab shows it as soon as it is stored.
  const prodEu = page.getByRole('region', { name: 'Environment prod-eu' });
  await expect(prodEu).toBeVisible();
  for (const env of ['qa', 'staging-us', 'staging-eu', 'prod-us', 'prod-eu']) {
    await expect(
      page.getByRole('region', { name: `Environment ${env}` }),
    ).toBeVisible();
  }
  await expect(
    page.getByRole('region', { name: 'Environment qa' }),
  ).toContainText('2.8.0');
  await expect(prodEu).toContainText('2.7.1');
  await expect(prodEu).toContainText('CACHE_SIZE');
  await expect(prodEu).toContainText('1024kb');
  await expect(
    page.getByRole('region', { name: 'Environment staging-eu' }),
  ).toContainText(/behind/i);

  // Columns run left to right in promotion order.
  const x = async (env: string) =>
    (await page
      .getByRole('region', { name: `Environment ${env}` })
      .boundingBox())!.x;
  expect(await x('qa')).toBeLessThan(await x('staging-eu'));
  expect(await x('staging-eu')).toBeLessThan(await x('prod-eu'));
  expect(await x('staging-us')).toBe(await x('staging-eu'));

  // Away from the sidebar, which opens over the page while the pointer rests on it.
  await page.mouse.move(1000, 900);
  await page.waitForTimeout(500);
  await page.screenshot({
    path: 'test-results/promotions-checkout.png',
    fullPage: true,
  });
});

test('an environment behind its upstream and config drift are explained on the orders service', async ({
  page,
}) => {
  await signInAsGuest(page);
  await page.goto('/catalog/default/component/orders/promotions');
  const prod = page.getByRole('region', { name: 'Environment prod' });
  await expect(prod).toBeVisible();
  await expect(prod).toContainText('3.9.0');
  await expect(prod).toContainText(
    /Runs 3\.9\.0, behind staging \(4\.2\.0\) by 3 versions/,
  );
  const staging = page.getByRole('region', { name: 'Environment staging' });
  await expect(staging).toContainText(/Config differs from dev/);
  await page.mouse.move(1000, 900);
  await page.waitForTimeout(500);
  await page.screenshot({
    path: 'test-results/promotions-orders.png',
    fullPage: true,
  });
});

test('an entity without the annotations has no Promotions tab', async ({
  page,
}) => {
  await signInAsGuest(page);
  await page.goto('/catalog/default/component/docs-site');
  await expect(
    page.getByRole('link', { name: 'Overview', exact: true }),
  ).toBeVisible();
  await expect(entityTab(page, 'docs-site')).toHaveCount(0);
  // The sidebar's Promotions page is there for everyone.
  await expect(
    page
      .getByRole('navigation', { name: 'sidebar nav' })
      .getByRole('link', { name: 'Promotions', exact: true }),
  ).toBeVisible();
});

test('the service template explains a bad name in the form before anything is written', async ({
  page,
}) => {
  await signInAsGuest(page);
  await page.goto('/create/templates/default/gitops-service');
  await expect(
    page.getByText('GitOps service with environment promotion').first(),
  ).toBeVisible();
  await page.getByLabel('Service name').fill('Payment_Service');
  await page.getByLabel('Owner').fill('shop-team');
  await page
    .getByRole('option', { name: /shop-team/ })
    .first()
    .click();
  await page
    .getByLabel('Container image repository')
    .fill('ghcr.io/acme/payment:1.0');
  await page.getByLabel('Initial tag').fill('1.0.0');
  await page.getByRole('button', { name: 'Next' }).click();
  await expect(
    page
      .getByText('Use lower-case letters, digits and "-"', { exact: false })
      .first(),
  ).toBeVisible();
  await expect(
    page
      .getByText('An image name such as ghcr.io/acme/payment', { exact: false })
      .first(),
  ).toBeVisible();
  await page.mouse.move(1000, 900);
  await page.screenshot({
    path: 'test-results/template-form.png',
    fullPage: true,
  });
});
