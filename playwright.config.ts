import type { PluginOptions } from '@grafana/plugin-e2e';
import { defineConfig, devices } from '@playwright/test';
import { dirname } from 'node:path';
import { VIEWER } from './tests/e2e/users';

const pluginE2eAuth = `${dirname(require.resolve('@grafana/plugin-e2e'))}/auth`;

/**
 * `npm run e2e` against the compose stack: `npm run build && docker compose up --build`, then
 * `npx playwright install chromium` once. GRAFANA_URL overrides http://localhost:3000.
 * See https://grafana.com/developers/plugin-tools/e2e-test-a-plugin/introduction
 */
export default defineConfig<PluginOptions>({
  testDir: './tests/e2e',
  // The specs share one Grafana and the config spec changes the app's settings: one at a time.
  fullyParallel: false,
  workers: 1,
  forbidOnly: !!process.env.CI,
  retries: process.env.CI ? 2 : 0,
  reporter: 'html',
  use: {
    baseURL: process.env.GRAFANA_URL || 'http://localhost:3000',
    trace: 'on-first-retry',
  },
  projects: [
    // 1. Sign in as admin and store the session (playwright/.auth/admin.json).
    {
      name: 'auth',
      testDir: pluginE2eAuth,
      testMatch: [/.*\.js/],
    },
    // 2. Create a Viewer through Grafana's API and store its session, for the RBAC specs.
    {
      name: 'createViewer',
      testDir: pluginE2eAuth,
      testMatch: [/.*\.js/],
      use: { user: VIEWER.user },
    },
    // 3. The specs, as admin unless a spec switches to the Viewer.
    {
      name: 'chromium',
      use: {
        ...devices['Desktop Chrome'],
        storageState: 'playwright/.auth/admin.json',
      },
      dependencies: ['auth', 'createViewer'],
    },
  ],
});
