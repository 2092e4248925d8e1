/**
 * SLO routes of the REST API: a rule's objective against what it did (budget left, burn rates,
 * alert state), and every rule with an objective. The tenant is the request's token's.
 */
import type { FastifyInstance } from 'fastify';
import type { RuleHealthStore } from '../health/store';
import { err, ok } from '../openapi';
import type { Store } from '../store';
import { sloStatus } from './budget';

export interface SloRouteOptions {
  store: Store;
  health: RuleHealthStore;
  now: () => number;
}

export function registerSloRoutes(app: FastifyInstance, options: SloRouteOptions): void {
  const { store, health } = options;
  app.get(
    '/api/v1/rules/:id/slo',
    {
      schema: {
        summary: 'A rule’s objective: compliance over its window, error budget remaining, burn rates and alert state',
        params: { type: 'object', required: ['id'], properties: { id: { type: 'string' } } },
        responses: { 200: ok('SloStatus', 'The rule’s objective against what it did'), 404: err('No such rule, or the rule has no objective (slo)') },
      },
    },
    async (req, res) => {
      const { id } = req.params as { id: string };
      const rule = store.getRule(req.tenant, id);
      if (!rule) {
        return res.code(404).send({ error: 'not_found', message: `no rule ${id}` });
      }
      if (!rule.definition.slo) {
        return res.code(404).send({ error: 'not_found', message: `rule ${id} has no objective (slo)` });
      }
      return sloStatus(health, req.tenant, id, rule.definition.slo, options.now());
    },
  );

  app.get('/api/v1/slos', { schema: { summary: 'Every rule with an objective, with its budget and burn rates', responses: { 200: ok('SloList', 'The tenant’s rules with an objective, by id') } } }, async (req) => {
    const now = options.now();
    return {
      slos: store
        .listRules(req.tenant)
        .filter((r) => r.definition.slo !== undefined)
        .sort((a, b) => a.definition.id.localeCompare(b.definition.id))
        .map((r) => sloStatus(health, req.tenant, r.definition.id, r.definition.slo!, now)),
    };
  });
}
