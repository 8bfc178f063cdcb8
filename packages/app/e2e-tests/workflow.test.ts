import { Browser, expect, Page, test } from '@playwright/test';

/** A page of its own for one person: each example user signs in in a browser context of theirs. */
async function signedIn(browser: Browser, displayName: string): Promise<Page> {
  const context = await browser.newContext();
  const page = await context.newPage();
  await page.goto('/');
  await page.getByRole('button', { name: `Sign in as ${displayName}` }).click();
  await expect(
    page.getByRole('link', { name: 'Catalog' }).first(),
  ).toBeVisible();
  return page;
}

const card = (page: Page, environment: string) =>
  page.getByRole('region', { name: `Environment ${environment}` });

/** Away from the sidebar, which opens over the page while the pointer rests on it. */
async function screenshot(page: Page, name: string) {
  await page.mouse.move(1000, 950);
  await page.waitForTimeout(500);
  await page.screenshot({ path: `test-results/${name}.png`, fullPage: true });
}

test('a developer promotes to staging, cannot approve it herself, and a release manager approves and merges it', async ({
  browser,
}) => {
  const ana = await signedIn(browser, 'Ana Lima');
  await ana.goto('/catalog/default/component/catalog-api/promotions');
  const staging = card(ana, 'staging');
  await expect(staging).toBeVisible();
  await expect(card(ana, 'dev').getByLabel('Desired version')).toHaveText(
    '3.2.0',
  );
  // The example repository as `yarn start` builds it: staging one version behind dev.
  await expect(
    staging.getByLabel('Desired version'),
    'staging runs 3.1.0 on a fresh example repository (node scripts/prepare-example-repo.mjs --force)',
  ).toHaveText('3.1.0');
  // Production is for release managers: Ana has no Promote there.
  await expect(
    card(ana, 'prod').getByRole('button', { name: 'Promote' }),
  ).toHaveCount(0);

  await staging.getByRole('button', { name: 'Promote' }).click();
  const dialog = ana.getByRole('dialog', { name: 'Promote to staging' });
  await expect(dialog.getByLabel('Version')).toHaveValue('3.2.0');
  // Before confirming: exactly the line that changes, and the rendered result.
  const fileDiff = dialog.getByLabel('File diff to be committed');
  await expect(fileDiff).toContainText('+  tag: "3.2.0"');
  await expect(fileDiff).toContainText('-  tag: "3.1.0"');
  await dialog.getByRole('tab', { name: 'Gates' }).click();
  await expect(dialog.getByLabel('Approvals: pending')).toBeVisible();
  await dialog.getByRole('tab', { name: 'Rendered manifests' }).click();
  await expect(
    dialog.getByLabel('Rendered manifests, before and after'),
  ).toContainText('3.2.0');
  await screenshot(ana, 'promote-dialog');
  await dialog.getByRole('button', { name: 'Ask for the promotion' }).click();

  const open = staging.getByRole('group', {
    name: 'Open promotion to staging',
  });
  await expect(open).toContainText('Promoting 3.2.0 from dev');
  await expect(open).toContainText(
    'You asked for this promotion: someone else approves it.',
  );
  await expect(open.getByRole('button', { name: 'Approve' })).toBeDisabled();
  await expect(open.getByLabel('Approvals: pending')).toBeVisible();
  await screenshot(ana, 'promotion-requested');

  const rita = await signedIn(browser, 'Rita Okoye');
  await rita.goto('/catalog/default/component/catalog-api/promotions');
  const ritaOpen = card(rita, 'staging').getByRole('group', {
    name: 'Open promotion to staging',
  });
  await ritaOpen.getByRole('button', { name: 'Approve' }).click();
  const approve = rita.getByRole('dialog', {
    name: 'Approve 3.2.0 for staging',
  });
  await approve.getByLabel('Comment').fill('Checked the release notes');
  await approve.getByRole('button', { name: 'Approve' }).click();
  await expect(ritaOpen).toContainText(
    'Approved by rita: “Checked the release notes”',
  );
  await expect(ritaOpen.getByLabel('Approvals: passed')).toBeVisible();
  await ritaOpen.getByRole('button', { name: 'Merge' }).click();

  // Merged: the repository is read again, and staging runs the new version.
  await expect(card(rita, 'staging').getByLabel('Desired version')).toHaveText(
    '3.2.0',
    {
      timeout: 60_000,
    },
  );
  const history = rita.getByRole('region', { name: 'History' });
  await expect(history.getByRole('row').nth(1)).toContainText('Merged');
  await expect(history.getByRole('row').nth(1)).toContainText('rita');
  await expect(history).toContainText('Approved');
  await expect(history).toContainText('Checked the release notes');
  await expect(history).toContainText('Asked for');
  await screenshot(rita, 'promotion-merged');
});
