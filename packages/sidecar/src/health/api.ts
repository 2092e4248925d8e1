/**
 * Rule health routes of the REST API (docs/rule-health.md): one rule's counts over a range with
 * its hourly series, and every rule of the tenant without series. The counts come from the
 * rule_health table (RuleHealthStore), the signal lifecycle from the signals. Registered by
 * `buildApi`; the tenant comes from the request's token, never from the query.
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { err, ok } from '../openapi';
import type { SignalStatus, Store } from '../store';
import { emptyTotals, HOUR_MS, RuleHealthStore, RuleHealthTotals } from './store';

/** The default range: the last 24 hours. */
export const DEFAULT_RANGE_MS = 24 * HOUR_MS;
/** Longest range one request covers (a year and a day of hourly buckets). */
export const MAX_RANGE_MS = 366 * 24 * HOUR_MS;

/** Noisy-rule hints: a false-positive rate at or above this, once this many signals were closed … */
export const NOISY_FALSE_POSITIVE_RATE = 0.3;
export const NOISY_MIN_CLOSED_SIGNALS = 5;
/** … or violations on at least this share of the triggering traces, once this many triggered. */
export const NOISY_FIRE_SHARE = 0.5;
export const NOISY_MIN_TRIGGERS = 20;

export interface HealthRouteOptions {
  store: Store;
  health: RuleHealthStore;
  now: () => number;
  /** The tenant of an authenticated request. */
  tenantOf: (req: FastifyRequest) => string;
}

type SignalCounts = Record<SignalStatus, number> & { total: number };

/** One rule's health over a range, as both routes answer it (the one-rule route adds `series`). */
export interface RuleHealthView {
  ruleId: string;
  from: string;
  to: string;
  totals: RuleHealthTotals;
  complianceRatio: number | null;
  fireRatePerHour: number;
  falsePositiveRate: number | null;
  costUsPerTrace: number | null;
  costShare: number | null;
  lastFiredAt: string | null;
  signals: SignalCounts;
  noisy: { reason: string } | null;
}

const range = {
  type: 'object',
  properties: {
    from: { type: 'string', description: 'epoch milliseconds or ISO 8601 (default: 24 hours before `to`); rounded down to the hour' },
    to: { type: 'string', description: 'epoch milliseconds or ISO 8601 (default: now)' },
  },
  additionalProperties: false,
} as const;

/** Epoch milliseconds or an ISO 8601 time; null when neither. */
function parseTime(v: string): number | null {
  const n = /^\d+$/.test(v) ? Number(v) : Date.parse(v);
  return Number.isNaN(n) ? null : n;
}

/** The range of a query, hour-aligned at its start, or the problem with it (naming the parameter). */
export function healthRange(q: { from?: string; to?: string }, now: number): { from: number; to: number } | string {
  const to = q.to === undefined ? now : parseTime(q.to);
  if (to === null) {
    return 'querystring/to must be epoch milliseconds or an ISO 8601 time';
  }
  const rawFrom = q.from === undefined ? to - DEFAULT_RANGE_MS : parseTime(q.from);
  if (rawFrom === null) {
    return 'querystring/from must be epoch milliseconds or an ISO 8601 time';
  }
  const from = Math.floor(rawFrom / HOUR_MS) * HOUR_MS;
  if (from >= to) {
    return `querystring/from (${new Date(rawFrom).toISOString()}) must be before to (${new Date(to).toISOString()})`;
  }
  if (to - from > MAX_RANGE_MS) {
    return 'querystring/from: the range is longer than 366 days';
  }
  return { from, to };
}

const noSignals = (): SignalCounts => ({ open: 0, acknowledged: 0, resolved: 0, false_positive: 0, total: 0 });

/** Estimated time a rule took over the range: its mean sampled cost times the traces it was evaluated on. */
function estimatedUs(t: RuleHealthTotals): number {
  return t.costSamples === 0 ? 0 : (t.costUs / t.costSamples) * t.evaluated;
}

/** Why a rule looks noisy (docs/rule-health.md#noisy-rules), or null. */
export function noisyHint(t: RuleHealthTotals, signals: SignalCounts): { reason: string } | null {
  const closed = signals.acknowledged + signals.resolved + signals.false_positive;
  if (closed >= NOISY_MIN_CLOSED_SIGNALS && signals.false_positive / closed >= NOISY_FALSE_POSITIVE_RATE) {
    const pct = Math.round((signals.false_positive / closed) * 100);
    return { reason: `${pct}% of its closed signals were marked false positive (${signals.false_positive} of ${closed}; flagged from ${NOISY_FALSE_POSITIVE_RATE * 100}%)` };
  }
  if (t.triggered >= NOISY_MIN_TRIGGERS && t.violations / t.triggered >= NOISY_FIRE_SHARE) {
    const pct = Math.round((t.violations / t.triggered) * 100);
    return { reason: `it fires on ${pct}% of the traces it applies to (${t.violations} of ${t.triggered}; flagged from ${NOISY_FIRE_SHARE * 100}%)` };
  }
  return null;
}

/** A rule's view from its totals, its signals and the tenant's estimated evaluation time (for the share). */
export function healthView(ruleId: string, from: number, to: number, t: RuleHealthTotals, signals: { byStatus: Record<SignalStatus, number>; lastAt: number } | undefined, tenantUs: number): RuleHealthView {
  const counts = noSignals();
  if (signals !== undefined) {
    Object.assign(counts, signals.byStatus);
    counts.total = counts.open + counts.acknowledged + counts.resolved + counts.false_positive;
  }
  const closed = counts.acknowledged + counts.resolved + counts.false_positive;
  return {
    ruleId,
    from: new Date(from).toISOString(),
    to: new Date(to).toISOString(),
    totals: t,
    complianceRatio: t.triggered === 0 ? null : 1 - t.violations / t.triggered,
    fireRatePerHour: t.violations / ((to - from) / HOUR_MS),
    falsePositiveRate: closed === 0 ? null : counts.false_positive / closed,
    costUsPerTrace: t.costSamples === 0 ? null : t.costUs / t.costSamples,
    costShare: tenantUs === 0 ? null : estimatedUs(t) / tenantUs,
    lastFiredAt: signals === undefined ? null : new Date(signals.lastAt).toISOString(),
    signals: counts,
    noisy: noisyHint(t, counts),
  };
}

export function registerHealthRoutes(app: FastifyInstance, options: HealthRouteOptions): void {
  const { store, health } = options;

  const rangeOf = (req: FastifyRequest, res: FastifyReply): { from: number; to: number } | undefined => {
    const r = healthRange(req.query as { from?: string; to?: string }, options.now());
    if (typeof r === 'string') {
      void res.code(400).send({ error: 'invalid_request', message: r });
      return undefined;
    }
    health.flush(); // what was counted in the last second too
    return r;
  };

  const tenantUs = (byRule: ReadonlyMap<string, RuleHealthTotals>): number => {
    let sum = 0;
    for (const t of byRule.values()) {
      sum += estimatedUs(t);
    }
    return sum;
  };

  app.get(
    '/api/v1/rules/health',
    {
      schema: {
        summary: 'Health of every rule of the tenant over a range (no series)',
        querystring: range,
        responses: { 200: ok('RuleHealthList', 'Each rule’s counts, ratios, cost and noisy hint'), 400: err('from or to is not a time, from is not before to, or the range is longer than 366 days') },
      },
    },
    async (req, res) => {
      const r = rangeOf(req, res);
      if (r === undefined) {
        return res;
      }
      const tenant = options.tenantOf(req);
      const byRule = health.totalsByRule(tenant, r.from, r.to);
      const signals = store.signalStatusByRule(tenant, r);
      const all = tenantUs(byRule);
      return {
        from: new Date(r.from).toISOString(),
        to: new Date(r.to).toISOString(),
        rules: store.listRules(tenant).map((rule) => {
          const id = rule.definition.id;
          return healthView(id, r.from, r.to, byRule.get(id) ?? emptyTotals(), signals.get(id), all);
        }),
      };
    },
  );

  app.get(
    '/api/v1/rules/:id/health',
    {
      schema: {
        summary: 'Health of one rule over a range, with its hourly series',
        params: { type: 'object', required: ['id'], properties: { id: { type: 'string' } } },
        querystring: range,
        responses: {
          200: ok('RuleHealth', 'The rule’s counts, ratios, cost, signal lifecycle and hourly series'),
          400: err('from or to is not a time, from is not before to, or the range is longer than 366 days'),
          404: err('No such rule'),
        },
      },
    },
    async (req, res) => {
      const { id } = req.params as { id: string };
      const tenant = options.tenantOf(req);
      if (store.getRule(tenant, id) === undefined) {
        return res.code(404).send({ error: 'not_found', message: `no rule ${id}` });
      }
      const r = rangeOf(req, res);
      if (r === undefined) {
        return res;
      }
      const byRule = health.totalsByRule(tenant, r.from, r.to);
      const view = healthView(id, r.from, r.to, byRule.get(id) ?? emptyTotals(), store.signalStatusByRule(tenant, { ...r, ruleId: id }).get(id), tenantUs(byRule));
      // Every hour of the range, empty ones as zeros: a time series without gaps.
      const stored = new Map(health.series(tenant, id, r.from, r.to).map((b) => [b.bucketStart, b]));
      const series = [];
      for (let at = r.from; at < r.to; at += HOUR_MS) {
        const b = stored.get(at);
        const t = b === undefined ? emptyTotals() : { evaluated: b.evaluated, triggered: b.triggered, violations: b.violations, skipped: b.skipped, costUs: b.costUs, costSamples: b.costSamples };
        series.push({ bucketStart: new Date(at).toISOString(), ...t, complianceRatio: t.triggered === 0 ? null : 1 - t.violations / t.triggered });
      }
      return { ...view, series };
    },
  );
}
