import type { Locator } from 'playwright-core';
import { rulesTestIds as ids } from '../../../src/pages/Rules/testIds';
import { PluginHost, READY_MS } from './pluginHost';

/** The rules list at /a/betrace-app/rules. */
export class RulesListPage {
  constructor(readonly host: PluginHost) {}

  private get page() {
    return this.host.page;
  }

  get table(): Locator {
    return this.page.getByTestId(ids.list.table);
  }

  get newRule(): Locator {
    return this.page.getByTestId(ids.list.newRule);
  }

  get empty(): Locator {
    return this.page.getByTestId(ids.list.empty);
  }

  row(ruleId: string): Locator {
    return this.page.getByRole('row').filter({ has: this.page.getByTestId(ids.list.row(ruleId)) });
  }

  /** A column's text in a rule's row (`Signals in range`, `Last signal`, …). */
  async cell(ruleId: string, column: string): Promise<string> {
    const headers = await this.table.getByRole('columnheader').allInnerTexts();
    const index = headers.findIndex((h) => h.trim() === column);
    if (index < 0) {
      throw new Error(`no column "${column}" in ${headers.join(', ')}`);
    }
    return (await this.row(ruleId).getByRole('cell').nth(index).innerText()).trim();
  }

  /** Opens the list and waits for the rules and their signal counts. */
  async open(query = ''): Promise<void> {
    await this.host.open(`/a/betrace-app/rules${query}`);
    await this.table.waitFor({ timeout: READY_MS });
  }

  async search(text: string): Promise<void> {
    await this.page.getByTestId(ids.list.search).fill(text);
  }

  async filterSeverity(label: string): Promise<void> {
    await this.page.getByTestId(ids.list.severityFilter).getByLabel(label, { exact: true }).click();
  }
}
