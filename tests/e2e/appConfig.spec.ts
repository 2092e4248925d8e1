import { test, expect } from './fixtures';
import { appConfigTestIds as ids } from '../../src/components/AppConfig/testIds';

// Against the compose stack (`npm run build && docker compose up --build`), as admin. The settings
// are shared by every spec, so this file changes them one step at a time and restores them.
test.describe.configure({ mode: 'serial' });

const STACK_SIDECAR = 'http://sidecar:3001';

test('shows the provisioned settings, with the token stored but never shown', async ({ appConfigPage, page }) => {
  await expect(page.getByTestId(ids.sidecarUrl)).toHaveValue(STACK_SIDECAR);
  await expect(page.getByTestId(ids.sidecarToken)).toHaveValue('configured');
  await expect(page.getByTestId(ids.tempoDatasource)).toContainText('Tempo');
  expect(appConfigPage).toBeTruthy();
});

test('tests the connection through the proxy and reports the sidecar ready', async ({ appConfigPage, page }) => {
  await page.getByRole('button', { name: 'Test connection' }).click();
  await expect(page.getByTestId(ids.result)).toContainText('Connected');
  await expect(page.getByTestId(ids.result)).toContainText('accepted the token');
  expect(appConfigPage).toBeTruthy();
});

test('saves, and says plainly when the sidecar is unreachable or the token wrong', async ({ appConfigPage, page }) => {
  const url = page.getByTestId(ids.sidecarUrl);

  await url.fill('http://nowhere.invalid:3001');
  let saved = appConfigPage.waitForSettingsResponse();
  await page.getByRole('button', { name: 'Save & test' }).click();
  await expect(saved).toBeOK();
  await expect(page.getByTestId(ids.result)).toContainText('Sidecar unreachable');

  await url.fill(STACK_SIDECAR);
  await page.getByRole('button', { name: 'Reset' }).click();
  await page.getByTestId(ids.sidecarToken).fill('not-the-token');
  saved = appConfigPage.waitForSettingsResponse();
  await page.getByRole('button', { name: 'Save & test' }).click();
  await expect(saved).toBeOK();
  await expect(page.getByTestId(ids.result)).toContainText('Token refused');

  // Back to the stack's settings (docker-compose.yaml: BETRACE_API_TOKEN).
  await page.getByRole('button', { name: 'Reset' }).click();
  await page.getByTestId(ids.sidecarToken).fill(process.env.BETRACE_API_TOKEN ?? 'betrace-dev-token');
  saved = appConfigPage.waitForSettingsResponse();
  await page.getByRole('button', { name: 'Save & test' }).click();
  await expect(saved).toBeOK();
  await expect(page.getByTestId(ids.result)).toContainText('Connected');
});
