import { of, throwError } from 'rxjs';
import { explainConnectionError, normalizeSidecarUrl, sidecarUrlProblem, testConnection } from './connection';

const mockFetch = jest.fn();
jest.mock('@grafana/runtime', () => ({
  ...jest.requireActual('@grafana/runtime'),
  getBackendSrv: () => ({ fetch: mockFetch }),
}));

const fail = (status: number, data: unknown, statusText = '') => throwError(() => ({ status, data, statusText }));

describe('sidecarUrlProblem', () => {
  it.each([
    ['http://sidecar:3001', undefined],
    ['https://betrace.example.com/sidecar', undefined],
    ['', 'Enter the sidecar URL, e.g. http://betrace-sidecar:3001'],
    ['sidecar:3001', 'The sidecar URL must start with http:// or https://, not sidecar://'],
    ['localhost 3001', '"localhost 3001" is not a URL: give the scheme and host, e.g. http://betrace-sidecar:3001'],
    ['ftp://sidecar', 'The sidecar URL must start with http:// or https://, not ftp://'],
    ['http://sidecar:3001/?x=1', 'The sidecar URL must not carry a query or fragment'],
  ])('%j → %j', (url, problem) => {
    expect(sidecarUrlProblem(url)).toBe(problem);
  });

  it('drops trailing slashes and blanks before saving', () => {
    expect(normalizeSidecarUrl(' http://sidecar:3001// ')).toBe('http://sidecar:3001');
  });
});

describe('explainConnectionError', () => {
  it('names the unreachable sidecar on a proxy 502', () => {
    expect(explainConnectionError(502, 'Bad Gateway', 'http://sidecar:3001')).toEqual({
      ok: false,
      title: 'Sidecar unreachable',
      detail:
        'Grafana could not reach the sidecar at http://sidecar:3001 (502). Check the URL and that the sidecar is running; the URL must resolve from the Grafana server, not from your browser.',
    });
  });

  it('says the token is wrong on a 401', () => {
    expect(explainConnectionError(401, 'send Authorization: Bearer <BETRACE_API_TOKEN>', 'http://s:3001').title).toBe('Token refused');
  });

  it('says the sidecar is not ready on a 503, with its reason', () => {
    expect(explainConnectionError(503, 'Service Unavailable', 'http://s:3001').detail).toBe(
      'The sidecar at http://s:3001 is running but not ready (503: Service Unavailable): its store is not open or its rules are not loaded yet. It may be starting or shutting down; see its log.',
    );
  });

  it('says the route is missing or the app disabled on a 404', () => {
    const r = explainConnectionError(404, 'plugin route match not found', 'http://s:3001');
    expect(r.title).toBe('Proxy route missing');
    expect(r.detail).toContain('(404: plugin route match not found)');
    expect(r.detail).toContain('Enable the app');
  });

  it('names the missing permission on a 403', () => {
    expect(explainConnectionError(403, 'plugin proxy route access denied', '').detail).toContain('betrace-app.rules:read');
  });

  it('passes anything else through with its status', () => {
    expect(explainConnectionError(500, 'Could not interpolate plugin route url', '')).toEqual({ ok: false, title: 'Unexpected answer (500)', detail: 'Could not interpolate plugin route url' });
  });
});

describe('testConnection', () => {
  beforeEach(() => mockFetch.mockReset());

  it('checks readiness, then the token on an authenticated route, both through the proxy', async () => {
    mockFetch.mockReturnValueOnce(of({ data: { ready: true } })).mockReturnValueOnce(of({ data: { rules: [{ enabled: true }, { enabled: false }, {}] } }));
    await expect(testConnection('http://sidecar:3001')).resolves.toEqual({
      ok: true,
      title: 'Connected',
      detail: 'The sidecar is ready and accepted the token: 3 rules (2 enabled).',
    });
    expect(mockFetch.mock.calls.map(([o]) => [o.method, o.url])).toEqual([
      ['GET', '/api/plugin-proxy/betrace-app/sidecar/readyz'],
      ['GET', '/api/plugin-proxy/betrace-app/sidecar/api/v1/rules'],
    ]);
  });

  it('names the Tempo version the sidecar reads from, in pull mode', async () => {
    mockFetch.mockReturnValueOnce(of({ data: { ready: true, tempo: { ready: true, version: '2.8.2' } } })).mockReturnValueOnce(of({ data: { rules: [{}] } }));
    await expect(testConnection('http://sidecar:3001')).resolves.toEqual({
      ok: true,
      title: 'Connected',
      detail: 'The sidecar is ready and accepted the token: 1 rule (1 enabled). It reads traces from Tempo 2.8.2.',
    });
  });

  it('warns when the sidecar is ready but its Tempo does not answer', async () => {
    mockFetch.mockReturnValueOnce(of({ data: { ready: true, tempo: { ready: false } } })).mockReturnValueOnce(of({ data: { rules: [] } }));
    await expect(testConnection('http://sidecar:3001')).resolves.toEqual({
      ok: true,
      warning: true,
      title: 'Connected, but the sidecar cannot reach Tempo',
      detail: "The sidecar is ready and accepted the token: 0 rules (0 enabled). Its Tempo does not answer: pulling traces and replays wait until it does. Check the sidecar's TEMPO_URL.",
    });
  });

  it('reports a refused token from the second call', async () => {
    mockFetch.mockReturnValueOnce(of({ data: { ready: true } })).mockReturnValueOnce(fail(401, { error: 'unauthorized', message: 'send Authorization: Bearer <BETRACE_API_TOKEN>' }));
    const r = await testConnection('http://sidecar:3001');
    expect(r).toMatchObject({ ok: false, title: 'Token refused' });
  });

  it('stops at an unreachable sidecar', async () => {
    mockFetch.mockReturnValueOnce(fail(502, undefined, 'Bad Gateway'));
    await expect(testConnection('http://nowhere:3001')).resolves.toMatchObject({ ok: false, title: 'Sidecar unreachable' });
    expect(mockFetch).toHaveBeenCalledTimes(1);
  });

  it('reports a sidecar that is not ready', async () => {
    mockFetch.mockReturnValueOnce(fail(503, { ready: false }, 'Service Unavailable'));
    await expect(testConnection('http://sidecar:3001')).resolves.toMatchObject({ ok: false, title: 'Sidecar not ready' });
  });
});
