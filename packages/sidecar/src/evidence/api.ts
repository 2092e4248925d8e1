/**
 * Evidence routes of the REST API: records with their verification, exports (CSV, JSON, PDF) for
 * auditors, and the tenant's signing keys (list, rotate). Registered on the API's fastify app by
 * `buildApi`; the tenant comes from the request's token, never from the query.
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { Store } from '../store';
import { StoreError } from '../store';
import { err, ok, ref } from '../openapi';
import { renderPdf } from './pdf';
import { ChainVerifier, verifyRecords } from './chain';
import { EvidenceReport, recordView, sortControls, toCsv } from './report';
import { AnchorLog, anchorView } from './anchor';
import { EvidenceFilter, EvidenceStore } from './store';

export interface AuditEntry {
  who: string;
  action: 'evidence.export' | 'evidence.key.rotate';
  target: string;
  before: Record<string, unknown> | null;
  after: Record<string, unknown> | null;
}

export interface EvidenceRouteOptions {
  store: Store;
  now: () => number;
  /** The tenant of an authenticated request. */
  tenantOf: (req: FastifyRequest) => string;
  /** Who is asking (for the audit log). */
  who: (req: FastifyRequest) => string;
  /** Records exports and key rotations in the audit log (wired by the sidecar). */
  onAudit?: (entry: AuditEntry, tenant: string) => void;
  /** The evidence store (its secrets come from outside the data folder); default: one over `store` with keys in memory. */
  evidence?: EvidenceStore;
  /** The anchors published outside the data folder. */
  anchorLog?: AnchorLog;
  /** How old the cached full walk of a tenant's chain may get before the records route walks it again (default 10 min). */
  verificationMaxAgeMs?: number;
}

const scopeProperties = {
  framework: { type: 'string', maxLength: 100, description: 'e.g. soc2, hipaa (case-insensitive)' },
  control: { type: 'string', maxLength: 100, description: 'e.g. CC6.1, 164.312(b)' },
  from: { type: 'string', description: 'epoch milliseconds or ISO 8601: records whose window ends at or after it' },
  to: { type: 'string', description: 'epoch milliseconds or ISO 8601: records whose window starts before it' },
} as const;

/** Epoch milliseconds or an ISO 8601 time; null when neither. */
function parseTime(v: string | undefined): number | undefined | null {
  if (v === undefined) {
    return undefined;
  }
  const n = /^\d+$/.test(v) ? Number(v) : Date.parse(v);
  return Number.isNaN(n) ? null : n;
}

type ScopeQuery = { framework?: string; control?: string; from?: string; to?: string };

function reportHead(tenant: string, filter: EvidenceFilter, now: number): Pick<EvidenceReport, 'tenant' | 'generatedAt' | 'scope' | 'period'> {
  return {
    tenant,
    generatedAt: new Date(now).toISOString(),
    scope: { framework: filter.framework ?? null, control: filter.control ?? null },
    period: {
      from: filter.from === undefined ? null : new Date(filter.from).toISOString(),
      to: filter.to === undefined ? null : new Date(filter.to).toISOString(),
    },
  };
}

/**
 * The auditor's report of a tenant's evidence in scope: the whole chain is walked now, whatever
 * its length (correctness over speed), and the walk refreshes `verifier`'s cache.
 */
export function evidenceReport(
  evidence: EvidenceStore,
  tenant: string,
  filter: EvidenceFilter,
  now: number,
  verifier = new ChainVerifier(evidence),
): EvidenceReport & { total: number } {
  const { summary, bySeq } = verifier.full(tenant, now);
  const page = evidence.list(tenant, filter);
  return {
    ...reportHead(tenant, filter, now),
    verification: summary,
    controls: sortControls(evidence.controls(tenant, filter)),
    records: page.records.map((r) => recordView(r, bySeq.get(r.seq))),
    head: evidence.head(tenant),
    anchors: verifier.anchors(tenant).map(anchorView),
    total: page.total,
  };
}

/**
 * One page of records in scope for the records route, at a cost independent of the chain's
 * length: the page's records are verified in full on their own (`verifyRecords`), the chain's
 * summary is `verifier`'s (cached full walk, continued to the head), the per-control counts are
 * one SQL aggregate.
 */
export function evidencePage(evidence: EvidenceStore, verifier: ChainVerifier, tenant: string, filter: EvidenceFilter, now: number): EvidenceReport & { total: number } {
  const page = evidence.page(tenant, filter);
  const checks = verifyRecords(evidence, tenant, page.rows);
  return {
    ...reportHead(tenant, filter, now),
    verification: verifier.summary(tenant, now),
    controls: sortControls(evidence.controls(tenant, { ...filter, limit: undefined, offset: undefined })),
    records: page.rows.map((r, i) => recordView(r.record, checks[i])),
    total: page.total,
  };
}

export function registerEvidenceRoutes(app: FastifyInstance, options: EvidenceRouteOptions): void {
  const evidence = options.evidence ?? new EvidenceStore(options.store.db);
  const verifier = new ChainVerifier(evidence, options.verificationMaxAgeMs, options.anchorLog);

  const scope = (q: ScopeQuery, res: FastifyReply): EvidenceFilter | undefined => {
    const from = parseTime(q.from);
    const to = parseTime(q.to);
    if (from === null || to === null) {
      res.code(400).send({ error: 'invalid_request', message: `querystring/${from === null ? 'from' : 'to'} must be epoch milliseconds or an ISO 8601 time` });
      return undefined;
    }
    if (from !== undefined && to !== undefined && to <= from) {
      res.code(400).send({ error: 'invalid_request', message: 'querystring/to must be after querystring/from' });
      return undefined;
    }
    const filter: EvidenceFilter = {};
    if (q.framework !== undefined) filter.framework = q.framework;
    if (q.control !== undefined) filter.control = q.control;
    if (from !== undefined) filter.from = from;
    if (to !== undefined) filter.to = to;
    return filter;
  };

  app.get(
    '/api/v1/evidence',
    {
      schema: {
        summary: 'Evidence records with their verification, the chain’s verification summary and pass/fail per control',
        querystring: {
          type: 'object',
          properties: {
            ...scopeProperties,
            limit: { type: 'integer', minimum: 1, maximum: 1000, default: 100 },
            offset: { type: 'integer', minimum: 0, default: 0 },
          },
        },
        responses: { 200: ok('EvidencePage', 'One page of records in scope, the chain’s verification and pass/fail per control'), 400: err('A bad scope (invalid_request, naming it)') },
      },
    },
    async (req, res) => {
      const q = req.query as ScopeQuery & { limit: number; offset: number };
      const filter = scope(q, res);
      if (!filter) {
        return res;
      }
      const report = evidencePage(evidence, verifier, options.tenantOf(req), { ...filter, limit: q.limit, offset: q.offset }, options.now());
      return {
        records: report.records,
        total: report.total,
        limit: q.limit,
        offset: q.offset,
        verification: report.verification,
        summary: { scope: report.scope, period: report.period, controls: report.controls },
      };
    },
  );

  app.get(
    '/api/v1/evidence/export',
    {
      schema: {
        summary: 'Export evidence for auditors (CSV, JSON with the signed attributes, or a PDF report); recorded in the audit log',
        querystring: {
          type: 'object',
          properties: { format: { type: 'string', enum: ['csv', 'json', 'pdf'], default: 'json' }, ...scopeProperties },
        },
        responses: {
          200: {
            description: 'The export as an attachment (Content-Disposition names the file)',
            content: { 'application/json': ref('EvidenceReport'), 'text/csv': { type: 'string' }, 'application/pdf': { type: 'string', format: 'binary' } },
          },
          400: err('A bad scope or format (invalid_request, naming it)'),
        },
      },
    },
    async (req, res) => {
      const q = req.query as ScopeQuery & { format: 'csv' | 'json' | 'pdf' };
      const filter = scope(q, res);
      if (!filter) {
        return res;
      }
      const tenant = options.tenantOf(req);
      const now = options.now();
      const { total: _total, ...report } = evidenceReport(evidence, tenant, filter, now, verifier);
      options.onAudit?.(
        {
          who: options.who(req),
          action: 'evidence.export',
          target: 'evidence',
          before: null,
          after: { format: q.format, framework: report.scope.framework, control: report.scope.control, from: report.period.from, to: report.period.to, records: report.records.length },
        },
        tenant,
      );
      const stamp = new Date(now).toISOString().replace(/[:.]/g, '-');
      const name = `betrace-evidence-${tenant.replace(/[^A-Za-z0-9._-]/g, '_')}-${stamp}`;
      if (q.format === 'csv') {
        return res.type('text/csv; charset=utf-8').header('content-disposition', `attachment; filename="${name}.csv"`).send(toCsv(report));
      }
      if (q.format === 'pdf') {
        const pdf = await renderPdf(report);
        return res.type('application/pdf').header('content-disposition', `attachment; filename="${name}.pdf"`).send(pdf);
      }
      return res.type('application/json; charset=utf-8').header('content-disposition', `attachment; filename="${name}.json"`).send(JSON.stringify(report, null, 2));
    },
  );

  app.get('/api/v1/evidence/keys', { schema: { summary: 'The tenant’s evidence keys (ids and state, never the secrets)', responses: { 200: ok('EvidenceKeys', 'The keys, oldest first') } } }, async (req) => ({
    keys: evidence.keys(options.tenantOf(req)).map((k) => ({
      id: k.id,
      current: k.retiredAt === undefined,
      source: k.source,
      createdAt: new Date(k.createdAt).toISOString(),
      ...(k.retiredAt !== undefined ? { retiredAt: new Date(k.retiredAt).toISOString() } : {}),
    })),
  }));

  app.post(
    '/api/v1/evidence/keys/rotate',
    {
      schema: {
        summary: 'Rotate the evidence signing key: a new current key; older keys stay for verification. A generated secret is returned once.',
        body: {
          type: 'object',
          properties: {
            id: { type: 'string', pattern: '^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$' },
            secret: { type: 'string', minLength: 32, maxLength: 1024 },
          },
          additionalProperties: false,
        },
        bodyOptional: true,
        responses: { 201: ok('RotatedKey', 'The new current key'), 400: err('A bad key id or secret'), 409: err('A key with this id exists') },
      },
      // A rotation with no body at all generates the key.
      preValidation: async (req: FastifyRequest) => {
        req.body ??= {};
      },
    },
    async (req, res) => {
      const tenant = options.tenantOf(req);
      const body = (req.body ?? {}) as { id?: string; secret?: string };
      try {
        const { key, previous } = await evidence.rotateKey(tenant, options.now(), body);
        options.onAudit?.(
          { who: options.who(req), action: 'evidence.key.rotate', target: `evidence-key:${key.id}`, before: previous === undefined ? null : { keyId: previous }, after: { keyId: key.id } },
          tenant,
        );
        return res.code(201).send({
          id: key.id,
          previous: previous ?? null,
          createdAt: new Date(key.createdAt).toISOString(),
          // Shown once, so the tenant can hand it to its auditors; a secret sent in the request is not echoed.
          ...(body.secret === undefined ? { secret: key.secret } : {}),
        });
      } catch (e) {
        if (e instanceof StoreError) {
          if (e.code === 'unavailable') {
            return res.code(503).header('retry-after', '30').send({ error: e.code, message: e.message });
          }
          return res.code(e.code === 'conflict' ? 409 : 400).send({ error: e.code, message: e.message });
        }
        throw e;
      }
    },
  );
}
