import React from 'react';
import { of, throwError } from 'rxjs';
import { act, fireEvent, render, screen, waitFor } from '@testing-library/react';
import { PluginType, type AppPluginMeta, type DataSourceInstanceSettings, type PluginMeta } from '@grafana/data';
import { setDataSourceSrv, type DataSourceSrv } from '@grafana/runtime';
import AppConfig, { type AppConfigProps } from './AppConfig';
import type { BetraceJsonData } from './settings';
import { appConfigTestIds as ids } from './testIds';

// Grafana supplies the backend and datasource services at runtime; the tests stand in at that boundary.
const mockFetch = jest.fn();
jest.mock('@grafana/runtime', () => ({
  ...jest.requireActual('@grafana/runtime'),
  getBackendSrv: () => ({ fetch: mockFetch }),
}));

const tempo = { uid: 'tempo', name: 'Tempo', type: 'tempo', meta: { id: 'tempo', info: { logos: {} } } } as unknown as DataSourceInstanceSettings;
const tempoEu = { uid: 'tempo-eu', name: 'Tempo EU', type: 'tempo', meta: { id: 'tempo', info: { logos: {} } } } as unknown as DataSourceInstanceSettings;
const getList = jest.fn(() => [tempo, tempoEu]);
setDataSourceSrv({
  getList,
  // Like Grafana's own service, looks a data source up by uid or by name.
  getInstanceSettings: (ref: string | { uid?: string } | null | undefined) => {
    const key = typeof ref === 'string' ? ref : ref?.uid;
    return [tempo, tempoEu].find((d) => d.uid === key || d.name === key);
  },
  get: jest.fn(),
  reload: jest.fn(),
  registerRuntimeDataSource: jest.fn(),
} as unknown as DataSourceSrv);

function props(jsonData: BetraceJsonData, tokenStored: boolean, enabled = true): AppConfigProps {
  const meta: AppPluginMeta<BetraceJsonData> = {
    id: 'betrace-app',
    name: 'BeTrace',
    type: PluginType.app,
    enabled,
    pinned: true,
    jsonData,
    secureJsonFields: tokenStored ? { sidecarToken: true } : {},
    info: {} as PluginMeta['info'],
    module: '',
    baseUrl: '',
  };
  return { plugin: { meta } as AppConfigProps['plugin'], query: {} as AppConfigProps['query'] };
}

const save = () => screen.getByRole('button', { name: /save & test/i });
const testButton = () => screen.getByRole('button', { name: /test connection/i });
const urlInput = () => screen.getByTestId(ids.sidecarUrl);
const tokenInput = () => screen.getByTestId(ids.sidecarToken);
const settingsCall = () => mockFetch.mock.calls.find(([o]) => o.url === '/api/plugins/betrace-app/settings')?.[0];
const proxiedCalls = () => mockFetch.mock.calls.map(([o]) => o.url as string).filter((u) => u.startsWith('/api/plugin-proxy/'));

/** Answers the settings POST, then the proxied /readyz and /api/v1/rules. */
function sidecarAnswers(readyz: () => unknown, rules: () => unknown = () => of({ data: { rules: [{ enabled: true }] } })) {
  mockFetch.mockImplementation((o: { url: string }) => {
    if (o.url.endsWith('/settings')) {
      return of({ data: {} });
    }
    return o.url.endsWith('/readyz') ? readyz() : rules();
  });
}

describe('AppConfig', () => {
  beforeEach(() => {
    mockFetch.mockReset();
    getList.mockClear();
  });

  it('shows the saved URL and a stored token as configured, never its value', () => {
    render(<AppConfig {...props({ sidecarUrl: 'http://sidecar:3001', tempoDatasourceUid: 'tempo' }, true)} />);
    expect(urlInput()).toHaveValue('http://sidecar:3001');
    expect(tokenInput()).toHaveValue('configured');
    expect(tokenInput()).toBeDisabled();
    expect(screen.getByRole('button', { name: /reset/i })).toBeInTheDocument();
    expect(screen.getByTestId(ids.tempoDatasource)).toHaveTextContent('Tempo');
    expect(testButton()).toBeEnabled();
  });

  it('offers only Tempo data sources', () => {
    render(<AppConfig {...props({}, false)} />);
    expect(getList).toHaveBeenCalledWith(expect.objectContaining({ type: 'tempo' }));
  });

  it('cannot test before anything is saved', () => {
    render(<AppConfig {...props({}, false)} />);
    expect(testButton()).toBeDisabled();
  });

  it('refuses to save a bad URL or a missing token, saying why', async () => {
    render(<AppConfig {...props({}, false)} />);
    fireEvent.change(urlInput(), { target: { value: 'sidecar:3001' } });
    fireEvent.click(save());
    expect(await screen.findByText('The sidecar URL must start with http:// or https://, not sidecar://')).toBeInTheDocument();
    expect(screen.getByText('Enter the sidecar’s API token')).toBeInTheDocument();
    expect(mockFetch).not.toHaveBeenCalled();
  });

  it('saves the URL, the Tempo data source and the new token as a secret, then tests through the proxy', async () => {
    sidecarAnswers(() => of({ data: { ready: true } }));
    render(<AppConfig {...props({}, false)} />);
    fireEvent.change(urlInput(), { target: { value: ' http://sidecar:3001/ ' } });
    fireEvent.change(tokenInput(), { target: { value: 'dev-token' } });
    await act(async () => {
      fireEvent.keyDown(screen.getByLabelText('Select a data source'), { key: 'ArrowDown' });
    });
    fireEvent.click(await screen.findByText('Tempo EU'));
    fireEvent.click(save());

    expect(await screen.findByTestId(ids.result)).toHaveTextContent('Connected');
    expect(settingsCall()).toEqual({
      url: '/api/plugins/betrace-app/settings',
      method: 'POST',
      showSuccessAlert: false,
      data: {
        enabled: true,
        pinned: true,
        jsonData: { sidecarUrl: 'http://sidecar:3001', tempoDatasourceUid: 'tempo-eu' },
        secureJsonData: { sidecarToken: 'dev-token' },
      },
    });
    expect(proxiedCalls()).toEqual(['/api/plugin-proxy/betrace-app/sidecar/readyz', '/api/plugin-proxy/betrace-app/sidecar/api/v1/rules']);
    // The token is stored now: the field shows it as configured and forgets the value.
    expect(tokenInput()).toHaveValue('configured');
    expect(testButton()).toBeEnabled();
  });

  it('keeps the stored token when only the URL changes', async () => {
    sidecarAnswers(() => of({ data: { ready: true } }));
    render(<AppConfig {...props({ sidecarUrl: 'http://old:3001', tempoDatasourceUid: 'tempo' }, true)} />);
    fireEvent.change(urlInput(), { target: { value: 'http://new:3001' } });
    expect(testButton()).toBeDisabled();
    fireEvent.click(save());
    await screen.findByTestId(ids.result);
    expect(settingsCall().data).toEqual({
      enabled: true,
      pinned: true,
      jsonData: { sidecarUrl: 'http://new:3001', tempoDatasourceUid: 'tempo' },
      secureJsonData: undefined,
    });
  });

  it('after a reset, needs a new token before saving', async () => {
    render(<AppConfig {...props({ sidecarUrl: 'http://sidecar:3001' }, true)} />);
    fireEvent.click(screen.getByRole('button', { name: /reset/i }));
    expect(tokenInput()).toHaveValue('');
    fireEvent.click(save());
    expect(await screen.findByText('Enter the sidecar’s API token')).toBeInTheDocument();
    expect(mockFetch).not.toHaveBeenCalled();
  });

  it('says plainly when the sidecar is unreachable', async () => {
    sidecarAnswers(() => throwError(() => ({ status: 502, statusText: 'Bad Gateway' })));
    render(<AppConfig {...props({ sidecarUrl: 'http://sidecar:3001' }, true)} />);
    fireEvent.click(testButton());
    const result = await screen.findByTestId(ids.result);
    expect(result).toHaveTextContent('Sidecar unreachable');
    expect(result).toHaveTextContent('Grafana could not reach the sidecar at http://sidecar:3001 (502)');
  });

  it('says plainly when the token is wrong', async () => {
    sidecarAnswers(
      () => of({ data: { ready: true } }),
      () => throwError(() => ({ status: 401, data: { error: 'unauthorized', message: 'send Authorization: Bearer <BETRACE_API_TOKEN>' } })),
    );
    render(<AppConfig {...props({ sidecarUrl: 'http://sidecar:3001' }, true)} />);
    fireEvent.click(testButton());
    expect(await screen.findByTestId(ids.result)).toHaveTextContent('Token refused');
  });

  it('says when the sidecar is not ready', async () => {
    sidecarAnswers(() => throwError(() => ({ status: 503, data: { ready: false }, statusText: 'Service Unavailable' })));
    render(<AppConfig {...props({ sidecarUrl: 'http://sidecar:3001' }, true)} />);
    fireEvent.click(testButton());
    expect(await screen.findByTestId(ids.result)).toHaveTextContent('Sidecar not ready');
  });

  it('does not test a disabled app, and says how to enable it', async () => {
    sidecarAnswers(() => of({ data: { ready: true } }));
    render(<AppConfig {...props({ sidecarUrl: 'http://sidecar:3001' }, true, false)} />);
    expect(screen.getByText('The app is disabled')).toBeInTheDocument();
    fireEvent.click(save());
    expect(await screen.findByTestId(ids.result)).toHaveTextContent('Proxy route missing');
    expect(proxiedCalls()).toEqual([]);
  });

  it('shows why saving failed, and does not test', async () => {
    mockFetch.mockImplementation(() => throwError(() => ({ status: 403, data: { message: 'Permission denied' } })));
    render(<AppConfig {...props({ sidecarUrl: 'http://sidecar:3001' }, true)} />);
    fireEvent.click(save());
    const result = await screen.findByTestId(ids.result);
    expect(result).toHaveTextContent('Settings not saved');
    expect(result).toHaveTextContent('Permission denied');
    await waitFor(() => expect(proxiedCalls()).toEqual([]));
  });
});
