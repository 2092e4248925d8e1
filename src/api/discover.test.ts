import { of, throwError } from 'rxjs';
import { doneJob, invariant, JOB_ID, otlpTrace, runningJob } from '../pages/Suggestions/fixtures';
import { SidecarError } from './client';
import {
  adoptSuggestion,
  deleteDiscovery,
  discoveryProblem,
  discoveryTrace,
  dismissSuggestion,
  getDiscovery,
  listDiscoveries,
  startDiscovery,
} from './discover';

const mockFetch = jest.fn();
jest.mock('@grafana/runtime', () => ({
  ...jest.requireActual('@grafana/runtime'),
  getBackendSrv: () => ({ fetch: mockFetch }),
}));

const PROXY = '/api/plugin-proxy/betrace-app/sidecar';
const answer = (data: unknown) => mockFetch.mockReturnValueOnce(of({ data }));
const refuse = (status: number, data: unknown) => mockFetch.mockReturnValueOnce(throwError(() => ({ status, data })));
const sent = () => mockFetch.mock.calls.map(([r]) => ({ method: r.method, url: r.url, data: r.data }));

beforeEach(() => mockFetch.mockReset());

describe('the discovery client', () => {
  it('starts a job with ISO times and only the options given', async () => {
    mockFetch.mockReturnValue(of({ data: runningJob() }));
    const from = Date.UTC(2026, 10, 28, 9);
    const to = Date.UTC(2026, 10, 28, 10);
    await expect(startDiscovery({ from, to, top: 20 })).resolves.toEqual(runningJob());
    await startDiscovery({
      from,
      to,
      source: 'history',
      top: 5,
      minSupport: 3,
      minConfidence: 0.9,
      kinds: ['count', 'absence'],
    });
    await startDiscovery({ from, to, kinds: [] });
    expect(sent()).toEqual([
      {
        method: 'POST',
        url: `${PROXY}/api/v1/discover`,
        data: { from: '2026-11-28T09:00:00.000Z', to: '2026-11-28T10:00:00.000Z', top: 20 },
      },
      {
        method: 'POST',
        url: `${PROXY}/api/v1/discover`,
        data: {
          from: '2026-11-28T09:00:00.000Z',
          to: '2026-11-28T10:00:00.000Z',
          source: 'history',
          top: 5,
          minSupport: 3,
          minConfidence: 0.9,
          kinds: ['count', 'absence'],
        },
      },
      {
        method: 'POST',
        url: `${PROXY}/api/v1/discover`,
        data: { from: '2026-11-28T09:00:00.000Z', to: '2026-11-28T10:00:00.000Z' },
      },
    ]);
  });

  it('lists, reads, deletes, adopts, dismisses and fetches traces at the contract’s routes', async () => {
    answer({ jobs: [runningJob()] });
    expect(await listDiscoveries()).toEqual([runningJob()]);
    answer(doneJob());
    expect(await getDiscovery(JOB_ID)).toEqual(doneJob());
    answer({ ...doneJob(), state: 'cancelled' });
    expect((await deleteDiscovery(JOB_ID)).state).toBe('cancelled');
    answer({ rule: { id: 'r1' }, suggestion: { ...invariant, state: 'adopted', adoptedRuleId: 'r1' } });
    expect((await adoptSuggestion(JOB_ID, invariant.id, { id: 'r1', enabled: false })).rule.id).toBe('r1');
    answer({ suggestion: { ...invariant, state: 'dismissed' } });
    expect((await dismissSuggestion(JOB_ID, invariant.id)).state).toBe('dismissed');
    answer(otlpTrace('ab12', true));
    expect(await discoveryTrace(JOB_ID, 'ab12')).toEqual(otlpTrace('ab12', true));
    expect(sent()).toEqual([
      { method: 'GET', url: `${PROXY}/api/v1/discover`, data: undefined },
      { method: 'GET', url: `${PROXY}/api/v1/discover/${JOB_ID}`, data: undefined },
      { method: 'DELETE', url: `${PROXY}/api/v1/discover/${JOB_ID}`, data: undefined },
      {
        method: 'POST',
        url: `${PROXY}/api/v1/discover/${JOB_ID}/suggestions/${invariant.id}/adopt`,
        data: { id: 'r1', enabled: false },
      },
      {
        method: 'POST',
        url: `${PROXY}/api/v1/discover/${JOB_ID}/suggestions/${invariant.id}/dismiss`,
        data: undefined,
      },
      { method: 'GET', url: `${PROXY}/api/v1/discover/${JOB_ID}/traces/ab12`, data: undefined },
    ]);
  });

  it('escapes ids into the path', async () => {
    answer(doneJob());
    await getDiscovery('dj-1/../rules');
    expect(sent()[0].url).toBe(`${PROXY}/api/v1/discover/dj-1%2F..%2Frules`);
  });

  it('keeps the sidecar’s status, code and message on a refusal', async () => {
    refuse(409, { error: 'no_source', message: 'no Tempo and no trace history: set TEMPO_URL or TRACE_HISTORY' });
    const e = await startDiscovery({ from: 0, to: 1 }).catch((x: unknown) => x);
    expect(e).toBeInstanceOf(SidecarError);
    expect(e).toMatchObject({
      status: 409,
      code: 'no_source',
      message: 'no Tempo and no trace history: set TEMPO_URL or TRACE_HISTORY',
    });
  });
});

describe('discoveryProblem', () => {
  const problem = async (status: number, data: unknown) => {
    refuse(status, data);
    return discoveryProblem(await startDiscovery({ from: 0, to: 1 }).catch((x: unknown) => x), 'start discovery');
  };

  it('says there is nothing to read, with the setting the sidecar names', async () => {
    expect(
      await problem(409, { error: 'no_source', message: 'no Tempo and no trace history: set TEMPO_URL.' })
    ).toEqual({
      title: 'No traces to discover from',
      message:
        'no Tempo and no trace history: set TEMPO_URL. Discovery reads Tempo when the sidecar has TEMPO_URL, else the recent traces the sidecar received itself (its trace history).',
      noSource: true,
    });
  });

  it('tells a conflict that is not no_source by the sidecar’s words', async () => {
    expect(await problem(409, { error: 'conflict', message: 'rule r1 exists' })).toEqual({
      title: 'Could not start discovery',
      message: 'rule r1 exists',
    });
  });

  it('names a running discovery, an unreachable sidecar and a refused permission', async () => {
    expect(await problem(429, { error: 'too_many_discoveries', message: 'a discovery is running (dj-1)' })).toEqual({
      title: 'A discovery is already running',
      message: 'a discovery is running (dj-1)',
    });
    expect(await problem(502, { message: 'Bad Gateway' })).toEqual({
      title: 'The sidecar is unreachable',
      message:
        "Grafana could not reach the BeTrace sidecar (502: Bad Gateway). Check the sidecar URL on the app's configuration page, and that the sidecar runs.",
    });
    expect(await problem(403, { message: 'Forbidden' })).toEqual({
      title: 'Could not start discovery',
      message: 'Permission denied: Forbidden',
    });
  });

  it('keeps any other error’s message', () => {
    expect(discoveryProblem(new Error('boom'), 'dismiss the suggestion')).toEqual({
      title: 'Could not dismiss the suggestion',
      message: 'boom',
    });
  });
});
