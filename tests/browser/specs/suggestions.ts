import type { Suite } from '../harness/fixture';
import { SPEC_MS } from '../harness/fixture';
import { until, waitForText } from '../harness/wait';
import { RuleEditorPage } from '../pages/ruleEditorPage';
import { SuggestionsPage } from '../pages/suggestionsPage';
import { rulesTestIds } from '../../../src/pages/Rules/testIds';

/** The sidecar's API, with its token (what the proxy adds for the page). */
async function sidecarGet<T>(suite: Suite, path: string): Promise<{ status: number; body: T }> {
  const res = await fetch(`${suite.stack.sidecar.api}${path}`, {
    headers: { authorization: `Bearer ${suite.stack.sidecar.token}` },
  });
  return { status: res.status, body: (await res.json()) as T };
}

interface JobView {
  id: string;
  suggestions?: Array<{ id: string; title: string; state: string; adoptedRuleId?: string }>;
}

/**
 * Discovery from the page against the real sidecar: it mines the sidecar's own history of the
 * seeded example traces (pushed to it by the harness), so this spec needs the sidecar's
 * /api/v1/discover, its trace history and the miner.
 */
export function suggestionsSpecs(suite: Suite): void {
  describe('Suggestions', () => {
    it(
      'runs discovery over the trace history, dismisses a suggestion and adopts one through the editor',
      async () => {
        // The seeded traces reach the history once their log segment is let go (docs/history.md):
        // mine only once it holds a segment.
        await until('the seeded traces in the sidecar\'s history', 60_000, async () => {
          const text = await (await fetch(`${suite.stack.sidecar.api}/metrics`)).text();
          return Number(/^betrace_history_segments(?:\{[^}]*\})? (\d+)$/m.exec(text)?.[1] ?? 0) >= 1;
        });
        const host = await suite.tab('editor');
        const page = new SuggestionsPage(host);
        await page.open('?from=now-1h&to=now');
        await page.source('Trace history');
        // A few dozen example traces: let a handful of traces support a suggestion.
        await page.option('minSupport', '2');
        expect(await page.run()).toMatch(/^Done: [1-9]\d* suggestions?$/);
        await waitForText(page.summary, /^Read [1-9]\d* traces/);
        await until('two suggestions at least', 30_000, async () => (await page.items.count()) >= 2);
        await host.screenshot('suggestions');
        const jobId = /[?&]job=(dj-[0-9a-f]{16})/.exec(host.page.url())?.[1];
        expect(jobId).toBeDefined();

        // Each suggestion: rule text, its numbers, and example traces one click from Explore.
        const first = page.items.nth(0);
        expect((await page.condition(first).innerText()).trim()).not.toBe('');
        expect(await page.stats(first).innerText()).toMatch(
          /^support \d+ traces? · confidence [\d.]+ % \(lower bound [\d.]+ %\)/
        );
        const seeded = new Set(suite.stack.traces.map((t) => t.traceId));
        const href = (await page.exampleLinks(first).first().getAttribute('href')) ?? '';
        const panes = JSON.parse(new URL(href, 'http://x').searchParams.get('panes') ?? '{}') as {
          betrace?: { queries?: Array<{ query: string }> };
        };
        expect(href.startsWith('/explore?')).toBe(true);
        expect(seeded.has(panes.betrace?.queries?.[0]?.query ?? '')).toBe(true);

        // Dismiss the second: hidden, remembered by the sidecar, shown again on request.
        const second = page.items.nth(1);
        const dismissedId = await page.idOf(second);
        await page.dismissButton(second).click();
        await page.suggestion(dismissedId).waitFor({ state: 'detached' });
        const afterDismiss = await sidecarGet<JobView>(suite, `/api/v1/discover/${jobId}`);
        expect(afterDismiss.body.suggestions?.find((s) => s.id === dismissedId)?.state).toBe('dismissed');
        await page.showDismissed();
        await page.suggestion(dismissedId).waitFor();

        // Adopt the first through the editor: prefilled, tested on its traces, saved through the adopt route.
        const adoptedId = await page.idOf(first);
        const title = afterDismiss.body.suggestions!.find((s) => s.id === adoptedId)!.title;
        await page.adoptButton(page.suggestion(adoptedId)).click();
        await host.page.waitForURL(new RegExp(`/a/betrace-app/rules/new\\?suggestion=${jobId}(:|%3A)${adoptedId}$`));
        const editor = new RuleEditorPage(host);
        await editor.container.waitFor();
        await waitForText(host.page.getByTestId(rulesTestIds.editor.adoption), title);
        await editor.tab('Test');
        await waitForText(host.page.getByTestId(rulesTestIds.test.suggestionTraces), /example traces? it held in/);
        await host.page.getByTestId(rulesTestIds.test.run).click();
        await waitForText(editor.testResult, 'The rule does not fire on trace');
        await host.screenshot('suggestion-adopt');
        await editor.save.click();
        await host.page.waitForURL(/\/a\/betrace-app\/rules\/[a-z0-9][a-z0-9\-_.]*$/);
        const ruleId = decodeURIComponent(new URL(host.page.url()).pathname.split('/').pop()!);
        await waitForText(host.title, title);
        const rule = await sidecarGet<{ id: string; enabled: boolean; description?: string }>(
          suite,
          `/api/v1/rules/${ruleId}`
        );
        expect([rule.status, rule.body.enabled]).toEqual([200, false]);
        expect(rule.body.description).toContain(`Suggested by BeTrace discovery ${jobId}`);

        // Back on the page, the suggestion links to the rule it became.
        await page.open(`?from=now-1h&to=now&job=${jobId}`);
        await waitForText(page.adopted(page.suggestion(adoptedId)), `Adopted as ${ruleId}`);
      },
      SPEC_MS
    );

    it(
      'gives a Viewer the suggestions read-only, and the proxy refuses their discovery with 403',
      async () => {
        const host = await suite.tab('viewer');
        host.allow(/^\/api\/plugin-proxy\/betrace-app\/sidecar\/api\/v1\/discover(\/|$)/, 403);
        const page = new SuggestionsPage(host);
        await page.open();
        await waitForText(page.readOnly, 'Read-only');
        expect(await page.runButton.count()).toBe(0);
        await page.jobs.waitFor();
        await host.screenshot('suggestions-viewer');
        const status = await host.page.evaluate(async () => {
          const run = await fetch('/api/plugin-proxy/betrace-app/sidecar/api/v1/discover', {
            method: 'POST',
            headers: { 'content-type': 'application/json' },
            body: '{}',
          });
          const list = await fetch('/api/plugin-proxy/betrace-app/sidecar/api/v1/discover');
          return [run.status, list.status];
        });
        expect(status).toEqual([403, 200]);
      },
      SPEC_MS
    );
  });
}
