import React from 'react';
import { readFileSync } from 'fs';
import { join } from 'path';
import { MemoryRouter } from 'react-router-dom';
import { fireEvent, render, screen, waitFor, within } from '@testing-library/react';
import { of, throwError } from 'rxjs';
import type { ReplayJob, RuleView } from '../../api/rules';
import { exploreTraceUrl } from '../../builders/exploreUrl';
import { exploreLinkState } from '../Signals/fakeGrafana';
import { RuleEditor } from './RuleEditor';
import { rulesTestIds as ids } from './testIds';

const mockFetch = jest.fn();
const mockGranted = new Set<string>();
jest.mock('@grafana/runtime', () => ({
  ...jest.requireActual('@grafana/runtime'),
  getBackendSrv: () => ({ fetch: mockFetch }),
  hasPermission: (action: string) => mockGranted.has(action),
}));

// Monaco does not run in jsdom: CodeEditor becomes a textarea that hands the component a fake
// Monaco, recording what the rule language registers and the markers it draws.
const mockMonaco = {
  languages: {
    register: jest.fn(),
    setMonarchTokensProvider: jest.fn(),
    setLanguageConfiguration: jest.fn(),
    registerCompletionItemProvider: jest.fn(),
    registerHoverProvider: jest.fn(),
    CompletionItemKind: { Keyword: 17, Function: 1, Method: 0, Field: 3, Class: 5, Property: 9, EnumMember: 16 },
  },
  editor: { setModelMarkers: jest.fn() },
};
const mockModel = { id: 'model' };
jest.mock('@grafana/ui', () => {
  const actual = jest.requireActual('@grafana/ui');
  const ReactActual = jest.requireActual('react');
  const CodeEditor = (props: {
    value: string;
    readOnly?: boolean;
    onChange: (v: string) => void;
    onBeforeEditorMount: (m: unknown) => void;
    onEditorDidMount: (e: unknown, m: unknown) => void;
  }) => {
    ReactActual.useEffect(() => {
      props.onBeforeEditorMount(mockMonaco);
      props.onEditorDidMount({ getModel: () => mockModel }, mockMonaco);
    }, []);
    return ReactActual.createElement('textarea', {
      'aria-label': 'Rule condition',
      value: props.value,
      readOnly: props.readOnly,
      onChange: (e: { target: { value: string } }) => props.onChange(e.target.value),
    });
  };
  return { ...actual, CodeEditor };
});

const rule: RuleView = {
  id: 'payment-fraud-check',
  name: 'Large payments need a fraud check',
  severity: 'critical',
  message: 'charge of {p.amount} {p.currency} for order {p.order_id} without a fraud check',
  compliance: [{ framework: 'soc2', control: 'CC7.2' }],
  enabled: true,
  condition:
    'when   { p: payment.charge.where(amount > 1000) }\nalways { payment.fraud_check.where(order_id == p.order_id).before(p, within 5s) }',
  version: 2,
  provisioned: false,
  updatedAt: '2026-11-28T10:00:00.000Z',
  updatedBy: 'admin',
};

type Req = { method: string; url: string; params?: Record<string, unknown>; data?: Record<string, unknown> };
type Handler = (req: Req) => unknown;
let routes: Record<string, Handler>;

function serve() {
  mockFetch.mockImplementation((req: Req) => {
    const path = req.url.replace('/api/plugin-proxy/betrace-app/sidecar', '');
    const handler = routes[`${req.method} ${path}`];
    if (!handler) {
      return throwError(() => ({ status: 404, data: { message: `no route ${req.method} ${path}` } }));
    }
    try {
      return of({ data: handler(req) });
    } catch (e) {
      return throwError(() => e);
    }
  });
}

const calls = (method: string, path: string) =>
  mockFetch.mock.calls
    .map(([r]) => r as Req)
    .filter((r) => r.method === method && r.url === `/api/plugin-proxy/betrace-app/sidecar${path}`);

/** `null` opens the editor of a new rule. */
function renderEditor(ruleId: string | null = rule.id) {
  const editor = new RuleEditor({ ruleId: ruleId ?? undefined, analysisDelayMs: 5, replayPollMs: 5 });
  render(
    <MemoryRouter future={{ v7_startTransition: true, v7_relativeSplatPath: true }}>
      <editor.Component model={editor} />
    </MemoryRouter>
  );
  return editor;
}

const code = () => screen.getByLabelText('Rule condition');

beforeEach(() => {
  mockFetch.mockReset();
  mockMonaco.editor.setModelMarkers.mockReset();
  mockGranted.clear();
  mockGranted.add('betrace-app.rules:write');
  routes = {
    [`GET /api/v1/rules/${rule.id}`]: () => rule,
    'GET /api/datasources/proxy/uid/tempo/api/v2/search/tags': () => ({
      scopes: [{ name: 'span', tags: ['amount', 'order_id'] }],
    }),
    'GET /api/datasources/proxy/uid/tempo/api/v2/search/tag/name/values': () => ({
      tagValues: [{ type: 'string', value: 'payment.charge' }],
    }),
  };
  serve();
});

describe('RuleEditor: the code', () => {
  it('wraps a long TraceQL pushdown inside its box instead of running over the fields beside it', async () => {
    renderEditor();
    await waitFor(() => expect(code()).toHaveValue(rule.condition));
    const pushdown = screen.getByTestId(ids.editor.pushdown);
    // A block of its own that breaks anywhere: the query has no spaces to break at in places.
    const style = getComputedStyle(pushdown);
    expect([style.display, style.whiteSpace, style.getPropertyValue('overflow-wrap')]).toEqual(['block', 'pre-wrap', 'anywhere']);
  });

  it('draws the evaluator’s diagnostics as markers as the user types, and completes from Tempo', async () => {
    renderEditor();
    await waitFor(() => expect(code()).toHaveValue(rule.condition));
    expect(screen.getByTestId(ids.editor.pushdown)).toHaveTextContent(
      '{ name = "payment.charge" && (span.amount > 1000 ||'
    );
    fireEvent.change(code(), { target: { value: 'when { payment.charge }\nalways { payment.amount > 1000 }' } });
    await waitFor(() =>
      expect(mockMonaco.editor.setModelMarkers).toHaveBeenLastCalledWith(mockModel, 'betrace', [
        expect.objectContaining({ severity: 8, startLineNumber: 2, startColumn: 10, endLineNumber: 2, endColumn: 24 }),
      ])
    );
    expect(screen.getByTestId(ids.editor.diagnostics)).toHaveTextContent(
      '2:10 error: a span selector cannot be compared directly; did you mean `payment.where(amount > 1000)`?'
    );
    expect(screen.queryByTestId(ids.editor.pushdown)).not.toBeInTheDocument();
    expect(screen.getByTestId(ids.editor.save)).toBeDisabled();

    // Completion offers the attribute names Tempo's tag API returned.
    // The provider is registered once per Monaco instance (the first editor mounted in this file).
    expect(mockMonaco.languages.register).toHaveBeenCalledWith({ id: 'betrace' });
    expect(mockMonaco.languages.registerCompletionItemProvider).toHaveBeenCalledTimes(1);
    const provider = mockMonaco.languages.registerCompletionItemProvider.mock.calls[0][1];
    const text = 'payment.charge.where(or';
    const model = { getValueInRange: () => text };
    await waitFor(() => {
      const { suggestions } = provider.provideCompletionItems(model, { lineNumber: 1, column: text.length + 1 });
      expect(suggestions.map((s: { insertText: string }) => s.insertText)).toContain('order_id');
      expect(suggestions.find((s: { insertText: string }) => s.insertText === 'order_id').range).toEqual({
        startLineNumber: 1,
        endLineNumber: 1,
        startColumn: 22,
        endColumn: 24,
      });
    });
  });
});

describe('RuleEditor: saving', () => {
  it('saves the changed fields as a new version with the change note', async () => {
    routes[`PUT /api/v1/rules/${rule.id}`] = (req) => ({ ...rule, ...req.data, version: 3 });
    renderEditor();
    await waitFor(() => expect(screen.getByTestId(ids.editor.name)).toHaveValue(rule.name));
    expect(screen.getByTestId(ids.editor.save)).toBeDisabled();
    fireEvent.change(screen.getByTestId(ids.editor.name), { target: { value: 'Fraud check before large payments' } });
    fireEvent.click(within(screen.getByTestId(ids.editor.severity)).getByLabelText('high'));
    fireEvent.click(screen.getByTestId(ids.editor.enabled));
    expect(screen.getByTestId(ids.editor.dirty)).toBeInTheDocument();
    fireEvent.change(screen.getByTestId(ids.editor.note), { target: { value: 'clearer name' } });
    fireEvent.click(screen.getByTestId(ids.editor.save));
    await waitFor(() => expect(screen.queryByTestId(ids.editor.dirty)).not.toBeInTheDocument());
    expect(calls('PUT', `/api/v1/rules/${rule.id}`).map((r) => r.data)).toEqual([
      {
        id: rule.id,
        name: 'Fraud check before large payments',
        severity: 'high',
        enabled: false,
        condition: rule.condition,
        message: rule.message,
        compliance: rule.compliance,
        note: 'clearer name',
      },
    ]);
    expect(screen.getByTestId(ids.editor.note)).toHaveValue('');
  });

  it('disables a saved rule at once, as a new version noted "disabled", with a PATCH (the rule is not resent)', async () => {
    routes[`PATCH /api/v1/rules/${rule.id}`] = (req) => ({ ...rule, ...req.data, version: 3 });
    renderEditor();
    fireEvent.click(await screen.findByTestId(ids.editor.toggle));
    await waitFor(() => expect(screen.getByTestId(ids.editor.toggle)).toHaveTextContent('Enable rule'));
    expect(calls('PATCH', `/api/v1/rules/${rule.id}`).map((r) => r.data)).toEqual([{ enabled: false, note: 'disabled' }]);
    expect(calls('PUT', `/api/v1/rules/${rule.id}`)).toEqual([]);
    // With unsaved edits the quick toggle waits for Save.
    fireEvent.change(screen.getByTestId(ids.editor.name), { target: { value: 'changed' } });
    // (A disabled @grafana/ui Button with a tooltip is aria-disabled, so the tooltip still shows.)
    expect(screen.getByTestId(ids.editor.toggle)).toHaveAttribute('aria-disabled', 'true');
  });

  it('creates a new rule and shows the sidecar’s refusal', async () => {
    routes['POST /api/v1/rules'] = () => {
      throw { status: 409, data: { error: 'conflict', message: 'rule checkout-inventory exists' } };
    };
    renderEditor(null);
    expect(screen.getByTestId(ids.editor.save)).toBeDisabled();
    fireEvent.change(screen.getByTestId(ids.editor.id), { target: { value: 'checkout-inventory' } });
    fireEvent.change(screen.getByTestId(ids.editor.name), { target: { value: 'Checkout reserves inventory' } });
    fireEvent.click(screen.getByRole('button', { name: /Add mapping/ }));
    fireEvent.change(screen.getByLabelText('Framework 1'), { target: { value: 'soc2' } });
    fireEvent.change(screen.getByLabelText('Control 1'), { target: { value: 'CC8.1' } });
    fireEvent.click(screen.getByTestId(ids.editor.save));
    expect(await screen.findByTestId(ids.editor.saveError)).toHaveTextContent('rule checkout-inventory exists');
    expect(calls('POST', '/api/v1/rules')[0].data).toEqual(
      expect.objectContaining({ id: 'checkout-inventory', compliance: [{ framework: 'soc2', control: 'CC8.1' }] })
    );
  });

  it('lists the versions, diffs one against the current, and rolls back to it', async () => {
    const v1 = {
      ...rule,
      severity: 'medium' as const,
      condition: 'when { p: payment.charge }\nalways { payment.fraud_check }',
    };
    routes[`GET /api/v1/rules/${rule.id}/history`] = () => ({
      versions: [
        {
          version: 2,
          definition: rule,
          createdAt: '2026-11-28T10:00:00.000Z',
          createdBy: 'admin',
          note: 'amount threshold',
        },
        { version: 1, definition: v1, createdAt: '2026-11-27T10:00:00.000Z', createdBy: 'alice', note: 'created' },
      ],
    });
    routes[`POST /api/v1/rules/${rule.id}/rollback`] = () => ({ ...v1, version: 3 });
    renderEditor();
    await screen.findByTestId(ids.editor.name);
    fireEvent.click(screen.getByRole('tab', { name: 'History' }));
    expect(await screen.findByTestId(ids.history.version(1))).toHaveTextContent(
      'v1 2026-11-27 10:00:00 by alice — created'
    );
    fireEvent.click(
      within(screen.getByTestId(ids.history.version(1))).getByRole('button', { name: 'Diff with current' })
    );
    expect(screen.getByTestId(ids.history.diff).textContent).toBe(
      [
        '  name: Large payments need a fraud check',
        '- severity: medium',
        '+ severity: critical',
        '  enabled: true',
        '  message: charge of {p.amount} {p.currency} for order {p.order_id} without a fraud check',
        '  compliance: soc2 CC7.2',
        '  condition:',
        '-   when { p: payment.charge }',
        '-   always { payment.fraud_check }',
        '+   when   { p: payment.charge.where(amount > 1000) }',
        '+   always { payment.fraud_check.where(order_id == p.order_id).before(p, within 5s) }',
      ].join('')
    );
    fireEvent.click(screen.getByTestId(ids.history.rollback(1)));
    await waitFor(() => expect(code()).toHaveValue(v1.condition));
    expect(calls('POST', `/api/v1/rules/${rule.id}/rollback`).map((r) => r.data)).toEqual([{ version: 1 }]);
  });
});

describe('RuleEditor: permissions', () => {
  it('is read-only without rules:write: no Save, no rollback, the code cannot change', async () => {
    mockGranted.clear();
    routes[`GET /api/v1/rules/${rule.id}/history`] = () => ({
      versions: [
        { version: 2, definition: rule, createdAt: '2026-11-28T10:00:00.000Z', createdBy: 'admin', note: '' },
        { version: 1, definition: rule, createdAt: '2026-11-27T10:00:00.000Z', createdBy: 'admin', note: '' },
      ],
    });
    renderEditor();
    expect(await screen.findByTestId(ids.editor.readOnly)).toHaveTextContent('betrace-app.rules:write');
    expect(screen.queryByTestId(ids.editor.save)).not.toBeInTheDocument();
    expect(screen.getByTestId(ids.editor.name)).toBeDisabled();
    expect(code()).toHaveAttribute('readonly');
    fireEvent.click(screen.getByRole('tab', { name: 'History' }));
    await screen.findByTestId(ids.history.version(1));
    expect(screen.queryByTestId(ids.history.rollback(1))).not.toBeInTheDocument();
    // Testing needs no write permission.
    expect(screen.getByRole('tab', { name: 'Test' })).toBeInTheDocument();
  });

  it('shows a provisioned rule read-only even with rules:write', async () => {
    routes[`GET /api/v1/rules/${rule.id}`] = () => ({ ...rule, provisioned: true });
    renderEditor();
    expect(await screen.findByTestId(ids.editor.readOnly)).toHaveTextContent('comes from a rule file');
    expect(screen.queryByTestId(ids.editor.save)).not.toBeInTheDocument();
  });

  it('shows loading, then the sidecar’s error for an unknown rule', async () => {
    routes = {};
    renderEditor('nope');
    expect(screen.getByTestId(ids.list.loading)).toBeInTheDocument();
    expect(await screen.findByTestId(ids.list.error)).toHaveTextContent(
      'Could not load the rule nopeno route GET /api/v1/rules/nope'
    );
  });
});

describe('RuleEditor: evaluations not completed', () => {
  const skipped = {
    count: 3,
    byReason: { 'time-budget': 2, 'step-budget': 1 },
    lastSkippedAt: '2026-11-28T10:00:05.000Z',
    lastReason: 'time-budget' as const,
    lastTraceId: 'cb81f926213516df1f0a6598a1aef89b',
  };

  it('warns how often and why, with the latest trace linked to Explore', async () => {
    routes[`GET /api/v1/rules/${rule.id}`] = () => ({ ...rule, skipped });
    renderEditor();
    const alert = await screen.findByTestId(ids.editor.skipped);
    expect(alert).toHaveTextContent('Not evaluated on 3 traces (time budget 2, step budget 1)');
    expect(alert).toHaveTextContent(
      'Latest: 2026-11-28 10:00:05 (time budget), trace cb81f926213516df1f0a6598a1aef89b.'
    );
    const link = within(alert).getByRole('link', { name: skipped.lastTraceId });
    // Explore searches around the skip, not only the last hour.
    const at = Date.parse(skipped.lastSkippedAt);
    expect(exploreLinkState(link.getAttribute('href'))).toEqual(
      exploreLinkState(
        exploreTraceUrl({
          datasourceUid: 'tempo',
          traceId: skipped.lastTraceId,
          range: { from: at - 1_800_000, to: at + 1_800_000 },
        })
      )
    );
  });

  it.each([
    ['a rule evaluated on every trace', { ...rule, skipped: { count: 0, byReason: {} } }],
    ['a sidecar without the field', rule],
  ])('shows nothing for %s', async (_case, answer) => {
    routes[`GET /api/v1/rules/${rule.id}`] = () => answer;
    renderEditor();
    await screen.findByTestId(ids.editor.name);
    expect(screen.queryByTestId(ids.editor.skipped)).not.toBeInTheDocument();
  });
});

describe('RuleEditor: Test', () => {
  it('fetches a trace by id through the Tempo datasource and explains the rule on it', async () => {
    const tempoTrace = JSON.parse(
      readFileSync(join(__dirname, '../../../tests/fixtures/tempo/trace-v2-response.json'), 'utf8')
    );
    routes['GET /api/datasources/proxy/uid/tempo/api/v2/traces/5b8efff798038103d269b633813fc700'] = () => tempoTrace;
    renderEditor();
    await screen.findByTestId(ids.editor.name);
    fireEvent.change(screen.getByTestId(ids.test.traceId), { target: { value: '5b8efff798038103d269b633813fc700' } });
    fireEvent.click(screen.getByTestId(ids.test.run));
    const result = await screen.findByTestId(ids.test.result);
    expect(result).toHaveTextContent('The rule does not fire on trace 5b8efff798038103d269b633813fc700');
    expect(result).toHaveTextContent('I am a span!');
    expect(within(result).getByRole('link', { name: 'Open the trace in Explore' }).getAttribute('href')).toContain(
      '5b8efff798038103d269b633813fc700'
    );
  });

  it('runs the draft over pasted OTLP/JSON in the browser and highlights the matched spans', async () => {
    const otlp = readFileSync(join(__dirname, '../../../examples/traces/payment-fraud-check/violates-1.json'), 'utf8');
    renderEditor();
    await screen.findByTestId(ids.editor.name);
    fireEvent.click(screen.getByLabelText('Paste OTLP/JSON'));
    fireEvent.change(screen.getByTestId(ids.test.otlp), { target: { value: otlp } });
    fireEvent.click(screen.getByTestId(ids.test.run));
    const result = await screen.findByTestId(ids.test.result);
    expect(result).toHaveTextContent('The rule fires on trace cb81f926213516df1f0a6598a1aef89b');
    expect(result).toHaveTextContent('without a fraud check');
    expect(screen.getByTestId(ids.test.span('e705a2c9ba31352f'))).toHaveAttribute('data-matched', 'true');
    expect(screen.getByTestId(ids.test.span('ec7691261f1821ff'))).toHaveAttribute('data-matched', 'false');
    // The sidecar was not asked: the evaluator ran in the browser.
    expect(calls('POST', '/api/v1/rules/test')).toHaveLength(0);
  });

  it('says what is wrong with a bad trace id or text', async () => {
    renderEditor();
    await screen.findByTestId(ids.editor.name);
    fireEvent.change(screen.getByTestId(ids.test.traceId), { target: { value: 'xyz' } });
    fireEvent.click(screen.getByTestId(ids.test.run));
    expect(await screen.findByTestId(ids.test.error)).toHaveTextContent('"xyz" is not a trace id');
  });
});

describe('RuleEditor: Replay', () => {
  const job = (over: Partial<ReplayJob>): ReplayJob => ({
    id: 'job-1',
    tenant: 'default',
    source: 'tempo',
    ruleIds: ['payment-fraud-check'],
    from: 0,
    to: 3600_000,
    dryRun: true,
    status: 'running',
    windowsDone: 0,
    windowsTotal: 12,
    searches: 0,
    tracesFetched: 0,
    violationsFound: 0,
    signalsCreated: 0,
    violations: [],
    createdAt: 0,
    ...over,
  });
  const violation = {
    ruleId: 'payment-fraud-check',
    traceId: 'cb81f926213516df1f0a6598a1aef89b',
    boundSpanId: 'e705a2c9ba31352f',
    matchedSpanIds: ['e705a2c9ba31352f'],
    message: 'charge of 1500 USD',
    severity: 'critical' as const,
  };

  it('replays the draft as a dry run, shows progress and lists the violations with links to their traces', async () => {
    const polls = [
      job({ windowsDone: 6, tracesFetched: 30, violationsFound: 1 }),
      job({ status: 'done', windowsDone: 12, tracesFetched: 61, violationsFound: 1, violations: [violation] }),
    ];
    routes['POST /api/v1/replay'] = () => job({ status: 'queued' });
    routes['GET /api/v1/replay/job-1'] = () =>
      polls.shift() ?? job({ status: 'done', windowsDone: 12, violations: [violation] });
    renderEditor();
    await screen.findByTestId(ids.editor.name);
    fireEvent.click(screen.getByRole('tab', { name: 'Replay' }));
    fireEvent.click(screen.getByTestId(ids.replay.start));
    await waitFor(() =>
      expect(screen.getByTestId(ids.replay.status)).toHaveTextContent(
        'running: 6/12 windows (50%), 30 traces fetched, 1 violations'
      )
    );
    await waitFor(() =>
      expect(screen.getByTestId(ids.replay.status)).toHaveTextContent(
        'done: 12/12 windows (100%), 61 traces fetched, 1 violations'
      )
    );
    const link = within(screen.getByTestId(ids.replay.violations)).getByRole('link', {
      name: /trace cb81f926213516df1f0a6598a1aef89b/,
    });
    // The job's own range, so Explore finds a trace older than its default hour; the bound span focused.
    expect(exploreLinkState(link.getAttribute('href'))).toEqual(
      exploreLinkState(
        exploreTraceUrl({
          datasourceUid: 'tempo',
          traceId: violation.traceId,
          spanId: violation.boundSpanId,
          range: { from: 0, to: 3600_000 },
        })
      )
    );
    const body = calls('POST', '/api/v1/replay')[0].data!;
    expect(body).toEqual(
      expect.objectContaining({
        dryRun: true,
        rule: expect.objectContaining({ id: rule.id, condition: rule.condition }),
      })
    );
    expect(Number(body.to) - Number(body.from)).toBe(6 * 3600_000);
    expect(screen.queryByTestId(ids.replay.cancel)).not.toBeInTheDocument();
  });

  it('offers no replay without rules:write (the proxy would refuse it), and says why', async () => {
    mockGranted.clear();
    renderEditor();
    await screen.findByTestId(ids.editor.name);
    fireEvent.click(screen.getByRole('tab', { name: 'Replay' }));
    // Grafana's Button keeps a disabled button with a tooltip focusable: aria-disabled.
    expect(screen.getByTestId(ids.replay.start)).toHaveAttribute('aria-disabled', 'true');
    expect(screen.getByTestId(ids.replay.notAllowed)).toHaveTextContent(
      'Replaying needs the betrace-app.rules:write permission.'
    );
    fireEvent.click(screen.getByTestId(ids.replay.start));
    expect(calls('POST', '/api/v1/replay')).toHaveLength(0);
  });

  it('cancels a running replay', async () => {
    routes['POST /api/v1/replay'] = () => job({});
    routes['GET /api/v1/replay/job-1'] = () => job({ windowsDone: 1 });
    routes['DELETE /api/v1/replay/job-1'] = () => job({ status: 'cancelled', windowsDone: 1 });
    renderEditor();
    await screen.findByTestId(ids.editor.name);
    fireEvent.click(screen.getByRole('tab', { name: 'Replay' }));
    fireEvent.click(screen.getByTestId(ids.replay.start));
    await waitFor(() => expect(screen.getByTestId(ids.replay.status)).toHaveTextContent('running: 1/12 windows'));
    fireEvent.click(screen.getByTestId(ids.replay.cancel));
    await waitFor(() => expect(screen.getByTestId(ids.replay.status)).toHaveTextContent('cancelled: 1/12 windows'));
    expect(calls('DELETE', '/api/v1/replay/job-1')).toHaveLength(1);
    const pollsAfterCancel = calls('GET', '/api/v1/replay/job-1').length;
    await new Promise((r) => setTimeout(r, 30));
    expect(calls('GET', '/api/v1/replay/job-1')).toHaveLength(pollsAfterCancel);
    expect(screen.getByTestId(ids.replay.start)).toBeInTheDocument();
  });

  it('shows why the sidecar cannot replay', async () => {
    routes['POST /api/v1/replay'] = () => {
      throw { status: 409, data: { error: 'no_tempo', message: 'replay needs traces to read: set TEMPO_URL (pull mode), or turn the history of recent traces on (HISTORY_MAX_BYTES is off)' } };
    };
    renderEditor();
    await screen.findByTestId(ids.editor.name);
    fireEvent.click(screen.getByRole('tab', { name: 'Replay' }));
    fireEvent.click(screen.getByTestId(ids.replay.start));
    expect(await screen.findByTestId(ids.replay.error)).toHaveTextContent('replay needs traces to read: set TEMPO_URL (pull mode), or turn the history of recent traces on (HISTORY_MAX_BYTES is off)');
  });
});

describe('RuleForm: the objective fields', () => {
  it('show the saved objective as a rule file writes it and send a changed one in that form', async () => {
    routes[`GET /api/v1/rules/${rule.id}`] = () => ({ ...rule, slo: { objective: 0.999, windowMs: 2_592_000_000 } });
    routes[`PUT /api/v1/rules/${rule.id}`] = (req) => ({ ...rule, ...req.data, version: 3 });
    renderEditor();
    await waitFor(() => expect(screen.getByTestId(ids.editor.sloObjective)).toHaveValue('99.9%'));
    expect(screen.getByTestId(ids.editor.sloWindow)).toHaveValue('30d');
    fireEvent.change(screen.getByTestId(ids.editor.sloObjective), { target: { value: '99.5%' } });
    fireEvent.change(screen.getByTestId(ids.editor.sloWindow), { target: { value: '7d' } });
    fireEvent.click(screen.getByTestId(ids.editor.save));
    await waitFor(() => expect(calls('PUT', `/api/v1/rules/${rule.id}`)).toHaveLength(1));
    expect(calls('PUT', `/api/v1/rules/${rule.id}`)[0].data?.slo).toEqual({ objective: '99.5%', window: '7d' });
  });

  it('refuse a bad objective in the evaluator’s words before the sidecar sees it, and clear it when both are emptied', async () => {
    routes[`PUT /api/v1/rules/${rule.id}`] = (req) => ({ ...rule, ...req.data, version: 3 });
    renderEditor();
    await waitFor(() => expect(screen.getByTestId(ids.editor.name)).toHaveValue(rule.name));
    expect(screen.getByTestId(ids.editor.sloObjective)).toHaveValue('');
    fireEvent.change(screen.getByTestId(ids.editor.sloObjective), { target: { value: '99.9' } });
    fireEvent.change(screen.getByTestId(ids.editor.sloWindow), { target: { value: '30d' } });
    expect(await screen.findByText('`slo.objective` must be a percentage strictly between 0 and 100 followed by %, e.g. "99.9%"; got "99.9"')).toBeInTheDocument();
    expect(screen.getByTestId(ids.editor.save)).toBeDisabled();
    fireEvent.change(screen.getByTestId(ids.editor.sloWindow), { target: { value: '' } });
    fireEvent.change(screen.getByTestId(ids.editor.sloObjective), { target: { value: '' } });
    expect(screen.getByTestId(ids.editor.save)).toBeDisabled(); // nothing changed: no objective before, none now
    fireEvent.change(screen.getByTestId(ids.editor.sloObjective), { target: { value: '95%' } });
    fireEvent.change(screen.getByTestId(ids.editor.sloWindow), { target: { value: '1d' } });
    fireEvent.click(screen.getByTestId(ids.editor.save));
    await waitFor(() => expect(calls('PUT', `/api/v1/rules/${rule.id}`)).toHaveLength(1));
    expect(calls('PUT', `/api/v1/rules/${rule.id}`)[0].data?.slo).toEqual({ objective: '95%', window: '1d' });
  });
});
