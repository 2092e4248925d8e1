import { test, expect } from './fixtures';
import { ROUTES } from '../../src/constants';
import { testIds } from '../../src/components/testIds';
import { EVIDENCE_PLACEHOLDER } from '../../src/pages/Evidence/evidenceScene';
import { SIGNALS_PLACEHOLDER } from '../../src/pages/Signals/signalsScene';

test.describe('navigating the app', () => {
  test('the Rules page checks a rule as it is typed', async ({ gotoPage, page }) => {
    await gotoPage(`/${ROUTES.Rules}`);
    await expect(page.getByTestId(testIds.rules.valid)).toBeVisible();
    await page.getByTestId(testIds.rules.ruleInput).fill('payment.amount > 1000');
    await expect(page.getByTestId(testIds.rules.diagnostics)).toContainText('did you mean `payment.where(amount > 1000)`?');
  });

  test('the Signals page renders', async ({ gotoPage, page }) => {
    await gotoPage(`/${ROUTES.Signals}`);
    await expect(page.getByText(SIGNALS_PLACEHOLDER)).toBeVisible();
  });

  test('the Evidence page renders', async ({ gotoPage, page }) => {
    await gotoPage(`/${ROUTES.Evidence}`);
    await expect(page.getByText(EVIDENCE_PLACEHOLDER)).toBeVisible();
  });
});
