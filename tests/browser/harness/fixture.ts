/**
 * The browser suite's fixture: builds the host bundle, starts the stack (stack.ts) and Chromium
 * once for all specs, gives each spec tabs signed in as a user, and fails a spec on any page error,
 * console error or failed request its tabs saw. Without Chromium the suite is skipped, with the
 * reason, except on CI (CI=true), where a missing browser is a failure.
 */
import * as fs from 'fs';
import * as path from 'path';
import { chromium, type Browser, type BrowserContext } from 'playwright-core';
import { buildHost, HOST_OUT } from './buildHost';
import { USERS } from './grafanaStandIn';
import { OUTPUT, ROOT } from './paths';
import { startStack, type Stack } from './stack';
import { PluginHost } from '../pages/pluginHost';

export const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
export const SCREENSHOTS = path.join(OUTPUT, 'screenshots');

/** Building the host bundle cold and starting the stack, on a loaded 2-core runner. */
const SETUP_MS = 10 * 60_000;
/** Closing Chromium and draining the sidecar. */
const STOP_MS = 60_000;
/** One spec: a few page loads, each waiting up to READY_MS. */
export const SPEC_MS = 180_000;

export type UserName = keyof typeof USERS;

export interface Suite {
  stack: Stack;
  /** A new tab (its own browser context) signed in as `user`. */
  tab(user: UserName): Promise<PluginHost>;
}

export function describeBrowser(name: string, body: (suite: Suite) => void): void {
  if (!fs.existsSync(CHROMIUM)) {
    const why = `no Chromium at ${CHROMIUM} (install it: apt-get install -y chromium; or set CHROMIUM_PATH)`;
    if (process.env.CI === 'true') {
      describe(name, () => {
        it('has a browser to run in', () => {
          throw new Error(`${why}: on CI the browser suite must run`);
        });
      });
    } else {
      console.warn(`browser suite skipped: ${why}`);
      describe.skip(`${name} — skipped: ${why}`, () => {
        it('needs Chromium', () => undefined);
      });
    }
    return;
  }
  describe(name, () => {
    let browser: Browser | undefined;
    let contexts: BrowserContext[] = [];
    let tabs: PluginHost[] = [];
    const suite = {} as Suite;

    beforeAll(async () => {
      if (!fs.existsSync(path.join(ROOT, 'dist/module.js'))) {
        throw new Error('dist/module.js is missing: run `npm run build` first (npm test does)');
      }
      // The stand-in reads the host bundle per request, so the stack starts while it builds.
      const [, stack] = await Promise.all([buildHost(), startStack({ hostDir: HOST_OUT })]);
      suite.stack = stack;
      browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox'] });
      suite.tab = async (user: UserName) => {
        const context = await browser!.newContext({ viewport: { width: 1440, height: 900 }, acceptDownloads: true });
        await context.addCookies([{ name: 'grafana_session', value: USERS[user].login, url: suite.stack.url }]);
        contexts.push(context);
        const tab = new PluginHost(await context.newPage(), suite.stack.url, SCREENSHOTS);
        tabs.push(tab);
        return tab;
      };
    }, SETUP_MS);

    afterEach(async () => {
      const problems = tabs.flatMap((t) => t.problems);
      await Promise.all(contexts.map((c) => c.close()));
      contexts = [];
      tabs = [];
      expect(problems).toEqual([]);
    });

    afterAll(async () => {
      await browser?.close();
      await suite.stack?.stop();
    }, STOP_MS);

    body(suite);
  });
}
