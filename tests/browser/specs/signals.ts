import { waitForText, until } from '../harness/wait';
import type { Suite } from '../harness/fixture';
import { SPEC_MS } from '../harness/fixture';
import { SignalsPage } from '../pages/signalsPage';

async function sidecarTotal(suite: Suite, query: string): Promise<number> {
  const res = await fetch(`${suite.stack.sidecar.api}/api/v1/signals?limit=1&${query}`, {
    headers: { authorization: `Bearer ${suite.stack.sidecar.token}` },
  });
  return ((await res.json()) as { total: number }).total;
}

export function signalsSpecs(suite: Suite): void {
  describe('Signals', () => {
    it(
      'lists the sidecar’s signals and narrows them by severity (URL) and text',
      async () => {
        const host = await suite.tab('admin');
        const signals = new SignalsPage(host);
        const total = await sidecarTotal(suite, '');
        expect(total).toBeGreaterThan(1);
        await signals.open();
        await waitForText(signals.pageInfo, new RegExp(`of ${total} signals`));
        await host.screenshot('signals');

        const critical = await sidecarTotal(suite, 'severity=critical');
        await signals.open('?from=now-1h&to=now&var-severity=critical');
        await waitForText(signals.pageInfo, new RegExp(`of ${critical} signals`));
        for (const text of await signals.rows.allInnerTexts()) {
          expect(text).toContain('critical');
        }
        const fraud = await sidecarTotal(suite, 'severity=critical&text=fraud');
        await signals.searchText('fraud');
        await waitForText(signals.pageInfo, new RegExp(`of ${fraud} signals?`));
        await host.page.waitForURL(/var-text=fraud/);
      },
      SPEC_MS
    );

    it(
      'acknowledges a signal in the drawer with a note, recorded as the signed-in user',
      async () => {
        const host = await suite.tab('editor');
        const signals = new SignalsPage(host);
        await signals.open('?from=now-1h&to=now&var-status=open');
        await until('open signals', 45_000, async () => (await signals.rows.count()) > 0);
        await signals.openDetails(0);
        await signals.changeStatus('Acknowledged', 'looking at it from the browser suite');
        await waitForText(signals.history, 'Open → Acknowledged by editor');
        await waitForText(signals.history, 'looking at it from the browser suite');
        await host.screenshot('signals-drawer');
      },
      SPEC_MS
    );

    it(
      'gives a Viewer the drawer read-only, and the proxy refuses their status change with 403',
      async () => {
        const host = await suite.tab('viewer');
        host.allow(/^\/api\/plugin-proxy\/betrace-app\/sidecar\/api\/v1\/signals\/any$/, 403);
        const signals = new SignalsPage(host);
        await signals.open();
        await until('signals', 45_000, async () => (await signals.rows.count()) > 0);
        await signals.openDetails(0);
        await signals.readOnly.waitFor();
        expect(await signals.saveStatus.count()).toBe(0);
        await host.screenshot('signals-drawer-viewer');
        const status = await host.page.evaluate(async () => {
          const res = await fetch('/api/plugin-proxy/betrace-app/sidecar/api/v1/signals/any', {
            method: 'PATCH',
            headers: { 'content-type': 'application/json' },
            body: JSON.stringify({ status: 'resolved' }),
          });
          return res.status;
        });
        expect(status).toBe(403);
      },
      SPEC_MS
    );
  });
}
