import { expect, Page } from '@playwright/test';

/**
 * Signs in as the guest on the example sign-in page, trying again for up to `timeout` ms: a
 * test run first may open the portal before its backend answers sign-in ("Failed to fetch").
 */
export async function signInAsGuestOnceReady(page: Page, timeout: number) {
  await expect(async () => {
    await page.goto('/');
    await page.getByRole('button', { name: 'Sign in as Guest' }).click();
    await expect(
      page.getByRole('link', { name: 'Catalog' }).first(),
    ).toBeVisible({ timeout: 10_000 });
  }).toPass({ timeout });
}
