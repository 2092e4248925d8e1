import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Page } from '@playwright/test';
import { test, expect } from './fixtures';
import { ROUTES } from '../../src/constants';
import { rulesTestIds as ids } from '../../src/pages/Rules/testIds';
import { VIEWER } from './users';

// The Rules page against the compose stack (`npm run server`): Grafana with the plugin, the sidecar
// (in pull mode against Tempo, for replay) and Tempo. Each run creates its own rule id.
const ruleId = `e2e-${Date.now().toString(36)}`;
const violating = readFileSync(join(__dirname, '../../examples/traces/payment-fraud-check/violates-1.json'), 'utf8');

/** Replaces the text of the Monaco editor inside the rule editor's code area. */
async function typeRule(page: Page, text: string) {
  const editor = page.getByTestId(ids.editor.code).locator('.monaco-editor').first();
  await editor.click();
  await page.keyboard.press('ControlOrMeta+A');
  await page.keyboard.press('Delete');
  // Monaco auto-closes brackets as they are typed: insert the text as one edit instead.
  await page.keyboard.insertText(text);
}

test.describe.configure({ mode: 'serial' });

test.describe('Rules', () => {
  test('creates a rule, with diagnostics as the user types', async ({ gotoPage, page }) => {
    await gotoPage(`/${ROUTES.Rules}`);
    await expect(page.getByTestId(ids.list.container)).toBeVisible();
    await page.getByTestId(ids.list.newRule).click();
    await expect(page.getByTestId(ids.editor.container)).toBeVisible();

    await typeRule(page, 'when { payment.charge }\nalways { payment.amount > 1000 }');
    await expect(page.getByTestId(ids.editor.diagnostics)).toContainText(
      '2:10 error: a span selector cannot be compared directly'
    );
    await expect(page.getByTestId(ids.editor.code).locator('.squiggly-error')).toHaveCount(1);
    await expect(page.getByTestId(ids.editor.save)).toBeDisabled();

    await typeRule(
      page,
      'when   { p: payment.charge.where(amount > 1000) }\nalways { payment.fraud_check.where(order_id == p.order_id).before(p, within 5s) }'
    );
    await expect(page.getByTestId(ids.editor.pushdown)).toContainText('name = "payment.charge"');
    await page.getByTestId(ids.editor.id).fill(ruleId);
    await page.getByTestId(ids.editor.name).fill('E2E: large payments need a fraud check');
    await page.getByTestId(ids.editor.severity).getByLabel('critical').click();
    await page.getByTestId(ids.editor.note).fill('created by the e2e suite');
    await page.getByTestId(ids.editor.save).click();
    await expect(page).toHaveURL(new RegExp(`/${ROUTES.Rules}/${ruleId}$`));
  });

  test('lists, searches and filters the rules', async ({ gotoPage, page }) => {
    await gotoPage(`/${ROUTES.Rules}`);
    await page.getByTestId(ids.list.search).fill(ruleId);
    await expect(page.getByTestId(ids.list.row(ruleId))).toBeVisible();
    await page.getByTestId(ids.list.severityFilter).getByLabel('low').click();
    await expect(page.getByTestId(ids.list.empty)).toContainText('No rules match the filters');
    await page.getByTestId(ids.list.severityFilter).getByLabel('critical').click();
    await expect(page.getByTestId(ids.list.row(ruleId))).toBeVisible();
  });

  test('tests the rule on pasted OTLP/JSON and highlights the matched span', async ({ gotoPage, page }) => {
    await gotoPage(`/${ROUTES.Rules}/${ruleId}`);
    await page.getByLabel('Paste OTLP/JSON').click();
    await page.getByTestId(ids.test.otlp).fill(violating);
    await page.getByTestId(ids.test.run).click();
    await expect(page.getByTestId(ids.test.result)).toContainText(
      'The rule fires on trace cb81f926213516df1f0a6598a1aef89b'
    );
    await expect(page.getByTestId(ids.test.span('e705a2c9ba31352f'))).toHaveAttribute('data-matched', 'true');
  });

  test('replays the rule over a range, with progress, and cancels', async ({ gotoPage, page }) => {
    await gotoPage(`/${ROUTES.Rules}/${ruleId}`);
    await page.getByRole('tab', { name: 'Replay' }).click();
    await page.getByTestId(ids.replay.start).click();
    await expect(page.getByTestId(ids.replay.status)).toContainText(/windows/);
    const cancel = page.getByTestId(ids.replay.cancel);
    if (await cancel.isVisible()) {
      await cancel.click();
      await expect(page.getByTestId(ids.replay.status)).toContainText(/^(cancelled|done)/);
    }
    await expect(page.getByTestId(ids.replay.start)).toBeVisible();
  });

  test('saves a new version with a note, diffs it and rolls back', async ({ gotoPage, page }) => {
    await gotoPage(`/${ROUTES.Rules}/${ruleId}`);
    await page.getByTestId(ids.editor.severity).getByLabel('high').click();
    await expect(page.getByTestId(ids.editor.dirty)).toBeVisible();
    await page.getByTestId(ids.editor.note).fill('lower severity');
    await page.getByTestId(ids.editor.save).click();
    await expect(page.getByTestId(ids.editor.dirty)).toBeHidden();

    await page.getByRole('tab', { name: 'History' }).click();
    await expect(page.getByTestId(ids.history.version(2))).toContainText('lower severity');
    await page.getByTestId(ids.history.version(1)).getByRole('button', { name: 'Diff with current' }).click();
    await expect(page.getByTestId(ids.history.diff)).toContainText('- severity: critical');
    await expect(page.getByTestId(ids.history.diff)).toContainText('+ severity: high');
    await page.getByTestId(ids.history.rollback(1)).click();
    await expect(page.getByTestId(ids.history.version(3))).toContainText('rollback to version 1');
  });
});

test.describe('Rules as a Viewer', () => {
  // A Viewer holds rules:read but not rules:write (plugin.json roles).
  test.use({ storageState: VIEWER.storageState });

  test('sees rules read-only: no New rule, no Save, no Replay', async ({ gotoPage, page }) => {
    await gotoPage(`/${ROUTES.Rules}`);
    await expect(page.getByTestId(ids.list.container)).toBeVisible();
    await expect(page.getByTestId(ids.list.newRule)).toHaveCount(0);
    await gotoPage(`/${ROUTES.Rules}/${ruleId}`);
    await expect(page.getByTestId(ids.editor.readOnly)).toBeVisible();
    await expect(page.getByTestId(ids.editor.save)).toHaveCount(0);
    // Replay goes through a proxy route that needs rules:write.
    await page.getByRole('tab', { name: 'Replay' }).click();
    await expect(page.getByTestId(ids.replay.start)).toBeDisabled();
    await expect(page.getByTestId(ids.replay.notAllowed)).toBeVisible();
  });
});
