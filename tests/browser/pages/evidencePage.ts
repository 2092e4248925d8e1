import type { Download, Locator } from 'playwright-core';
import { testIds } from '../../../src/components/testIds';
import { PluginHost, READY_MS } from './pluginHost';

const ids = testIds.evidence;

/** The evidence page at /a/betrace-app/evidence: controls, verification, exports. */
export class EvidencePage {
  constructor(readonly host: PluginHost) {}

  private get page() {
    return this.host.page;
  }

  get controls(): Locator {
    return this.page.getByTestId(ids.controls);
  }
  get verification(): Locator {
    return this.page.getByTestId(ids.verification).first();
  }
  get exportButtons(): Locator {
    return this.page.getByTestId(ids.exportButtons);
  }
  get exportError(): Locator {
    return this.page.getByTestId(ids.exportError);
  }
  get container(): Locator {
    return this.page.getByTestId(ids.container);
  }

  async open(query = '?from=now-1h&to=now'): Promise<void> {
    await this.host.open(`/a/betrace-app/evidence${query}`);
    await this.container.waitFor({ timeout: READY_MS });
  }

  /** Clicks "Export <FORMAT>" and returns the download the browser received. */
  async export(format: 'CSV' | 'JSON' | 'PDF'): Promise<Download> {
    const download = this.page.waitForEvent('download', { timeout: READY_MS });
    await this.exportButtons.getByRole('button', { name: `Export ${format}` }).click();
    return download;
  }
}
