import { test, expect } from './fixtures';
import { ROUTES } from '../../src/constants';
import { testIds } from '../../src/components/testIds';
import { VIEWER } from './users';

/**
 * The Evidence page against the compose stack: the demo rules map to SOC 2 controls, so the
 * sidecar writes `compliance.evidence` spans to Tempo and keeps the signed records.
 */

test.describe('Evidence page', () => {
  test('summarises the evidence per control with its verification', async ({ gotoPage, page }) => {
    await gotoPage(`/${ROUTES.Evidence}?from=now-1h&to=now&var-framework=soc2`);
    const controls = page.getByTestId(testIds.evidence.controls);
    await expect(controls).toBeVisible({ timeout: 120_000 });
    await expect(controls.getByRole('row').nth(1)).toContainText('soc2');
    await expect(page.getByTestId(testIds.evidence.verification)).toContainText(/signed records/);
    const sample = controls.getByTestId(testIds.evidence.sampleLink).first();
    await expect(sample).toHaveAttribute('href', /\/explore\?schemaVersion=1&panes=/);
  });

  test('narrows to a control typed in the Control box (examples/rules/compliance.yaml maps CC6.1)', async ({
    gotoPage,
    page,
  }) => {
    await gotoPage(`/${ROUTES.Evidence}?from=now-1h&to=now&var-framework=soc2`);
    await expect(page.getByTestId(testIds.evidence.container)).toBeVisible();
    const control = page.getByLabel('Control');
    await control.fill('CC6.1');
    await control.press('Enter');
    await expect(page).toHaveURL(/var-control=CC6\.1/);
    const rows = page.getByTestId(testIds.evidence.controls).getByRole('row');
    await expect(rows).toHaveCount(2, { timeout: 120_000 }); // the header and CC6.1
    await expect(rows.nth(1)).toContainText('CC6.1');
  });

  test('exports the evidence as CSV, JSON and PDF downloads', async ({ gotoPage, page }) => {
    await gotoPage(`/${ROUTES.Evidence}?from=now-1h&to=now&var-framework=soc2`);
    const buttons = page.getByTestId(testIds.evidence.exportButtons);
    await expect(buttons).toBeVisible();
    for (const format of ['CSV', 'JSON', 'PDF']) {
      const download = page.waitForEvent('download');
      await buttons.getByRole('button', { name: `Export ${format}` }).click();
      expect((await download).suggestedFilename()).toMatch(new RegExp(`\\.${format.toLowerCase()}$`));
    }
  });

  test('shows why an export failed', async ({ gotoPage, page }) => {
    await page.route('**/api/plugin-proxy/betrace-app/sidecar/api/v1/evidence/export?*', (route) =>
      route.fulfill({
        status: 500,
        contentType: 'application/json',
        body: JSON.stringify({ message: 'signing key unavailable' }),
      })
    );
    await gotoPage(`/${ROUTES.Evidence}?from=now-1h&to=now`);
    await page.getByTestId(testIds.evidence.exportButtons).getByRole('button', { name: 'Export JSON' }).click();
    await expect(page.getByTestId(testIds.evidence.exportError)).toContainText(
      'JSON export failed: signing key unavailable'
    );
  });

  test('says so when the range holds no evidence', async ({ gotoPage, page }) => {
    await gotoPage(`/${ROUTES.Evidence}?from=now-1h&to=now&var-control=no-such-control`);
    await expect(page.getByTestId(testIds.evidence.empty)).toContainText('No evidence in this range');
  });
});

test.describe('Evidence page as a Viewer', () => {
  // The Viewer the createViewer project signed in (playwright.config.ts): this tab is that user.
  test.use({ storageState: VIEWER.storageState });

  test('reads the evidence but cannot export it', async ({ gotoPage, page }) => {
    await gotoPage(`/${ROUTES.Evidence}?from=now-1h&to=now`);
    await expect(page.getByTestId(testIds.evidence.container)).toBeVisible();
    await expect(page.getByTestId(testIds.evidence.exportButtons)).toHaveCount(0);
  });
});
