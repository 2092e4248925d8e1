/** data-testid strings shared by the unit tests and the e2e specs. */
export const testIds = {
  appConfig: {
    container: 'data-testid ac-container',
    apiKey: 'data-testid ac-api-key',
    apiUrl: 'data-testid ac-api-url',
    submit: 'data-testid ac-submit-form',
  },
  rules: {
    container: 'data-testid rules-container',
    ruleInput: 'data-testid rules-check-input',
    diagnostics: 'data-testid rules-check-diagnostics',
    valid: 'data-testid rules-check-valid',
    pushdown: 'data-testid rules-check-pushdown',
  },
  signals: {
    container: 'data-testid signals-container',
  },
  evidence: {
    container: 'data-testid evidence-container',
  },
};
