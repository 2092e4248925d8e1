import React from 'react';
import { MemoryRouter } from 'react-router-dom';
import { fireEvent, render, screen, waitFor, within } from '@testing-library/react';
import type { BackendSrvRequest } from '@grafana/runtime';
import type { DiscoveryJob } from '../../api/discover';
import { exploreTraceUrl } from '../../builders/exploreUrl';
import { exploreLinkState, fakeFetch, installJsdomStubs, type Route } from '../Signals/fakeGrafana';
import {
  adopted,
  almostInvariant,
  dismissed,
  doneJob,
  EXAMPLE_A,
  EXAMPLE_B,
  invariant,
  JOB_ID,
  runningJob,
  VIOLATING,
} from './fixtures';
import { suggestionsScene } from './suggestionsScene';
import { suggestionsTestIds as ids } from './testIds';

// Whole Grafana components render here; on a loaded CI machine that takes seconds.
jest.setTimeout(30_000);

// The page renders whole Grafana components: on a loaded machine a state can take seconds to show.
const SLOW = { timeout: 10_000 };
const waitForSlow = <T,>(check: () => T) => waitFor(check, SLOW);

const mockFetch = jest.fn();
const mockGranted = new Set<string>();
jest.mock('@grafana/runtime', () => ({
  ...jest.requireActual('@grafana/runtime'),
  getBackendSrv: () => ({ fetch: mockFetch }),
  hasPermission: (action: string) => mockGranted.has(action),
}));

const API = '/api/plugin-proxy/betrace-app/sidecar/api/v1/discover';
const WRITE = 'betrace-app.rules:write';

function serve(routes: Record<string, Route>) {
  mockFetch.mockImplementation(fakeFetch(routes));
}

const calls = (method: string, url: string) =>
  mockFetch.mock.calls.map(([r]) => r as BackendSrvRequest).filter((r) => r.method === method && r.url === url);

function renderPage() {
  const scene = suggestionsScene({ pollMs: 5 });
  render(
    <MemoryRouter future={{ v7_startTransition: true, v7_relativeSplatPath: true }}>
      <scene.Component model={scene} />
    </MemoryRouter>
  );
  return scene;
}

const item = (id: string) => screen.getByTestId(ids.suggestion(id));
const listed = () =>
  within(screen.getByTestId(ids.list))
    .getAllByRole('listitem')
    .map((li) => li.getAttribute('aria-label'));

/** A job list with the fixture job, which GET /discover/:id answers in full. */
function serveDone(job: DiscoveryJob = doneJob(), extra: Record<string, Route> = {}) {
  const { suggestions: _s, ...listed } = job;
  serve({ [`GET ${API}`]: () => ({ jobs: [listed] }), [`GET ${API}/${JOB_ID}`]: () => job, ...extra });
}

async function openFixtureJob() {
  fireEvent.click(await screen.findByTestId(ids.openJob(JOB_ID), {}, SLOW));
  return screen.findByTestId(ids.list, {}, SLOW);
}

beforeAll(() => installJsdomStubs());

beforeEach(() => {
  mockFetch.mockReset();
  mockGranted.clear();
  mockGranted.add('betrace-app.rules:read');
  mockGranted.add(WRITE);
});

describe('Suggestions page', () => {
  it('runs discovery over the time range, follows its progress, then lists the ranked suggestions', async () => {
    let finished = false;
    serve({
      [`GET ${API}`]: () => ({ jobs: [] }),
      [`POST ${API}`]: () => runningJob(),
      [`GET ${API}/${JOB_ID}`]: () => (finished ? doneJob() : runningJob(420, 'validating')),
    });
    renderPage();
    expect(await screen.findByTestId(ids.noJobs, {}, SLOW)).toHaveTextContent('No discoveries yet');
    fireEvent.change(screen.getByTestId(ids.top), { target: { value: '20' } });
    fireEvent.change(screen.getByTestId(ids.minSupport), { target: { value: '10' } });
    fireEvent.click(within(screen.getByTestId(ids.kinds)).getByLabelText('count'));
    fireEvent.click(within(screen.getByTestId(ids.kinds)).getByLabelText('implication'));
    fireEvent.click(screen.getByTestId(ids.run));

    expect(await screen.findByText('Running: validating, 420 traces read', {}, SLOW)).toBeInTheDocument();
    expect(screen.getByTestId(ids.cancel)).toBeInTheDocument();
    const [post] = calls('POST', API);
    expect(post.data).toEqual({
      from: expect.stringMatching(/^\d{4}-\d\d-\d\dT/),
      to: expect.stringMatching(/^\d{4}-\d\d-\d\dT/),
      source: 'auto',
      top: 20,
      minSupport: 10,
      kinds: ['implication', 'count'],
    });
    // The scene's range: the last 24 hours.
    expect(Date.parse(post.data.to) - Date.parse(post.data.from)).toBe(24 * 3600 * 1000);

    finished = true;
    await screen.findByTestId(ids.list, {}, SLOW);
    expect(screen.queryByTestId(ids.progress)).not.toBeInTheDocument();
    expect(screen.getByTestId(ids.jobState)).toHaveTextContent('Done: 4 suggestions');
    expect(screen.getByTestId(ids.summary)).toHaveTextContent(
      'Read 1000 traces (30000 spans, 45 span names): 700 mined, 300 held out. 512 candidates; not suggested: ' +
        '300 too little support, 150 too low confidence, 40 implied by a stronger one, 1 already a rule, ' +
        '1 dismissed before, 16 failed on held-out traces.'
    );
    // Best first, ranked as the sidecar ranked them; the dismissed one (#3) hidden.
    expect(listed()).toEqual([
      `Suggestion 1: ${invariant.title}`,
      `Suggestion 2: ${almostInvariant.title}`,
      `Suggestion 4: ${adopted.title}`,
    ]);

    const first = item(invariant.id);
    expect(within(first).getByTestId(ids.condition).textContent).toBe(invariant.condition);
    expect(within(first).getByTestId(ids.stats)).toHaveTextContent(
      'support 120 traces · confidence 100 % (lower bound 96.9 %) · lift 3.40 · 0 violations · held-out fire rate 0.0 % (0 of 50)'
    );
    expect(within(first).getByTestId(ids.bar)).toHaveAttribute(
      'aria-label',
      'held in 120 of 120 traces, violated in 0'
    );
    expect(within(first).queryByTestId(ids.almost)).not.toBeInTheDocument();
    expect(within(first).queryByTestId(ids.violating)).not.toBeInTheDocument();
    const range = { from: Date.UTC(2026, 10, 28, 9), to: Date.UTC(2026, 10, 28, 10) };
    expect(
      within(within(first).getByTestId(ids.examples))
        .getAllByRole('link')
        .map((a) => [a.textContent, exploreLinkState(a.getAttribute('href'))])
    ).toEqual([
      ['5b8efff798038103…', exploreLinkState(exploreTraceUrl({ datasourceUid: 'tempo', traceId: EXAMPLE_A, range }))],
      ['6c9f0008a9149214…', exploreLinkState(exploreTraceUrl({ datasourceUid: 'tempo', traceId: EXAMPLE_B, range }))],
    ]);
    expect(within(first).getByTestId(ids.adopt)).toHaveAttribute(
      'href',
      `/a/betrace-app/rules/new?suggestion=${JOB_ID}:${invariant.id}`
    );

    const second = item(almostInvariant.id);
    expect(within(second).getByTestId(ids.almost)).toHaveTextContent('almost invariant');
    expect(within(second).getByTestId(ids.stats)).toHaveTextContent(
      'support 200 traces · confidence 99.5 % (lower bound 97.2 %) · lift 1.25 · 1 violation · held-out fire rate 1.2 % (1 of 80)'
    );
    expect(within(second).getByTestId(ids.bar)).toHaveAttribute(
      'aria-label',
      'held in 199 of 200 traces, violated in 1'
    );
    const [violatingLink] = within(within(second).getByTestId(ids.violating)).getAllByRole('link');
    expect(exploreLinkState(violatingLink.getAttribute('href'))).toEqual(
      exploreLinkState(exploreTraceUrl({ datasourceUid: 'tempo', traceId: VIOLATING, range }))
    );
    expect(within(second).getByTestId(ids.adopt)).toHaveAttribute(
      'href',
      `/a/betrace-app/rules/new?suggestion=${JOB_ID}:${almostInvariant.id}`
    );

    // Adopted already: the rule it became, no Adopt or Dismiss.
    const fourth = item(adopted.id);
    expect(within(fourth).getByTestId(ids.adopted)).toHaveTextContent('Adopted as checkout-has-inventory');
    expect(within(fourth).getByRole('link', { name: 'checkout-has-inventory' })).toHaveAttribute(
      'href',
      '/a/betrace-app/rules/checkout-has-inventory'
    );
    expect(within(fourth).queryByTestId(ids.adopt)).not.toBeInTheDocument();
    // Finished: the job list is read again.
    await waitForSlow(() => expect(calls('GET', API).length).toBeGreaterThanOrEqual(2));
  });

  it('cancels a running discovery', async () => {
    serve({
      [`GET ${API}`]: () => ({ jobs: [] }),
      [`POST ${API}`]: () => runningJob(),
      [`GET ${API}/${JOB_ID}`]: () => runningJob(10),
      [`DELETE ${API}/${JOB_ID}`]: () => ({
        ...runningJob(10),
        state: 'cancelled',
        finishedAt: '2026-11-28T10:00:07.000Z',
      }),
    });
    renderPage();
    fireEvent.click(await screen.findByTestId(ids.run, {}, SLOW));
    fireEvent.click(await screen.findByTestId(ids.cancel, {}, SLOW));
    await waitForSlow(() => expect(screen.getByTestId(ids.jobState)).toHaveTextContent('Cancelled'));
    expect(screen.queryByTestId(ids.progress)).not.toBeInTheDocument();
    expect(calls('DELETE', `${API}/${JOB_ID}`)).toHaveLength(1);
    // No poll brings it back to life.
    const polls = calls('GET', `${API}/${JOB_ID}`).length;
    await new Promise((r) => setTimeout(r, 50));
    expect(calls('GET', `${API}/${JOB_ID}`).length).toBe(polls);
    expect(screen.getByTestId(ids.jobState)).toHaveTextContent('Cancelled');
  });

  it('hides a dismissed suggestion, and shows the dismissed ones on request', async () => {
    serveDone(doneJob(), {
      [`POST ${API}/${JOB_ID}/suggestions/${invariant.id}/dismiss`]: () => ({
        suggestion: { ...invariant, state: 'dismissed' },
      }),
    });
    renderPage();
    await openFixtureJob();
    expect(screen.getByText('Show dismissed (1)')).toBeInTheDocument();
    fireEvent.click(within(item(invariant.id)).getByTestId(ids.dismiss));
    await waitForSlow(() => expect(screen.queryByTestId(ids.suggestion(invariant.id))).not.toBeInTheDocument());
    expect(calls('POST', `${API}/${JOB_ID}/suggestions/${invariant.id}/dismiss`)).toHaveLength(1);
    expect(listed()).toEqual([`Suggestion 2: ${almostInvariant.title}`, `Suggestion 4: ${adopted.title}`]);

    fireEvent.click(within(screen.getByTestId(ids.showDismissed)).getByRole('switch'));
    expect(listed()).toEqual([
      `Suggestion 1: ${invariant.title}`,
      `Suggestion 2: ${almostInvariant.title}`,
      `Suggestion 3: ${dismissed.title}`,
      `Suggestion 4: ${adopted.title}`,
    ]);
    expect(within(item(dismissed.id)).getByText('dismissed')).toBeInTheDocument();
    expect(within(item(dismissed.id)).queryByTestId(ids.adopt)).not.toBeInTheDocument();
  });

  it('says why a dismiss failed, on the suggestion', async () => {
    serveDone(doneJob(), {
      [`POST ${API}/${JOB_ID}/suggestions/${invariant.id}/dismiss`]: () => {
        throw { status: 409, data: { error: 'conflict', message: 'suggestion sg-aaaaaaaaaaaaaaaa is adopted' } };
      },
    });
    renderPage();
    await openFixtureJob();
    fireEvent.click(within(item(invariant.id)).getByTestId(ids.dismiss));
    expect(await within(item(invariant.id)).findByTestId(ids.actionError, {}, SLOW)).toHaveTextContent(
      'Could not dismiss the suggestionsuggestion sg-aaaaaaaaaaaaaaaa is adopted'
    );
  });

  it('deletes a finished discovery and its suggestions', async () => {
    let jobs = [doneJob()];
    serve({
      [`GET ${API}`]: () => ({ jobs }),
      [`GET ${API}/${JOB_ID}`]: () => doneJob(),
      [`DELETE ${API}/${JOB_ID}`]: () => {
        jobs = [];
        return doneJob();
      },
    });
    renderPage();
    await openFixtureJob();
    fireEvent.click(screen.getByTestId(ids.deleteJob(JOB_ID)));
    expect(await screen.findByTestId(ids.noJobs, {}, SLOW)).toBeInTheDocument();
    expect(screen.queryByTestId(ids.list)).not.toBeInTheDocument();
  });

  it('is read-only without rules:write: no Run, no Adopt or Dismiss, no Delete, and says why', async () => {
    mockGranted.delete(WRITE);
    serveDone();
    renderPage();
    expect(await screen.findByTestId(ids.readOnly, {}, SLOW)).toHaveTextContent(
      'Running discovery, adopting and dismissing suggestions need the betrace-app.rules:write permission.'
    );
    expect(screen.queryByTestId(ids.run)).not.toBeInTheDocument();
    await openFixtureJob();
    expect(screen.queryByTestId(ids.adopt)).not.toBeInTheDocument();
    expect(screen.queryByTestId(ids.dismiss)).not.toBeInTheDocument();
    expect(screen.queryByTestId(ids.deleteJob(JOB_ID))).not.toBeInTheDocument();
    // Reading stays: the suggestions and their traces.
    expect(within(item(invariant.id)).getByTestId(ids.examples)).toBeInTheDocument();
  });

  it('says which setting is missing when the sidecar has no traces to mine (409 no_source)', async () => {
    serve({
      [`GET ${API}`]: () => ({ jobs: [] }),
      [`POST ${API}`]: () => {
        throw {
          status: 409,
          data: {
            error: 'no_source',
            message: 'discovery needs Tempo (TEMPO_URL) or the trace history (HISTORY_MAX_BYTES)',
          },
        };
      },
    });
    renderPage();
    fireEvent.click(await screen.findByTestId(ids.run, {}, SLOW));
    const alert = await screen.findByTestId(ids.runError, {}, SLOW);
    expect(alert).toHaveTextContent('No traces to discover from');
    expect(alert).toHaveTextContent(
      'discovery needs Tempo (TEMPO_URL) or the trace history (HISTORY_MAX_BYTES). Discovery reads Tempo when the sidecar has TEMPO_URL, else the recent traces the sidecar received itself (its trace history).'
    );
  });

  it('says when the sidecar is unreachable', async () => {
    serve({
      [`GET ${API}`]: () => {
        throw { status: 502, data: { message: 'Bad Gateway' } };
      },
    });
    renderPage();
    expect(await screen.findByTestId(ids.jobsError, {}, SLOW)).toHaveTextContent('The sidecar is unreachable');
  });

  it('says so when a discovery found nothing to suggest', async () => {
    serveDone(doneJob([]));
    renderPage();
    fireEvent.click(await screen.findByTestId(ids.openJob(JOB_ID), {}, SLOW));
    expect(await screen.findByTestId(ids.empty, {}, SLOW)).toHaveTextContent('No suggestions');
    expect(screen.getByTestId(ids.empty)).toHaveTextContent('try a longer range, a lower minimum support');
  });

  it('checks the options before anything is sent', async () => {
    serve({ [`GET ${API}`]: () => ({ jobs: [] }) });
    renderPage();
    fireEvent.change(await screen.findByTestId(ids.top, {}, SLOW), { target: { value: '500' } });
    expect(screen.getByText('A whole number from 1 to 200')).toBeInTheDocument();
    fireEvent.change(screen.getByTestId(ids.minConfidence), { target: { value: '1.5' } });
    expect(
      screen.getByText('A fraction above 0 and at most 1, e.g. 0.95 (empty: the miner’s default)')
    ).toBeInTheDocument();
    expect(screen.getByTestId(ids.run)).toBeDisabled();
    fireEvent.click(screen.getByTestId(ids.run));
    expect(calls('POST', API)).toHaveLength(0);
  });
});
