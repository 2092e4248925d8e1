/** data-testid strings of the config page, shared by its unit tests and the e2e specs. */
export const appConfigTestIds = {
  container: 'data-testid ac-container',
  sidecarUrl: 'data-testid ac-sidecar-url',
  sidecarToken: 'data-testid ac-sidecar-token',
  tempoDatasource: 'data-testid ac-tempo-datasource',
  save: 'data-testid ac-save',
  test: 'data-testid ac-test-connection',
  result: 'data-testid ac-connection-result',
};
