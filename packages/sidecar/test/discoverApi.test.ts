/**
 * The discovery API (/api/v1/discover): the job lifecycle (create → progress → done, cancel,
 * delete, one running job per tenant, a restart failing the job that was running), adopt (a rule
 * through the rules' own path, with provenance), dismiss (never proposed again), the example
 * traces as OTLP/JSON, the 400s naming the field and 409 no_source. Real traces (the shop corpus
 * in a Tempo double, or in a history), the real miner, on its worker thread unless said otherwise.
 */
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import pino from 'pino';
import { decodeOtlpJson, Trace } from '@betrace/evaluator';
import { TempoDouble } from '../../../tests/support/tempoDouble';
import { loadConfig } from '../src/config';
import { DiscoveryJobs } from '../src/discovery/jobs';
import { minerHere } from '../src/discovery/mine';
import type { TraceHistory } from '../src/discovery/sources';
import { DiscoveryStore } from '../src/discovery/store';
import { createSidecar, Sidecar, SidecarDeps } from '../src/sidecar';
import { Store } from '../src/store';
import { shopCorpus, spansOf, traceIdOf } from './support/discoverCorpus';
import { until } from './support/serve';

const TOKEN = 'discover-test-token';
const START = Date.now() - 3_600_000;
const FROM = new Date(START - 60_000).toISOString();
const TO = new Date(START + 600_000).toISOString();
/** 300 traces a second apart; 2 % lack the fraud check (the "almost invariant" and its incidents). */
const VIOLATING = (i: number) => i % 50 === 7;
const CORPUS = shopCorpus(300, START, VIOLATING);

const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) {
    await c();
  }
});

interface Setup {
  sidecar: Sidecar;
  otlp: string;
  tempo?: TempoDouble;
  dir: string;
  call: (method: string, url: string, body?: unknown, user?: string) => Promise<{ status: number; json: any; headers: Headers }>;
}

async function setup(options: { tempo?: boolean; dir?: string; env?: Record<string, string>; deps?: SidecarDeps; tempoLatencyMs?: number } = {}): Promise<Setup> {
  const dir = options.dir ?? fs.mkdtempSync(path.join(os.tmpdir(), 'betrace-discover-api-'));
  let tempo: TempoDouble | undefined;
  const env: Record<string, string> = { EVAL_WORKERS: '0', DATA_DIR: dir, OTLP_PORT: '0', API_PORT: '0', HOST: '127.0.0.1', BETRACE_API_TOKEN: TOKEN, ...options.env };
  if (options.tempo !== false) {
    tempo = new TempoDouble();
    env.TEMPO_URL = await tempo.start();
    tempo.ingest('single-tenant', spansOf(CORPUS));
    if (options.tempoLatencyMs) tempo.fault = { latencyMs: options.tempoLatencyMs, path: '/api/v2/traces' };
    cleanups.push(() => tempo!.stop());
  }
  const sidecar = createSidecar(loadConfig(env), { logger: pino({ level: 'silent' }), tickMs: 3_600_000, pollIntervalMs: 0, ...options.deps });
  const { apiPort, otlpPort } = await sidecar.start();
  let stopped = false;
  cleanups.push(async () => {
    if (!stopped) await sidecar.stop();
    stopped = true;
  });
  const call = async (method: string, url: string, body?: unknown, user?: string) => {
    const headers: Record<string, string> = { authorization: `Bearer ${TOKEN}` };
    if (body !== undefined) headers['content-type'] = 'application/json';
    if (user !== undefined) headers['x-grafana-user'] = user;
    const res = await fetch(`http://127.0.0.1:${apiPort}${url}`, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
    const text = await res.text();
    return { status: res.status, json: text ? JSON.parse(text) : undefined, headers: res.headers };
  };
  return { sidecar, otlp: `http://127.0.0.1:${otlpPort}/v1/traces`, tempo, dir, call };
}

async function finished(s: Setup, id: string): Promise<any> {
  await until('the discovery job to end', async () => (await s.call('GET', `/api/v1/discover/${id}`)).json.state !== 'running', 60_000);
  return (await s.call('GET', `/api/v1/discover/${id}`)).json;
}

async function doneJob(s: Setup, body: Record<string, unknown> = {}): Promise<any> {
  const started = await s.call('POST', '/api/v1/discover', { from: FROM, to: TO, ...body });
  expect(started.status).toBe(202);
  const job = await finished(s, started.json.id);
  expect([job.state, job.error]).toEqual(['done', undefined]);
  return job;
}

describe('discovery jobs', () => {
  it('runs over Tempo: 202 running, progress, then done with ranked suggestions', async () => {
    const s = await setup();
    const started = await s.call('POST', '/api/v1/discover', { from: FROM, to: TO, top: 40 }, 'alice');
    expect(started.status).toBe(202);
    expect(started.json).toMatchObject({ state: 'running', source: 'tempo', from: FROM, to: TO, createdBy: 'alice', options: { top: 40 }, suggestionCount: 0 });
    expect(started.json.id).toMatch(/^dj-[0-9a-f]{16}$/);
    expect(started.json.suggestions).toBeUndefined();
    expect(Date.parse(started.json.createdAt)).not.toBeNaN();
    const job = await finished(s, started.json.id);
    expect(job).toMatchObject({ state: 'done', progress: { phase: 'done', traces: 300 }, result: { traces: 300, redacted: 0 } });
    expect(job.result.suggestions).toBeUndefined();
    expect(job.suggestions.length).toBe(job.suggestionCount);
    expect(job.suggestions.length).toBeGreaterThan(0);
    expect(job.suggestions.length).toBeLessThanOrEqual(40);
    expect(job.suggestions.every((x: { state: string }) => x.state === 'new')).toBe(true);
    const scores = job.suggestions.map((x: { score: number }) => x.score);
    expect(scores).toEqual([...scores].sort((a: number, b: number) => b - a));
    expect(Date.parse(job.finishedAt)).toBeGreaterThanOrEqual(Date.parse(job.createdAt));
    // The fraud check that 6 of 300 traces lack: an almost invariant, with its violating traces.
    const fraud = job.suggestions.find((x: { condition: string; violations: number }) => /payment\.fraud_check/.test(x.condition) && x.violations > 0);
    expect(fraud).toBeDefined();
    const violatingIds = new Set(CORPUS.map((_, i) => i).filter(VIOLATING).map(traceIdOf));
    expect(fraud.violatingTraceIds.length).toBeGreaterThan(0);
    expect(fraud.violatingTraceIds.every((t: string) => violatingIds.has(t))).toBe(true);

    const list = await s.call('GET', '/api/v1/discover');
    expect(list.json.jobs.map((j: { id: string }) => j.id)).toEqual([job.id]);
    expect(list.json.jobs[0].suggestions).toBeUndefined();
    const audit = await s.call('GET', '/api/v1/audit?action=discovery.*');
    expect(audit.json.entries.map((e: { action: string; target: string }) => `${e.action} ${e.target}`)).toEqual([`discovery.run discovery:${job.id}`]);
  });

  it('reports progress while it runs, allows one running job per tenant (429), cancels and deletes', async () => {
    // Each trace takes 20 ms to fetch from Tempo: the job runs for seconds.
    const s = await setup({ tempoLatencyMs: 20 });
    const a = await s.call('POST', '/api/v1/discover', { from: FROM, to: TO });
    expect(a.status).toBe(202);
    const busy = await s.call('POST', '/api/v1/discover', { from: FROM, to: TO });
    expect(busy.status).toBe(429);
    expect(busy.json.error).toBe('too_many_discoveries');
    expect(busy.json.message).toContain(a.json.id);
    expect(busy.headers.get('retry-after')).toBe('30');
    await until('progress', async () => (await s.call('GET', `/api/v1/discover/${a.json.id}`)).json.progress.traces > 0, 30_000);
    const running = (await s.call('GET', `/api/v1/discover/${a.json.id}`)).json;
    expect(running).toMatchObject({ state: 'running', progress: { phase: 'mining' } });

    const cancelled = await s.call('DELETE', `/api/v1/discover/${a.json.id}`);
    expect(cancelled.status).toBe(200);
    expect(cancelled.json).toMatchObject({ id: a.json.id, state: 'cancelled' });
    await s.sidecar.discovery.idle();
    expect((await s.call('GET', `/api/v1/discover/${a.json.id}`)).json).toMatchObject({ state: 'cancelled', suggestionCount: 0 });
    // Cancelled: the tenant may start another at once.
    const b = await s.call('POST', '/api/v1/discover', { from: FROM, to: TO, top: 3 });
    expect(b.status).toBe(202);
    await s.call('DELETE', `/api/v1/discover/${b.json.id}`);

    // Deleting a finished job removes it with its results.
    const deleted = await s.call('DELETE', `/api/v1/discover/${a.json.id}`);
    expect(deleted.json).toMatchObject({ id: a.json.id, state: 'cancelled' });
    expect((await s.call('GET', `/api/v1/discover/${a.json.id}`)).status).toBe(404);
    expect((await s.call('DELETE', `/api/v1/discover/${a.json.id}`)).status).toBe(404);
    expect((await s.call('GET', '/api/v1/discover')).json.jobs.map((j: { id: string }) => j.id)).toEqual([b.json.id]);
    const actions = (await s.call('GET', '/api/v1/audit?action=discovery.*')).json.entries.map((e: { action: string }) => e.action);
    expect(actions).toEqual(['discovery.delete', 'discovery.cancel', 'discovery.run', 'discovery.cancel', 'discovery.run']);
  });

  it('keeps finished jobs across a restart; a job running when the sidecar stopped is failed', async () => {
    const first = await setup();
    const done = await doneJob(first, { top: 5 });
    first.tempo!.fault = { latencyMs: 50, path: '/api/v2/traces' };
    const running = await first.call('POST', '/api/v1/discover', { from: FROM, to: TO });
    expect(running.status).toBe(202);
    await first.sidecar.stop();
    // A crash leaves the row running: the next start fails it as well.
    const store = new Store(path.join(first.dir, 'betrace.db'));
    const crashed = { ...new DiscoveryStore(store.db).getJob('default', running.json.id)!, id: 'dj-00000000000000ff', state: 'running' as const };
    new DiscoveryStore(store.db).insertJob(crashed);
    store.close();

    const again = await setup({ dir: first.dir });
    const jobs = (await again.call('GET', '/api/v1/discover')).json.jobs as Array<{ id: string; state: string; error?: string }>;
    expect(jobs.find((j) => j.id === done.id)).toMatchObject({ state: 'done', suggestionCount: done.suggestionCount });
    expect(jobs.find((j) => j.id === running.json.id)).toMatchObject({ state: 'failed', error: 'the sidecar stopped' });
    expect(jobs.find((j) => j.id === crashed.id)).toMatchObject({ state: 'failed', error: 'the sidecar stopped' });
    expect((await again.call('GET', `/api/v1/discover/${done.id}`)).json.suggestions).toEqual(done.suggestions);
  });

  it('reads the sidecar’s own history of traces pushed over OTLP when there is no Tempo', async () => {
    const clock = { now: Date.now() };
    const s = await setup({ tempo: false, deps: { now: () => clock.now } });
    const at = clock.now;
    const pushed = shopCorpus(300, at, VIOLATING);
    for (let i = 0; i < pushed.length; i += 50) {
      const body = JSON.stringify({ resourceSpans: pushed.slice(i, i + 50).flatMap((r) => r.resourceSpans) });
      expect((await fetch(s.otlp, { method: 'POST', headers: { 'content-type': 'application/json' }, body })).status).toBe(200);
    }
    // Evaluated and let go by trace assembly: the ingest log hands its segment to the history.
    clock.now += 5 * 60_000;
    await s.sidecar.shards.tick(); // evaluated
    clock.now += 5 * 60_000;
    await s.sidecar.shards.tick(); // forgotten after their hold time
    const count = async () => {
      let n = 0;
      for await (const _t of s.sidecar.history!.source('default', at - 60_000, at + 600_000)()) n++;
      return n;
    };
    await until('the traces in the history', async () => (await count()) === 300, 30_000);
    const started = await s.call('POST', '/api/v1/discover', { from: at - 60_000, to: at + 600_000 });
    expect([started.status, started.json.source]).toEqual([202, 'history']);
    const job = await finished(s, started.json.id);
    expect(job).toMatchObject({ state: 'done', progress: { traces: 300 } });
    const fraud = job.suggestions.find((x: { condition: string; violations: number }) => /payment\.fraud_check/.test(x.condition) && x.violations > 0);
    expect(fraud.violatingTraceIds.length).toBeGreaterThan(0);
    const trace = await s.call('GET', `/api/v1/discover/${job.id}/traces/${fraud.violatingTraceIds[0]}`);
    expect(trace.status).toBe(200);
    expect(decodeOtlpJson(trace.json)[0].spans.map((x) => x.name).sort()).toEqual(['checkout', 'db.query', 'inventory.reserve', 'payment.charge']);
  });

  it('fails a job whose source fails, with the reason', async () => {
    const s = await setup();
    s.tempo!.fault = { status: 400, path: '/api/search' };
    const started = await s.call('POST', '/api/v1/discover', { from: FROM, to: TO });
    const job = await finished(s, started.json.id);
    expect(job).toMatchObject({ state: 'failed', suggestionCount: 0 });
    expect(job.error).toMatch(/^Tempo search answered 400/);
    expect(job.suggestions).toEqual([]);
  });

  it('mines on the main thread too, and reads the history without Tempo', async () => {
    const traces = CORPUS.flatMap((r) => decodeOtlpJson(r));
    const reads: Array<[string, number, number]> = [];
    const history: TraceHistory = {
      source: (tenant, fromMs, toMs) => () => {
        reads.push([tenant, fromMs, toMs]);
        return traces.filter((t) => Number(t.startNs / 1_000_000n) >= fromMs && Number(t.startNs / 1_000_000n) < toMs);
      },
    };
    const s = await setup({ tempo: false, deps: { history, discoveryMiner: 'here' } });
    const job = await doneJob(s);
    expect(job).toMatchObject({ source: 'history', progress: { traces: 300 } });
    expect(reads.length).toBeGreaterThanOrEqual(2); // one read per pass
    expect(reads.every(([t, f, to]) => t === 'default' && f === Date.parse(FROM) && to === Date.parse(TO))).toBe(true);
    // An example trace, found by scanning the history (it has no lookup by id).
    const example = job.suggestions[0].exampleTraceIds[0] as string;
    const got = await s.call('GET', `/api/v1/discover/${job.id}/traces/${example}`);
    expect(got.status).toBe(200);
    expect(decodeOtlpJson(got.json)[0]).toEqual(traces.find((t: Trace) => t.traceId === example));
  });
});

describe('redaction', () => {
  it('keeps no suggestion whose text carries what the tenant’s redaction policy withholds', async () => {
    // Every checkout carries the same customer e-mail: a "constant attribute" the miner proposes.
    const withEmail = CORPUS.map((r) => JSON.parse(JSON.stringify(r).split('{"key":"http.route"').join('{"key":"user.contact","value":{"stringValue":"alice@example.com"}},{"key":"http.route"')));
    const traces = withEmail.flatMap((r) => decodeOtlpJson(r));
    expect(traces[0].spans.find((x) => x.name === 'checkout')!.attrs['user.contact']).toBe('alice@example.com');
    const s = await setup({ tempo: false, deps: { history: { source: () => () => traces } } });
    const job = await doneJob(s, { top: 200 });
    expect(job.result.redacted).toBeGreaterThan(0);
    expect(JSON.stringify(job.suggestions)).not.toContain('alice@example.com');
    expect(job.suggestions.length).toBeGreaterThan(0);
  });
});

describe('adopt and dismiss', () => {
  it('adopts a suggestion as a rule through the rules’ path: provenance, enabled or not as asked, in force, 409 twice', async () => {
    const s = await setup();
    const job = await doneJob(s);
    const [first, second] = job.suggestions;
    const adopted = await s.call('POST', `/api/v1/discover/${job.id}/suggestions/${first.id}/adopt`, { enabled: true });
    expect(adopted.status).toBe(201);
    const rule = adopted.json.rule;
    expect(rule).toMatchObject({ condition: first.condition, name: first.title, severity: 'medium', enabled: true, version: 1, provisioned: false });
    expect(rule.id).toMatch(/^[a-z0-9][a-z0-9\-_.]*$/);
    expect(rule.description).toBe(
      `Suggested by BeTrace discovery ${job.id} on ${job.createdAt.slice(0, 10)}: support ${first.support}, confidence ${Number(first.confidence.toFixed(4))}; adopted by api-token`,
    );
    expect(adopted.json.suggestion).toMatchObject({ id: first.id, state: 'adopted', adoptedRuleId: rule.id });
    expect((await s.call('GET', `/api/v1/rules/${rule.id}`)).json).toEqual(rule);
    const versions = (await s.call('GET', `/api/v1/rules/${rule.id}/history`)).json.versions;
    expect(versions.map((v: { version: number; note: string }) => [v.version, v.note])).toEqual([[1, `adopted from discovery ${job.id}, suggestion ${first.id}`]]);
    expect(s.sidecar.rules.active('default').map((r) => r.compiled.definition.id)).toContain(rule.id);

    const twice = await s.call('POST', `/api/v1/discover/${job.id}/suggestions/${first.id}/adopt`, { enabled: true });
    expect(twice.status).toBe(409);
    expect(twice.json).toMatchObject({ error: 'conflict' });
    expect(twice.json.message).toContain('adopted');

    // Disabled by default; the caller's id, an id that exists, an edited condition that does not compile.
    const taken = await s.call('POST', `/api/v1/discover/${job.id}/suggestions/${second.id}/adopt`, { id: rule.id });
    expect([taken.status, taken.json.error]).toEqual([409, 'conflict']);
    const bad = await s.call('POST', `/api/v1/discover/${job.id}/suggestions/${second.id}/adopt`, { condition: 'when { checkout' });
    expect([bad.status, bad.json.error]).toEqual([400, 'invalid_rule']);
    expect(bad.json.diagnostics[0]).toMatchObject({ severity: 'error', startLine: 1 });
    const off = await s.call('POST', `/api/v1/discover/${job.id}/suggestions/${second.id}/adopt`, { id: 'my-rule', severity: 'high', description: 'Checked by Bob.' }, 'bob');
    expect(off.status).toBe(201);
    expect(off.json.rule).toMatchObject({ id: 'my-rule', enabled: false, severity: 'high', condition: second.condition });
    expect(off.json.rule.description).toMatch(/^Checked by Bob\.\n\nSuggested by BeTrace discovery dj-/);
    expect(s.sidecar.rules.active('default').map((r) => r.compiled.definition.id)).not.toContain('my-rule');

    const states = (await s.call('GET', `/api/v1/discover/${job.id}`)).json.suggestions.map((x: { id: string; state: string; adoptedRuleId?: string }) => [x.id, x.state, x.adoptedRuleId]);
    expect(states.slice(0, 2)).toEqual([
      [first.id, 'adopted', rule.id],
      [second.id, 'adopted', 'my-rule'],
    ]);
    const audit = (await s.call('GET', '/api/v1/audit?limit=20')).json.entries.map((e: { action: string; target: string }) => `${e.action} ${e.target}`);
    expect(audit.slice(0, 4)).toEqual([`discovery.adopt discovery:${job.id}/${second.id}`, 'rule.create rule:my-rule', `discovery.adopt discovery:${job.id}/${first.id}`, `rule.create rule:${rule.id}`]);

    expect((await s.call('POST', `/api/v1/discover/${job.id}/suggestions/sg-0000000000000000/adopt`, {})).status).toBe(404);
    expect((await s.call('POST', `/api/v1/discover/dj-0000000000000000/suggestions/${first.id}/adopt`, {})).status).toBe(404);
    // A new job does not propose what is now a rule.
    const next = await doneJob(s);
    expect(next.suggestions.map((x: { id: string }) => x.id)).not.toContain(first.id);
    expect(next.suggestions.map((x: { id: string }) => x.id)).not.toContain(second.id);
  });

  it('dismisses a suggestion: remembered for the tenant, not proposed by the next job', async () => {
    const s = await setup();
    const job = await doneJob(s);
    const target = job.suggestions[0];
    const dismissed = await s.call('POST', `/api/v1/discover/${job.id}/suggestions/${target.id}/dismiss`);
    expect(dismissed.status).toBe(200);
    expect(dismissed.json.suggestion).toMatchObject({ id: target.id, state: 'dismissed' });
    expect((await s.call('GET', `/api/v1/discover/${job.id}`)).json.suggestions.find((x: { id: string }) => x.id === target.id).state).toBe('dismissed');
    // Dismissed suggestions cannot be adopted; dismissing again answers the same.
    expect((await s.call('POST', `/api/v1/discover/${job.id}/suggestions/${target.id}/adopt`, {})).status).toBe(409);
    expect((await s.call('POST', `/api/v1/discover/${job.id}/suggestions/${target.id}/dismiss`)).json.suggestion.state).toBe('dismissed');
    const next = await doneJob(s);
    expect(next.suggestions.map((x: { id: string }) => x.id)).not.toContain(target.id);
    // Another suggestion adopted cannot be dismissed.
    const other = next.suggestions[0];
    expect((await s.call('POST', `/api/v1/discover/${next.id}/suggestions/${other.id}/adopt`, {})).status).toBe(201);
    expect((await s.call('POST', `/api/v1/discover/${next.id}/suggestions/${other.id}/dismiss`)).status).toBe(409);
    const audit = (await s.call('GET', '/api/v1/audit?action=discovery.dismiss')).json.entries;
    expect(audit.map((e: { target: string; after: { condition: string } }) => [e.target, e.after.condition])).toEqual([[`discovery:${job.id}/${target.id}`, target.condition]]);
  });

  it('serves a job’s example and violating traces as OTLP/JSON that the rule test route runs the suggestion on', async () => {
    const s = await setup();
    const job = await doneJob(s);
    const fraud = job.suggestions.find((x: { condition: string; violations: number }) => /payment\.fraud_check/.test(x.condition) && x.violations > 0);
    const get = (id: string) => s.call('GET', `/api/v1/discover/${job.id}/traces/${id}`);
    const example = await get(fraud.exampleTraceIds[0]);
    const violating = await get(fraud.violatingTraceIds[0]);
    expect([example.status, violating.status]).toEqual([200, 200]);
    expect(decodeOtlpJson(example.json).map((t) => t.traceId)).toEqual([fraud.exampleTraceIds[0]]);
    const tested = await s.call('POST', '/api/v1/rules/test', { condition: fraud.condition, traces: [example.json, violating.json] });
    expect(tested.status).toBe(200);
    expect(tested.json.results.map((r: { fired: boolean }) => r.fired)).toEqual([false, true]);
    expect((await get('0123456789abcdef0123456789abcdef')).status).toBe(404);
    expect((await get('not-a-trace-id')).status).toBe(400);
    expect((await s.call('GET', `/api/v1/discover/dj-0000000000000000/traces/${fraud.exampleTraceIds[0]}`)).status).toBe(404);
  });
});

describe('bad requests', () => {
  it.each<[string, Record<string, unknown>, RegExp]>([
    ['no from', { to: TO }, /from/],
    ['a from that is no time', { from: 'yesterday', to: TO }, /^body\/from must be epoch milliseconds or an ISO 8601 time$/],
    ['to before from', { from: TO, to: FROM }, /^body\/to must be after body\/from$/],
    ['more than 7 days', { from: 0, to: 8 * 86_400_000 }, /^body\/to: a discovery covers at most 7 days/],
    ['top above 200', { from: FROM, to: TO, top: 500 }, /top/],
    ['top 0', { from: FROM, to: TO, top: 0 }, /top/],
    ['a minConfidence above 1', { from: FROM, to: TO, minConfidence: 1.5 }, /minConfidence/],
    ['a minSupport of 0', { from: FROM, to: TO, minSupport: 0 }, /minSupport/],
    ['an unknown kind', { from: FROM, to: TO, kinds: ['telepathy'] }, /kinds/],
    ['an unknown source', { from: FROM, to: TO, source: 's3' }, /source/],
  ])('%s: 400 invalid_request naming the field', async (_what, body, message) => {
    const s = await setup();
    const r = await s.call('POST', '/api/v1/discover', body);
    expect([r.status, r.json.error]).toEqual([400, 'invalid_request']);
    expect(r.json.message).toMatch(message);
    expect((await s.call('GET', '/api/v1/discover')).json.jobs).toEqual([]);
  });

  it('answers 409 no_source without Tempo and without history, saying what to set', async () => {
    const s = await setup({ tempo: false, env: { HISTORY_MAX_BYTES: '0' } });
    for (const source of [undefined, 'tempo', 'history']) {
      const r = await s.call('POST', '/api/v1/discover', { from: FROM, to: TO, ...(source ? { source } : {}) });
      expect([source, r.status, r.json.error]).toEqual([source, 409, 'no_source']);
      expect(r.json.message).toMatch(source === 'history' ? /HISTORY_MAX_BYTES/ : /TEMPO_URL/);
    }
  });
});

describe('the runner', () => {
  it('fails the jobs a stopped sidecar left running, and only those', () => {
    const store = new Store(':memory:');
    const d = new DiscoveryStore(store.db);
    const base = { tenant: 't', source: 'tempo' as const, from: 0, to: 1, createdAt: 1, createdBy: 'x', options: { top: 5 }, progress: { phase: 'mining' as const, traces: 3 }, suggestionCount: 0 };
    d.insertJob({ ...base, id: 'dj-1', state: 'running' });
    d.insertJob({ ...base, id: 'dj-2', state: 'running' });
    d.finishJob('t', 'dj-2', { state: 'done', finishedAt: 2, progress: { phase: 'done', traces: 3 }, suggestions: [] });
    new DiscoveryJobs({ store, discovery: d, miner: minerHere(), tempoOf: () => undefined, history: undefined, redactorOf: () => undefined as never, log: pino({ level: 'silent' }), now: () => 5 });
    expect(d.getJob('t', 'dj-1')).toMatchObject({ state: 'failed', error: 'the sidecar stopped', finishedAt: 5 });
    expect(d.getJob('t', 'dj-2')).toMatchObject({ state: 'done', finishedAt: 2 });
    store.close();
  });
});
