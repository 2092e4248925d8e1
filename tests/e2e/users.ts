import type { User } from '@grafana/plugin-e2e';

/** The Viewer the `createViewer` project (playwright.config.ts) creates and signs in. */
export const VIEWER: { user: User; storageState: string } = {
  user: { user: 'betrace-viewer', password: 'betrace-viewer-pass', role: 'Viewer' },
  // plugin-e2e's login fixture stores the session as playwright/.auth/<user>.json.
  storageState: 'playwright/.auth/betrace-viewer.json',
};
