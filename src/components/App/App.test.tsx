import React from 'react';
import { MemoryRouter, Route, Routes } from 'react-router-dom';
import { render, screen } from '@testing-library/react';
import { PluginType, type AppRootProps } from '@grafana/data';
import { LocationServiceProvider, locationService } from '@grafana/runtime';
import { PLUGIN_BASE_URL, ROUTES } from '../../constants';
import { ACTIONS } from '../../utils/permissions';
import { prefixRoute } from '../../utils/utils.routing';
import App from './App';

// Grafana evaluates the user's permissions; the tests decide which actions the user holds.
const mockGranted = new Set<string>();
jest.mock('@grafana/runtime', () => ({
  ...jest.requireActual('@grafana/runtime'),
  hasPermission: (action: string) => mockGranted.has(action),
}));
jest.mock('../../pages/Rules/rulesPage', () => ({ rulesPage: require('./testPages').testPage('Rules', 'rules') }));
jest.mock('../../pages/Suggestions/suggestionsPage', () => ({
  suggestionsPage: require('./testPages').testPage('Suggestions', 'suggestions'),
}));
jest.mock('../../pages/Signals/signalsPage', () => ({ signalsPage: require('./testPages').testPage('Signals', 'signals') }));
jest.mock('../../pages/Evidence/evidencePage', () => ({ evidencePage: require('./testPages').testPage('Evidence', 'evidence') }));

const props = {
  basename: PLUGIN_BASE_URL,
  meta: { id: 'betrace-app', name: 'BeTrace', type: PluginType.app, enabled: true, jsonData: {} },
  path: PLUGIN_BASE_URL,
  query: {},
} as unknown as AppRootProps;

const everything = Object.values(ACTIONS);
const viewer = [ACTIONS.rulesRead, ACTIONS.signalsRead, ACTIONS.evidenceRead];

// Grafana mounts the app's root page under /a/<plugin id>/*, inside its router and location service;
// the pages' routes are relative to that mount.
function renderAt(url: string, granted: string[] = everything) {
  mockGranted.clear();
  granted.forEach((a) => mockGranted.add(a));
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

const pages = ['rules', 'suggestions', 'signals', 'evidence'];
const shown = () => pages.filter((p) => screen.queryByTestId(`page-${p}`) !== null);

describe('App', () => {
  it.each([ROUTES.Rules, ROUTES.Suggestions, ROUTES.Signals, ROUTES.Evidence])('routes to the %s page', async (route) => {
    renderAt(prefixRoute(route));
    expect(await screen.findByTestId(`page-${route}`)).toBeInTheDocument();
    expect(shown()).toEqual([route]);
  });

  it('opens the Rules page at the app root', async () => {
    renderAt(PLUGIN_BASE_URL);
    expect(await screen.findByTestId('page-rules')).toBeInTheDocument();
  });

  it('renders no page for a path it does not know', () => {
    renderAt(`${PLUGIN_BASE_URL}/nowhere`);
    expect(shown()).toEqual([]);
  });

  it('gives a Viewer every page to read', async () => {
    renderAt(prefixRoute(ROUTES.Evidence), viewer);
    expect(await screen.findByTestId('page-evidence')).toBeInTheDocument();
    renderAt(prefixRoute(ROUTES.Suggestions), viewer);
    expect(await screen.findByTestId('page-suggestions')).toBeInTheDocument();
  });

  it('does not route a page the user may not read, and opens the first one they may', async () => {
    renderAt(prefixRoute(ROUTES.Rules), [ACTIONS.signalsRead]);
    expect(shown()).toEqual([]);
    // Suggestions are read with the rules' permission.
    renderAt(prefixRoute(ROUTES.Suggestions), [ACTIONS.signalsRead]);
    expect(shown()).toEqual([]);
    renderAt(PLUGIN_BASE_URL, [ACTIONS.signalsRead]);
    expect(await screen.findByTestId('page-signals')).toBeInTheDocument();
  });

  it('says so when the user may read nothing of BeTrace', () => {
    renderAt(PLUGIN_BASE_URL, []);
    expect(screen.getByText('No access to BeTrace')).toBeInTheDocument();
    expect(shown()).toEqual([]);
  });
});
