import React from 'react';
import { MemoryRouter } from 'react-router-dom';
import { act, fireEvent, render, screen, waitFor, within } from '@testing-library/react';
import { of, throwError } from 'rxjs';
import { locationService } from '@grafana/runtime';
import type { RuleView } from '../../api/rules';
import type { JobSuggestion } from '../../api/discover';
import { doneJob, EXAMPLE_A, EXAMPLE_B, invariant, JOB_ID, otlpTrace, VIOLATING } from '../Suggestions/fixtures';
import { RuleEditor } from './RuleEditor';
import { rulesTestIds as ids } from './testIds';

const mockFetch = jest.fn();
const mockGranted = new Set<string>();
jest.mock('@grafana/runtime', () => ({
  ...jest.requireActual('@grafana/runtime'),
  getBackendSrv: () => ({ fetch: mockFetch }),
  hasPermission: (action: string) => mockGranted.has(action),
}));

// Monaco does not run in jsdom: the code editor becomes a textarea (as in RuleEditor.test.tsx).
jest.mock('@grafana/ui', () => {
  const actual = jest.requireActual('@grafana/ui');
  const ReactActual = jest.requireActual('react');
  const monaco = {
    languages: {
      register: () => {},
      setMonarchTokensProvider: () => {},
      setLanguageConfiguration: () => {},
      registerCompletionItemProvider: () => {},
      registerHoverProvider: () => {},
      CompletionItemKind: {},
    },
    editor: { setModelMarkers: () => {} },
  };
  const CodeEditor = (props: {
    value: string;
    readOnly?: boolean;
    onChange: (v: string) => void;
    onBeforeEditorMount: (m: unknown) => void;
    onEditorDidMount: (e: unknown, m: unknown) => void;
  }) => {
    ReactActual.useEffect(() => {
      props.onBeforeEditorMount(monaco);
      props.onEditorDidMount({ getModel: () => ({}) }, monaco);
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

jest.setTimeout(30_000);

// The page renders whole Grafana components: on a loaded machine a state can take seconds to show.
const SLOW = { timeout: 10_000 };
const waitForSlow = <T,>(check: () => T) => waitFor(check, SLOW);

/** The invariant, almost: one of the traces it was mined from has a charge without a fraud check. */
const suggestion: JobSuggestion = {
  ...invariant,
  confidence: 0.99,
  violations: 1,
  exampleTraceIds: [EXAMPLE_A, EXAMPLE_B],
  violatingTraceIds: [VIOLATING],
};
const RULE_ID = 'every-payment-charge-has-a-payment-fraud-check';
const DESCRIPTION = `Suggested by BeTrace discovery ${JOB_ID} on 2026-11-28: support 120, confidence 0.9900 (implication).`;
const API = '/api/v1/discover';

type Req = { method: string; url: string; data?: Record<string, unknown> };
let routes: Record<string, (req: Req) => unknown>;

function serve() {
  mockFetch.mockImplementation((req: Req) => {
    const path = req.url.replace('/api/plugin-proxy/betrace-app/sidecar', '');
    const handler = routes[`${req.method} ${path}`];
    if (!handler) {
      return throwError(() => ({
        status: 404,
        data: { error: 'not_found', message: `no route ${req.method} ${path}` },
      }));
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

function renderNew(editor = new RuleEditor({ analysisDelayMs: 5 })) {
  const view = render(
    <MemoryRouter future={{ v7_startTransition: true, v7_relativeSplatPath: true }}>
      <editor.Component model={editor} />
    </MemoryRouter>
  );
  return { editor, view };
}

beforeEach(() => {
  mockFetch.mockReset();
  mockGranted.clear();
  mockGranted.add('betrace-app.rules:write');
  locationService.push(`/a/betrace-app/rules/new?suggestion=${JOB_ID}:${suggestion.id}`);
  routes = {
    [`GET ${API}/${JOB_ID}`]: () => doneJob([suggestion]),
    [`GET ${API}/${JOB_ID}/traces/${EXAMPLE_A}`]: () => otlpTrace(EXAMPLE_A, true),
    [`GET ${API}/${JOB_ID}/traces/${VIOLATING}`]: () => otlpTrace(VIOLATING, false),
    'GET /api/datasources/proxy/uid/tempo/api/v2/search/tags': () => ({ scopes: [] }),
    'GET /api/datasources/proxy/uid/tempo/api/v2/search/tag/name/values': () => ({ tagValues: [] }),
  };
  serve();
});

describe('RuleEditor: adopting a discovery suggestion', () => {
  it('starts from the suggestion: its title, condition and provenance, disabled; Test has its traces', async () => {
    renderNew();
    await waitForSlow(() => expect(screen.getByTestId(ids.editor.name)).toHaveValue(suggestion.title));
    expect(screen.getByTestId(ids.editor.id)).toHaveValue(RULE_ID);
    expect(screen.getByLabelText('Rule condition')).toHaveValue(suggestion.condition);
    expect(screen.getByLabelText('Description')).toHaveValue(DESCRIPTION);
    expect(screen.getByTestId(ids.editor.enabled)).not.toBeChecked();
    expect(screen.getByTestId(ids.editor.adoption)).toHaveTextContent(
      `From discovery ${JOB_ID}: ${suggestion.title}. Test it on the traces it was found in, then adopt it`
    );
    expect(screen.getByTestId(ids.editor.save)).toHaveTextContent('Adopt as rule');
    expect(screen.queryByTestId(ids.editor.note)).not.toBeInTheDocument();
    expect(screen.queryByRole('button', { name: /Add mapping/ })).not.toBeInTheDocument();

    // The Test panel: the suggestion's traces, fetched from the sidecar (one of them is gone).
    expect(screen.getByLabelText('Suggestion’s traces')).toBeChecked();
    const note = screen.getByTestId(ids.test.suggestionTraces);
    await waitForSlow(() =>
      expect(note).toHaveTextContent(
        '1 example trace it held in and 1 violating trace, from the sidecar: Test runs the rule on all of them.'
      )
    );
    expect(note).toHaveTextContent(`trace ${EXAMPLE_B}: no longer in the sidecar's history or in Tempo`);
    expect(calls('GET', `${API}/${JOB_ID}/traces/${EXAMPLE_A}`)).toHaveLength(1);
    expect(calls('GET', `${API}/${JOB_ID}/traces/${VIOLATING}`)).toHaveLength(1);

    fireEvent.click(screen.getByTestId(ids.test.run));
    const result = await screen.findByTestId(ids.test.result, {}, SLOW);
    expect(result).toHaveTextContent(`The rule does not fire on trace ${EXAMPLE_A}`);
    expect(result).toHaveTextContent(`The rule fires on trace ${VIOLATING}`);
    expect(result).toHaveTextContent('example the suggestion held in');
    expect(result).toHaveTextContent('violated the suggestion when mined');
  });

  it('saves through the adopt route with the editor’s fields, then opens the new rule', async () => {
    const replace = jest.spyOn(locationService, 'replace');
    routes[`POST ${API}/${JOB_ID}/suggestions/${suggestion.id}/adopt`] = (req) => {
      const rule: RuleView = {
        id: String(req.data!.id),
        name: String(req.data!.name),
        severity: 'high',
        description: `${DESCRIPTION}; adopted by admin`,
        enabled: true,
        condition: suggestion.condition,
        version: 1,
        provisioned: false,
        updatedAt: '2026-11-28T10:05:00.000Z',
        updatedBy: 'admin',
      };
      return { rule, suggestion: { ...suggestion, state: 'adopted', adoptedRuleId: rule.id } };
    };
    renderNew();
    await waitForSlow(() => expect(screen.getByTestId(ids.editor.name)).toHaveValue(suggestion.title));
    fireEvent.change(screen.getByTestId(ids.editor.name), { target: { value: 'Charges are fraud-checked' } });
    fireEvent.click(within(screen.getByTestId(ids.editor.severity)).getByLabelText('high'));
    fireEvent.click(screen.getByTestId(ids.editor.enabled));
    await waitForSlow(() => expect(screen.getByTestId(ids.editor.save)).toBeEnabled());
    fireEvent.click(screen.getByTestId(ids.editor.save));

    await waitForSlow(() => expect(replace).toHaveBeenCalledWith(`/a/betrace-app/rules/${RULE_ID}`));
    expect(calls('POST', `${API}/${JOB_ID}/suggestions/${suggestion.id}/adopt`).map((r) => r.data)).toEqual([
      {
        id: RULE_ID,
        name: 'Charges are fraud-checked',
        severity: 'high',
        enabled: true,
        condition: suggestion.condition,
        description: DESCRIPTION,
      },
    ]);
    expect(calls('POST', '/api/v1/rules')).toHaveLength(0);
    // The saved rule, as after any create: its own editor, no adoption left.
    await waitForSlow(() => expect(screen.getByTestId(ids.editor.save)).toHaveTextContent('Save as new version'));
    expect(screen.queryByTestId(ids.editor.adoption)).not.toBeInTheDocument();
    replace.mockRestore();
  });

  it('shows the sidecar’s refusal to adopt', async () => {
    routes[`POST ${API}/${JOB_ID}/suggestions/${suggestion.id}/adopt`] = () => {
      throw { status: 409, data: { error: 'conflict', message: `rule ${RULE_ID} exists` } };
    };
    renderNew();
    await waitForSlow(() => expect(screen.getByTestId(ids.editor.save)).toBeEnabled());
    fireEvent.click(screen.getByTestId(ids.editor.save));
    expect(await screen.findByTestId(ids.editor.saveError, {}, SLOW)).toHaveTextContent(`rule ${RULE_ID} exists`);
  });

  it('says when the suggestion cannot be adopted any more', async () => {
    routes[`GET ${API}/${JOB_ID}`] = () =>
      doneJob([{ ...suggestion, state: 'adopted', adoptedRuleId: 'fraud-checked' }]);
    renderNew();
    const error = await screen.findByTestId(ids.list.error, {}, SLOW);
    expect(error).toHaveTextContent('Could not open the suggestion');
    expect(error).toHaveTextContent(`Suggestion ${suggestion.id} was adopted already, as rule fraud-checked`);
  });

  it('says when the discovery is gone', async () => {
    delete routes[`GET ${API}/${JOB_ID}`];
    renderNew();
    expect(await screen.findByTestId(ids.list.error, {}, SLOW)).toHaveTextContent(
      `There is no discovery ${JOB_ID} (it may have been deleted)`
    );
  });

  it('adopts the next suggestion on the next visit, not the rule the last one became', async () => {
    const next: JobSuggestion = { ...suggestion, id: 'sg-eeeeeeeeeeeeeeee', title: 'every payment.charge is checked' };
    routes[`GET ${API}/${JOB_ID}`] = () => doneJob([suggestion, next]);
    routes[`POST ${API}/${JOB_ID}/suggestions/${suggestion.id}/adopt`] = (req) => ({
      rule: { ...req.data, version: 1, provisioned: false, updatedAt: '2026-11-28T10:05:00.000Z', updatedBy: 'admin' },
      suggestion: { ...suggestion, state: 'adopted', adoptedRuleId: RULE_ID },
    });
    const { editor, view } = renderNew();
    await waitForSlow(() => expect(screen.getByTestId(ids.editor.save)).toBeEnabled());
    fireEvent.click(screen.getByTestId(ids.editor.save));
    await waitForSlow(() => expect(screen.getByTestId(ids.editor.save)).toHaveTextContent('Save as new version'));
    // Scenes keeps the /rules/new editor: the next Adopt opens it again with another suggestion.
    view.unmount();
    act(() => locationService.push(`/a/betrace-app/rules/new?suggestion=${JOB_ID}:${next.id}`));
    renderNew(editor);
    await waitForSlow(() => expect(screen.getByTestId(ids.editor.name)).toHaveValue(next.title));
    expect(screen.getByTestId(ids.editor.id)).toHaveValue('every-payment-charge-is-checked');
    expect(screen.getByTestId(ids.editor.id)).toBeEnabled();
    expect(screen.getByTestId(ids.editor.save)).toHaveTextContent('Adopt as rule');
  });

  it('is a plain new rule again once the URL names no suggestion', async () => {
    const { editor, view } = renderNew();
    await waitForSlow(() => expect(screen.getByTestId(ids.editor.name)).toHaveValue(suggestion.title));
    view.unmount();
    act(() => locationService.push('/a/betrace-app/rules/new'));
    renderNew(editor);
    await waitForSlow(() => expect(screen.getByTestId(ids.editor.name)).toHaveValue(''));
    expect(screen.getByTestId(ids.editor.save)).toHaveTextContent('Create rule');
    expect(screen.queryByTestId(ids.editor.adoption)).not.toBeInTheDocument();
    expect(screen.getByLabelText('Trace id (Tempo)')).toBeChecked();
  });
});
