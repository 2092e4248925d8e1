import React from 'react';
import { MemoryRouter, Route, Routes } from 'react-router-dom';
import { render, screen, waitFor } from '@testing-library/react';
import { of, throwError } from 'rxjs';
import type { NavModelItem } from '@grafana/data';
import { LocationServiceProvider, locationService } from '@grafana/runtime';
import { SceneApp } from '@grafana/scenes';
import type { RuleView } from '../../api/rules';
import { rulesPage } from './rulesPage';

const mockFetch = jest.fn();
// Grafana's page chrome, as far as the title and breadcrumbs go: pageNav and its parents.
jest.mock('@grafana/runtime', () => {
  const ReactActual = jest.requireActual('react');
  const chain = (item?: NavModelItem): string[] => (item ? [...chain(item.parentItem), item.text] : []);
  return {
    ...jest.requireActual('@grafana/runtime'),
    getBackendSrv: () => ({ fetch: mockFetch }),
    hasPermission: () => true,
    PluginPage: ({ pageNav, children }: { pageNav?: NavModelItem; children: React.ReactNode }) =>
      ReactActual.createElement(
        'div',
        null,
        ReactActual.createElement('nav', { 'aria-label': 'Breadcrumbs' }, chain(pageNav).join(' › ')),
        ReactActual.createElement('h1', null, pageNav?.text),
        children
      ),
  };
});

// Monaco does not run in jsdom, and this test is about the page around the editor.
jest.mock('../../editor/RuleCodeEditor', () => ({ RuleCodeEditor: () => null }));

const rule: RuleView = {
  id: 'payment-fraud-check',
  name: 'Large payments need a fraud check',
  severity: 'critical',
  enabled: true,
  condition: 'payment.charge',
  version: 1,
  provisioned: false,
  updatedAt: '2026-11-28T10:00:00.000Z',
  updatedBy: 'admin',
};

function renderAt(url: string) {
  const app = new SceneApp({ pages: [rulesPage.clone()] });
  render(
    <LocationServiceProvider service={locationService}>
      <MemoryRouter initialEntries={[url]} future={{ v7_startTransition: true, v7_relativeSplatPath: true }}>
        {/* Grafana mounts an app under /a/<id>/*: its pages' routes are relative to that. */}
        <Routes>
          <Route path="/a/betrace-app/*" element={<app.Component model={app} />} />
        </Routes>
      </MemoryRouter>
    </LocationServiceProvider>
  );
}

describe('the rule editor page', () => {
  beforeEach(() => {
    mockFetch.mockReset();
    mockFetch.mockImplementation((req: { url: string }) =>
      req.url.endsWith(`/api/v1/rules/${rule.id}`)
        ? of({ data: rule })
        : throwError(() => ({ status: 404, data: { message: `no route ${req.url}` } }))
    );
  });

  it('names the rule, not its id, in the title and the breadcrumb once it is loaded', async () => {
    renderAt(`/a/betrace-app/rules/${rule.id}`);
    // The first render of a SceneApp in a test file loads @grafana/ui and Scenes: give it time.
    await waitFor(() => expect(screen.getByRole('heading', { level: 1 })).toHaveTextContent(rule.name), {
      timeout: 15_000,
    });
    expect(screen.getByRole('navigation', { name: 'Breadcrumbs' })).toHaveTextContent(`Rules › ${rule.name}`);
    expect(screen.getByRole('navigation', { name: 'Breadcrumbs' })).not.toHaveTextContent(rule.id);
  });

  it('keeps "New rule" for a rule not saved yet', async () => {
    renderAt('/a/betrace-app/rules/new');
    expect(await screen.findByRole('heading', { level: 1 }, { timeout: 15_000 })).toHaveTextContent('New rule');
    expect(screen.getByRole('navigation', { name: 'Breadcrumbs' })).toHaveTextContent('Rules › New rule');
  });
});
