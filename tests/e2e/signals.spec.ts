import { test, expect } from './fixtures';
import { ROUTES } from '../../src/constants';
import { testIds } from '../../src/components/testIds';
import { VIEWER } from './users';

/**
 * The Signals page against the compose stack (`npm run server`): the demo traffic generator makes
 * the sidecar raise signals within a minute, so the page has rows to show.
 */

const SIGNALS_API = '**/api/plugin-proxy/betrace-app/sidecar/api/v1/signals?*';

test.describe('Signals page', () => {
  test('lists signals, each linking to its trace in Explore and to its rule', async ({ gotoPage, page }) => {
    await gotoPage(`/${ROUTES.Signals}?from=now-1h&to=now`);
    const table = page.getByTestId(testIds.signals.table);
    await expect(table).toBeVisible({ timeout: 90_000 });
    await expect(page.getByTestId(testIds.signals.pageInfo)).toContainText(/of [\d,]+ signals/);

    const trace = table.getByTestId(testIds.signals.traceLink).first();
    const href = await trace.getAttribute('href');
    expect(href).toContain('/explore?schemaVersion=1&panes=');
    const pane = JSON.parse(new URL(href!, 'http://grafana').searchParams.get('panes')!).betrace;
    expect(pane.queries[0]).toMatchObject({ queryType: 'traceql', datasource: { type: 'tempo' } });
    expect(pane.queries[0].query).toMatch(/^[0-9a-f]{1,32}$/);

    await expect(table.getByTestId(testIds.signals.ruleLink).first()).toHaveAttribute(
      'href',
      /\/a\/betrace-app\/rules\/.+/
    );

    await trace.click();
    await expect(page).toHaveURL(/\/explore\?/);
  });

  test('filters by severity from the URL and by text from the search box', async ({ gotoPage, page }) => {
    await gotoPage(`/${ROUTES.Signals}?from=now-1h&to=now&var-severity=critical`);
    await expect(page.getByTestId(testIds.signals.container)).toBeVisible();
    const request = page.waitForRequest(
      (r) => r.url().includes('/sidecar/api/v1/signals?') && r.url().includes('text=checkout')
    );
    const search = page.getByLabel('Search');
    await search.fill('checkout');
    await search.press('Enter');
    const url = new URL((await request).url());
    expect(url.searchParams.get('severity')).toBe('critical');
    expect(url.searchParams.get('offset')).toBe('0');
  });

  test('acknowledges an open signal with a note, and shows who did it', async ({ gotoPage, page }) => {
    await gotoPage(`/${ROUTES.Signals}?from=now-1h&to=now&var-status=open`);
    const table = page.getByTestId(testIds.signals.table);
    await expect(table).toBeVisible({ timeout: 90_000 });
    await table.getByTestId(testIds.signals.openDetails).first().click();

    const details = page.getByTestId(testIds.signals.details);
    await expect(details).toBeVisible();
    await details.getByLabel('Acknowledged').check({ force: true });
    const note = `e2e ${Date.now()}`;
    await details.getByTestId(testIds.signals.note).fill(note);
    const patch = page.waitForResponse(
      (r) => r.request().method() === 'PATCH' && r.url().includes('/sidecar/api/v1/signals/')
    );
    await details.getByTestId(testIds.signals.saveStatus).click();
    await expect(patch).toBeOK();

    const history = details.getByTestId(testIds.signals.history);
    await expect(history).toContainText('Open → Acknowledged by admin');
    await expect(history).toContainText(note);
  });

  test('shows the sidecar’s error when it cannot answer', async ({ gotoPage, page }) => {
    await page.route(SIGNALS_API, (route) =>
      route.fulfill({
        status: 502,
        contentType: 'application/json',
        body: JSON.stringify({ message: 'sidecar is down' }),
      })
    );
    await gotoPage(`/${ROUTES.Signals}`);
    await expect(page.getByTestId(testIds.signals.error)).toContainText('sidecar is down');
  });

  test('says so when no signal matches', async ({ gotoPage, page }) => {
    await page.route(SIGNALS_API, (route) => route.fulfill({ json: { signals: [], total: 0, limit: 100, offset: 0 } }));
    await gotoPage(`/${ROUTES.Signals}`);
    await expect(page.getByTestId(testIds.signals.empty)).toContainText('No signals match');
  });
});

test.describe('Signals page as a Viewer', () => {
  // The Viewer the createViewer project signed in (playwright.config.ts): this tab is that user.
  test.use({ storageState: VIEWER.storageState });

  test('shows the history but offers no status change', async ({ gotoPage, page }) => {
    await gotoPage(`/${ROUTES.Signals}?from=now-1h&to=now`);
    const table = page.getByTestId(testIds.signals.table);
    await expect(table).toBeVisible({ timeout: 90_000 });
    await table.getByTestId(testIds.signals.openDetails).first().click();
    await expect(page.getByTestId(testIds.signals.readOnly)).toBeVisible();
    await expect(page.getByTestId(testIds.signals.saveStatus)).toHaveCount(0);
  });
});
