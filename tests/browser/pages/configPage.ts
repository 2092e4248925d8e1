import type { Locator } from 'playwright-core';
import { appConfigTestIds as ids } from '../../../src/components/AppConfig/testIds';
import { PluginHost, READY_MS } from './pluginHost';

/** The app's configuration page at /plugins/betrace-app: sidecar URL, token, Tempo data source, Save & test. */
export class ConfigPage {
  constructor(readonly host: PluginHost) {}

  private get page() {
    return this.host.page;
  }

  get sidecarUrl(): Locator {
    return this.page.getByTestId(ids.sidecarUrl);
  }
  get token(): Locator {
    return this.page.getByTestId(ids.sidecarToken);
  }
  get tempo(): Locator {
    return this.page.getByTestId(ids.tempoDatasource);
  }
  get result(): Locator {
    return this.page.getByTestId(ids.result);
  }

  async open(): Promise<void> {
    await this.host.open('/plugins/betrace-app');
    await this.page.getByTestId(ids.container).waitFor({ timeout: READY_MS });
  }

  async saveAndTest(): Promise<void> {
    await this.page.getByRole('button', { name: 'Save & test' }).click();
  }

  async resetToken(value: string): Promise<void> {
    await this.page.getByRole('button', { name: 'Reset' }).click();
    await this.token.fill(value);
  }
}
