import * as fs from 'fs';
import * as path from 'path';
import type { ConsoleMessage, Locator, Page } from 'playwright-core';
import { HOST_IDS } from '../host/ids';

/** How long a page of the plugin may take to show its data on a loaded 2-core CI machine. */
export const READY_MS = 45_000;

/**
 * One browser tab on the Grafana stand-in: navigation that waits for the plugin to be mounted,
 * the page's chrome (breadcrumbs, title), and every page error and console error the tab saw —
 * the specs fail on any of them.
 */
/** An answer a spec provokes on purpose (a wrong token, a Viewer's write): not a failure. */
interface Expected {
  path: RegExp;
  status: number;
}

/**
 * One browser tab on the Grafana stand-in: navigation that waits for the plugin to be mounted,
 * the page's chrome (breadcrumbs, title), and every page error, console error, failed request
 * and 4xx/5xx answer the tab saw — the specs fail on any of them they did not expect.
 */
export class PluginHost {
  readonly problems: string[] = [];
  // Icons Grafana serves from its own repository, not from @grafana/ui's npm package (spinner,
  // angle-double-left …): the stand-in cannot serve them, and their absence breaks no page.
  private readonly expected: Expected[] = [{ path: /^\/public\/build\/img\/icons\//, status: 404 }];

  constructor(
    readonly page: Page,
    readonly baseUrl: string,
    private readonly screenshotDir: string
  ) {
    page.on('pageerror', (e) => this.problems.push(`page error: ${e.stack ?? e.message}`));
    page.on('console', (m: ConsoleMessage) => {
      // Chrome logs every 4xx/5xx answer as "Failed to load resource"; those are judged by their
      // response below, where an expected refusal can be told from a broken page.
      if (
        m.type() === 'error' &&
        !m.text().startsWith('Failed to load resource: the server responded with a status of')
      ) {
        this.problems.push(`console error: ${m.text()} (${m.location().url}:${m.location().lineNumber})`);
      }
    });
    page.on('response', (r) => {
      const path = new URL(r.url()).pathname;
      if (r.status() >= 400 && !this.expected.some((e) => e.status === r.status() && e.path.test(path))) {
        this.problems.push(`HTTP ${r.status()}: ${r.request().method()} ${r.url()}`);
      }
    });
    page.on('requestfailed', (r) => {
      // A poll or a download cut short by navigation is not a failure.
      if (!/ERR_ABORTED/.test(r.failure()?.errorText ?? '')) {
        this.problems.push(`request failed: ${r.method()} ${r.url()} ${r.failure()?.errorText}`);
      }
    });
  }

  /** Declares an answer the spec provokes on purpose (e.g. 403 for a Viewer's write). */
  allow(path: RegExp, status: number): void {
    this.expected.push({ path, status });
  }

  get breadcrumbs(): Locator {
    return this.page.getByTestId(HOST_IDS.breadcrumbs);
  }

  get title(): Locator {
    return this.page.getByTestId(HOST_IDS.title);
  }

  /** Opens `path` and waits until the host has loaded the built plugin and mounted it. */
  async open(pathAndQuery: string): Promise<void> {
    await this.page.goto(`${this.baseUrl}${pathAndQuery}`);
    const state = await this.page.waitForFunction(
      () =>
        (window as unknown as { __hostState?: string }).__hostState !== 'loading' &&
        (window as unknown as { __hostState?: string }).__hostState,
      undefined,
      { timeout: READY_MS }
    );
    const value = (await state.jsonValue()) as string;
    if (value !== 'mounted') {
      throw new Error(`the host did not mount the plugin: ${value}`);
    }
  }

  /** A full-page screenshot under the output folder, for a person to look at. */
  async screenshot(name: string): Promise<string> {
    fs.mkdirSync(this.screenshotDir, { recursive: true });
    const file = path.join(this.screenshotDir, `${name}.png`);
    await this.page.screenshot({ path: file, fullPage: true });
    return file;
  }
}
