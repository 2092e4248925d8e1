/**
 * The evidence routes on a bare fastify app (fastify.inject): exact JSON and CSV exports, the
 * audit hook, key rotation, the PDF report's content, and the auditor's script from
 * docs/evidence.md run against a real export.
 */
import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import Fastify, { FastifyInstance } from 'fastify';
import { AuditEntry, evidenceReport, registerEvidenceRoutes } from '../src/evidence/api';
import { ChainVerifier, verifyRecords } from '../src/evidence/chain';
import { renderPdf } from '../src/evidence/pdf';
import { chainHash, EvidenceDraft, evidenceAttributes, GENESIS_PREV } from '../src/evidence/record';
import { controlSummary } from '../src/evidence/report';
import { EvidenceStore } from '../src/evidence/store';
import { verifyChain } from '../src/evidence/verify';
import { Store } from '../src/store';

const T0 = Date.UTC(2026, 10, 25, 12, 0, 0);
const NOW = Date.UTC(2026, 10, 26, 9, 30, 0);
const SECRET = 'api-key-0123456789abcdef0123456789ab';

const draft = (control: string, failed: number, minute: number, framework = 'soc2'): EvidenceDraft => ({
  framework,
  control,
  ruleId: `rule-${control.toLowerCase().replace(/[^a-z0-9]/g, '')}`,
  outcome: failed > 0 ? 'fail' : 'pass',
  evidenceType: 'summary',
  checkedTraces: 5,
  failedTraces: failed,
  windowStart: T0 + minute * 60_000,
  windowEnd: T0 + (minute + 1) * 60_000,
  sampleTraceIds: ['f'.repeat(32)],
  traceId: String(minute).padStart(32, '0'),
});

/** fastify.inject needs light-my-request's ESM-only `cookie` here, so requests go over real HTTP. */
interface Reply {
  statusCode: number;
  headers: Record<string, string>;
  body: string;
  json<T = unknown>(): T;
}

class Client {
  constructor(private readonly base: string) {}

  async inject(o: { method: string; url: string; payload?: unknown; headers?: Record<string, string> }): Promise<Reply> {
    const res = await fetch(`${this.base}${o.url}`, {
      method: o.method,
      headers: { ...(o.payload !== undefined ? { 'content-type': 'application/json' } : {}), ...o.headers },
      body: o.payload === undefined ? undefined : JSON.stringify(o.payload),
    });
    const body = await res.text();
    return { statusCode: res.status, headers: Object.fromEntries(res.headers.entries()), body, json: <T>() => JSON.parse(body) as T };
  }
}

const apps: FastifyInstance[] = [];
afterEach(async () => {
  await Promise.all(apps.splice(0).map((a) => a.close()));
});

interface Setup {
  app: Client;
  evidence: EvidenceStore;
  audits: Array<[AuditEntry, string]>;
}

async function setup(): Promise<Setup> {
  const store = new Store(':memory:');
  const evidence = new EvidenceStore(store.db);
  evidence.seedKeys('acme', [{ id: 'k1', secret: SECRET }], T0);
  evidence.append('acme', [draft('CC6.1', 0, 0), draft('CC6.1', 2, 1), draft('164.312(b)', 0, 1, 'hipaa')], [], T0 + 120_000);
  evidence.append('globex', [draft('CC6.1', 1, 0)], [], T0);
  const audits: Array<[AuditEntry, string]> = [];
  const app = Fastify();
  registerEvidenceRoutes(app, { store, evidence, now: () => NOW, tenantOf: (req) => String(req.headers['x-tenant'] ?? 'acme'), who: () => 'ana', onAudit: (e, t) => audits.push([e, t]) });
  await app.listen({ port: 0, host: '127.0.0.1' });
  apps.push(app);
  return { app: new Client(`http://127.0.0.1:${(app.server.address() as { port: number }).port}`), evidence, audits };
}

describe('evidence export', () => {
  it('as JSON: exactly the report, each record with its signed attributes and verification', async () => {
    const { app, evidence, audits } = await setup();
    const res = await app.inject({ method: 'GET', url: '/api/v1/evidence/export?format=json&framework=soc2&from=2026-11-25T12:00:00Z&to=2026-11-25T13:00:00Z' });
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-type']).toBe('application/json; charset=utf-8');
    expect(res.headers['content-disposition']).toBe('attachment; filename="betrace-evidence-acme-2026-11-26T09-30-00-000Z.json"');
    const [r1, r2] = evidence.all('acme');
    const view = (r: typeof r1, passed: number) => ({
      seq: r.seq,
      framework: 'soc2',
      control: 'CC6.1',
      ruleId: 'rule-cc61',
      evidenceType: 'summary',
      outcome: r.outcome,
      checkedTraces: 5,
      passedTraces: passed,
      failedTraces: 5 - passed,
      windowStart: new Date(r.windowStart).toISOString(),
      windowEnd: new Date(r.windowEnd).toISOString(),
      sampleTraceIds: ['f'.repeat(32)],
      traceId: r.traceId,
      spanId: r.spanId,
      keyId: 'k1',
      prev: r.prev,
      signature: r.signature,
      attributes: evidenceAttributes(r),
      verification: { seq: r.seq, signature: 'valid', link: 'valid', reordered: false, ok: true },
    });
    const expected = {
      tenant: 'acme',
      generatedAt: '2026-11-26T09:30:00.000Z',
      scope: { framework: 'soc2', control: null },
      period: { from: '2026-11-25T12:00:00.000Z', to: '2026-11-25T13:00:00.000Z' },
      verification: {
        records: 3,
        verified: 3,
        altered: [],
        brokenLinks: [],
        missing: [],
        reordered: [],
        unknownKey: [],
        duplicates: [],
        headMismatch: false,
        // No anchor log in this setup (anchoring is tested on its own).
        anchors: { anchors: 0, latest: null, altered: [], unknownKey: [], truncated: [], mismatched: [], outOfOrder: [], unreadable: 0 },
        ok: true,
        // An export walks the whole chain, now, up to the head.
        scope: 'full',
        checkedAt: '2026-11-26T09:30:00.000Z',
        head: 3,
      },
      controls: [{ framework: 'soc2', control: 'CC6.1', records: 2, pass: 1, fail: 1, checkedTraces: 10, failedTraces: 2 }],
      records: [view(r1, 5), view(r2, 3)],
      // The stored head: the whole chain's, whatever the filter (seq 3 is the HIPAA record).
      head: { seq: 3, hash: chainHash(evidence.all('acme')[2]) },
      anchors: [],
    };
    expect(res.body).toBe(JSON.stringify(expected, null, 2));
    expect([r1.prev, r2.prev]).toEqual([GENESIS_PREV, chainHash(r1)]);
    expect(audits).toEqual([
      [
        {
          who: 'ana',
          action: 'evidence.export',
          target: 'evidence',
          before: null,
          after: { format: 'json', framework: 'soc2', control: null, from: '2026-11-25T12:00:00.000Z', to: '2026-11-25T13:00:00.000Z', records: 2 },
        },
        'acme',
      ],
    ]);
  });

  it('as CSV through the route, scoped to the token’s tenant', async () => {
    const { app } = await setup();
    const res = await app.inject({ method: 'GET', url: '/api/v1/evidence/export?format=csv&control=CC6.1', headers: { 'x-tenant': 'globex' } });
    expect(res.headers['content-type']).toBe('text/csv; charset=utf-8');
    const lines = res.body.split('\r\n');
    expect(lines).toHaveLength(3);
    expect(lines[1]).toMatch(/^1,soc2,CC6\.1,rule-cc61,summary,fail,5,4,1,2026-11-25T12:00:00\.000Z,2026-11-25T12:01:00\.000Z,f{32},0{32},[0-9a-f]{16},k-\d{8}-[0-9a-f]{6},0{64},[0-9a-f]{64},ok$/);
    expect(lines[2]).toBe('');
  });

  it('refuses bad scopes with a message naming the parameter', async () => {
    const { app } = await setup();
    const cases: Array<[string, RegExp]> = [
      ['/api/v1/evidence/export?format=xml', /format must be equal to one of the allowed values/],
      ['/api/v1/evidence?from=last%20tuesday', /querystring\/from must be epoch milliseconds or an ISO 8601 time/],
      ['/api/v1/evidence?from=2000&to=1000', /querystring\/to must be after querystring\/from/],
      ['/api/v1/evidence?limit=0', /limit must be >= 1/],
    ];
    for (const [url, message] of cases) {
      const res = await app.inject({ method: 'GET', url });
      expect([url, res.statusCode]).toEqual([url, 400]);
      expect(res.json<{ message: string }>().message).toMatch(message);
    }
  });

  it('as a PDF auditor’s report: scope, period, per-control table, verification, records', async () => {
    const { evidence } = await setup();
    const pdf = await renderPdf(evidenceReport(evidence, 'acme', {}, NOW), { compress: false });
    expect(pdf.subarray(0, 5).toString('latin1')).toBe('%PDF-');
    // Uncompressed content streams: text is shown by TJ arrays of hex strings (WinAnsi).
    const text = [...pdf.toString('latin1').matchAll(/\[([^\]]*)\] TJ/g)]
      .map((m) => [...m[1].matchAll(/<([0-9a-f]*)>/g)].map((h) => Buffer.from(h[1], 'hex').toString('latin1')).join(''))
      .join('\n');
    for (const expected of ['Compliance evidence report', 'Tenant: acme', 'Scope: framework all, control all',
      'Period: 2026-11-25T12:00:00.000Z to 2026-11-25T12:02:00.000Z (all records)', 'Per-control results', 'CC6.1', '164.312(b)', 'hipaa', 'Result: the chain verifies', 'Missing (seq gaps): none', 'rule-cc61']) {
      expect(text).toContain(expected);
    }
    evidence.db.prepare("DELETE FROM evidence WHERE tenant = 'acme' AND seq = 2").run();
    const broken = await renderPdf(evidenceReport(evidence, 'acme', {}, NOW), { compress: false });
    const brokenText = [...broken.toString('latin1').matchAll(/<([0-9a-f]*)>/g)].map((h) => Buffer.from(h[1], 'hex').toString('latin1')).join('');
    expect(brokenText).toContain('PROBLEMS FOUND');
    expect(brokenText).toContain('Missing (seq gaps): 2');
  });
});

describe('the records route', () => {
  it('pages records in scope with the chain verification and the per-control summary', async () => {
    const { app } = await setup();
    const body = (await app.inject({ method: 'GET', url: '/api/v1/evidence?limit=2&offset=1' })).json<{
      records: Array<{ seq: number }>;
      total: number;
      summary: { controls: Array<{ control: string }> };
      verification: { ok: boolean };
    }>();
    expect(body.records.map((r) => r.seq)).toEqual([2, 3]);
    expect(body.total).toBe(3);
    expect(body.summary.controls.map((c) => c.control)).toEqual(['164.312(b)', 'CC6.1']);
    expect(body.verification.ok).toBe(true);
  });
});

describe('verification per request: the page in full, the chain from a cached full walk', () => {
  const MAX_AGE = 10 * 60_000;
  type Page = {
    records: Array<{ seq: number; verification: { seq: number; signature: string; link: string; reordered: boolean; ok: boolean } }>;
    verification: { records: number; ok: boolean; altered: number[]; brokenLinks: number[]; missing: number[]; scope: string; checkedAt: string; head: number };
    summary: { controls: unknown[] };
  };

  async function clocked(records: number) {
    const store = new Store(':memory:');
    const evidence = new EvidenceStore(store.db);
    evidence.seedKeys('acme', [{ id: 'k1', secret: SECRET }], T0);
    evidence.append('acme', Array.from({ length: records }, (_, i) => draft(i % 3 === 0 ? 'CC7.2' : 'CC6.1', i % 4 === 0 ? 1 : 0, i)), [], T0);
    const clock = { now: NOW };
    const app = Fastify();
    registerEvidenceRoutes(app, { store, evidence, now: () => clock.now, tenantOf: () => 'acme', who: () => 'ana', verificationMaxAgeMs: MAX_AGE });
    await app.listen({ port: 0, host: '127.0.0.1' });
    apps.push(app);
    const client = new Client(`http://127.0.0.1:${(app.server.address() as { port: number }).port}`);
    const get = async (query = '') => (await client.inject({ method: 'GET', url: `/api/v1/evidence${query}` })).json<Page>();
    return { store, evidence, clock, client, get };
  }

  it('shows an altered record on the next page holding it, in the summary once the walk is older than its bound, and at once after an export', async () => {
    const { store, clock, client, get } = await clocked(20);
    const first = await get('?limit=5');
    expect(first.verification).toMatchObject({ records: 20, ok: true, scope: 'full', checkedAt: new Date(NOW).toISOString(), head: 20 });

    store.db.prepare("UPDATE evidence SET failed_traces = 0, outcome = 'pass' WHERE tenant = 'acme' AND seq = 13").run();
    clock.now = NOW + 60_000;
    const page = await get('?limit=5&offset=10');
    expect(page.records.map((r) => [r.seq, r.verification.signature, r.verification.link, r.verification.ok])).toEqual([
      [11, 'valid', 'valid', true],
      [12, 'valid', 'valid', true],
      [13, 'invalid', 'valid', false],
      // Its link hashes the altered record.
      [14, 'valid', 'broken', false],
      [15, 'valid', 'valid', true],
    ]);
    // The summary is the cached walk's (from before the change) until its bound passes.
    expect(page.verification).toMatchObject({ ok: true, scope: 'cached', checkedAt: new Date(NOW).toISOString(), head: 20 });
    // A page without the record does not see it.
    expect((await get('?limit=5')).records.every((r) => r.verification.ok)).toBe(true);

    clock.now = NOW + MAX_AGE;
    const later = await get('?limit=5');
    expect(later.verification).toMatchObject({ ok: false, altered: [13], brokenLinks: [14], scope: 'full', checkedAt: new Date(NOW + MAX_AGE).toISOString() });

    // An export always walks in full, and refreshes the cache the records route answers from.
    store.db.prepare("UPDATE evidence SET checked_traces = 99 WHERE tenant = 'acme' AND seq = 2").run();
    clock.now = NOW + MAX_AGE + 1000;
    const exported = (await client.inject({ method: 'GET', url: '/api/v1/evidence/export?format=json' })).json<Page>();
    expect(exported.verification).toMatchObject({ ok: false, altered: [2, 13], scope: 'full', checkedAt: new Date(clock.now).toISOString() });
    clock.now += 1000;
    expect((await get('?limit=1')).verification).toMatchObject({ altered: [2, 13], scope: 'cached', checkedAt: new Date(clock.now - 1000).toISOString() });
  });

  it('continues the cached walk over records appended since, so the summary covers the head', async () => {
    const { evidence, clock, get } = await clocked(10);
    expect((await get()).verification).toMatchObject({ records: 10, head: 10, scope: 'full' });
    evidence.append('globex', [draft('CC6.1', 0, 0)], [], T0);
    evidence.append('acme', [draft('CC6.1', 0, 10), draft('CC7.2', 1, 11)], [], T0 + 1);
    clock.now = NOW + 1000;
    const page = await get('?offset=10');
    expect(page.verification).toMatchObject({ records: 12, verified: 12, head: 12, ok: true, scope: 'cached', checkedAt: new Date(NOW).toISOString() });
    expect(page.records.map((r) => r.verification)).toEqual([
      { seq: 11, signature: 'valid', link: 'valid', reordered: false, ok: true },
      { seq: 12, signature: 'valid', link: 'valid', reordered: false, ok: true },
    ]);
    // Records deleted at the end, then appends: the gap shows in the continued summary as in a full walk.
    evidence.db.prepare("DELETE FROM evidence WHERE tenant = 'acme' AND seq = 12").run();
    evidence.append('acme', [draft('CC6.1', 0, 12)], [], T0 + 2);
    evidence.db.prepare("DELETE FROM evidence WHERE tenant = 'acme' AND seq = 13").run();
    evidence.append('acme', [draft('CC6.1', 0, 13)], [], T0 + 3);
    const summary = (await get()).verification;
    const { summary: full } = verifyChain(evidence.all('acme'), evidence.keyring('acme'), evidence.head('acme').seq);
    // Seq 12 was walked before it was deleted: the cached walk still counts it; its gap shows at the next full walk.
    expect(summary).toMatchObject({ ...full, records: 13, verified: 12, missing: [13], head: 14, scope: 'cached' });
    clock.now = NOW + MAX_AGE;
    expect((await get()).verification).toEqual({ ...full, scope: 'full', checkedAt: new Date(NOW + MAX_AGE).toISOString(), head: 14 });
  });

  it('a continued walk says what a full walk says (appends, a foreign key, a duplicate)', async () => {
    const store = new Store(':memory:');
    const evidence = new EvidenceStore(store.db);
    evidence.seedKeys('acme', [{ id: 'k1', secret: SECRET }], T0);
    evidence.append('acme', [draft('CC6.1', 0, 0), draft('CC6.1', 1, 1)], [], T0);
    // The verifying side holds k1 only: records signed by the k2 rotated in below are foreign to it.
    const reader = new EvidenceStore(store.db);
    reader.seedKeys('acme', [{ id: 'k1', secret: SECRET }], T0);
    const verifier = new ChainVerifier(reader, MAX_AGE);
    verifier.full('acme', NOW);
    evidence.append('acme', [draft('CC6.1', 0, 2), draft('CC7.2', 0, 3)], [], T0);
    // A record copied in again (a duplicate, out of order) and one re-signed by an unknown key.
    const columns = 'tenant, seq, framework, control, rule_id, outcome, evidence_type, checked_traces, failed_traces, window_start, window_end, sample_trace_ids, trace_id, span_id, parent_span_id, key_id, prev, signature, created_at';
    store.db.prepare(`INSERT INTO evidence (${columns}) SELECT ${columns} FROM evidence WHERE tenant = 'acme' AND seq = 2`).run();
    await evidence.rotateKey('acme', T0, { id: 'k2', secret: 'k2-secret-0123456789abcdef0123456789' });
    evidence.append('acme', [draft('CC6.1', 0, 4)], [], T0);
    const { summary: full } = verifyChain(evidence.all('acme'), reader.keyring('acme'), evidence.head('acme').seq);
    expect(full).toMatchObject({ duplicates: [2], reordered: [2], unknownKey: [5], ok: false });
    const { scope, checkedAt, head, ...continued } = verifier.summary('acme', NOW + 1);
    expect([scope, checkedAt, head]).toEqual(['cached', new Date(NOW).toISOString(), 5]);
    expect(continued).toEqual(full);
  });

  it('verifies a page exactly as the full walk verifies its records', () => {
    const store = new Store(':memory:');
    const evidence = new EvidenceStore(store.db);
    evidence.seedKeys('acme', [{ id: 'k1', secret: SECRET }], T0);
    evidence.append('acme', Array.from({ length: 12 }, (_, i) => draft('CC6.1', i % 2, i)), [], T0);
    store.db.prepare("UPDATE evidence SET failed_traces = 7 WHERE tenant = 'acme' AND seq = 4").run();
    store.db.prepare("DELETE FROM evidence WHERE tenant = 'acme' AND seq = 8").run();
    // Swap the stored places of records 10 and 11, each intact.
    const rows = store.db.prepare("SELECT rowid AS r, * FROM evidence WHERE tenant = 'acme' AND seq IN (10, 11) ORDER BY seq").all() as Array<Record<string, unknown>>;
    const columns = Object.keys(rows[0]).filter((c) => c !== 'r' && c !== 'rowid'); // PostgreSQL's explicit rowid column stays where it is
    const set = columns.map((c) => `${c} = @${c}`).join(', ');
    store.db.prepare(`UPDATE evidence SET ${set} WHERE rowid = ${String(rows[0].r)}`).run(Object.fromEntries(columns.map((c) => [c, rows[1][c]])));
    store.db.prepare(`UPDATE evidence SET ${set} WHERE rowid = ${String(rows[1].r)}`).run(Object.fromEntries(columns.map((c) => [c, rows[0][c]])));
    const { bySeq } = verifyChain(evidence.all('acme'), evidence.keyring('acme'), evidence.head('acme').seq);
    for (const [offset, limit] of [[0, 3], [2, 4], [6, 5], [0, 100]]) {
      const { rows: page } = evidence.page('acme', { offset, limit });
      expect(verifyRecords(evidence, 'acme', page)).toEqual(page.map((r) => bySeq.get(r.record.seq)));
    }
    expect([bySeq.get(4)!.signature, bySeq.get(5)!.link, bySeq.get(9)!.link, bySeq.get(10)!.reordered]).toEqual(['invalid', 'broken', 'unchecked', true]);
  });

  it('counts per control in SQL exactly as from the records, whatever the scope', async () => {
    const { evidence, get } = await clocked(30);
    evidence.append('acme', [{ ...draft('CC6.1', 1, 31), evidenceType: 'trace', checkedTraces: 1, failedTraces: 1 }, draft('164.312(b)', 0, 32, 'hipaa')], [], T0);
    const scopes = [{}, { framework: 'SOC2' }, { control: 'CC7.2' }, { from: T0 + 10 * 60_000, to: T0 + 20 * 60_000 }, { framework: 'hipaa', from: T0 }];
    for (const scope of scopes) {
      const expected = controlSummary(evidence.list('acme', scope).records);
      expect(expected.length).toBeGreaterThan(0);
      const query = Object.entries(scope).map(([k, v]) => `${k}=${encodeURIComponent(String(v))}`).join('&');
      expect((await get(`?${query}`)).summary.controls).toEqual(expected);
    }
  });
});

describe('key rotation', () => {
  it('creates a new current key, keeps the old one, audits it and shows a generated secret once', async () => {
    const { app, audits, evidence } = await setup();
    const res = await app.inject({ method: 'POST', url: '/api/v1/evidence/keys/rotate', payload: {} });
    expect(res.statusCode).toBe(201);
    const key = res.json<{ id: string; previous: string; secret: string }>();
    expect(key.previous).toBe('k1');
    expect(key.secret).toMatch(/^[0-9a-f]{64}$/);
    const keys = (await app.inject({ method: 'GET', url: '/api/v1/evidence/keys' })).json<{ keys: Array<Record<string, unknown>> }>().keys;
    expect(keys.map((k) => [k.id, k.current, k.secret])).toEqual([
      ['k1', false, undefined],
      [key.id, true, undefined],
    ]);
    expect(audits).toEqual([[{ who: 'ana', action: 'evidence.key.rotate', target: `evidence-key:${key.id}`, before: { keyId: 'k1' }, after: { keyId: key.id } }, 'acme']]);

    const own = await app.inject({ method: 'POST', url: '/api/v1/evidence/keys/rotate', payload: { id: 'k9', secret: 's'.repeat(40) } });
    expect(own.statusCode).toBe(201);
    expect(own.json()).toEqual({ id: 'k9', previous: key.id, createdAt: '2026-11-26T09:30:00.000Z' });
    expect((await app.inject({ method: 'POST', url: '/api/v1/evidence/keys/rotate', payload: { id: 'k9', secret: 's'.repeat(40) } })).statusCode).toBe(409);
    expect((await app.inject({ method: 'POST', url: '/api/v1/evidence/keys/rotate', payload: { secret: 'short' } })).statusCode).toBe(400);
    // No body at all is fine too.
    expect((await app.inject({ method: 'POST', url: '/api/v1/evidence/keys/rotate' })).statusCode).toBe(201);
    // The other tenant's keys did not move.
    expect(evidence.keys('globex')).toHaveLength(1);
  });
});

describe('the auditor’s script (docs/verify_evidence.py) on a real export', () => {
  const python = spawnSync('python3', ['--version']).status === 0;
  (python ? it : it.skip)('verifies it, and fails on an altered, a missing or a reordered record', async () => {
    const script = path.join(__dirname, '../../../docs/verify_evidence.py');
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'betrace-verify-'));
    fs.writeFileSync(path.join(dir, 'keys.json'), JSON.stringify({ k1: SECRET }));
    const { app } = await setup();
    const exported = (await app.inject({ method: 'GET', url: '/api/v1/evidence/export?format=json' })).json<{ records: Array<{ attributes: Record<string, { stringValue?: string; intValue?: string }> }> }>();
    const run = (data: unknown) => {
      fs.writeFileSync(path.join(dir, 'export.json'), JSON.stringify(data));
      const r = spawnSync('python3', [script, path.join(dir, 'export.json'), path.join(dir, 'keys.json')], { encoding: 'utf8' });
      return { status: r.status, out: r.stdout };
    };
    const clean = run(exported);
    expect(clean.status).toBe(0);
    expect(clean.out).toMatch(/^1 signature ok link ok\n2 signature ok link ok\n3 signature ok link ok\n/);
    expect(clean.out).toContain('no anchors');

    const altered = structuredClone(exported);
    altered.records[1].attributes['compliance.failed_traces'] = { intValue: '0' };
    expect(run(altered)).toMatchObject({ status: 1, out: expect.stringContaining('2 ALTERED link ok') });
    expect(run(altered).out).toContain('3 signature ok CHAIN BROKEN');

    const gap = { ...exported, records: [exported.records[0], exported.records[2]] };
    expect(run(gap)).toMatchObject({ status: 1, out: expect.stringMatching(/MISSING seq: 2/) });
    const swapped = { ...exported, records: [exported.records[0], exported.records[2], exported.records[1]] };
    expect(run(swapped)).toMatchObject({ status: 1, out: expect.stringContaining('2 signature ok link ok REORDERED') });
  });
});
