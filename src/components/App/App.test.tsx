import React from 'react';
import { MemoryRouter, Route, Routes } from 'react-router-dom';
import { render, screen } from '@testing-library/react';
import { PluginType, type AppRootProps } from '@grafana/data';
import { LocationServiceProvider, locationService } from '@grafana/runtime';
import { PLUGIN_BASE_URL, ROUTES } from '../../constants';
import { EVIDENCE_PLACEHOLDER } from '../../pages/Evidence/evidenceScene';
import { rulesTestIds } from '../../pages/Rules/testIds';
import { SIGNALS_PLACEHOLDER } from '../../pages/Signals/signalsScene';
import { prefixRoute } from '../../utils/utils.routing';
import { testIds } from '../testIds';
import App from './App';

// The Rules page reads the sidecar through backendSrv and guards buttons with hasPermission.
jest.mock('@grafana/runtime', () => {
  const { of } = jest.requireActual('rxjs');
  return {
    ...jest.requireActual('@grafana/runtime'),
    getBackendSrv: () => ({ fetch: () => of({ data: { rules: [], signals: [], total: 0 } }) }),
    hasPermission: () => true,
  };
});

const props = {
  basename: PLUGIN_BASE_URL,
  meta: { id: 'betrace-app', name: 'BeTrace', type: PluginType.app, enabled: true, jsonData: {} },
  path: PLUGIN_BASE_URL,
  query: {},
} as unknown as AppRootProps;

// Grafana mounts the app's root page under /a/<plugin id>/*, inside its router and location service;
// the pages' routes are relative to that mount.
function renderAt(url: string) {
  locationService.push(url);
  return render(
    <LocationServiceProvider service={locationService}>
      <MemoryRouter initialEntries={[url]} future={{ v7_startTransition: true, v7_relativeSplatPath: true }}>
        <Routes>
          <Route path={`${PLUGIN_BASE_URL}/*`} element={<App {...props} />} />
        </Routes>
      </MemoryRouter>
    </LocationServiceProvider>
  );
}

describe('App', () => {
  it('routes to the Rules page, which lists the rules', async () => {
    renderAt(prefixRoute(ROUTES.Rules));
    expect(await screen.findByTestId(testIds.rules.container)).toBeInTheDocument();
    expect(await screen.findByTestId(rulesTestIds.list.empty)).toBeInTheDocument();
    expect(screen.queryByTestId(testIds.signals.container)).not.toBeInTheDocument();
  });

  it('routes /rules/new to the rule editor, starting from the example rule', async () => {
    renderAt(prefixRoute(`${ROUTES.Rules}/new`));
    expect(await screen.findByTestId(rulesTestIds.editor.container)).toBeInTheDocument();
    expect(screen.getByTestId(rulesTestIds.editor.pushdown)).toBeInTheDocument();
    expect(screen.getByTestId(rulesTestIds.editor.save)).toHaveTextContent('Create rule');
    expect(screen.queryByTestId(rulesTestIds.list.container)).not.toBeInTheDocument();
  });

  it('routes to the Signals page', async () => {
    renderAt(prefixRoute(ROUTES.Signals));
    expect(await screen.findByTestId(testIds.signals.container)).toHaveTextContent(SIGNALS_PLACEHOLDER);
    expect(screen.queryByTestId(testIds.rules.container)).not.toBeInTheDocument();
  });

  it('routes to the Evidence page', async () => {
    renderAt(prefixRoute(ROUTES.Evidence));
    expect(await screen.findByTestId(testIds.evidence.container)).toHaveTextContent(EVIDENCE_PLACEHOLDER);
    expect(screen.queryByTestId(testIds.signals.container)).not.toBeInTheDocument();
  });

  it('opens the Rules page at the app root', async () => {
    renderAt(PLUGIN_BASE_URL);
    expect(await screen.findByTestId(testIds.rules.container)).toBeInTheDocument();
  });

  it('renders no page for a path it does not know', () => {
    renderAt(`${PLUGIN_BASE_URL}/nowhere`);
    for (const id of [testIds.rules.container, testIds.signals.container, testIds.evidence.container]) {
      expect(screen.queryByTestId(id)).not.toBeInTheDocument();
    }
  });
});
