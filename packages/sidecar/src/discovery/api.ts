/**
 * Discovery routes of the REST API (docs/discovery.md "Running discovery"): jobs over a time
 * range with progress and cancel, their ranked suggestions, adopt (a rule created through the
 * same path as POST /api/v1/rules) and dismiss (remembered per tenant), and the example traces
 * of a job as OTLP/JSON for the rule editor's Test panel. Registered on the API's fastify app by
 * `buildApi`; the tenant comes from the request's token, never from the request.
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { SEVERITIES, Severity, SUGGESTION_KINDS, SuggestionKind } from '@betrace/evaluator';
import type { Redactor } from '../redact';
import type { NewAuditEntry, StoredRule } from '../store';
import { DiscoveryBusy, DiscoveryJobs, JobSuggestion, NoSource, RequestedSource } from './jobs';
import { err, ok } from '../openapi';
import { encodeOtlpJson } from './otlp';
import type { JobRecord } from './store';

/** Longest range one discovery covers. */
export const MAX_DISCOVERY_RANGE_MS = 7 * 86_400_000;
export const DEFAULT_TOP = 50;
export const MAX_TOP = 200;

export interface DiscoveryRouteOptions {
  /** Undefined: the routes answer 409 no_source. */
  jobs: DiscoveryJobs | undefined;
  who: (req: FastifyRequest) => string;
  audit: (tenant: string, entry: NewAuditEntry) => void;
  redactorOf: (tenant: string) => Redactor;
  now: () => number;
  /**
   * Creates a rule as POST /api/v1/rules does (validation, version 1, audit log, in force at
   * once); `inside` runs in the rule's transaction. Answers the code and body to send.
   */
  createRule: (req: FastifyRequest, body: Record<string, unknown>, note: string, inside: (saved: StoredRule) => void) => { code: number; body: unknown };
}

const iso = (ms: number) => new Date(ms).toISOString();

/** A job as the API answers it (times in ISO 8601, no tenant). */
export function jobView(job: JobRecord, suggestions?: JobSuggestion[]) {
  return {
    id: job.id,
    state: job.state,
    source: job.source,
    from: iso(job.from),
    to: iso(job.to),
    createdAt: iso(job.createdAt),
    createdBy: job.createdBy,
    ...(job.finishedAt !== undefined ? { finishedAt: iso(job.finishedAt) } : {}),
    options: job.options,
    progress: job.progress,
    ...(job.error !== undefined ? { error: job.error } : {}),
    ...(job.result !== undefined ? { result: job.result } : {}),
    suggestionCount: job.suggestionCount,
    ...(suggestions !== undefined ? { suggestions } : {}),
  };
}

/** Epoch milliseconds (a number or digits) or an ISO 8601 time. */
function parseTime(v: string | number): number | undefined {
  const n = typeof v === 'number' ? v : /^\d+$/.test(v) ? Number(v) : Date.parse(v);
  return Number.isFinite(n) ? n : undefined;
}

/** A rule id from a suggestion's title: lowercase words joined by `-`, at most 80 characters. */
export function ruleIdOf(s: { id: string; title: string }): string {
  const slug = s.title
    .toLowerCase()
    .replace(/[^a-z0-9._]+/g, '-')
    .slice(0, 80)
    .replace(/^[-._]+|[-._]+$/g, '');
  return /^[a-z0-9][a-z0-9\-_.]*$/.test(slug) ? slug : s.id;
}

/** "Suggested by BeTrace discovery dj-… on 2025-01-31: support 412, confidence 0.998; adopted by alice". */
export function provenance(job: JobRecord, s: JobSuggestion, who: string): string {
  const confidence = Number(s.confidence.toFixed(4));
  return `Suggested by BeTrace discovery ${job.id} on ${iso(job.createdAt).slice(0, 10)}: support ${s.support}, confidence ${confidence}; adopted by ${who}`;
}

const jobParams = { type: 'object', required: ['id'], properties: { id: { type: 'string', maxLength: 100 } } } as const;
const suggestionParams = {
  type: 'object',
  required: ['id', 'sid'],
  properties: { id: { type: 'string', maxLength: 100 }, sid: { type: 'string', maxLength: 100 } },
} as const;

export function registerDiscoveryRoutes(app: FastifyInstance, o: DiscoveryRouteOptions): void {
  const noSource = (res: FastifyReply, message: string) => res.code(409).send({ error: 'no_source', message });
  const notFound = (res: FastifyReply, what: string) => res.code(404).send({ error: 'not_found', message: `no ${what}` });
  const jobOf = (req: FastifyRequest) => o.jobs?.get(req.tenant, (req.params as { id: string }).id);

  app.post(
    '/api/v1/discover',
    {
      schema: {
        summary: 'Start invariant discovery over a time range of the tenant’s traces (Tempo or the sidecar’s history), as a job',
        body: {
          type: 'object',
          required: ['from', 'to'],
          properties: {
            from: { anyOf: [{ type: 'string' }, { type: 'integer' }], description: 'ISO 8601 or epoch milliseconds' },
            to: { anyOf: [{ type: 'string' }, { type: 'integer' }], description: 'ISO 8601 or epoch milliseconds; at most 7 days after from' },
            source: { type: 'string', enum: ['auto', 'history', 'tempo'], default: 'auto' },
            top: { type: 'integer', minimum: 1, maximum: MAX_TOP, default: DEFAULT_TOP },
            minSupport: { type: 'integer', minimum: 1, maximum: 1_000_000_000 },
            minConfidence: { type: 'number', minimum: 0, maximum: 1 },
            kinds: { type: 'array', items: { type: 'string', enum: [...SUGGESTION_KINDS] }, minItems: 1, uniqueItems: true },
          },
        },
        responses: {
          202: ok('DiscoveryJob', 'The job, started (poll GET /api/v1/discover/{id})'),
          400: err('Invalid request or a bad range'),
          409: err('No traces to read: neither Tempo nor a history (no_source)'),
          429: err('Too many discoveries running (Retry-After)'),
        },
      },
    },
    async (req, res) => {
      const body = req.body as { from: string | number; to: string | number; source: RequestedSource; top: number; minSupport?: number; minConfidence?: number; kinds?: SuggestionKind[] };
      const from = parseTime(body.from);
      const to = parseTime(body.to);
      if (from === undefined || to === undefined) {
        return res.code(400).send({ error: 'invalid_request', message: `body/${from === undefined ? 'from' : 'to'} must be epoch milliseconds or an ISO 8601 time` });
      }
      if (to <= from) {
        return res.code(400).send({ error: 'invalid_request', message: 'body/to must be after body/from' });
      }
      if (to - from > MAX_DISCOVERY_RANGE_MS) {
        return res.code(400).send({ error: 'invalid_request', message: `body/to: a discovery covers at most ${MAX_DISCOVERY_RANGE_MS / 86_400_000} days after body/from` });
      }
      if (!o.jobs) {
        return noSource(res, 'discovery needs traces to read: set TEMPO_URL (pull mode), or keep the sidecar’s trace history');
      }
      const options = {
        top: body.top,
        ...(body.minSupport !== undefined ? { minSupport: body.minSupport } : {}),
        ...(body.minConfidence !== undefined ? { minConfidence: body.minConfidence } : {}),
        ...(body.kinds !== undefined ? { kinds: body.kinds } : {}),
      };
      let job: JobRecord;
      try {
        job = o.jobs.start(req.tenant, { from, to, source: body.source, options }, o.who(req));
      } catch (e) {
        if (e instanceof NoSource) {
          return noSource(res, e.message);
        }
        if (e instanceof DiscoveryBusy) {
          res.header('Retry-After', '30');
          return res.code(429).send({ error: 'too_many_discoveries', message: e.message });
        }
        throw e;
      }
      o.audit(req.tenant, { who: o.who(req), action: 'discovery.run', target: `discovery:${job.id}`, after: { source: job.source, from: iso(from), to: iso(to), options } });
      return res.code(202).send(jobView(job));
    },
  );

  app.get('/api/v1/discover', { schema: { summary: 'The tenant’s discovery jobs, newest first (without their suggestions)', responses: { 200: ok('DiscoveryJobs', 'The jobs') } } }, async (req) => ({
    jobs: (o.jobs?.list(req.tenant) ?? []).map((j) => jobView(j)),
  }));

  app.get('/api/v1/discover/:id', {
      schema: {
        summary: 'A discovery job with its suggestions, best first (dismissed ones included)',
        params: jobParams,
        responses: { 200: ok('DiscoveryJob', 'The job with its suggestions'), 404: err('No such discovery job') },
      },
    }, async (req, res) => {
    const job = jobOf(req);
    return job ? jobView(job, o.jobs!.suggestions(req.tenant, job.id)) : notFound(res, 'such discovery job');
  });

  app.delete('/api/v1/discover/:id', {
      schema: {
        summary: 'Cancel a running discovery job, or delete a finished one with its results',
        params: jobParams,
        responses: { 200: ok('DiscoveryJob', 'The job as it was cancelled or deleted'), 404: err('No such discovery job') },
      },
    }, async (req, res) => {
    const done = o.jobs?.cancelOrDelete(req.tenant, (req.params as { id: string }).id, o.who(req));
    return done ? jobView(done.job) : notFound(res, 'such discovery job');
  });

  app.post(
    '/api/v1/discover/:id/suggestions/:sid/adopt',
    {
      schema: {
        summary: 'Adopt a suggestion: a rule (disabled unless enabled is true) whose first version is the suggestion, its provenance in the description',
        params: suggestionParams,
        body: {
          type: 'object',
          properties: {
            enabled: { type: 'boolean', default: false },
            id: { type: 'string', pattern: '^[a-z0-9][a-z0-9\\-_.]*$', maxLength: 200 },
            name: { type: 'string', minLength: 1, maxLength: 500 },
            severity: { type: 'string', enum: [...SEVERITIES] },
            description: { type: 'string', maxLength: 10_000 },
            condition: { type: 'string', maxLength: 65536 },
            message: { type: 'string', maxLength: 10_000 },
          },
        },
        responses: {
          201: ok('Adopted', 'The rule created (version 1) and the suggestion, adopted'),
          400: err('Invalid request, or an invalid rule (invalid_rule, with diagnostics)'),
          404: err('No such discovery job or suggestion'),
          409: err('The suggestion is adopted or dismissed already, or a rule with the id exists'),
        },
      },
    },
    async (req, res) => {
      const { sid } = req.params as { id: string; sid: string };
      const job = jobOf(req);
      const suggestion = job && o.jobs!.suggestions(req.tenant, job.id).find((s) => s.id === sid);
      if (!job || !suggestion) {
        return notFound(res, job ? `suggestion ${sid} in ${job.id}` : 'such discovery job');
      }
      if (suggestion.state !== 'new') {
        return res.code(409).send({ error: 'conflict', message: `suggestion ${sid} is ${suggestion.state}${suggestion.adoptedRuleId ? ` (rule ${suggestion.adoptedRuleId})` : ''}` });
      }
      const body = (req.body ?? {}) as { enabled?: boolean; id?: string; name?: string; severity?: Severity; description?: string; condition?: string; message?: string };
      const who = o.who(req);
      const origin = provenance(job, suggestion, who);
      const rule: Record<string, unknown> = {
        id: body.id ?? ruleIdOf(suggestion),
        name: body.name ?? suggestion.title,
        severity: body.severity ?? 'medium',
        description: body.description ? `${body.description}\n\n${origin}` : origin,
        enabled: body.enabled ?? false,
        condition: body.condition ?? suggestion.condition,
        ...(body.message !== undefined ? { message: body.message } : {}),
      };
      const created = o.createRule(req, rule, `adopted from discovery ${job.id}, suggestion ${sid}`, (saved) => {
        o.jobs!.recordAdoption(req.tenant, job.id, sid, saved.definition.id, who);
        o.audit(req.tenant, {
          who,
          action: 'discovery.adopt',
          target: `discovery:${job.id}/${sid}`,
          before: { state: 'new' },
          after: { state: 'adopted', ruleId: saved.definition.id, enabled: saved.definition.enabled, edited: body.condition !== undefined && body.condition !== suggestion.condition },
        });
      });
      if (created.code !== 201) {
        return res.code(created.code).send(created.body);
      }
      const ruleId = (created.body as { id: string }).id;
      return res.code(201).send({ rule: created.body, suggestion: { ...suggestion, state: 'adopted', adoptedRuleId: ruleId } });
    },
  );

  app.post(
    '/api/v1/discover/:id/suggestions/:sid/dismiss',
    {
      schema: {
        summary: 'Dismiss a suggestion: this tenant’s later discoveries do not propose it again',
        params: suggestionParams,
        responses: { 200: ok('Dismissed', 'The suggestion, dismissed'), 404: err('No such discovery job or suggestion'), 409: err('The suggestion is adopted (delete or disable the rule instead)') },
      },
    },
    async (req, res) => {
      const { sid } = req.params as { id: string; sid: string };
      const job = jobOf(req);
      const suggestion = job && o.jobs!.suggestions(req.tenant, job.id).find((s) => s.id === sid);
      if (!job || !suggestion) {
        return notFound(res, job ? `suggestion ${sid} in ${job.id}` : 'such discovery job');
      }
      if (suggestion.state === 'adopted') {
        return res.code(409).send({ error: 'conflict', message: `suggestion ${sid} is adopted (rule ${suggestion.adoptedRuleId}); delete or disable the rule instead` });
      }
      if (suggestion.state === 'new') {
        const who = o.who(req);
        o.jobs!.dismiss(req.tenant, job.id, sid, who);
        o.audit(req.tenant, { who, action: 'discovery.dismiss', target: `discovery:${job.id}/${sid}`, before: { state: 'new' }, after: { state: 'dismissed', condition: suggestion.condition } });
      }
      return { suggestion: { ...suggestion, state: 'dismissed' } };
    },
  );

  app.get(
    '/api/v1/discover/:id/traces/:traceId',
    {
      schema: {
        summary: 'One trace of a discovery job’s range as OTLP/JSON (from the history, or from Tempo by id), redacted like every echo of span data',
        params: {
          type: 'object',
          required: ['id', 'traceId'],
          properties: { id: { type: 'string', maxLength: 100 }, traceId: { type: 'string', pattern: '^[0-9a-fA-F]{1,32}$' } },
        },
        responses: { 200: ok('OtlpTraces', 'The trace as OTLP/JSON, redacted'), 404: err('No such discovery job, or no such trace in its range') },
      },
    },
    async (req, res) => {
      const traceId = (req.params as { traceId: string }).traceId.toLowerCase().padStart(32, '0');
      const job = jobOf(req);
      if (!job) {
        return notFound(res, 'such discovery job');
      }
      const trace = await o.jobs!.trace(job, traceId);
      if (!trace || trace.spans.length === 0) {
        return notFound(res, `trace ${traceId} in the range of ${job.id}`);
      }
      const otlp = encodeOtlpJson(trace);
      return { resourceSpans: o.redactorOf(req.tenant).resourceSpans(otlp.resourceSpans) };
    },
  );
}
