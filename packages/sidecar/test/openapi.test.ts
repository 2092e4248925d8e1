/**
 * The OpenAPI document is the API's contract: every route the app registers is in it with its
 * real statuses and a schema for each 2xx answer; it is served without a token; and real answers
 * of every route family (rules with PATCH, signals, replay, discovery, evidence, audit, usage,
 * probes) match it — status, media type and body (ajv against the documented schema).
 */
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import pino from 'pino';
import { apiDocument, buildApi } from '../src/api';
import { loadConfig } from '../src/config';
import { Metrics } from '../src/metrics';
import { RuleRegistry } from '../src/rules';
import { RuleSkips } from '../src/ruleSkips';
import { Store } from '../src/store';
import { createSidecar, Sidecar, VERSION } from '../src/sidecar';
import { ApiContract, OpenApiDoc } from './support/apiContract';

const root = path.join(__dirname, '../../..');
const example = (rule: string, verdict: 'violates' | 'satisfies') => fs.readFileSync(path.join(root, 'examples/traces', rule, `${verdict}-1.json`), 'utf8');

interface Running {
  sidecar: Sidecar;
  api: string;
  otlp: string;
  clock: { now: number };
  contract: ApiContract;
  dir: string;
}

const running: Running[] = [];
afterEach(async () => {
  for (const r of running.splice(0)) {
    await r.sidecar.stop();
    fs.rmSync(r.dir, { recursive: true, force: true });
  }
});

async function start(): Promise<Running> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'betrace-openapi-'));
  const config = loadConfig({ EVAL_WORKERS: '0', DATA_DIR: dir, RULES_DIR: path.join(root, 'examples/rules'), OTLP_PORT: '0', API_PORT: '0', HOST: '127.0.0.1', DECISION_WAIT: '10s' });
  const clock = { now: 1_764_028_800_000 };
  const sidecar = createSidecar(config, { now: () => clock.now, logger: pino({ level: 'silent' }), tickMs: 3_600_000 });
  const { otlpPort, apiPort } = await sidecar.start();
  const api = `http://127.0.0.1:${apiPort}`;
  const r = { sidecar, api, otlp: `http://127.0.0.1:${otlpPort}/v1/traces`, clock, contract: await ApiContract.of(api), dir };
  running.push(r);
  return r;
}

/** A request whose answer is checked against the document; `token: false` sends none. */
async function call(r: Running, method: string, url: string, body?: unknown, opts: { token?: boolean; type?: string } = {}) {
  const headers: Record<string, string> = opts.token === false ? {} : { authorization: `Bearer ${r.sidecar.token}` };
  if (body !== undefined) headers['content-type'] = opts.type ?? 'application/json';
  const res = await fetch(`${r.api}${url}`, { method, headers, body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body) });
  const text = await res.text();
  r.contract.check(method, url, res.status, res.headers.get('content-type'), text);
  const type = res.headers.get('content-type') ?? '';
  return { status: res.status, text, json: (type.startsWith('application/json') && text !== '' ? JSON.parse(text) : undefined) as any };
}

describe('the OpenAPI document', () => {
  it('lists every route the app registers, each with its statuses and a schema for every 2xx answer but 204', async () => {
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
      ready: () => true,
      version: VERSION,
      redactorOf: () => {
        throw new Error('unused');
      },
    });
    await app.ready();
    const doc = JSON.parse(JSON.stringify(app.openApiDocument())) as OpenApiDoc;
    // The router's own list (not the hook that builds the document): `GET, HEAD /api/v1/rules`.
    const listing = app.printRoutes({ commonPrefix: false });
    await app.close();
    store.close();
    // A tree: each line's path continues its parent's (4 characters of indent a level).
    const registered: string[] = [];
    const stack: string[] = [];
    for (const line of listing.split('\n')) {
      const m = /^([│ ]*)[├└]── (\S+)(?: \(([A-Z, ]+)\))?$/.exec(line);
      if (m) {
        stack.length = m[1].length / 4;
        stack.push(m[2]);
        const url = stack.join('').replace(/:([A-Za-z_]+)/g, '{$1}');
        registered.push(...(m[3] ?? '').split(', ').filter((x) => x !== '' && x !== 'HEAD').map((method) => `${method} ${url}`));
      }
    }
    expect(registered.length).toBeGreaterThan(25);
    const documented = Object.entries(doc.paths).flatMap(([p, ops]) => Object.keys(ops).map((m) => `${m.toUpperCase()} ${p}`));
    expect([...registered].sort()).toEqual([...documented].sort());
    for (const [p, ops] of Object.entries(doc.paths)) {
      for (const [m, op] of Object.entries(ops)) {
        const ok = Object.entries(op.responses).filter(([s]) => s.startsWith('2'));
        expect([m, p, ok.length > 0]).toEqual([m, p, true]);
        for (const [status, answer] of ok) {
          expect([m, p, status, status === '204' || Object.keys(answer.content ?? {}).length > 0]).toEqual([m, p, status, true]);
        }
        if (p.startsWith('/api/v1') && p !== '/api/v1/openapi.json') {
          expect([m, p, op.responses['401'] !== undefined]).toEqual([m, p, true]);
        }
      }
    }
    // The statuses the routes really answer, not 200 everywhere.
    expect(Object.keys(doc.paths['/api/v1/rules'].post.responses)).toEqual(['201', '400', '401', '409', '413', '415', '503']);
    expect(Object.keys(doc.paths['/api/v1/rules/{id}'].delete.responses)).toEqual(['204', '400', '401', '404', '409', '503']);
    expect(Object.keys(doc.paths['/api/v1/replay'].post.responses)).toEqual(['202', '400', '401', '404', '409', '413', '415', '429', '503']);
    expect(doc.paths['/readyz'].get.responses['503']).toBeDefined();
  });

  it('is served without a token, the same document apiDocument builds without a server', async () => {
    const r = await start();
    const res = await call(r, 'GET', '/api/v1/openapi.json', undefined, { token: false });
    expect(res.status).toBe(200);
    expect(res.json).toEqual(await apiDocument(VERSION));
    expect((await call(r, 'GET', '/api/v1/rules', undefined, { token: false })).status).toBe(401);
  });

  it('rejects answers it does not describe: an undocumented status, a missing or unknown field, a wrong type', () => {
    const doc = { paths: { '/api/v1/rules/{id}': { get: { responses: { '200': { content: { 'application/json': { schema: { $ref: '#/components/schemas/T' } } } }, '404': {} } } } }, components: { schemas: { T: { type: 'object', required: ['id'], properties: { id: { type: 'string' } }, additionalProperties: false } } } } as unknown as OpenApiDoc;
    const c = new ApiContract(doc);
    const json = 'application/json; charset=utf-8';
    expect(() => c.check('GET', '/api/v1/rules/x', 200, json, '{"id":"x"}')).not.toThrow();
    expect(() => c.check('GET', '/api/v1/rules/x', 201, json, '{"id":"x"}')).toThrow(/answered 201, a status the OpenAPI document does not list/);
    expect(() => c.check('GET', '/api/v1/rules/x', 200, json, '{}')).toThrow(/must have required property 'id'/);
    expect(() => c.check('GET', '/api/v1/rules/x', 200, json, '{"id":"x","extra":1}')).toThrow(/must NOT have additional properties/);
    expect(() => c.check('GET', '/api/v1/rules/x', 200, json, '{"id":1}')).toThrow(/must be string/);
    expect(() => c.check('GET', '/api/v1/rules/x', 200, 'text/plain', 'x')).toThrow(/Content-Type "text\/plain"/);
    expect(() => c.check('GET', '/api/v1/rules/x', 404, null, 'body')).toThrow(/with a body, where the document says none/);
    expect(() => c.check('POST', '/api/v1/rules/x', 200, json, '{}')).toThrow(/not in the OpenAPI document/);
  });
});

describe('real answers match the document', () => {
  it('rules: create, read, update, patch, history, rollback, validate, test, delete and their errors', async () => {
    const r = await start();
    const rule = { id: 'slow-checkout', name: 'Slow checkout', severity: 'low', condition: 'when { checkout } always { payment }', description: 'd', note: 'first' };
    expect((await call(r, 'POST', '/api/v1/rules', rule)).status).toBe(201);
    expect((await call(r, 'POST', '/api/v1/rules', rule)).status).toBe(409);
    expect((await call(r, 'POST', '/api/v1/rules', { ...rule, id: 'x', condition: 'when {' })).json).toMatchObject({ error: 'invalid_rule', diagnostics: [expect.objectContaining({ startLine: 1 })] });
    expect((await call(r, 'POST', '/api/v1/rules', 'not json')).status).toBe(400);
    expect((await call(r, 'POST', '/api/v1/rules', '<rule/>', { type: 'application/xml' })).status).toBe(415);
    expect((await call(r, 'GET', '/api/v1/rules')).json.rules.length).toBeGreaterThan(1);
    expect((await call(r, 'GET', '/api/v1/rules/slow-checkout')).status).toBe(200);
    expect((await call(r, 'GET', '/api/v1/rules/nope')).status).toBe(404);
    expect((await call(r, 'PUT', '/api/v1/rules/slow-checkout', { ...rule, name: 'Renamed' })).json.version).toBe(2);
    expect((await call(r, 'PUT', '/api/v1/rules/slow-checkout', { ...rule, id: 'other' })).status).toBe(400);
    expect((await call(r, 'PUT', '/api/v1/rules/payment-fraud-check', { ...rule, id: 'payment-fraud-check' })).status).toBe(409);
    expect((await call(r, 'PATCH', '/api/v1/rules/slow-checkout', { enabled: false })).json).toMatchObject({ enabled: false, version: 3 });
    expect((await call(r, 'GET', '/api/v1/rules/slow-checkout/history')).json.versions).toHaveLength(3);
    expect((await call(r, 'POST', '/api/v1/rules/slow-checkout/rollback', { version: 1 })).json.version).toBe(4);
    expect((await call(r, 'POST', '/api/v1/rules/slow-checkout/rollback', { version: 99 })).status).toBe(404);
    expect((await call(r, 'POST', '/api/v1/rules/validate', { condition: 'when { a } always { b }' })).json.valid).toBe(true);
    expect((await call(r, 'POST', '/api/v1/rules/validate', { condition: 'when {' })).json.valid).toBe(false);
    const test = await call(r, 'POST', '/api/v1/rules/test', { ruleId: 'payment-fraud-check', traces: [JSON.parse(example('payment-fraud-check', 'violates'))] });
    expect(test.json.fired).toBe(1);
    expect((await call(r, 'POST', '/api/v1/rules/test', { ruleId: 'nope', traces: [] })).status).toBe(404);
    expect((await call(r, 'POST', '/api/v1/rules/test', { condition: 'x', traceIds: ['ab'] })).status).toBe(409);
    expect((await call(r, 'DELETE', '/api/v1/rules/slow-checkout')).status).toBe(204);
    expect((await call(r, 'DELETE', '/api/v1/rules/slow-checkout')).status).toBe(404);
    expect((await call(r, 'DELETE', '/api/v1/rules/payment-fraud-check')).status).toBe(409);
  });

  it('signals, replay, discovery, evidence, audit, usage and the probes', async () => {
    const r = await start();
    await fetch(r.otlp, { method: 'POST', headers: { 'content-type': 'application/json' }, body: example('payment-fraud-check', 'violates') });
    r.clock.now += 10_001;
    await r.sidecar.shards.tick();
    const page = await call(r, 'GET', '/api/v1/signals');
    expect(page.json.total).toBe(1);
    const id = page.json.signals[0].id as string;
    expect((await call(r, 'GET', '/api/v1/signals?from=soon')).status).toBe(400);
    expect((await call(r, 'GET', '/api/v1/signals?limit=0')).status).toBe(400);
    expect((await call(r, 'GET', '/api/v1/signals/summary')).json.rules).toHaveLength(1);
    expect((await call(r, 'GET', `/api/v1/signals/${id}`)).json.changes).toEqual([]);
    expect((await call(r, 'GET', '/api/v1/signals/nope')).status).toBe(404);
    expect((await call(r, 'PATCH', `/api/v1/signals/${id}`, { status: 'resolved', note: 'fixed' })).json.status).toBe('resolved');
    expect((await call(r, 'PATCH', `/api/v1/signals/${id}`, { status: 'acknowledged' })).status).toBe(409);
    expect((await call(r, 'GET', `/api/v1/signals/${id}`)).json.changes).toHaveLength(1);
    const range = { from: String(r.clock.now - 3_600_000), to: String(r.clock.now) };
    const replay = await call(r, 'POST', '/api/v1/replay', { ...range, ruleIds: ['payment-fraud-check'], dryRun: true });
    expect([202, 409]).toContain(replay.status);
    if (replay.status === 202) {
      await r.sidecar.replays.get('default')?.idle();
      expect((await call(r, 'GET', `/api/v1/replay/${replay.json.id}`)).status).toBe(200);
      expect((await call(r, 'DELETE', `/api/v1/replay/${replay.json.id}`)).status).toBe(200);
    }
    expect((await call(r, 'GET', '/api/v1/replay/nope')).status).toBe(404);
    expect((await call(r, 'POST', '/api/v1/replay', { from: 'x', to: 'y' })).status).toBe(replay.status === 409 ? 409 : 400);
    const discover = await call(r, 'POST', '/api/v1/discover', range);
    expect([202, 409]).toContain(discover.status);
    expect((await call(r, 'POST', '/api/v1/discover', { from: range.to, to: range.from })).status).toBe(400);
    expect((await call(r, 'GET', '/api/v1/discover')).status).toBe(200);
    expect((await call(r, 'GET', '/api/v1/discover/nope')).status).toBe(404);
    expect((await call(r, 'DELETE', '/api/v1/discover/nope')).status).toBe(404);
    expect((await call(r, 'POST', '/api/v1/discover/nope/suggestions/sg/dismiss')).status).toBe(404);
    expect((await call(r, 'GET', '/api/v1/discover/nope/traces/xyz')).status).toBe(400);
    expect((await call(r, 'GET', '/api/v1/evidence')).status).toBe(200);
    expect((await call(r, 'GET', '/api/v1/evidence?from=later')).status).toBe(400);
    expect((await call(r, 'GET', '/api/v1/evidence/export?format=json')).json.records).toBeDefined();
    expect((await call(r, 'GET', '/api/v1/evidence/export?format=csv')).status).toBe(200);
    expect((await call(r, 'GET', '/api/v1/evidence/export?format=pdf')).status).toBe(200);
    expect((await call(r, 'GET', '/api/v1/evidence/keys')).json.keys.length).toBeGreaterThan(0);
    expect((await call(r, 'POST', '/api/v1/evidence/keys/rotate')).json.secret).toBeDefined();
    expect((await call(r, 'POST', '/api/v1/evidence/keys/rotate', { id: 'Bad id!' })).status).toBe(400);
    expect((await call(r, 'GET', '/api/v1/audit?action=rule.*')).status).toBe(200);
    expect((await call(r, 'GET', '/api/v1/usage')).json.totals.spans).toBeGreaterThan(0);
    expect((await call(r, 'GET', '/api/v1/usage?from=2026-02-30x')).status).toBe(400);
    expect((await call(r, 'GET', '/healthz', undefined, { token: false })).json).toEqual({ status: 'ok' });
    expect((await call(r, 'GET', '/readyz', undefined, { token: false })).json.ready).toBe(true);
    expect((await call(r, 'GET', '/metrics', undefined, { token: false })).text).toContain('process_cpu_seconds_total');
    // Every family above, by its documented path: the answers that were checked.
    const families = new Set([...r.contract.seen].map((s) => s.split(' ')[1].split('/').slice(0, 4).join('/')));
    expect([...families].sort()).toEqual(['/api/v1/audit', '/api/v1/discover', '/api/v1/evidence', '/api/v1/replay', '/api/v1/signals', '/api/v1/usage', '/healthz', '/metrics', '/readyz']);
  });
});
