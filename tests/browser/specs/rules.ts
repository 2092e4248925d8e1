import { waitForText, until } from '../harness/wait';
import type { Suite } from '../harness/fixture';
import { SPEC_MS } from '../harness/fixture';
import { RuleEditorPage } from '../pages/ruleEditorPage';
import { RulesListPage } from '../pages/rulesListPage';
import { rulesTestIds } from '../../../src/pages/Rules/testIds';

/** The rule the specs create (the example rules are provisioned, hence read-only). */
export const RULE = {
  id: 'browser-large-eur-payments',
  name: 'Large EUR card payments need a fraud check',
  // A long pushdown: the line that used to run out of its box over the Description field.
  condition:
    'when   { p: payment.charge.where(amount > 1000 and (currency == "USD" or currency == "EUR" or currency == "GBP" or currency == "CHF") and order_id matches "^ord-[0-9]+$") }\n' +
    'always { payment.fraud_check.where(order_id == p.order_id).before(p, within 5s) }',
};

export const PAYMENT_RULE_CONDITION =
  'when   { p: payment.charge.where(amount > 1000) }\nalways { payment.fraud_check.where(order_id == p.order_id).before(p, within 5s) }';

const overlaps = (a: { x: number; y: number; width: number; height: number }, b: typeof a) =>
  a.x < b.x + b.width && b.x < a.x + a.width && a.y < b.y + b.height && b.y < a.y + a.height;

export function rulesSpecs(suite: Suite): void {
  describe('Rules', () => {
    it(
      'shows each rule’s health from the sidecar’s counts: list columns, and the rule page’s Health tab',
      async () => {
        const host = await suite.tab('admin');
        const list = new RulesListPage(host);
        await list.open();
        // The stack's seeded traces made payment-fraud-check fire: it has triggers, violations and a compliance ratio.
        await until('the health columns', 45_000, async () => /%/.test(await list.cell('payment-fraud-check', 'Compliance ratio')));
        expect(await list.cell('payment-fraud-check', 'Fire rate')).not.toBe('—');
        expect(await list.cell('payment-fraud-check', 'Cost / trace')).not.toBe('—');

        const editor = new RuleEditorPage(host);
        await editor.open('payment-fraud-check');
        await host.page.getByRole('tab', { name: 'Health' }).click();
        const triggered = host.page.getByTestId(rulesTestIds.health.stat('triggered'));
        await until('the health totals', 45_000, async () => Number((await triggered.innerText().catch(() => '')).replace(/\D+/g, '')) > 0);
        const violations = Number((await host.page.getByTestId(rulesTestIds.health.stat('violations')).innerText()).replace(/\D+/g, ''));
        expect(violations).toBeGreaterThan(0);
        await host.page.getByTestId(rulesTestIds.health.panels).waitFor();
        await host.screenshot('rule-health');
      },
      SPEC_MS
    );

    it(
      'lists the rules, their signals in range from ONE signals request, and filters them',
      async () => {
        const host = await suite.tab('admin');
        const list = new RulesListPage(host);
        const before = suite.stack.grafana.calls.length;
        await list.open();
        const { total } = (await (
          await fetch(`${suite.stack.sidecar.api}/api/v1/signals?rule=payment-fraud-check&limit=1`, {
            headers: { authorization: `Bearer ${suite.stack.sidecar.token}` },
          })
        ).json()) as { total: number };
        expect(total).toBeGreaterThan(0);
        await until(
          'the signal counts',
          45_000,
          async () => (await list.cell('payment-fraud-check', 'Signals in range')) === String(total)
        );
        // Relative to now: seconds or minutes old, depending on how fast the machine got here.
        expect(await list.cell('payment-fraud-check', 'Last signal')).toMatch(/^(a few seconds|a minute|\d+ minutes) ago$/);
        const signalCalls = suite.stack.grafana.calls
          .slice(before)
          .filter((c) => c.path.startsWith('sidecar/api/v1/signals'));
        expect(signalCalls.map((c) => [c.path.replace(/\?.*/, ''), c.status])).toEqual([
          ['sidecar/api/v1/signals/summary', 200],
        ]);
        await host.screenshot('rules-list');

        await list.search('hipaa');
        await list.row('hipaa-164-312-b-phi-audit').waitFor();
        expect(await list.row('payment-fraud-check').count()).toBe(0);
        await list.search('');
        await list.filterSeverity('low');
        await list.row('server-errors-explain-themselves').waitFor();
        expect(await list.row('payment-fraud-check').count()).toBe(0);
      },
      SPEC_MS
    );

    it(
      'marks an error in the code with line:col, keeps Save disabled, then creates the rule',
      async () => {
        const host = await suite.tab('admin');
        const list = new RulesListPage(host);
        await list.open();
        await list.newRule.click();
        const editor = new RuleEditorPage(host);
        await editor.container.waitFor();
        await editor.typeCode('when { payment.charge }\nalways { payment.amount > 1000 }');
        await waitForText(editor.diagnostics, '2:10 error: a span selector cannot be compared directly');
        await until('a Monaco error marker', 30_000, async () => (await editor.errorMarkers.count()) === 1);
        expect(await editor.save.isDisabled()).toBe(true);
        await host.screenshot('rule-editor-error');

        await editor.typeCode(RULE.condition);
        await waitForText(editor.pushdown, 'name = "payment.charge"');
        await editor.fill('id', RULE.id);
        await editor.fill('name', RULE.name);
        await editor.severity('critical');
        await editor.fill('note', 'created by the browser suite');
        // The pushdown wraps inside its box instead of running over the Description field beside it.
        const code = (await editor.pushdown.boundingBox())!;
        const box =
          (await editor.pushdown
            .locator('xpath=ancestor::div[@role="status" or contains(@class,"alert")][1]')
            .first()
            .boundingBox()) ?? code;
        const description = (await editor.description.boundingBox())!;
        expect(overlaps(code, description)).toBe(false);
        expect(code.x + code.width).toBeLessThanOrEqual(box.x + box.width + 1);
        expect(await editor.pushdown.evaluate((el) => el.scrollWidth <= el.clientWidth + 1)).toBe(true);
        await host.screenshot('rule-editor-valid');

        await editor.save.click();
        await host.page.waitForURL(new RegExp(`/a/betrace-app/rules/${RULE.id}$`));
        // Title and breadcrumb name the rule, not its id.
        await waitForText(host.title, RULE.name);
        const crumbs = await waitForText(host.breadcrumbs, RULE.name);
        expect(crumbs).toContain('Rules');
        expect(crumbs).not.toContain(RULE.id);
      },
      SPEC_MS
    );

    it(
      'shows the rule’s name as title and breadcrumb when opened by URL',
      async () => {
        const host = await suite.tab('admin');
        const editor = new RuleEditorPage(host);
        await editor.open('payment-fraud-check');
        await waitForText(host.title, 'Large payments need a fraud check');
        const crumbs = await waitForText(host.breadcrumbs, 'Large payments need a fraud check');
        expect(crumbs).toContain('Rules');
        expect(crumbs).not.toContain('payment-fraud-check');
        await waitForText(editor.readOnly, 'Provisioned rule');
        await host.screenshot('rule-editor-provisioned');
      },
      SPEC_MS
    );

    it(
      'tests a draft on pasted OTLP/JSON and on a trace id fetched from Tempo',
      async () => {
        const host = await suite.tab('admin');
        const editor = new RuleEditorPage(host);
        await editor.open('new');
        await editor.typeCode(PAYMENT_RULE_CONDITION);
        await waitForText(editor.pushdown, 'payment.charge');
        const violating = suite.stack.traces.find((t) => t.rule === 'payment-fraud-check' && t.verdict === 'violates')!;
        await editor.testOnPastedOtlp(violating.json);
        await waitForText(editor.testResult, `The rule fires on trace ${violating.traceId}`);
        expect(await editor.testResult.locator('[data-matched="true"]').count()).toBeGreaterThan(0);
        await host.screenshot('rule-test-otlp');

        const satisfying = suite.stack.traces.find(
          (t) => t.rule === 'payment-fraud-check' && t.verdict === 'satisfies'
        )!;
        await editor.testOnTempoTrace(satisfying.traceId);
        await waitForText(editor.testResult, `The rule does not fire on trace ${satisfying.traceId}`);
        await editor.testOnTempoTrace(violating.traceId);
        await waitForText(editor.testResult, `The rule fires on trace ${violating.traceId}`);
        expect(suite.stack.tempo.requests.some((r) => r.url === `/api/v2/traces/${violating.traceId}`)).toBe(true);
        await host.screenshot('rule-test-tempo');
        await editor.testOnTempoTrace('0123456789abcdef0123456789abcdef');
        await waitForText(editor.testError, 'Tempo does not know trace 0123456789abcdef0123456789abcdef');
      },
      SPEC_MS
    );

    it(
      'replays the saved rule over Tempo with progress, and lists the violations',
      async () => {
        const host = await suite.tab('admin');
        const editor = new RuleEditorPage(host);
        await editor.open(RULE.id);
        await editor.tab('Replay');
        await editor.replayStart.click();
        await waitForText(editor.replayStatus, /\d+\/\d+ windows \(\d+%\)/);
        const done = await waitForText(editor.replayStatus, /^done: (\d+)\/\1 windows \(100%\)/, 90_000);
        expect(done).toMatch(/[1-9]\d* traces fetched, [1-9]\d* violations/);
        const violating = suite.stack.traces.find((t) => t.rule === 'payment-fraud-check' && t.verdict === 'violates')!;
        await waitForText(editor.replayViolations, violating.traceId);
        await host.screenshot('rule-replay');
        expect(suite.stack.tempo.requests.some((r) => r.url.startsWith('/api/search?'))).toBe(true);
      },
      SPEC_MS
    );

    it(
      'saves a new version with a note, diffs it with the first and rolls back',
      async () => {
        const host = await suite.tab('admin');
        const editor = new RuleEditorPage(host);
        await editor.open(RULE.id);
        await editor.severity('high');
        await editor.dirty.waitFor();
        await editor.fill('note', 'high is enough');
        await editor.save.click();
        await editor.dirty.waitFor({ state: 'hidden' });
        await editor.tab('History');
        await waitForText(editor.historyVersion(2), 'high is enough');
        await editor.diff(1);
        await waitForText(editor.historyDiff, '- severity: critical');
        await waitForText(editor.historyDiff, '+ severity: high');
        await host.screenshot('rule-history');
        await editor.rollback(1);
        await waitForText(editor.historyVersion(3), 'rollback to version 1');
        // Who changed it: the proxy named the signed-in user in X-Grafana-User.
        await waitForText(editor.historyVersion(3), 'admin');
      },
      SPEC_MS
    );

    it(
      'gives a Viewer the rules read-only, and the proxy refuses their writes with 403',
      async () => {
        const host = await suite.tab('viewer');
        host.allow(/^\/api\/plugin-proxy\/betrace-app\/sidecar\/api\/v1\/(rules|replay)(\/|$)/, 403);
        const list = new RulesListPage(host);
        await list.open();
        expect(await list.newRule.count()).toBe(0);
        const editor = new RuleEditorPage(host);
        await editor.open(RULE.id);
        await waitForText(editor.readOnly, 'Read-only');
        expect(await editor.save.count()).toBe(0);
        await editor.tab('Replay');
        expect(await editor.replayStart.isDisabled()).toBe(true);
        await editor.replayNotAllowed.waitFor();
        await host.screenshot('rule-editor-viewer');
        const status = await host.page.evaluate(async (id) => {
          const put = await fetch(`/api/plugin-proxy/betrace-app/sidecar/api/v1/rules/${id}`, {
            method: 'PUT',
            headers: { 'content-type': 'application/json' },
            body: '{}',
          });
          const replay = await fetch('/api/plugin-proxy/betrace-app/sidecar/api/v1/replay', {
            method: 'POST',
            headers: { 'content-type': 'application/json' },
            body: '{}',
          });
          const read = await fetch(`/api/plugin-proxy/betrace-app/sidecar/api/v1/rules/${id}`);
          return [put.status, replay.status, read.status];
        }, RULE.id);
        expect(status).toEqual([403, 403, 200]);
      },
      SPEC_MS
    );
  });
}
