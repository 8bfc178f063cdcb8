import { expect, Page, test } from '@playwright/test';
import { signInAsGuestOnceReady } from './signIn';

/**
 * The example services read from somewhere other than one path per environment on main: a
 * branch, a tag or a repository per environment, or an Argo CD ApplicationSet. The versions are
 * those examples/gitops/history.yaml and examples/gitops/environments/ leave.
 */

// Run first, these tests may open the portal before its backend answers sign-in.
const signInAsGuest = (page: Page) => signInAsGuestOnceReady(page, 90_000);

const card = (page: Page, environment: string) =>
  page.getByRole('region', { name: `Environment ${environment}` });

/** Opens a service's Promotions tab and checks each environment's desired version. */
async function expectVersions(
  page: Page,
  service: string,
  versions: Record<string, string>,
) {
  const [first] = Object.keys(versions);
  // The tab does not ask again after a failed request, as while the development backend restarts.
  await expect(async () => {
    await page.goto(`/catalog/default/component/${service}/promotions`);
    await expect(card(page, first)).toBeVisible({ timeout: 20_000 });
  }).toPass({ timeout: 60_000 });
  for (const [environment, version] of Object.entries(versions)) {
    await expect(
      card(page, environment).getByLabel('Desired version'),
      `${service} ${environment}`,
    ).toHaveText(version);
  }
}

// Each card names the branch, tag or repository it was read from, under "Read from".
const readFrom = (page: Page, environment: string) =>
  card(page, environment).getByRole('group', { name: 'Read from' });

test.beforeEach(async ({ page }) => {
  await signInAsGuest(page);
});

test('a service deployed from one branch per environment shows each branch and its version', async ({
  page,
}) => {
  await expectVersions(page, 'inventory', {
    dev: '2.3.0',
    staging: '2.2.0',
    prod: '2.1.0',
  });
  await expect(card(page, 'staging')).toContainText(/behind/i);
  for (const environment of ['dev', 'staging', 'prod'])
    await expect(readFrom(page, environment)).toContainText(
      `branch env/${environment}`,
    );
});

test('a service deployed from one tag per environment shows the newest tag of each', async ({
  page,
}) => {
  await expectVersions(page, 'search', {
    dev: '1.4.0',
    staging: '1.3.0',
    prod: '1.2.0',
  });
  await expect(card(page, 'prod')).toContainText(/behind/i);
  await expect(readFrom(page, 'dev')).toContainText('tag v1.4.0-dev');
  await expect(readFrom(page, 'staging')).toContainText('tag v1.3.0-staging');
  await expect(readFrom(page, 'prod')).toContainText('tag v1.2.0-prod');

  // Away from the sidebar, which opens over the page while the pointer rests on it.
  await page.mouse.move(1000, 950);
  await page.waitForTimeout(500);
  await page.screenshot({ path: 'docs/layouts.png', fullPage: true });
});

test('a service deployed from one repository per environment shows each repository', async ({
  page,
}) => {
  await expectVersions(page, 'notifications', {
    dev: '1.8.0',
    staging: '1.8.0',
    prod: '1.7.0',
  });
  await expect(card(page, 'prod')).toContainText(/behind/i);
  // The first environment's repository is the entity's, named in the tab's header; the others
  // name theirs on their cards.
  await expect(page.getByText(/Read from environment-dev at/)).toBeVisible();
  for (const environment of ['staging', 'prod'])
    await expect(readFrom(page, environment)).toContainText(
      `environment-${environment}`,
    );
});

test('a Helm service read through its Argo CD ApplicationSet layers parameters, value files and the chart', async ({
  page,
}) => {
  await expectVersions(page, 'billing', {
    // billing/envs/dev/values.yaml
    dev: '2.5.0',
    // the ApplicationSet element's version, set as the image.tag parameter
    staging: '2.4.1',
    // no tag in any values: the chart's appVersion
    prod: '2.4.0',
  });
  await expect(card(page, 'prod')).toContainText(
    "the chart's appVersion: the tag value is empty",
  );
  await expect(card(page, 'staging')).not.toContainText("chart's appVersion");
});
