import { test, expect } from './fixtures';
import { ROUTES } from '../../src/constants';
import { prefixRoute } from '../../src/utils/utils.routing';
import { VIEWER } from './users';

// Against the compose stack. Page content belongs to the pages' own specs; these check that each
// page is reachable, and what a Viewer may and may not do (plugin.json roles and route actions).
const PAGES = [
  { route: ROUTES.Rules, title: 'Rules' },
  { route: ROUTES.Suggestions, title: 'Suggestions' },
  { route: ROUTES.Signals, title: 'Signals' },
  { route: ROUTES.Evidence, title: 'Evidence' },
];
const WRITE_BUTTONS = /^(new rule|create rule|save|acknowledge|resolve|false positive|export.*|run discovery|adopt|dismiss|delete)$/i;
const PROXY = '/api/plugin-proxy/betrace-app/sidecar';

test.describe('as admin', () => {
  for (const { route, title } of PAGES) {
    test(`the ${title} page opens`, async ({ gotoPage, page }) => {
      await gotoPage(`/${route}`);
      await expect(page).toHaveURL(new RegExp(`${prefixRoute(route)}(\\?|/|$)`));
      await expect(page.getByRole('heading', { name: title, exact: true })).toBeVisible();
    });
  }

  test('the app root opens the Rules page', async ({ gotoPage, page }) => {
    await gotoPage();
    await expect(page).toHaveURL(new RegExp(`${prefixRoute(ROUTES.Rules)}(\\?|/|$)`));
  });

  test('the proxy lets an admin change rules (a validation round trip)', async ({ page }) => {
    const res = await page.request.post(`${PROXY}/api/v1/rules/validate`, { data: { condition: 'payment.where(amount > 1000)' } });
    expect(res.status()).toBe(200);
    expect((await res.json()).valid).toBe(true);
  });
});

test.describe('as a Viewer', () => {
  test.use({ storageState: VIEWER.storageState });

  for (const { route, title } of PAGES) {
    test(`reads the ${title} page and sees no button that changes anything`, async ({ gotoPage, page }) => {
      await gotoPage(`/${route}`);
      await expect(page.getByRole('heading', { name: title, exact: true })).toBeVisible();
      await expect(page.getByRole('button', { name: WRITE_BUTTONS })).toHaveCount(0);
    });
  }

  test('has no Configuration page', async ({ page }) => {
    await page.goto('/plugins/betrace-app');
    await expect(page.getByRole('button', { name: 'Save & test' })).toHaveCount(0);
  });

  test('reads through the proxy, but every change is refused by Grafana (403) before it reaches the sidecar', async ({ page }) => {
    expect((await page.request.get(`${PROXY}/api/v1/rules`)).status()).toBe(200);
    expect((await page.request.get(`${PROXY}/api/v1/signals`)).status()).toBe(200);
    expect((await page.request.post(`${PROXY}/api/v1/rules`, { data: { id: 'viewer-rule', name: 'x', severity: 'low', condition: 'a' } })).status()).toBe(403);
    expect((await page.request.patch(`${PROXY}/api/v1/signals/any`, { data: { status: 'acknowledged' } })).status()).toBe(403);
    expect((await page.request.post(`${PROXY}/api/v1/replay`, { data: {} })).status()).toBe(403);
    expect((await page.request.post(`${PROXY}/api/v1/discover`, { data: {} })).status()).toBe(403);
    expect((await page.request.get(`${PROXY}/api/v1/evidence/export?format=json`)).status()).toBe(403);
  });
});
