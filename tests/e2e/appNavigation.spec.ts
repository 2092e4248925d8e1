import { test, expect } from './fixtures';
import { ROUTES } from '../../src/constants';
import { testIds } from '../../src/components/testIds';
import { prefixRoute } from '../../src/utils/utils.routing';

test.describe('navigating the app', () => {
  test('the Rules page checks a rule as it is typed', async ({ gotoPage, page }) => {
    await gotoPage(`/${ROUTES.Rules}`);
    await expect(page.getByTestId(testIds.rules.valid)).toBeVisible();
    await page.getByTestId(testIds.rules.ruleInput).fill('payment.amount > 1000');
    await expect(page.getByTestId(testIds.rules.diagnostics)).toContainText(
      'did you mean `payment.where(amount > 1000)`?'
    );
  });

  test('the app root opens the Rules page', async ({ gotoPage, page }) => {
    await gotoPage();
    await expect(page).toHaveURL(new RegExp(`${prefixRoute(ROUTES.Rules)}(\\?|$)`));
    await expect(page.getByTestId(testIds.rules.container)).toBeVisible();
  });

  test('the Signals page renders', async ({ gotoPage, page }) => {
    await gotoPage(`/${ROUTES.Signals}`);
    await expect(page.getByTestId(testIds.signals.container)).toBeVisible();
  });

  test('the Evidence page renders', async ({ gotoPage, page }) => {
    await gotoPage(`/${ROUTES.Evidence}`);
    await expect(page.getByTestId(testIds.evidence.container)).toBeVisible();
  });
});
