import { test, expect } from './fixtures';
import { ROUTES } from '../../src/constants';
import { testIds } from '../../src/components/testIds';
import { EVIDENCE_PLACEHOLDER } from '../../src/pages/Evidence/evidenceScene';
import { SIGNALS_PLACEHOLDER } from '../../src/pages/Signals/signalsScene';
import { prefixRoute } from '../../src/utils/utils.routing';

test.describe('navigating the app', () => {
  test('the app root opens the Rules page', async ({ gotoPage, page }) => {
    await gotoPage();
    await expect(page).toHaveURL(new RegExp(`${prefixRoute(ROUTES.Rules)}(\\?|$)`));
    await expect(page.getByTestId(testIds.rules.container)).toBeVisible();
  });

  test('the Signals page renders', async ({ gotoPage, page }) => {
    await gotoPage(`/${ROUTES.Signals}`);
    await expect(page.getByTestId(testIds.signals.container)).toContainText(SIGNALS_PLACEHOLDER);
  });

  test('the Evidence page renders', async ({ gotoPage, page }) => {
    await gotoPage(`/${ROUTES.Evidence}`);
    await expect(page.getByTestId(testIds.evidence.container)).toContainText(EVIDENCE_PLACEHOLDER);
  });
});
