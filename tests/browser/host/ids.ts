/** data-testid strings of the host page's own chrome (pluginPage.tsx), shared with the page objects. */
export const HOST_IDS = {
  breadcrumbs: 'data-testid host-breadcrumbs',
  title: 'data-testid host-page-title',
  noData: 'data-testid host-panel-no-data',
} as const;
