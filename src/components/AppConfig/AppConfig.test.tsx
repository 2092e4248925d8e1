import React from 'react';
import { of } from 'rxjs';
import { fireEvent, render, screen, waitFor } from '@testing-library/react';
import { PluginType, type AppPluginMeta, type PluginMeta } from '@grafana/data';
import { testIds } from '../testIds';
import AppConfig, { type AppConfigProps } from './AppConfig';

// Grafana supplies the backend and location services at runtime; the tests stand in at that boundary.
const mockFetch = jest.fn();
const mockReload = jest.fn();
jest.mock('@grafana/runtime', () => ({
  ...jest.requireActual('@grafana/runtime'),
  getBackendSrv: () => ({ fetch: mockFetch }),
  locationService: { reload: () => mockReload() },
}));

function props(jsonData: { apiUrl?: string; isApiKeySet?: boolean }): AppConfigProps {
  const meta: AppPluginMeta<typeof jsonData> = {
    id: 'betrace-app',
    name: 'BeTrace',
    type: PluginType.app,
    enabled: true,
    pinned: true,
    jsonData,
    info: {} as PluginMeta['info'],
    module: '',
    baseUrl: '',
  };
  return { plugin: { meta } as AppConfigProps['plugin'], query: {} as AppConfigProps['query'] };
}

const submit = () => screen.getByRole('button', { name: /save api settings/i });

describe('AppConfig', () => {
  beforeEach(() => {
    mockFetch.mockReset().mockReturnValue(of({ data: {} }));
    mockReload.mockReset();
  });

  it('shows the saved URL and a configured key, ready to save', () => {
    render(<AppConfig {...props({ apiUrl: 'http://sidecar:3001', isApiKeySet: true })} />);
    expect(screen.getByTestId(testIds.appConfig.apiUrl)).toHaveValue('http://sidecar:3001');
    expect(screen.getByTestId(testIds.appConfig.apiKey)).toHaveValue('configured');
    expect(submit()).toBeEnabled();
  });

  it('cannot be saved until both the URL and the key are given', () => {
    render(<AppConfig {...props({})} />);
    expect(submit()).toBeDisabled();
    fireEvent.change(screen.getByTestId(testIds.appConfig.apiUrl), { target: { value: 'http://sidecar:3001' } });
    expect(submit()).toBeDisabled();
    fireEvent.change(screen.getByTestId(testIds.appConfig.apiKey), { target: { value: 'key' } });
    expect(submit()).toBeEnabled();
  });

  it('posts the settings, the new key as a secret, and reloads', async () => {
    render(<AppConfig {...props({})} />);
    fireEvent.change(screen.getByTestId(testIds.appConfig.apiUrl), { target: { value: ' http://sidecar:3001 ' } });
    fireEvent.change(screen.getByTestId(testIds.appConfig.apiKey), { target: { value: 'new-key' } });
    fireEvent.click(submit());

    await waitFor(() => expect(mockReload).toHaveBeenCalledTimes(1));
    expect(mockFetch).toHaveBeenCalledWith({
      url: '/api/plugins/betrace-app/settings',
      method: 'POST',
      data: {
        enabled: true,
        pinned: true,
        jsonData: { apiUrl: 'http://sidecar:3001', isApiKeySet: true },
        secureJsonData: { apiKey: 'new-key' },
      },
    });
  });

  it('saves without a native form submit, which would navigate away first', async () => {
    render(<AppConfig {...props({ apiUrl: 'http://sidecar:3001', isApiKeySet: true })} />);
    const form = submit().closest('form');
    expect(form).not.toBeNull();
    expect(fireEvent.submit(form!)).toBe(false);
    await waitFor(() => expect(mockReload).toHaveBeenCalledTimes(1));
  });

  it('keeps a configured key untouched when only the URL changes', async () => {
    render(<AppConfig {...props({ apiUrl: 'http://old:3001', isApiKeySet: true })} />);
    fireEvent.change(screen.getByTestId(testIds.appConfig.apiUrl), { target: { value: 'http://new:3001' } });
    fireEvent.click(submit());

    await waitFor(() => expect(mockReload).toHaveBeenCalledTimes(1));
    expect(mockFetch.mock.calls[0][0].data).toEqual({
      enabled: true,
      pinned: true,
      jsonData: { apiUrl: 'http://new:3001', isApiKeySet: true },
      secureJsonData: undefined,
    });
  });

  it('does not reload when saving fails', async () => {
    const error = jest.spyOn(console, 'error').mockImplementation(() => {});
    mockFetch.mockImplementation(() => {
      throw new Error('403');
    });
    render(<AppConfig {...props({ apiUrl: 'http://sidecar:3001', isApiKeySet: true })} />);
    fireEvent.click(submit());

    await waitFor(() => expect(error).toHaveBeenCalledWith('Error while updating the plugin', expect.any(Error)));
    expect(mockReload).not.toHaveBeenCalled();
    error.mockRestore();
  });
});
