import { ROUTES } from '../constants';
import { prefixRoute } from './utils.routing';

describe('prefixRoute', () => {
  it('puts a page route under the app base URL', () => {
    expect(prefixRoute(ROUTES.Rules)).toBe('/a/betrace-app/rules');
    expect(prefixRoute(ROUTES.Signals)).toBe('/a/betrace-app/signals');
    expect(prefixRoute(ROUTES.Evidence)).toBe('/a/betrace-app/evidence');
  });
});
