import type { Locator } from 'playwright-core';
import { suggestionsTestIds as ids } from '../../../src/pages/Suggestions/testIds';
import { PluginHost, READY_MS } from './pluginHost';

/** The Suggestions page at /a/betrace-app/suggestions: the Run form, the open job, its suggestions and the job list. */
export class SuggestionsPage {
  constructor(readonly host: PluginHost) {}

  private get page() {
    return this.host.page;
  }

  get container(): Locator {
    return this.page.getByTestId(ids.container);
  }
  get readOnly(): Locator {
    return this.page.getByTestId(ids.readOnly);
  }
  get runButton(): Locator {
    return this.page.getByTestId(ids.run);
  }
  get runError(): Locator {
    return this.page.getByTestId(ids.runError);
  }
  get jobState(): Locator {
    return this.page.getByTestId(ids.jobState);
  }
  get summary(): Locator {
    return this.page.getByTestId(ids.summary);
  }
  get list(): Locator {
    return this.page.getByTestId(ids.list);
  }
  get empty(): Locator {
    return this.page.getByTestId(ids.empty);
  }
  get jobs(): Locator {
    return this.page.getByTestId(ids.jobs);
  }
  /** The suggestions shown, best first. */
  get items(): Locator {
    return this.list.getByRole('listitem');
  }
  suggestion(id: string): Locator {
    return this.page.getByTestId(ids.suggestion(id));
  }
  condition(item: Locator): Locator {
    return item.getByTestId(ids.condition);
  }
  stats(item: Locator): Locator {
    return item.getByTestId(ids.stats);
  }
  exampleLinks(item: Locator): Locator {
    return item.getByTestId(ids.examples).getByRole('link');
  }
  adoptButton(item: Locator): Locator {
    return item.getByTestId(ids.adopt);
  }
  dismissButton(item: Locator): Locator {
    return item.getByTestId(ids.dismiss);
  }
  adopted(item: Locator): Locator {
    return item.getByTestId(ids.adopted);
  }

  /** The suggestion id of a listed item (its data-testid is `data-testid suggestion <id>`). */
  async idOf(item: Locator): Promise<string> {
    const testId = (await item.getAttribute('data-testid')) ?? '';
    return testId.replace(ids.suggestion(''), '');
  }

  /** Opens the page (a query carries the time range and `job`) and waits for it to be mounted. */
  async open(query = '?from=now-1h&to=now'): Promise<void> {
    await this.host.open(`/a/betrace-app/suggestions${query}`);
    await this.container.waitFor({ timeout: READY_MS });
  }

  async source(label: 'Auto' | 'Trace history' | 'Tempo'): Promise<void> {
    await this.page.getByTestId(ids.source).getByLabel(label, { exact: true }).click({ force: true });
  }

  async option(field: 'top' | 'minSupport' | 'minConfidence', value: string): Promise<void> {
    await this.page.getByTestId(ids[field]).fill(value);
  }

  /** Runs discovery and waits for the job to finish (done, failed or cancelled). */
  async run(timeoutMs = 120_000): Promise<string> {
    await this.runButton.click();
    await this.jobState.waitFor({ timeout: READY_MS });
    await this.page.waitForFunction(
      (testId) => {
        const el = document.querySelector(`[data-testid="${testId}"]`);
        return el !== null && !/^Running/.test(el.textContent ?? '');
      },
      ids.jobState,
      { timeout: timeoutMs }
    );
    return this.jobState.innerText();
  }

  async showDismissed(): Promise<void> {
    await this.page.getByTestId(ids.showDismissed).getByRole('switch').click({ force: true });
  }
}
