import React from 'react';
import { MemoryRouter, Route, Routes } from 'react-router-dom';
import { render, screen } from '@testing-library/react';
import { PluginType, type AppRootProps } from '@grafana/data';
import { LocationServiceProvider, locationService } from '@grafana/runtime';
import { PLUGIN_BASE_URL, ROUTES } from '../../constants';
import { EXAMPLE_RULE } from '../../pages/Rules/rulesScene';
import { prefixRoute } from '../../utils/utils.routing';
import { testIds } from '../testIds';
import App from './App';

// The Signals and Evidence scenes query the sidecar and Tempo (their own tests cover them); routing
// only needs each page to render its container.
jest.mock('../../pages/Signals/signalsScene', () => ({
  signalsScene: () => jest.requireActual('../../pages/placeholderScene').placeholderScene('Signals', '', jest.requireActual('../testIds').testIds.signals.container),
}));
jest.mock('../../pages/Evidence/evidenceScene', () => ({
  evidenceScene: () => jest.requireActual('../../pages/placeholderScene').placeholderScene('Evidence', '', jest.requireActual('../testIds').testIds.evidence.container),
}));

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
  it('routes to the Rules page, which checks the example rule with the evaluator', async () => {
    renderAt(prefixRoute(ROUTES.Rules));
    expect(await screen.findByTestId(testIds.rules.container)).toBeInTheDocument();
    expect(screen.getByTestId(testIds.rules.ruleInput)).toHaveValue(EXAMPLE_RULE);
    expect(screen.getByTestId(testIds.rules.valid)).toBeInTheDocument();
    expect(screen.queryByTestId(testIds.signals.container)).not.toBeInTheDocument();
  });

  it('routes to the Signals page', async () => {
    renderAt(prefixRoute(ROUTES.Signals));
    expect(await screen.findByTestId(testIds.signals.container)).toBeInTheDocument();
    expect(screen.queryByTestId(testIds.rules.container)).not.toBeInTheDocument();
  });

  it('routes to the Evidence page', async () => {
    renderAt(prefixRoute(ROUTES.Evidence));
    expect(await screen.findByTestId(testIds.evidence.container)).toBeInTheDocument();
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
