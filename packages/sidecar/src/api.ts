/**
 * The sidecar's REST API (fastify): /api/v1 behind a bearer token, every route with a schema
 * (which validates input and feeds the served OpenAPI document), plus /healthz, /readyz and
 * /metrics outside /api/v1.
 */
import Fastify, { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import {
  compileRule,
  decodeOtlpJson,
  DecodeError,
  explainRule,
  parseRule,
  pushdownRule,
  RuleDefinition,
  SEVERITIES,
  Trace,
  validateRuleDefinition,
  spanNamesOfConditions,
} from '@betrace/evaluator';
import pino, { type Logger } from 'pino';
import { registerDiscoveryRoutes } from './discovery/api';
import type { DiscoveryJobs } from './discovery/jobs';
import { registerEvidenceRoutes } from './evidence/api';
import { registerHealthRoutes } from './health/api';
import { RuleHealthStore } from './health/store';
import { registerSloRoutes } from './slo/api';
import type { AnchorLog } from './evidence/anchor';
import type { EvidenceStore } from './evidence/store';
import { Metrics } from './metrics';
import { err, named, ok, okInline, openApi, ResponsesDoc, RouteDoc } from './openapi';
import { ReplayBusy, type ReplayRunner } from './replay';
import { defaultReplicaId, Leases, PullWindows } from './leases';
import { redactExplanation, Redactor } from './redact';
import type { TempoClient } from './tempo/client';
import { RuleRegistry } from './rules';
import { RuleSkips, type RuleSkipView } from './ruleSkips';
import { POSTGRES_UNAVAILABLE } from './db/sql';
import { UNAVAILABLE_RETRY_AFTER_S } from './ingest/log/health';
import { AuditFilter, SIGNAL_STATUSES, Signal, SignalFilter, SignalStatus, Store, StoreError, StoredRule, utcDay } from './store';
import { HashedSecret, matchSecret, sha256Hex, Tenant } from './tenants';
import type { UsageMeter } from './usage';

declare module 'fastify' {
  interface FastifySchema {
    /** One line for the OpenAPI document. */
    summary?: string;
    /** The answers of the route, by status, for the OpenAPI document only (never used to serialize). */
    responses?: ResponsesDoc;
    /** The body may be left out (documented as an optional request body). */
    bodyOptional?: boolean;
  }
  interface FastifyInstance {
    /** The OpenAPI document of the routes registered (what GET /api/v1/openapi.json answers). */
    openApiDocument(): ReturnType<typeof openApi>;
  }
  interface FastifyRequest {
    /** The tenant whose API token the request carries (set for every /api/v1 request). */
    tenant: string;
    /** The name of that token (for `who` when no user is named). */
    tokenName: string;
    /** Whether the token may name its user in X-Grafana-User (a proxy token). */
    forwardsUser: boolean;
  }
}

/** Longest range one replay covers (longer ones are split by the caller). */
const MAX_REPLAY_RANGE_MS = 31 * 86_400_000;

/**
 * Paging of list routes: at most 1000 items a page, and an offset below 10^9 (past any real list;
 * larger values are typos or probes, and SQLite takes only 64-bit integers).
 */
const MAX_PAGE_LIMIT = 1000;
const MAX_PAGE_OFFSET = 1_000_000_000;
const PAGING = {
  limit: { type: 'integer', minimum: 1, maximum: MAX_PAGE_LIMIT, default: 100 },
  offset: { type: 'integer', minimum: 0, maximum: MAX_PAGE_OFFSET, default: 0 },
} as const;

/**
 * Routes answered without an API token: liveness, readiness, Prometheus metrics (behind
 * METRICS_TOKEN when set) and the OpenAPI document, which describes the API and holds no data.
 */
const PUBLIC_ROUTES = new Set(['/healthz', '/readyz', '/metrics', '/api/v1/openapi.json']);

export interface ApiOptions {
  /** When set, GET /metrics needs `Authorization: Bearer <metricsToken>` (METRICS_TOKEN). */
  metricsToken?: string;
  /** Each request's bearer token picks its tenant; every route works on that tenant only. */
  tenants: readonly Tenant[];
  store: Store;
  rules: RuleRegistry;
  /** Each rule's skipped evaluations, shown as `skipped` by GET /api/v1/rules and /api/v1/rules/:id. */
  ruleSkips: RuleSkips;
  /** Rule health over time (GET /api/v1/rules/health, /api/v1/rules/:id/health); default: one over `store`. */
  health?: RuleHealthStore;
  metrics: Metrics;
  /** The signal writers configured (`otlp`, `grafana`, `webhook`): /metrics reports a queue for these only. */
  writers: readonly string[];
  log: Logger;
  now: () => number;
  ready: () => boolean;
  version: string;
  /** Pull mode's Tempo clients and replay runners by req.tenant, when TEMPO_URL is set. */
  tempo?: ReadonlyMap<string, TempoClient>;
  replay?: ReadonlyMap<string, ReplayRunner>;
  /** Invariant discovery jobs; undefined: the discovery routes answer 409 no_source. */
  discovery?: DiscoveryJobs;
  /** The 409 message when a tenant has no replay (neither Tempo nor history): says what is missing. */
  replayMissing?: string;
  /** Flushed before GET /api/v1/usage reads the daily totals. */
  usage?: UsageMeter;
  /** Each tenant's redaction policy, for responses that echo span data. */
  redactorOf: (tenant: string) => Redactor;
  /** The evidence store (with the keys' secrets, held outside the data folder); default: one over `store` with keys in memory. */
  evidence?: EvidenceStore;
  /** The anchors published outside the data folder, that verification checks the chain against. */
  anchorLog?: AnchorLog;
  /** Called before /metrics renders (pull mode: each tenant's lag from the shared watermark). */
  beforeScrape?: () => void;
  /** This replica's id (REPLICA_ID), shown by GET /api/v1/cluster/leases; default host name and pid. */
  replica?: string;
}

const ruleSchema = named('RuleInput', {
  type: 'object',
  required: ['id', 'name', 'severity', 'condition'],
  properties: {
    id: { type: 'string', pattern: '^[a-z0-9][a-z0-9\\-_.]*$', maxLength: 200 },
    name: { type: 'string', minLength: 1, maxLength: 500 },
    severity: { type: 'string', enum: [...SEVERITIES, 'warning'] },
    description: { type: 'string' },
    message: { type: 'string' },
    compliance: {
      type: 'array',
      items: { type: 'object', required: ['framework', 'control'], properties: { framework: { type: 'string' }, control: { type: 'string' } } },
    },
    slo: {
      type: 'object',
      description: 'An objective: { objective: "99.9%", window: "30d" } (or { objective: 0.999, windowMs } as the API answers it)',
      properties: {
        objective: { description: 'A percentage such as "99.9%", or the fraction the API answers (0.999) with windowMs' },
        window: { type: 'string' },
        windowMs: { type: 'integer' },
      },
    },
    enabled: { type: 'boolean' },
    condition: { type: 'string', maxLength: 65536 },
    note: { type: 'string', maxLength: 2000 },
  },
} as const);

/** The fields PATCH /api/v1/rules/:id may change (the id is the path's). */
const PATCHABLE = ['name', 'severity', 'description', 'message', 'compliance', 'slo', 'enabled', 'condition'] as const;

const rulePatchSchema = named('RulePatch', {
  type: 'object',
  description: 'The fields to change (at least one); null removes description, message, compliance or slo. The note goes with the new version.',
  properties: {
    name: ruleSchema.properties.name,
    severity: ruleSchema.properties.severity,
    description: { type: ['string', 'null'] },
    message: { type: ['string', 'null'] },
    compliance: { anyOf: [ruleSchema.properties.compliance, { type: 'null' }] },
    slo: { anyOf: [ruleSchema.properties.slo, { type: 'null' }] },
    enabled: ruleSchema.properties.enabled,
    condition: ruleSchema.properties.condition,
    note: ruleSchema.properties.note,
  },
} as const);

/** A rule as every rule route answers it, with its skipped evaluations (the "not evaluated" marker). */
function ruleView(r: StoredRule, skipped: RuleSkipView) {
  return { ...r.definition, version: r.version, provisioned: r.provisioned, updatedAt: new Date(r.updatedAt).toISOString(), updatedBy: r.updatedBy, skipped };
}

/**
 * Finds the tenant of a presented token: the token is hashed once and compared (in constant time)
 * with every tenant's stored hashes; the tenants file guarantees a hash belongs to one tenant.
 */
function tokenResolver(tenants: readonly Tenant[]): (presented: string) => { tenant: string; tokenName: string; forwardsUser: boolean } | undefined {
  const owner = new Map<HashedSecret, string>();
  const all: HashedSecret[] = [];
  for (const t of tenants) {
    for (const s of t.apiTokens) {
      all.push(s);
      owner.set(s, t.id);
    }
  }
  return (presented) => {
    const m = matchSecret(presented, all);
    return m === undefined ? undefined : { tenant: owner.get(m)!, tokenName: m.name, forwardsUser: m.forwardsUser === true };
  };
}

/** A signal as every route answers it: times as ISO 8601 strings, like the rest of the API. */
function signalJson(s: Signal): Omit<Signal, 'createdAt' | 'updatedAt' | 'anchorNs'> & { createdAt: string; updatedAt: string } {
  const { anchorNs: _anchor, ...rest } = s; // where the writers place its span: not part of the API
  return { ...rest, createdAt: new Date(s.createdAt).toISOString(), updatedAt: new Date(s.updatedAt).toISOString() };
}

/** `from` and `to` of a signals query (epoch ms or ISO 8601), or the problem with them. */
function signalRange(q: Record<string, string | number | undefined>): { from?: number; to?: number } | string {
  const range: { from?: number; to?: number } = {};
  for (const name of ['from', 'to'] as const) {
    const v = q[name];
    if (v === undefined) {
      continue;
    }
    const n = /^\d+$/.test(String(v)) ? Number(v) : Date.parse(String(v));
    if (Number.isNaN(n)) {
      return `querystring/${name} must be epoch milliseconds or an ISO 8601 time`;
    }
    range[name] = n;
  }
  return range;
}

export function buildApi(options: ApiOptions): FastifyInstance {
  const app = Fastify({ logger: false, bodyLimit: 16 * 1024 * 1024 });
  const { store } = options;
  const tenantOfToken = tokenResolver(options.tenants);
  const metricsToken: HashedSecret[] | undefined = options.metricsToken === undefined ? undefined : [{ name: 'METRICS_TOKEN', sha256: sha256Hex(options.metricsToken) }];
  app.decorateRequest('tenant', '');
  app.decorateRequest('tokenName', '');
  app.decorateRequest('forwardsUser', false);
  // An empty JSON body (a DELETE sent with Content-Type: application/json) is no body, not an error.
  app.removeContentTypeParser('application/json');
  app.addContentTypeParser('application/json', { parseAs: 'string' }, (_req, body, done) => {
    const text = String(body);
    if (text.trim() === '') {
      done(null, undefined);
      return;
    }
    try {
      done(null, JSON.parse(text));
    } catch (e) {
      const error = new Error(`the body is not JSON: ${(e as Error).message}`) as Error & { statusCode: number };
      error.statusCode = 400;
      done(error, undefined);
    }
  });
  const routes: RouteDoc[] = [];
  app.addHook('onRoute', (route) => {
    const methods = Array.isArray(route.method) ? route.method : [route.method];
    for (const method of methods) {
      if (method !== 'HEAD') {
        routes.push({ method: method.toLowerCase(), url: route.url, schema: route.schema as Record<string, unknown> | undefined });
      }
    }
  });

  // A bearer token on every route but the probes and metrics. Decided on the route the router
  // matched, never on the raw URL: the router decodes percent-escapes (`/%61pi/v1/rules` is
  // `/api/v1/rules`), so a prefix test of req.url could be walked around.
  app.addHook('onRequest', async (req, res) => {
    const route = req.routeOptions.url;
    if (route === undefined || PUBLIC_ROUTES.has(route)) {
      return; // a probe, metrics, or no route at all (404)
    }
    const header = req.headers.authorization ?? '';
    const m = /^Bearer\s+(.+)$/i.exec(header);
    const found = m ? tenantOfToken(m[1].trim()) : undefined;
    if (!found) {
      res.header('WWW-Authenticate', 'Bearer realm="betrace"');
      return res.code(401).send({ error: 'unauthorized', message: 'send Authorization: Bearer <your API token> (BETRACE_API_TOKEN, or a token of the tenants file)' });
    }
    req.tenant = found.tenant;
    req.tokenName = found.tokenName;
    req.forwardsUser = found.forwardsUser;
  });
  // Belt and braces: a handler never runs for a tenant-scoped route without a tenant.
  app.addHook('preHandler', async (req, res) => {
    const route = req.routeOptions.url;
    if (route !== undefined && !PUBLIC_ROUTES.has(route) && !req.tenant) {
      return res.code(401).send({ error: 'unauthorized', message: 'no tenant for this request' });
    }
  });

  // Who acts, for rule versions, signal changes and the audit log: the user a proxy token names
  // (Grafana's X-Grafana-User), else the token itself. A header from any other token is ignored:
  // whoever holds a token could otherwise write any name into the audit log.
  const who = (req: FastifyRequest): string => {
    const token = req.tokenName === 'BETRACE_API_TOKEN' ? 'api-token' : `token:${req.tokenName}`;
    const user = req.headers['x-grafana-user'] ?? req.headers['x-betrace-user'];
    return req.forwardsUser && typeof user === 'string' && user.trim() !== '' ? user.trim().slice(0, 200) : token;
  };

  const fail = (res: FastifyReply, e: unknown) => {
    if (e instanceof StoreError) {
      const code = e.code === 'not_found' ? 404 : e.code === 'conflict' ? 409 : 400;
      return res.code(code).send({ error: e.code, message: e.message });
    }
    throw e;
  };

  app.setErrorHandler((error: FastifyError, _req, res) => {
    if (error.validation) {
      return res.code(400).send({ error: 'invalid_request', message: validationMessage(error) });
    }
    if (error.statusCode !== undefined && error.statusCode < 500) {
      return res.code(error.statusCode).send({ error: 'invalid_request', message: error.message });
    }
    if ((error as { code?: unknown }).code === POSTGRES_UNAVAILABLE) {
      // Not a bug: the database is down or unreachable; the client retries (the message names no host).
      res.header('Retry-After', String(UNAVAILABLE_RETRY_AFTER_S));
      return res.code(503).send({ error: 'unavailable', message: 'the store (PostgreSQL) is unavailable; retry later' });
    }
    options.log.error({ err: error }, 'API request failed');
    return res.code(500).send({ error: 'internal', message: 'internal error' });
  });

  app.get('/healthz', { schema: { summary: 'Liveness', responses: { 200: ok('Health', 'The process is up') } } }, async () => ({ status: 'ok' }));
  // In pull mode /readyz also reports Tempo (its /ready and build version), checked at most every
  // 10 s. A Tempo outage does not make the sidecar unready: push mode still works, and the poller
  // catches up once Tempo is back — the answer says so instead.
  let tempoState: { at: number; ready: boolean; version?: string } | undefined;
  const tempoReadiness = async (): Promise<{ ready: boolean; version?: string } | undefined> => {
    // Tenants' clients differ only in their org id: any one tells whether Tempo answers.
    const tempo = options.tempo?.values().next().value;
    if (!tempo) {
      return undefined;
    }
    if (!tempoState || options.now() - tempoState.at > 10_000) {
      const ready = await tempo.ready();
      const version = ready ? await tempo.buildInfo().then((b) => b.version, () => undefined) : undefined;
      tempoState = { at: options.now(), ready, version };
    }
    return { ready: tempoState.ready, version: tempoState.version };
  };
  app.get('/readyz', {
      schema: {
        summary: 'Readiness: the store is open and the rules are loaded (and, in pull mode, whether Tempo answers)',
        responses: { 200: ok('Readiness', 'Ready (a Tempo outage is reported, not a reason to be unready)'), 503: ok('Readiness', 'Not ready yet, or the store or ingest is unhealthy') },
      },
    }, async (_req, res) => {
    const tempo = await tempoReadiness();
    return options.ready() ? { ready: true, ...(tempo ? { tempo } : {}) } : res.code(503).send({ ready: false, ...(tempo ? { tempo } : {}) });
  });
  app.get('/metrics', {
      schema: {
        summary: 'Prometheus metrics (with METRICS_TOKEN set, behind that bearer token)',
        responses: {
          200: { description: 'The Prometheus text exposition format', content: { 'text/plain': { type: 'string' } } },
          401: err('METRICS_TOKEN is set and the request does not carry it'),
        },
      },
    }, async (req, res) => {
    if (metricsToken !== undefined) {
      const presented = /^Bearer\s+(.+)$/i.exec(req.headers.authorization ?? '')?.[1]?.trim() ?? '';
      if (matchSecret(presented, metricsToken) === undefined) {
        res.header('WWW-Authenticate', 'Bearer realm="betrace-metrics"');
        return res.code(401).send({ error: 'unauthorized', message: 'send Authorization: Bearer <METRICS_TOKEN>' });
      }
    }
    options.beforeScrape?.();
    for (const writer of options.writers) {
      options.metrics.writerQueue.set({ writer }, store.outboxDepth(writer));
    }
    res.type(options.metrics.registry.contentType);
    return options.metrics.registry.metrics();
  });

  // ---------------------------------------------------------------- rules

  const viewOf = (tenant: string, r: StoredRule) => ruleView(r, options.ruleSkips.of(tenant, r.definition.id));

  const validated = (body: Record<string, unknown>, res: FastifyReply): RuleDefinition | undefined => {
    const { note: _note, ...rest } = body;
    const { rule, diagnostics } = validateRuleDefinition(rest);
    if (!rule) {
      res.code(400).send({ error: 'invalid_rule', message: diagnostics.find((d) => d.severity === 'error')?.message ?? 'invalid rule', diagnostics });
      return undefined;
    }
    return rule;
  };

  app.get('/api/v1/rules', { schema: { summary: 'List rules', responses: { 200: ok('RuleList', 'The tenant’s rules') } } }, async (req) => {
    const skips = options.ruleSkips.ofAll(req.tenant);
    return { rules: store.listRules(req.tenant).map((r) => ruleView(r, skips.get(r.definition.id) ?? { count: 0, byReason: {} })) };
  });

  /**
   * Creates a rule: validated, version 1, in the audit log, in force at once. The one path of
   * POST /api/v1/rules and of adopting a discovery suggestion (`inside` runs in its transaction).
   */
  const createRule = (req: FastifyRequest, body: Record<string, unknown>, note: string, inside?: (saved: StoredRule) => void): { code: number; body: unknown } => {
    const { note: _note, ...rest } = body;
    const { rule, diagnostics } = validateRuleDefinition(rest);
    if (!rule) {
      return { code: 400, body: { error: 'invalid_rule', message: diagnostics.find((d) => d.severity === 'error')?.message ?? 'invalid rule', diagnostics } };
    }
    try {
      const saved = store.db.transaction(() => {
        const s = store.saveRule(req.tenant, rule, who(req), note, options.now(), { create: true });
        inside?.(s);
        return s;
      })();
      options.rules.invalidate(req.tenant);
      return { code: 201, body: viewOf(req.tenant, saved) };
    } catch (e) {
      if (e instanceof StoreError) {
        return { code: e.code === 'not_found' ? 404 : e.code === 'conflict' ? 409 : 400, body: { error: e.code, message: e.message } };
      }
      throw e;
    }
  };

  app.post('/api/v1/rules', {
      schema: {
        summary: 'Create a rule',
        body: ruleSchema,
        responses: {
          201: ok('Rule', 'The rule, version 1, in force at once'),
          400: err('Invalid request, or an invalid rule (invalid_rule, with diagnostics)'),
          409: err('A rule with this id exists'),
        },
      },
    }, async (req, res) => {
    const body = req.body as Record<string, unknown>;
    const created = createRule(req, body, String(body.note ?? 'created'));
    return res.code(created.code).send(created.body);
  });

  const idParams = { type: 'object', required: ['id'], properties: { id: { type: 'string' } } } as const;

  app.get('/api/v1/rules/:id', { schema: { summary: 'Get a rule', params: idParams, responses: { 200: ok('Rule', 'The rule'), 404: err('No such rule') } } }, async (req, res) => {
    const r = store.getRule(req.tenant, (req.params as { id: string }).id);
    return r ? viewOf(req.tenant, r) : res.code(404).send({ error: 'not_found', message: `no rule ${(req.params as { id: string }).id}` });
  });

  app.put('/api/v1/rules/:id', {
      schema: {
        summary: 'Update a rule (a new version)',
        params: idParams,
        body: ruleSchema,
        responses: {
          200: ok('Rule', 'The rule’s new version (the same version when nothing changed)'),
          400: err('Invalid request, body.id not the path’s id, or an invalid rule (invalid_rule, with diagnostics)'),
          404: err('No such rule'),
          409: err('The rule is provisioned from a rule file (read-only here)'),
        },
      },
    }, async (req, res) => {
    const { id } = req.params as { id: string };
    const body = req.body as Record<string, unknown>;
    if (body.id !== id) {
      return res.code(400).send({ error: 'invalid_request', message: `body.id ${JSON.stringify(body.id)} does not match the rule ${id} in the path` });
    }
    const rule = validated(body, res);
    if (!rule) {
      return res;
    }
    try {
      const saved = store.saveRule(req.tenant, rule, who(req), String(body.note ?? ''), options.now());
      options.rules.invalidate(req.tenant);
      return viewOf(req.tenant, saved);
    } catch (e) {
      return fail(res, e);
    }
  });

  // PATCH: the fields sent replace the rule's (null removes an optional one, as in a JSON merge
  // patch); the result is validated like a PUT and saved as a new version, with its note.
  app.patch(
    '/api/v1/rules/:id',
    {
      schema: {
        summary: 'Change some fields of a rule (enable, disable, rename, severity …) without resending it: a new version',
        params: idParams,
        body: rulePatchSchema,
        responses: {
          200: ok('Rule', 'The rule’s new version (the same version when nothing changed)'),
          400: err('Invalid request, an unknown field, no field to change, or a rule the change makes invalid (invalid_rule, with diagnostics)'),
          404: err('No such rule'),
          409: err('The rule is provisioned from a rule file (read-only here)'),
        },
      },
    },
    async (req, res) => {
      const { id } = req.params as { id: string };
      const { note, ...changes } = req.body as Record<string, unknown>;
      const fields = Object.keys(changes);
      // Checked here, not by the schema: fastify's validator drops unknown properties silently.
      const unknown = fields.filter((f) => !(PATCHABLE as readonly string[]).includes(f));
      if (unknown.length > 0) {
        return res.code(400).send({ error: 'invalid_request', message: `body/${unknown[0]} is not a field PATCH changes (${PATCHABLE.join(', ')}; the id is the path’s)` });
      }
      if (fields.length === 0) {
        return res.code(400).send({ error: 'invalid_request', message: `send at least one field to change (${PATCHABLE.join(', ')})` });
      }
      const current = store.getRule(req.tenant, id);
      if (!current) {
        return res.code(404).send({ error: 'not_found', message: `no rule ${id}` });
      }
      const { version: _version, ...merged } = current.definition as RuleDefinition & Record<string, unknown>;
      for (const [k, v] of Object.entries(changes)) {
        if (v === null) {
          delete merged[k];
        } else {
          merged[k] = v;
        }
      }
      const rule = validated(merged, res);
      if (!rule) {
        return res;
      }
      try {
        const saved = store.saveRule(req.tenant, rule, who(req), typeof note === 'string' ? note : `changed ${fields.join(', ')}`, options.now());
        options.rules.invalidate(req.tenant);
        return viewOf(req.tenant, saved);
      } catch (e) {
        return fail(res, e);
      }
    },
  );

  app.delete('/api/v1/rules/:id', { schema: { summary: 'Delete a rule', params: idParams, responses: { 204: { description: 'Deleted' }, 404: err('No such rule'), 409: err('The rule is provisioned from a rule file (read-only here)') } } }, async (req, res) => {
    try {
      store.deleteRule(req.tenant, (req.params as { id: string }).id, who(req), options.now());
      options.rules.invalidate(req.tenant);
      return res.code(204).send();
    } catch (e) {
      return fail(res, e);
    }
  });

  app.get('/api/v1/rules/:id/history', { schema: { summary: 'Versions of a rule, newest first (none for an unknown rule)', params: idParams, responses: { 200: ok('RuleHistory', 'The versions') } } }, async (req) => ({
    versions: store.ruleHistory(req.tenant, (req.params as { id: string }).id).map((v) => ({ ...v, createdAt: new Date(v.createdAt).toISOString() })),
  }));

  app.post(
    '/api/v1/rules/:id/rollback',
    {
      schema: {
        summary: 'Make an earlier version current (as a new version)',
        params: idParams,
        body: { type: 'object', required: ['version'], properties: { version: { type: 'integer', minimum: 1 } } },
        responses: { 200: ok('Rule', 'The rule’s new version'), 404: err('No such rule or version'), 409: err('The rule is provisioned from a rule file (read-only here)') },
      },
    },
    async (req, res) => {
      try {
        const saved = store.rollbackRule(req.tenant, (req.params as { id: string }).id, (req.body as { version: number }).version, who(req), options.now());
        options.rules.invalidate(req.tenant);
        return viewOf(req.tenant, saved);
      } catch (e) {
        return fail(res, e);
      }
    },
  );

  app.post(
    '/api/v1/rules/validate',
    {
      schema: {
        summary: "Diagnostics and TraceQL pushdown of a rule condition, checked against the span names of the tenant's other rules",
        body: {
          type: 'object',
          required: ['condition'],
          properties: {
            condition: { type: 'string', maxLength: 65536 },
            ruleId: { type: 'string', description: 'The rule being edited, left out of the vocabulary' },
          },
        },
        responses: { 200: ok('Validation', 'The diagnostics (with line and column); valid when none is an error') },
      },
    },
    async (req) => {
      const body = req.body as { condition: string; ruleId?: string };
      // A one-letter selector that is no span name the tenant's rules use is more likely a mistyped variable.
      const others = store.listRules(req.tenant).filter((r) => r.definition.id !== body.ruleId);
      const spanNames = spanNamesOfConditions(others.map((r) => r.definition.condition));
      const parsed = parseRule(body.condition, { vocabulary: { spanNames } });
      return { valid: parsed.ast !== undefined, diagnostics: parsed.diagnostics, pushdown: parsed.ast ? pushdownRule(parsed.ast) : undefined };
    },
  );

  app.post(
    '/api/v1/rules/test',
    {
      schema: {
        summary: 'Evaluate a rule (saved or not) over inline OTLP/JSON traces, with the explanation per trace',
        body: {
          type: 'object',
          properties: {
            ruleId: { type: 'string' },
            rule: { type: 'object', additionalProperties: true },
            condition: { type: 'string', maxLength: 65536 },
            traces: { type: 'array', items: { type: 'object', additionalProperties: true }, maxItems: 1000 },
            traceIds: { type: 'array', items: { type: 'string', pattern: '^[0-9a-fA-F]{1,32}$' }, maxItems: 100 },
          },
        },
        responses: {
          200: ok('RuleTestResult', 'Per trace, whether the rule fired and why'),
          400: err('Invalid request, an invalid rule (invalid_rule, with diagnostics) or an undecodable trace (invalid_trace)'),
          404: err('No such saved rule, or a trace id Tempo does not know'),
          409: err('Trace ids need pull mode (no_tempo)'),
        },
      },
    },
    async (req, res) => {
      const body = req.body as { ruleId?: string; rule?: Record<string, unknown>; condition?: string; traces?: unknown[]; traceIds?: string[] };
      if (body.traces === undefined && body.traceIds === undefined) {
        return res.code(400).send({ error: 'invalid_request', message: 'send traces (inline OTLP/JSON) or traceIds (fetched from Tempo)' });
      }
      let definition: RuleDefinition;
      if (body.ruleId !== undefined) {
        const stored = store.getRule(req.tenant, body.ruleId);
        if (!stored) {
          return res.code(404).send({ error: 'not_found', message: `no rule ${body.ruleId}` });
        }
        definition = stored.definition;
      } else if (body.condition !== undefined || body.rule !== undefined) {
        // An unsaved rule from the editor: validated like a saved one, with defaults for what a draft may lack.
        const draft = { id: 'unsaved', name: 'unsaved rule', severity: 'medium', condition: body.condition ?? '', ...(body.rule ?? {}) };
        const { rule, diagnostics } = validateRuleDefinition(draft);
        if (!rule) {
          return res.code(400).send({ error: 'invalid_rule', message: diagnostics.find((d) => d.severity === 'error')?.message ?? 'invalid rule', diagnostics });
        }
        definition = rule;
      } else {
        return res.code(400).send({ error: 'invalid_request', message: 'send ruleId, rule or condition' });
      }
      const compiled = compileRule(definition);
      if (!compiled.rule) {
        return res.code(400).send({ error: 'invalid_rule', message: compiled.diagnostics[0]?.message ?? 'invalid rule', diagnostics: compiled.diagnostics });
      }
      const traces: Trace[] = [];
      try {
        (body.traces ?? []).forEach((t) => decodeOtlpJson(t).forEach((trace) => traces.push(trace)));
      } catch (e) {
        if (e instanceof DecodeError) {
          return res.code(400).send({ error: 'invalid_trace', message: e.message });
        }
        throw e;
      }
      if (body.traceIds !== undefined && body.traceIds.length > 0) {
        const tempo = options.tempo?.get(req.tenant);
        if (!tempo) {
          return res.code(409).send({ error: 'no_tempo', message: 'trace ids need pull mode: set TEMPO_URL' });
        }
        for (const id of body.traceIds) {
          const t = await tempo.trace(id);
          if (!t) {
            return res.code(404).send({ error: 'not_found', message: `Tempo does not know trace ${id}` });
          }
          traces.push(t);
        }
      }
      const results = traces.map((t) => redactExplanation(options.redactorOf(req.tenant), explainRule(compiled.rule!, t), t));
      return { ruleId: definition.id, results, fired: results.filter((r) => r.fired).length };
    },
  );

  // ---------------------------------------------------------------- signals

  app.get(
    '/api/v1/signals',
    {
      schema: {
        summary: 'List signals, newest first',
        querystring: {
          type: 'object',
          properties: {
            from: { type: 'string' },
            to: { type: 'string' },
            rule: { type: 'string' },
            severity: { type: 'string', enum: [...SEVERITIES] },
            status: { type: 'string', enum: [...SIGNAL_STATUSES] },
            service: { type: 'string' },
            text: { type: 'string' },
            traceId: { type: 'string', pattern: '^[0-9a-fA-F]{32}$', description: 'Only the signals raised on this trace (32 hex digits)' },
            ...PAGING,
          },
        },
        responses: { 200: ok('SignalPage', 'One page of signals and the total'), 400: err('A bad filter (invalid_request, naming it)') },
      },
    },
    async (req, res) => {
      const q = req.query as Record<string, string | number | undefined>;
      const range = signalRange(q);
      if (typeof range === 'string') {
        return res.code(400).send({ error: 'invalid_request', message: range });
      }
      const { from, to } = range;
      const filter: SignalFilter = { limit: Number(q.limit), offset: Number(q.offset) };
      if (from !== undefined) filter.from = from;
      if (to !== undefined) filter.to = to;
      if (q.rule !== undefined) filter.ruleId = String(q.rule);
      if (q.severity !== undefined) filter.severity = q.severity as SignalFilter['severity'];
      if (q.status !== undefined) filter.status = q.status as SignalStatus;
      if (q.service !== undefined) filter.service = String(q.service);
      if (q.text !== undefined) filter.text = String(q.text);
      if (q.traceId !== undefined) filter.traceId = String(q.traceId);
      const { signals, total } = store.listSignals(req.tenant, filter);
      return { signals: signals.map(signalJson), total, limit: filter.limit, offset: filter.offset };
    },
  );

  // Declared before /signals/:id: a static segment wins over the parameter in fastify's router,
  // and signal ids are generated, so none is "summary".
  app.get(
    '/api/v1/signals/summary',
    {
      schema: {
        summary: 'Per rule, the number of signals in [from, to) and when the newest was created (rules without one are left out)',
        querystring: { type: 'object', properties: { from: { type: 'string' }, to: { type: 'string' } } },
        responses: { 200: ok('SignalSummary', 'Per rule, its count and newest signal'), 400: err('from or to is not a time') },
      },
    },
    async (req, res) => {
      const range = signalRange(req.query as Record<string, string | undefined>);
      if (typeof range === 'string') {
        return res.code(400).send({ error: 'invalid_request', message: range });
      }
      const rules = store.signalCountsByRule(req.tenant, range).map((c) => ({ ...c, lastAt: new Date(c.lastAt).toISOString() }));
      return { rules };
    },
  );

  app.get('/api/v1/signals/:id', { schema: { summary: 'A signal with its status changes', params: idParams, responses: { 200: ok('SignalDetail', 'The signal and its status changes'), 404: err('No such signal') } } }, async (req, res) => {
    const { id } = req.params as { id: string };
    const s = store.getSignal(req.tenant, id);
    if (!s) {
      return res.code(404).send({ error: 'not_found', message: `no signal ${id}` });
    }
    return { ...signalJson(s), changes: store.signalChanges(req.tenant, id).map((c) => ({ ...c, at: new Date(c.at).toISOString() })) };
  });

  app.patch(
    '/api/v1/signals/:id',
    {
      schema: {
        summary: 'Change a signal’s status (who and when are recorded)',
        params: idParams,
        body: { type: 'object', required: ['status'], properties: { status: { type: 'string', enum: [...SIGNAL_STATUSES] }, note: { type: 'string', maxLength: 2000 } } },
        responses: { 200: ok('Signal', 'The signal with its new status'), 404: err('No such signal'), 409: err('A move its lifecycle does not allow (the message lists the allowed ones)') },
      },
    },
    async (req, res) => {
      const { status, note } = req.body as { status: SignalStatus; note?: string };
      try {
        return signalJson(store.changeSignalStatus(req.tenant, (req.params as { id: string }).id, status, who(req), note ?? '', options.now()));
      } catch (e) {
        return fail(res, e);
      }
    },
  );

  // ---------------------------------------------------------------- replay

  app.post(
    '/api/v1/replay',
    {
      schema: {
        summary: 'Replay rules (saved, or an unsaved draft) over a past time range in Tempo, or in the sidecar’s history of recent traces without Tempo, as a job',
        body: {
          type: 'object',
          required: ['from', 'to'],
          properties: {
            ruleIds: { type: 'array', items: { type: 'string' }, maxItems: 1000 },
            rule: { type: 'object', additionalProperties: true },
            from: { type: 'string' },
            to: { type: 'string' },
            dryRun: { type: 'boolean' },
          },
        },
        responses: {
          202: ok('ReplayJob', 'The job, started (poll GET /api/v1/replay/{id})'),
          400: err('Invalid request, a bad range, or an invalid draft rule (invalid_rule, with diagnostics)'),
          404: err('No such rule'),
          409: err('No traces to replay: neither Tempo nor a history (no_tempo)'),
          429: err('Too many replays running (Retry-After)'),
        },
      },
    },
    async (req, res) => {
      const replay = options.replay?.get(req.tenant);
      if (!replay) {
        return res.code(409).send({ error: 'no_tempo', message: options.replayMissing ?? 'replay needs traces to read: set TEMPO_URL (pull mode)' });
      }
      const body = req.body as { ruleIds?: string[]; rule?: Record<string, unknown>; from: string; to: string; dryRun?: boolean };
      const from = parseTime(body.from);
      const to = parseTime(body.to);
      if (from === undefined || to === undefined || to <= from) {
        return res.code(400).send({ error: 'invalid_request', message: 'from and to must be epoch milliseconds or ISO 8601 times, with from before to' });
      }
      if (to - from > MAX_REPLAY_RANGE_MS) {
        return res.code(400).send({ error: 'invalid_request', message: `a replay covers at most ${MAX_REPLAY_RANGE_MS / 86_400_000} days; split longer ranges` });
      }
      if (body.rule !== undefined && body.dryRun !== true) {
        return res.code(400).send({ error: 'invalid_request', message: 'an unsaved rule is replayed as a dry run only (dryRun: true); save it to create signals' });
      }
      const rules = [];
      if (body.rule !== undefined) {
        const { rule, diagnostics } = validateRuleDefinition({ id: 'unsaved', name: 'unsaved rule', severity: 'medium', ...body.rule });
        if (!rule) {
          return res.code(400).send({ error: 'invalid_rule', message: diagnostics.find((d) => d.severity === 'error')?.message ?? 'invalid rule', diagnostics });
        }
        rules.push({ compiled: compileRule(rule).rule!, version: 0 });
      }
      for (const id of body.ruleIds ?? (body.rule === undefined ? options.rules.active(req.tenant).map((r) => r.compiled.definition.id) : [])) {
        const active = options.rules.active(req.tenant).find((r) => r.compiled.definition.id === id);
        const stored = active ?? (store.getRule(req.tenant, id) ? { compiled: compileRule(store.getRule(req.tenant, id)!.definition).rule!, version: store.getRule(req.tenant, id)!.version } : undefined);
        if (!stored || !stored.compiled) {
          return res.code(404).send({ error: 'not_found', message: `no rule ${id}` });
        }
        rules.push(stored);
      }
      if (rules.length === 0) {
        return res.code(400).send({ error: 'invalid_request', message: 'no rules to replay' });
      }
      let job;
      try {
        job = replay.start(req.tenant, rules, from, to, body.dryRun === true);
      } catch (e) {
        if (e instanceof ReplayBusy) {
          res.header('Retry-After', '30');
          return res.code(429).send({ error: 'too_many_replays', message: e.message });
        }
        throw e;
      }
      return res.code(202).send(job);
    },
  );

  app.get('/api/v1/replay/:id', { schema: { summary: 'A replay job: progress, and the violations of a dry run', params: idParams, responses: { 200: ok('ReplayJob', 'The job'), 404: err('No such replay') } } }, async (req, res) => {
    const job = options.replay?.get(req.tenant)?.get(req.tenant, (req.params as { id: string }).id);
    return job ?? res.code(404).send({ error: 'not_found', message: 'no such replay' });
  });

  app.delete('/api/v1/replay/:id', { schema: { summary: 'Cancel a replay job', params: idParams, responses: { 200: ok('ReplayJob', 'The job, cancelled (or already finished)'), 404: err('No such replay') } } }, async (req, res) => {
    const job = options.replay?.get(req.tenant)?.cancel(req.tenant, (req.params as { id: string }).id);
    return job ?? res.code(404).send({ error: 'not_found', message: 'no such replay' });
  });

  // ---------------------------------------------------------------- cluster

  // Which replica holds which lease (issue 12): the caller's tenant's pull windows and replay jobs.
  app.get('/api/v1/cluster/leases', { schema: { summary: 'Which replica holds which lease on the caller’s tenant’s pull windows and replay jobs, and the shared watermark', responses: { 200: ok('ClusterLeases', 'The leases, the windows past the watermark, and the watermark') } } }, async (req) => {
    const now = options.now();
    const replica = options.replica ?? defaultReplicaId();
    const windows = new PullWindows(store.db);
    const watermark = windows.watermark(req.tenant);
    return {
      replica,
      ...(watermark === undefined ? {} : { watermark }),
      leases: new Leases(store.db, replica).list(req.tenant).map((l) => ({ key: l.key, holder: l.holder, since: l.since, expiresAt: l.expiresAt, expired: l.expiresAt <= now })),
      windows: windows.pending(req.tenant),
    };
  });

  // ---------------------------------------------------------------- audit and usage

  app.get(
    '/api/v1/audit',
    {
      schema: {
        summary: 'The audit log of the caller’s tenant (rule and signal changes, exports, key rotations), newest first',
        querystring: {
          type: 'object',
          properties: {
            from: { type: 'string' },
            to: { type: 'string' },
            action: { type: 'string', pattern: '^[a-z][a-z0-9_.]*(\\.\\*)?$', maxLength: 100 },
            ...PAGING,
          },
        },
        responses: { 200: ok('AuditPage', 'One page of audit entries and the total'), 400: err('A bad filter (invalid_request, naming it)') },
      },
    },
    async (req, res) => {
      const q = req.query as { from?: string; to?: string; action?: string; limit: number; offset: number };
      const filter: AuditFilter = { limit: q.limit, offset: q.offset };
      for (const key of ['from', 'to'] as const) {
        if (q[key] !== undefined) {
          const t = parseTime(q[key]);
          if (t === undefined) {
            return res.code(400).send({ error: 'invalid_request', message: `querystring/${key} must be epoch milliseconds or an ISO 8601 time` });
          }
          filter[key] = t;
        }
      }
      if (q.action !== undefined) filter.action = q.action;
      const { entries, total } = store.listAudit(req.tenant, filter);
      return { entries: entries.map((e) => ({ ...e, at: new Date(e.at).toISOString() })), total, limit: q.limit, offset: q.offset };
    },
  );

  app.get(
    '/api/v1/usage',
    {
      schema: {
        summary: 'Daily usage totals (UTC days) of the caller’s tenant: spans, bytes, traces evaluated, signals, evidence records',
        querystring: { type: 'object', properties: { from: { type: 'string' }, to: { type: 'string' } } },
        responses: { 200: ok('Usage', 'The days of the range and their totals'), 400: err('from or to is not a date, or from is after to') },
      },
    },
    async (req, res) => {
      const q = req.query as { from?: string; to?: string };
      const day = (v: string | undefined, fallback: number): string | undefined => {
        if (v === undefined) {
          return utcDay(fallback);
        }
        if (/^\d{4}-\d{2}-\d{2}$/.test(v)) {
          return Number.isNaN(Date.parse(`${v}T00:00:00Z`)) ? undefined : v;
        }
        const t = parseTime(v);
        return t === undefined ? undefined : utcDay(t);
      };
      const to = day(q.to, options.now());
      const from = day(q.from, options.now() - 29 * 86_400_000);
      if (from === undefined || to === undefined) {
        return res.code(400).send({ error: 'invalid_request', message: `querystring/${from === undefined ? 'from' : 'to'} must be a date (YYYY-MM-DD), epoch milliseconds or an ISO 8601 time` });
      }
      if (from > to) {
        return res.code(400).send({ error: 'invalid_request', message: `from (${from}) is after to (${to})` });
      }
      options.usage?.flush();
      const days = store.listUsage(req.tenant, from, to);
      const totals = { spans: 0, bytes: 0, traces: 0, signals: 0, evidence: 0 };
      for (const d of days) {
        for (const k of Object.keys(totals) as Array<keyof typeof totals>) {
          totals[k] += d[k];
        }
      }
      return { tenant: req.tenant, from, to, days, totals };
    },
  );
  registerEvidenceRoutes(app, {
    ...options,
    tenantOf: (req) => req.tenant,
    who,
    onAudit: (entry, tenant) => store.appendAudit(tenant, entry, options.now()),
  });

  const health = options.health ?? new RuleHealthStore(store.db);
  registerHealthRoutes(app, { store, health, now: options.now, tenantOf: (req) => req.tenant });
  registerSloRoutes(app, { store, health, now: options.now });

  registerDiscoveryRoutes(app, {
    jobs: options.discovery,
    who,
    audit: (tenant, entry) => store.appendAudit(tenant, entry, options.now()),
    redactorOf: options.redactorOf,
    now: options.now,
    createRule,
  });

  app.decorate('openApiDocument', () => openApi(routes, options.version));
  app.get('/api/v1/openapi.json', { schema: { summary: 'This document (no token needed)', responses: { 200: okInline({ type: 'object', description: 'OpenAPI 3.1' }, 'The OpenAPI document') } } }, async () => app.openApiDocument());

  return app;
}

/** Epoch milliseconds or an ISO 8601 time. */
function parseTime(v: string): number | undefined {
  const n = /^\d+$/.test(v) ? Number(v) : Date.parse(v);
  return Number.isNaN(n) ? undefined : n;
}

/**
 * The API's OpenAPI document without a server listening: the app is built on a throwaway
 * in-memory store and asked for the document (`npm run api:types` generates the plugin's API
 * types from it; a test checks the committed ones are current).
 */
export async function apiDocument(version: string): Promise<Record<string, unknown>> {
  // No app.inject here: its request library is ESM-only under jest, and nothing needs a request.
  const store = new Store(':memory:');
  const metrics = new Metrics();
  const app = buildApi({
    tenants: [],
    store,
    rules: new RuleRegistry(store),
    ruleSkips: new RuleSkips(store.db, metrics.ruleSkipped),
    metrics,
    writers: [],
    log: pino({ enabled: false }),
    now: Date.now,
    ready: () => false,
    version,
    redactorOf: () => {
      throw new Error('no tenant here: the document only');
    },
  });
  try {
    await app.ready();
    // Through JSON, as the route serves it.
    return JSON.parse(JSON.stringify(app.openApiDocument())) as Record<string, unknown>;
  } finally {
    await app.close();
    store.close();
  }
}

/**
 * A request validation failure in words: an enum failure names the allowed values (ajv says only
 * "must be equal to one of the allowed values").
 */
export function validationMessage(error: FastifyError): string {
  const parts = (error.validation ?? []).map((v) => {
    const where = `${error.validationContext ?? 'body'}${v.instancePath ?? ''}`;
    const allowed = (v.params as { allowedValues?: unknown[] } | undefined)?.allowedValues;
    if (v.keyword === 'enum' && Array.isArray(allowed)) {
      return `${where} must be one of ${allowed.map((a) => JSON.stringify(a)).join(', ')}`;
    }
    return `${where} ${v.message ?? 'is invalid'}`;
  });
  return parts.length > 0 ? parts.join('; ') : error.message;
}
