import { waitForText, until } from '../harness/wait';
import type { Suite } from '../harness/fixture';
import { SPEC_MS } from '../harness/fixture';
import { TEMPO_UID } from '../harness/stack';
import { RuleEditorPage } from '../pages/ruleEditorPage';
import { rulesTestIds } from '../../../src/pages/Rules/testIds';
import { testIds } from '../../../src/components/testIds';

const CREATE = 'Create a BeTrace rule from this trace';
const SIGNALS = 'BeTrace signals for this trace';

async function signalsOf(suite: Suite, query: string): Promise<{ total: number; signals: Array<{ traceId: string; createdAt: string }> }> {
  const res = await fetch(`${suite.stack.sidecar.api}/api/v1/signals?${query}`, {
    headers: { authorization: `Bearer ${suite.stack.sidecar.token}` },
  });
  return (await res.json()) as { total: number; signals: Array<{ traceId: string; createdAt: string }> };
}

/**
 * Explore's trace view, through the host's stand-in (tests/browser/host/traceView.tsx): it asks the
 * built plugin for the links it registered on the trace view's points, calls their configure()
 * with Grafana's context, and opens what they point at.
 */
export function exploreSpecs(suite: Suite): void {
  describe('Explore trace view', () => {
    it(
      'offers BeTrace’s actions on a trace, drafts a rule from it with the trace in Test, and lists its signals',
      async () => {
        const host = await suite.tab('admin');
        const { signals } = await signalsOf(suite, 'rule=payment-fraud-check&limit=1');
        expect(signals.length).toBe(1);
        const traceId = signals[0].traceId;
        const onTrace = await signalsOf(suite, `traceId=${traceId}&limit=100`);
        expect(onTrace.total).toBeGreaterThan(0);
        const start = (Date.parse(signals[0].createdAt) - 60_000) * 1000; // µs, as Grafana passes it
        const explore = `/explore?traceId=${traceId}&ds=${TEMPO_UID}&dsType=tempo&start=${start}&spanId=${'0'.repeat(15)}1`;

        await host.open(explore);
        const header = host.page.getByTestId('trace-view-header-actions');
        await waitForText(header, CREATE);
        expect(await header.getByRole('button').allInnerTexts()).toEqual([CREATE, SIGNALS]);
        // The span point gets the create action on its service.name row (the category).
        const spanLinks = host.page.getByTestId('trace-view-span-links').getByRole('button');
        expect(await spanLinks.allInnerTexts()).toEqual([CREATE]);
        expect(await spanLinks.first().getAttribute('data-category')).toBe('service.name');
        await host.screenshot('explore-trace-view');

        // A Jaeger trace gets no "create" (drafts need Tempo) but still its signals.
        await host.open(explore.replace('dsType=tempo', 'dsType=jaeger'));
        await waitForText(header, SIGNALS);
        expect(await header.getByRole('button').allInnerTexts()).toEqual([SIGNALS]);

        await host.open(explore);
        await header.getByRole('button', { name: CREATE }).click();
        await host.page.waitForURL(/\/a\/betrace-app\/rules\/new\?fromTrace=/);
        const editor = new RuleEditorPage(host);
        await editor.container.waitFor();
        await waitForText(host.page.getByTestId(rulesTestIds.editor.fromTrace), 'Drafted from a trace');
        await editor.tab('Test');
        await until('the trace in the Test panel', 30_000, async () => (await host.page.getByTestId(rulesTestIds.test.traceId).inputValue()) === traceId);
        await host.screenshot('explore-drafted-rule');

        await host.open(explore);
        await header.getByRole('button', { name: SIGNALS }).click();
        await host.page.waitForURL(new RegExp(`/a/betrace-app/signals\\?var-traceId=${traceId}`));
        const summary = await waitForText(host.page.getByTestId(testIds.signals.traceSummary), new RegExp(`${onTrace.total} signals? on trace`));
        expect(summary).toMatch(/top severity: \w+/);
        await host.screenshot('explore-trace-signals');
      },
      SPEC_MS
    );
  });
}
