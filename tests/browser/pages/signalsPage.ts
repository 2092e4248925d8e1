import type { Locator } from 'playwright-core';
import { testIds } from '../../../src/components/testIds';
import { until } from '../harness/wait';
import { PluginHost, READY_MS } from './pluginHost';

const ids = testIds.signals;

/** The signals page at /a/betrace-app/signals: filters (scene variables), the chart, the table and the details drawer. */
export class SignalsPage {
  constructor(readonly host: PluginHost) {}

  private get page() {
    return this.host.page;
  }

  get table(): Locator {
    return this.page.getByTestId(ids.table);
  }
  get pageInfo(): Locator {
    return this.page.getByTestId(ids.pageInfo);
  }
  get empty(): Locator {
    return this.page.getByTestId(ids.empty);
  }
  get details(): Locator {
    return this.page.getByTestId(ids.details);
  }
  get history(): Locator {
    return this.page.getByTestId(ids.history);
  }
  get readOnly(): Locator {
    return this.page.getByTestId(ids.readOnly);
  }
  get saveStatus(): Locator {
    return this.page.getByTestId(ids.saveStatus);
  }
  /** The table's rows that show a signal (the header row left out). */
  get rows(): Locator {
    return this.table.getByRole('row').filter({ has: this.page.getByTestId(ids.openDetails) });
  }

  /** Opens the page (a query carries time range and `var-…` filters) and waits for the table or the empty state. */
  async open(query = '?from=now-1h&to=now'): Promise<void> {
    await this.host.open(`/a/betrace-app/signals${query}`);
    await this.table.or(this.empty).first().waitFor({ timeout: READY_MS });
  }

  async searchText(text: string): Promise<void> {
    const box = this.page.getByLabel('Search', { exact: true });
    await box.fill(text);
    await box.press('Enter');
  }

  /** Opens a row's details and waits until the signal is loaded (its history is shown). */
  async openDetails(row: number): Promise<void> {
    await this.rows.nth(row).getByTestId(ids.openDetails).click();
    await this.details.waitFor({ timeout: READY_MS });
    await this.history.waitFor({ timeout: READY_MS });
  }

  async changeStatus(label: string, note: string): Promise<void> {
    // The drawer re-renders as its data settles; a click that lands on the old radio is lost, so
    // choose again until the choice holds.
    const option = this.details.getByLabel(label, { exact: true });
    await until(`the status ${label} to be chosen`, READY_MS, async () => {
      await option.check({ force: true, timeout: 2_000 }).catch(() => undefined);
      return option.isChecked();
    });
    await this.details.getByTestId(ids.note).fill(note);
    await this.saveStatus.click();
  }
}
