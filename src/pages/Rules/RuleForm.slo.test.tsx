/** The rule form's objective fields, through the whole editor as the user meets them (mocks as in RuleEditor.test.tsx). */
import React from 'react';
import { MemoryRouter } from 'react-router-dom';
import { fireEvent, render, screen, waitFor } from '@testing-library/react';
import { of, throwError } from 'rxjs';
import type { RuleView } from '../../api/rules';
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
