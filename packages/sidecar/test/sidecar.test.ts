/**
 * A whole sidecar in-process on random ports: real HTTP, real SQLite, OTLP protobuf and JSON.
 * Time is an injected clock, so assembly is driven by the test, never by sleeping.
 */
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { gzipSync } from 'zlib';
import pino from 'pino';
import { loadConfig } from '../src/config';
import { encodeTraceRequest, ExportTraceServiceResponse, RpcStatus } from '../src/ingest/otlpProto';
import { HELD_SPAN_OVERHEAD_BYTES, SPAN_OVERHEAD_BYTES } from '../src/ingest/shards/shards';
import { chainRequest, hexBytes } from './support/chainTrace';
import { createSidecar, Sidecar } from '../src/sidecar';

const root = path.join(__dirname, '../../..');
const example = (rule: string, verdict: 'violates' | 'satisfies') => fs.readFileSync(path.join(root, 'examples/traces', rule, `${verdict}-1.json`), 'utf8');

/** OTLP/JSON (hex ids) → the protobufjs object shape (byte ids). */
function toProtoShape(json: string): object {
  return JSON.parse(json, (key, value: unknown) => {
    if ((key === 'traceId' || key === 'spanId' || key === 'parentSpanId') && typeof value === 'string') {
      return Buffer.from(value, 'hex');
    }
    return value;
  }) as object;
}

interface Running {
  sidecar: Sidecar;
  otlp: string;
  api: string;
  clock: { now: number };
  auth: Record<string, string>;
  dataDir: string;
}

async function start(env: Record<string, string> = {}): Promise<Running> {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'betrace-sidecar-'));
  const config = loadConfig({ EVAL_WORKERS: '0', DATA_DIR: dataDir, RULES_DIR: path.join(root, 'examples/rules'), OTLP_PORT: '0', API_PORT: '0', HOST: '127.0.0.1', DECISION_WAIT: '10s', ...env });
  const clock = { now: 1_764_028_800_000 };
  const sidecar = createSidecar(config, { now: () => clock.now, logger: pino({ level: 'silent' }), tickMs: 3_600_000 });
  const { otlpPort, apiPort } = await sidecar.start();
  return { sidecar, otlp: `http://127.0.0.1:${otlpPort}/v1/traces`, api: `http://127.0.0.1:${apiPort}`, clock, auth: { authorization: `Bearer ${sidecar.token}` }, dataDir };
}

const running: Running[] = [];
afterEach(async () => {
  for (const r of running.splice(0)) {
    await r.sidecar.stop();
  }
});
async function sidecar(env?: Record<string, string>): Promise<Running> {
  const r = await start(env);
  running.push(r);
  return r;
}

async function settle(r: Running): Promise<void> {
  r.clock.now += 10_001;
  await r.sidecar.shards.tick();
}

async function signals(r: Running, query = ''): Promise<{ signals: Array<{ id: string; ruleId: string; traceId: string; status: string; source: string; createdAt: string }>; total: number }> {
  const res = await fetch(`${r.api}/api/v1/signals${query}`, { headers: r.auth });
  expect(res.status).toBe(200);
  return (await res.json()) as never;
}

describe('OTLP receiver → assembly → evaluation → signals', () => {
  it('accepts protobuf, evaluates the trace once it is quiet, and stores one signal', async () => {
    const r = await sidecar();
    const body = encodeTraceRequest(toProtoShape(example('payment-fraud-check', 'violates')));
    const res = await fetch(r.otlp, { method: 'POST', headers: { 'content-type': 'application/x-protobuf' }, body });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('application/x-protobuf');
    expect(ExportTraceServiceResponse.toObject(ExportTraceServiceResponse.decode(new Uint8Array(await res.arrayBuffer())))).toEqual({});
    r.clock.now += 9_000;
    await r.sidecar.shards.tick();
    expect((await signals(r)).total).toBe(0); // not quiet for decision_wait yet
    await settle(r);
    const list = await signals(r);
    expect(list.signals.map((s) => [s.ruleId, s.status, s.source])).toEqual([['payment-fraud-check', 'open', 'push']]);
  });

  it('accepts JSON and gzip, holds spans sent again once, and evaluating a trace again never makes a second signal', async () => {
    const r = await sidecar();
    const json = example('no-auto-approve', 'violates');
    const send = (b: Buffer, headers: Record<string, string>) => fetch(r.otlp, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: b });
    expect((await send(Buffer.from(json), {})).status).toBe(200);
    await settle(r);
    // The same spans again (an exporter retry): held once, so the trace is not evaluated again.
    const res = await send(gzipSync(Buffer.from(json)), { 'content-encoding': 'gzip' });
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({});
    await settle(r);
    const afterRetry = await (await fetch(`${r.api}/metrics`)).text();
    expect(afterRetry).toMatch(/betrace_spans_duplicate_total\{tenant="default"\} 8/);
    expect(afterRetry).toMatch(/betrace_traces_evaluated_total\{tenant="default"\} 1/);
    // A late span of the held trace (a span id it does not have) evaluates it again: still one signal.
    const request = JSON.parse(json) as { resourceSpans: Array<{ scopeSpans: Array<{ spans: Array<{ spanId: string; name: string }> }> }> };
    const rs = request.resourceSpans.find((x) => x.scopeSpans.some((ss) => ss.spans.some((sp) => sp.name === 'database.query')))!;
    const ss = rs.scopeSpans.find((x) => x.spans.some((sp) => sp.name === 'database.query'))!;
    const query = ss.spans.find((sp) => sp.name === 'database.query')!;
    const late = { resourceSpans: [{ ...rs, scopeSpans: [{ ...ss, spans: [{ ...query, spanId: 'fe'.repeat(8) }] }] }] };
    expect((await send(Buffer.from(JSON.stringify(late)), {})).status).toBe(200);
    await settle(r);
    expect((await signals(r)).signals.map((s) => s.ruleId)).toEqual(['no-auto-approve']);
    const metrics = await (await fetch(`${r.api}/metrics`)).text();
    expect(metrics).toMatch(/betrace_signals_total\{tenant="default",rule="no-auto-approve",severity="high"\} 1/);
    expect(metrics).toMatch(/betrace_traces_evaluated_total\{tenant="default"\} 2/);
  });

  it('serves the standard process and Node.js series, and writer queues only for the writers configured', async () => {
    const none = await (await fetch(`${(await sidecar()).api}/metrics`)).text();
    for (const series of ['process_cpu_seconds_total', 'process_resident_memory_bytes', 'nodejs_eventloop_lag_seconds', 'nodejs_heap_size_used_bytes']) {
      expect(none).toMatch(new RegExp(`^${series} `, 'm'));
    }
    expect(none).not.toMatch(/^betrace_writer_queue\{/m);
    const hooked = await (await fetch(`${(await sidecar({ WEBHOOK_URL: 'http://127.0.0.1:9/hook' })).api}/metrics`)).text();
    expect([...hooked.matchAll(/^betrace_writer_queue\{writer="([a-z]+)"\} 0$/gm)].map((m) => m[1])).toEqual(['webhook']);
  });

  it('counts spans of a trace that was let go as late', async () => {
    const r = await sidecar({ DECISION_WAIT: '10s', MAX_TRACE_AGE: '60s' });
    const json = example('no-auto-approve', 'satisfies');
    await fetch(r.otlp, { method: 'POST', headers: { 'content-type': 'application/json' }, body: json });
    await settle(r);
    r.clock.now += 60_001;
    await r.sidecar.shards.tick();
    await fetch(r.otlp, { method: 'POST', headers: { 'content-type': 'application/json' }, body: json });
    const metrics = await (await fetch(`${r.api}/metrics`)).text();
    expect(metrics).toMatch(/betrace_traces_dropped_total\{reason="late"\} 7/);
  });

  it.each<[string, Record<string, string>, () => Buffer | string, number, RegExp]>([
    ['an unsupported media type', { 'content-type': 'text/plain' }, () => 'hello', 415, /unsupported Content-Type "text\/plain"/],
    ['JSON that is not JSON', { 'content-type': 'application/json' }, () => '{oops', 400, /^the body is not JSON/],
    [
      'a malformed trace id, naming the field',
      { 'content-type': 'application/json' },
      () => JSON.stringify({ resourceSpans: [{ scopeSpans: [{ spans: [{ traceId: 'xyz', spanId: '0000000000000001' }] }] }] }),
      400,
      /^resourceSpans\[0\]\.scopeSpans\[0\]\.spans\[0\]\.traceId: expected 32 hex characters, got "xyz"$/,
    ],
    ['bad gzip', { 'content-type': 'application/json', 'content-encoding': 'gzip' }, () => 'not gzip', 400, /^the body is not valid gzip/],
    ['an unknown encoding', { 'content-type': 'application/json', 'content-encoding': 'br' }, () => '{}', 400, /unsupported Content-Encoding br/],
    ['a body over the size limit', { 'content-type': 'application/json' }, () => 'x'.repeat(2048), 413, /exceeds 1024 bytes/],
    ['a gzip bomb over the size limit', { 'content-type': 'application/json', 'content-encoding': 'gzip' }, () => gzipSync(Buffer.from(' '.repeat(100_000))), 413, /decompressed body exceeds 1024 bytes/],
  ])('answers %s', async (_name, headers, body, status, message) => {
    const r = await sidecar({ MAX_BODY_BYTES: '1024' });
    const res = await fetch(r.otlp, { method: 'POST', headers, body: body() });
    expect(res.status).toBe(status);
    expect(((await res.json()) as { message: string }).message).toMatch(message);
    expect((await signals(r)).total).toBe(0);
  });

  it('answers malformed protobuf with a google.rpc.Status', async () => {
    const r = await sidecar();
    const res = await fetch(r.otlp, { method: 'POST', headers: { 'content-type': 'application/x-protobuf' }, body: Buffer.from([0x0a, 0xff, 0xff]) });
    expect(res.status).toBe(400);
    const status = RpcStatus.toObject(RpcStatus.decode(new Uint8Array(await res.arrayBuffer()))) as { code: number; message: string };
    expect(status.code).toBe(3);
    expect(status.message).toMatch(/^the body is not a protobuf ExportTraceServiceRequest/);
  });

  it('refuses with 503 and Retry-After when the buffer is full, and loses nothing it accepted', async () => {
    const r = await sidecar({ MAX_BUFFER_SPANS: '10' });
    const first = await fetch(r.otlp, { method: 'POST', headers: { 'content-type': 'application/json' }, body: example('no-auto-approve', 'violates') });
    expect(first.status).toBe(200);
    const second = await fetch(r.otlp, { method: 'POST', headers: { 'content-type': 'application/json' }, body: example('payment-fraud-check', 'violates') });
    expect(second.status).toBe(503);
    expect(second.headers.get('retry-after')).toBe('10');
    await settle(r);
    expect((await signals(r)).signals.map((s) => s.ruleId)).toEqual(['no-auto-approve']);
  });

  it('counts a buffered span as its wire bytes plus SPAN_OVERHEAD_BYTES against MAX_BUFFER_BYTES', async () => {
    const body = example('no-auto-approve', 'violates');
    const spans = (JSON.parse(body) as { resourceSpans: Array<{ scopeSpans: Array<{ spans: unknown[] }> }> }).resourceSpans.flatMap((rs) => rs.scopeSpans.flatMap((ss) => ss.spans)).length;
    const need = Buffer.byteLength(body) + spans * SPAN_OVERHEAD_BYTES;
    for (const [limit, status] of [
      [need - 1, 503],
      [need, 200],
    ]) {
      const r = await sidecar({ MAX_BUFFER_BYTES: String(limit) });
      const res = await fetch(r.otlp, { method: 'POST', headers: { 'content-type': 'application/json' }, body });
      expect(res.status).toBe(status);
      expect(await (await fetch(`${r.api}/metrics`)).text()).toMatch(new RegExp(`^betrace_buffer_bytes ${status === 200 ? need : 0}$`, 'm'));
    }
  });

  it.each(['0', '1'])('counts a buffered protobuf span, held as its bytes, as its wire bytes plus HELD_SPAN_OVERHEAD_BYTES (EVAL_WORKERS=%s)', async (workers) => {
    const spans = 20;
    const body = Buffer.from(encodeTraceRequest(chainRequest('ab'.repeat(16), spans, { id: hexBytes }) as never));
    const need = body.length + spans * HELD_SPAN_OVERHEAD_BYTES;
    expect(HELD_SPAN_OVERHEAD_BYTES).toBeLessThan(SPAN_OVERHEAD_BYTES);
    for (const [limit, status] of [
      [need - 1, 503],
      [need, 200],
    ]) {
      const r = await sidecar({ MAX_BUFFER_BYTES: String(limit), EVAL_WORKERS: workers });
      const res = await fetch(r.otlp, { method: 'POST', headers: { 'content-type': 'application/x-protobuf' }, body });
      expect(res.status).toBe(status);
      if (status === 200) {
        // Workers report what they hold at their next reply.
        await r.sidecar.shards.tick();
      }
      expect(await (await fetch(`${r.api}/metrics`)).text()).toMatch(new RegExp(`^betrace_buffer_bytes ${status === 200 ? need : 0}$`, 'm'));
    }
  });

  it('starts the series of each rule at 0, skipped-rule series too, so that an increase() alert sees the first event', async () => {
    const r = await sidecar();
    const text = await (await fetch(`${r.api}/metrics`)).text();
    for (const reason of ['step-budget', 'time-budget', 'error']) {
      expect(text).toContain(`betrace_rule_skipped_total{tenant="default",rule="payment-fraud-check",reason="${reason}"} 0`);
    }
    expect(text).toContain('betrace_rule_evaluations_total{tenant="default",rule="payment-fraud-check"} 0');
  });

  it('evaluates what is buffered when it stops (drain)', async () => {
    const r = await start();
    await fetch(r.otlp, { method: 'POST', headers: { 'content-type': 'application/json' }, body: example('payment-fraud-check', 'violates') });
    await r.sidecar.stop();
    const { Store } = await import('../src/store');
    const store = new Store(path.join(loadConfigDir(r), 'betrace.db'));
    expect(store.listSignals('default').signals.map((s) => s.ruleId)).toEqual(['payment-fraud-check']);
    store.close();
  });
});

function loadConfigDir(r: Running): string {
  return r.dataDir;
}

describe('the API', () => {
  it('requires the bearer token on /api/v1 and not on health, readiness and metrics', async () => {
    const r = await sidecar();
    expect((await fetch(`${r.api}/api/v1/signals`)).status).toBe(401);
    expect((await fetch(`${r.api}/api/v1/signals`, { headers: { authorization: 'Bearer wrong' } })).status).toBe(401);
    expect((await fetch(`${r.api}/healthz`)).status).toBe(200);
    expect(await (await fetch(`${r.api}/readyz`)).json()).toEqual({ ready: true });
    expect((await fetch(`${r.api}/metrics`)).status).toBe(200);
    // The router decodes percent-escapes: an encoded path is the same route, and needs the token too.
    for (const encoded of ['/%61pi/v1/rules', '/api/%761/audit', '/api/v1/%73ignals']) {
      const res = await fetch(`${r.api}${encoded}`);
      expect([encoded, res.status]).toEqual([encoded, 401]);
    }
    expect((await fetch(`${r.api}/%61pi/v1/rules`, { headers: { authorization: `Bearer ${r.sidecar.token}` } })).status).toBe(200);
  });

  it('puts /metrics behind METRICS_TOKEN when it is set', async () => {
    const r = await sidecar({ METRICS_TOKEN: 'scrape-secret' });
    expect((await fetch(`${r.api}/metrics`)).status).toBe(401);
    expect((await fetch(`${r.api}/metrics`, { headers: { authorization: 'Bearer wrong' } })).status).toBe(401);
    expect((await fetch(`${r.api}/metrics`, { headers: { authorization: `Bearer ${r.sidecar.token}` } })).status).toBe(401);
    const ok = await fetch(`${r.api}/metrics`, { headers: { authorization: 'Bearer scrape-secret' } });
    expect([ok.status, (await ok.text()).includes('betrace_signals_total')]).toEqual([200, true]);
  });

  it('exports every enabled rule’s signal counter at 0 before its first signal, so the first one is an increase', async () => {
    const r = await sidecar();
    const text = await (await fetch(`${r.api}/metrics`)).text();
    expect(text).toContain('betrace_signals_total{tenant="default",rule="payment-fraud-check",severity="critical"} 0');
  });

  it('lists provisioned rules read-only, and creates, versions, rolls back and deletes its own', async () => {
    const r = await sidecar();
    const call = (method: string, url: string, body?: unknown) =>
      fetch(`${r.api}${url}`, { method, headers: { ...r.auth, 'content-type': 'application/json', 'x-grafana-user': 'ana' }, body: body === undefined ? undefined : JSON.stringify(body) });
    const listed = (await (await call('GET', '/api/v1/rules')).json()) as { rules: Array<{ id: string; provisioned: boolean }> };
    expect(listed.rules).toHaveLength(13);
    expect(listed.rules.every((x) => x.provisioned)).toBe(true);
    const prov = (await (await call('GET', '/api/v1/rules/no-auto-approve')).json()) as Record<string, unknown>;
    expect((await call('PUT', '/api/v1/rules/no-auto-approve', { ...prov, version: undefined, provisioned: undefined, updatedAt: undefined, updatedBy: undefined, enabled: false })).status).toBe(409);

    const rule = { id: 'slow-checkout', name: 'Slow checkout', severity: 'high', condition: 'checkout.where(duration > 2s)', note: 'first' };
    const created = await call('POST', '/api/v1/rules', rule);
    expect(created.status).toBe(201);
    expect(await created.json()).toMatchObject({ id: 'slow-checkout', version: 1, provisioned: false, updatedBy: 'ana', enabled: true });
    expect((await call('POST', '/api/v1/rules', rule)).status).toBe(409);
    const bad = await call('POST', '/api/v1/rules', { ...rule, id: 'bad', condition: 'checkout.where(duration > )' });
    expect(bad.status).toBe(400);
    expect(await bad.json()).toMatchObject({ error: 'invalid_rule', diagnostics: [expect.objectContaining({ field: 'condition', startLine: 1, startColumn: 27 })] });
    expect((await call('PUT', '/api/v1/rules/slow-checkout', { ...rule, condition: 'checkout.where(duration > 5s)', note: 'looser' })).status).toBe(200);
    expect(await (await call('POST', '/api/v1/rules/slow-checkout/rollback', { version: 1 })).json()).toMatchObject({ version: 3, condition: 'checkout.where(duration > 2s)' });
    const history = (await (await call('GET', '/api/v1/rules/slow-checkout/history')).json()) as { versions: Array<{ version: number; note: string }> };
    expect(history.versions.map((v) => [v.version, v.note])).toEqual([
      [3, 'rollback to version 1'],
      [2, 'looser'],
      [1, 'first'],
    ]);
    expect((await call('DELETE', '/api/v1/rules/slow-checkout')).status).toBe(204);
    expect((await call('GET', '/api/v1/rules/slow-checkout')).status).toBe(404);
  });

  it('PATCH changes some fields of a rule as a new version: validated like PUT, audited, in force at once', async () => {
    const r = await sidecar();
    const call = async (method: string, url: string, body?: unknown) => {
      const res = await fetch(`${r.api}${url}`, { method, headers: { ...r.auth, 'content-type': 'application/json', 'x-grafana-user': 'ana' }, body: body === undefined ? undefined : JSON.stringify(body) });
      return { status: res.status, body: (await res.json()) as any };
    };
    const active = () => r.sidecar.rules.active('default').map((a) => a.compiled.definition.id);
    const rule = { id: 'slow-checkout', name: 'Slow checkout', severity: 'high', description: 'why', message: 'slow {trace.root.name}', compliance: [{ framework: 'soc2', control: 'CC7.2' }], condition: 'checkout.where(duration > 2s)', note: 'first' };
    expect((await call('POST', '/api/v1/rules', rule)).status).toBe(201);
    expect(active()).toContain('slow-checkout');

    const off = await call('PATCH', '/api/v1/rules/slow-checkout', { enabled: false });
    expect(off.status).toBe(200);
    const { note: _note, ...unchanged } = rule;
    expect(off.body).toMatchObject({ ...unchanged, enabled: false, version: 2, updatedBy: 'ana', provisioned: false });
    expect(active()).not.toContain('slow-checkout');
    // The same value again: nothing to change, no new version.
    expect((await call('PATCH', '/api/v1/rules/slow-checkout', { enabled: false })).body.version).toBe(2);
    const renamed = await call('PATCH', '/api/v1/rules/slow-checkout', { enabled: true, name: 'Slow checkouts', severity: 'critical', description: null, note: 'renamed' });
    expect(renamed.body).toMatchObject({ name: 'Slow checkouts', severity: 'critical', enabled: true, version: 3, condition: rule.condition });
    expect(renamed.body.description).toBeUndefined();
    expect(active()).toContain('slow-checkout');

    // A changed condition is validated with diagnostics; the rule stays as it was.
    const bad = await call('PATCH', '/api/v1/rules/slow-checkout', { condition: 'checkout.where(duration > )' });
    expect(bad.status).toBe(400);
    expect(bad.body).toMatchObject({ error: 'invalid_rule', diagnostics: [expect.objectContaining({ field: 'condition', startLine: 1, startColumn: 27 })] });
    expect((await call('PATCH', '/api/v1/rules/slow-checkout', { condition: 'checkout.where(duration > 5s)' })).body).toMatchObject({ version: 4, condition: 'checkout.where(duration > 5s)' });

    const history = (await call('GET', '/api/v1/rules/slow-checkout/history')).body as { versions: Array<{ version: number; note: string; createdBy: string }> };
    expect(history.versions.map((v) => [v.version, v.note, v.createdBy])).toEqual([
      [4, 'changed condition', 'ana'],
      [3, 'renamed', 'ana'],
      [2, 'changed enabled', 'ana'],
      [1, 'first', 'ana'],
    ]);
    const audit = (await call('GET', '/api/v1/audit?action=rule.*')).body as { entries: Array<{ action: string; target: string; before: { enabled: boolean } | null; after: { enabled: boolean } }> };
    expect(audit.entries.filter((e) => e.target === 'rule:slow-checkout').map((e) => e.action)).toEqual(['rule.update', 'rule.update', 'rule.disable', 'rule.create']);

    for (const [body, message] of [
      [{}, /^send at least one field to change \(name, severity, description, message, compliance, slo, enabled, condition\)$/],
      [{ note: 'only a note' }, /^send at least one field to change/],
      [{ id: 'other', enabled: true }, /^body\/id is not a field PATCH changes/],
      [{ enabld: true }, /^body\/enabld is not a field PATCH changes/],
      [{ severity: 'severe' }, /^body\/severity must be one of "info", "low", "medium", "high", "critical", "warning"$/],
      [{ name: '' }, /^body\/name must NOT have fewer than 1 characters/],
    ] as const) {
      const res = await call('PATCH', '/api/v1/rules/slow-checkout', body);
      expect([body, res.status, res.body.error]).toEqual([body, 400, 'invalid_request']);
      expect(res.body.message).toMatch(message);
    }
    expect((await call('PATCH', '/api/v1/rules/nope', { enabled: false })).status).toBe(404);
    expect((await call('PATCH', '/api/v1/rules/no-auto-approve', { enabled: false })).body).toMatchObject({ error: 'conflict', message: expect.stringContaining('provisioned') });
    expect((await call('GET', '/api/v1/rules/slow-checkout')).body.version).toBe(4);
  });

  it('validates bodies and names the field', async () => {
    const r = await sidecar();
    const res = await fetch(`${r.api}/api/v1/rules`, { method: 'POST', headers: { ...r.auth, 'content-type': 'application/json' }, body: JSON.stringify({ id: 'x', name: 'n', condition: 'a' }) });
    expect(res.status).toBe(400);
    expect(((await res.json()) as { message: string }).message).toBe("body must have required property 'severity'");
    const bad = await fetch(`${r.api}/api/v1/rules`, {
      method: 'POST',
      headers: { ...r.auth, 'content-type': 'application/json' },
      body: JSON.stringify({ id: 'x', name: 'n', severity: 'urgent', condition: 'checkout' }),
    });
    expect(bad.status).toBe(400);
    // An enum failure lists the allowed values.
    expect(((await bad.json()) as { message: string }).message).toBe('body/severity must be one of "info", "low", "medium", "high", "critical", "warning"');
  });

  it('validates and test-runs a rule over inline OTLP traces, with the explanation', async () => {
    const r = await sidecar();
    const post = (url: string, body: unknown) => fetch(`${r.api}${url}`, { method: 'POST', headers: { ...r.auth, 'content-type': 'application/json' }, body: JSON.stringify(body) });
    expect(await (await post('/api/v1/rules/validate', { condition: 'payment.amount > 1000' })).json()).toMatchObject({
      valid: false,
      diagnostics: [{ code: 'selector-compared', startLine: 1, startColumn: 1 }],
    });
    // Checked against the span names of the tenant's other rules: `chekout` is near `checkout` of checkout-reserves-inventory.
    expect(await (await post('/api/v1/rules/validate', { condition: 'chekout' })).json()).toMatchObject({
      valid: true,
      diagnostics: [{ severity: 'warning', code: 'unknown-span-name', message: '`chekout` is read as a span name, and no known span has that name; did you mean `checkout`?' }],
    });
    expect(await (await post('/api/v1/rules/validate', { condition: 'chekout', ruleId: 'checkout-reserves-inventory' })).json()).toMatchObject({ valid: true, diagnostics: [] });
    expect(await (await post('/api/v1/rules/validate', { condition: 'when { p: payment.charge } always { fraud.check.before(q) }' })).json()).toMatchObject({
      diagnostics: [{ severity: 'warning', message: '`q` is read as a span name, and no known span has that name; did you mean the bound span `p`?', startColumn: 56 }],
    });
    const ok = (await (await post('/api/v1/rules/validate', { condition: 'payment.charge.where(currency == "EUR")' })).json()) as { pushdown: { query: string } };
    expect(ok.pushdown.query).toBe('{ name = "payment.charge" && span.currency = "EUR" }');
    const tested = (await (
      await post('/api/v1/rules/test', { ruleId: 'payment-fraud-check', traces: [JSON.parse(example('payment-fraud-check', 'violates')), JSON.parse(example('payment-fraud-check', 'satisfies'))] })
    ).json()) as { fired: number; results: Array<{ fired: boolean; bindings: unknown[] }> };
    expect(tested.fired).toBe(1);
    expect(tested.results.map((x) => x.fired)).toEqual([true, false]);
    expect(tested.results[0].bindings).toHaveLength(1);
    const unsaved = await post('/api/v1/rules/test', { condition: 'trace.has_error', traces: [{ resourceSpans: [{ scopeSpans: [{ spans: [{ traceId: 'zz' }] }] }] }] });
    expect(unsaved.status).toBe(400);
    expect(((await unsaved.json()) as { message: string }).message).toMatch(/traceId: expected 32 hex characters/);
    const draft = await post('/api/v1/rules/test', { rule: { condition: 42 }, traces: [] });
    expect(draft.status).toBe(400);
    expect(((await draft.json()) as { message: string }).message).toBe('`condition` must be a string');
    const fine = (await (await post('/api/v1/rules/test', { rule: { condition: 'checkout', message: 'checkout seen' }, traces: [JSON.parse(example('no-auto-approve', 'violates'))] })).json()) as {
      results: Array<{ violations: Array<{ message: string }> }>;
    };
    expect(fine.results[0].violations.map((v) => v.message)).toEqual(['checkout seen']);
  });

  it('records signal status changes with who, when and a note', async () => {
    const r = await sidecar();
    await fetch(r.otlp, { method: 'POST', headers: { 'content-type': 'application/json' }, body: example('no-auto-approve', 'violates') });
    await settle(r);
    const [s] = (await signals(r)).signals;
    const patch = (body: unknown) =>
      fetch(`${r.api}/api/v1/signals/${s.id}`, { method: 'PATCH', headers: { ...r.auth, 'content-type': 'application/json', 'x-grafana-user': 'bo' }, body: JSON.stringify(body) });
    const acked = await patch({ status: 'acknowledged', note: 'on it' });
    expect(acked.status).toBe(200);
    // One time format everywhere: the list, the detail and the PATCH answer all say ISO 8601.
    const iso = new Date(r.clock.now).toISOString();
    expect(((await acked.json()) as { updatedAt: unknown }).updatedAt).toBe(iso);
    expect(s.createdAt).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
    expect((await patch({ status: 'closed' })).status).toBe(400);
    r.clock.now += 1000;
    expect((await patch({ status: 'resolved', note: 'fixed approval path' })).status).toBe(200);
    expect((await patch({ status: 'acknowledged' })).status).toBe(409);
    const detail = (await (await fetch(`${r.api}/api/v1/signals/${s.id}`, { headers: r.auth })).json()) as { status: string; createdAt: string; updatedAt: string; changes: unknown[] };
    expect(detail.status).toBe('resolved');
    expect([detail.createdAt, detail.updatedAt]).toEqual([s.createdAt, new Date(r.clock.now).toISOString()]);
    expect(detail.changes).toEqual([
      { at: new Date(r.clock.now - 1000).toISOString(), who: 'bo', from: 'open', to: 'acknowledged', note: 'on it' },
      { at: new Date(r.clock.now).toISOString(), who: 'bo', from: 'acknowledged', to: 'resolved', note: 'fixed approval path' },
    ]);
    expect((await signals(r, '?status=resolved')).total).toBe(1);
    expect((await signals(r, '?status=open')).total).toBe(0);
    expect((await fetch(`${r.api}/api/v1/signals?from=yesterday`, { headers: r.auth })).status).toBe(400);
  });

  it('lists the signals of one trace (traceId), and refuses a trace id that is not 32 hex digits', async () => {
    const r = await sidecar();
    const send = (rule: string) => fetch(r.otlp, { method: 'POST', headers: { 'content-type': 'application/json' }, body: example(rule, 'violates') });
    await send('payment-fraud-check');
    await send('no-auto-approve');
    await settle(r);
    const all = await signals(r);
    expect(all.total).toBe(2);
    const one = all.signals.find((s) => s.ruleId === 'no-auto-approve')!;
    const byTrace = await signals(r, `?traceId=${one.traceId.toUpperCase()}`);
    expect(byTrace.signals.map((s) => [s.ruleId, s.traceId])).toEqual([['no-auto-approve', one.traceId]]);
    expect((await signals(r, `?traceId=${'0'.repeat(32)}`)).total).toBe(0);
    for (const bad of ['abc', 'z'.repeat(32), '0'.repeat(33)]) {
      const res = await fetch(`${r.api}/api/v1/signals?traceId=${bad}`, { headers: r.auth });
      expect(res.status).toBe(400);
      expect(((await res.json()) as { message: string }).message).toMatch(/^querystring\/traceId must match pattern/);
    }
    // Without the token the filter is no way around authentication.
    expect((await fetch(`${r.api}/api/v1/signals?traceId=${one.traceId}`)).status).toBe(401);
  });

  it('counts the signals of every rule in a range in one call (the rules list), with the newest time', async () => {
    const r = await sidecar();
    const send = (rule: string) => fetch(r.otlp, { method: 'POST', headers: { 'content-type': 'application/json' }, body: example(rule, 'violates') });
    await send('payment-fraud-check');
    await settle(r);
    const first = r.clock.now;
    r.clock.now += 60_000;
    await send('no-auto-approve');
    await settle(r);
    const second = r.clock.now;
    const summary = async (query: string) => {
      const res = await fetch(`${r.api}/api/v1/signals/summary${query}`, { headers: r.auth });
      return { status: res.status, body: (await res.json()) as { rules?: Array<{ ruleId: string; total: number; lastAt: string }>; message?: string } };
    };
    // The same counts the list gives rule by rule.
    const all = (await signals(r, '?limit=1000')).signals;
    const byRule = new Map<string, number>();
    all.forEach((s) => byRule.set(s.ruleId, (byRule.get(s.ruleId) ?? 0) + 1));
    expect(byRule.get('payment-fraud-check')).toBe(1);
    expect(byRule.get('no-auto-approve')).toBe(1);
    const whole = await summary('');
    expect(whole.status).toBe(200);
    expect(whole.body.rules).toEqual([...byRule.keys()].sort().map((ruleId) => expect.objectContaining({ ruleId, total: byRule.get(ruleId) })));
    expect(whole.body.rules!.find((x) => x.ruleId === 'payment-fraud-check')!.lastAt).toBe(new Date(first).toISOString());
    // [from, to): the first signal falls out, and a range with none gives no rows.
    expect((await summary(`?from=${first + 1}&to=${second + 1}`)).body.rules!.map((x) => x.ruleId)).not.toContain('payment-fraud-check');
    expect((await summary(`?from=${new Date(second + 1).toISOString()}`)).body).toEqual({ rules: [] });
    const bad = await summary('?to=tomorrow');
    expect(bad.status).toBe(400);
    expect(bad.body.message).toBe('querystring/to must be epoch milliseconds or an ISO 8601 time');
    expect((await fetch(`${r.api}/api/v1/signals/summary`)).status).toBe(401);
  });

  it('serves an OpenAPI document built from the route schemas, without a token', async () => {
    const r = await sidecar();
    const res = await fetch(`${r.api}/api/v1/openapi.json`);
    expect(res.status).toBe(200);
    const doc = (await res.json()) as { openapi: string; paths: Record<string, Record<string, { requestBody?: unknown; responses: Record<string, unknown> }>> };
    expect(doc.openapi).toBe('3.1.0');
    expect(Object.keys(doc.paths['/api/v1/rules'].post.responses)).toEqual(expect.arrayContaining(['201', '400', '401', '409']));
    expect(doc.paths['/api/v1/rules'].post.responses['200']).toBeUndefined();
    expect(Object.keys(doc.paths)).toEqual(expect.arrayContaining(['/api/v1/rules', '/api/v1/rules/{id}', '/api/v1/rules/{id}/rollback', '/api/v1/signals', '/api/v1/signals/{id}', '/healthz', '/readyz', '/metrics']));
    expect(doc.paths['/api/v1/signals/{id}'].patch.requestBody).toBeDefined();
  });

  it('keeps a generated token working across restarts, without keeping the token (apiToken.test.ts has the rest)', async () => {
    const r = await start();
    const dir = loadConfigDir(r);
    const token = r.sidecar.token;
    expect(r.sidecar.tokenGenerated).toBe(true);
    await r.sidecar.stop();
    const again = createSidecar(loadConfig({ EVAL_WORKERS: '0', DATA_DIR: dir, OTLP_PORT: '0', API_PORT: '0', HOST: '127.0.0.1' }), { logger: pino({ level: 'silent' }) });
    expect([again.token, again.tokenGenerated]).toEqual(['', false]);
    const { apiPort } = await again.start();
    try {
      expect((await fetch(`http://127.0.0.1:${apiPort}/api/v1/rules`, { headers: { authorization: `Bearer ${token}` } })).status).toBe(200);
    } finally {
      await again.stop();
    }
  });
});
