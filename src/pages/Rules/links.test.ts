import { exploreTraceUrl, newRuleUrl, ruleUrl, rulesListUrl } from './links';

describe('links', () => {
  it('builds the app’s rule URLs', () => {
    expect(rulesListUrl()).toBe('/a/betrace-app/rules');
    expect(newRuleUrl()).toBe('/a/betrace-app/rules/new');
    expect(ruleUrl('payment.check')).toBe('/a/betrace-app/rules/payment.check');
  });

  it('links a trace to Explore’s trace view in Explore’s URL format', () => {
    const url = exploreTraceUrl('tempo', 'cb81f926213516df1f0a6598a1aef89b');
    // urlUtil.renderUrl keeps `:` and `,` unescaped, as Grafana's own Explore links do.
    expect(url).toBe(
      '/explore?schemaVersion=1&panes=%7B%22trace%22:%7B%22datasource%22:%22tempo%22,%22queries%22:%5B%7B%22refId%22:%22A%22,%22datasource%22:%7B%22type%22:%22tempo%22,%22uid%22:%22tempo%22%7D,%22queryType%22:%22traceql%22,%22query%22:%22cb81f926213516df1f0a6598a1aef89b%22%7D%5D,%22range%22:%7B%22from%22:%22now-1h%22,%22to%22:%22now%22%7D%7D%7D'
    );
  });
});
