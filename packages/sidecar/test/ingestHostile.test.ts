/**
 * Hostile input against a whole sidecar in-process (real HTTP, real SQLite): values nested
 * thousands deep, invalid ids and timestamps, JSON and protobuf alike, and absurd paging on the
 * REST API. Each is a 400 naming the problem, and nothing of the batch is buffered, counted,
 * evaluated or stored.
 */
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import pino from 'pino';
import { MAX_ATTRIBUTE_DEPTH } from '@betrace/evaluator';
import { loadConfig } from '../src/config';
import { encodeTraceRequest, RpcStatus } from '../src/ingest/otlpProto';
import { createSidecar, Sidecar } from '../src/sidecar';
import { encodeFields, message, nestedValue, str } from './support/otlpWire';

const root = path.join(__dirname, '../../..');

interface Running {
  sidecar: Sidecar;
  otlp: string;
  api: string;
  auth: Record<string, string>;
  clock: { now: number };
}

const running: Running[] = [];
afterEach(async () => {
  for (const r of running.splice(0)) {
    await r.sidecar.stop();
  }
});

async function sidecar(): Promise<Running> {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'betrace-hostile-'));
  const config = loadConfig({ EVAL_WORKERS: '0', DATA_DIR: dataDir, RULES_DIR: path.join(root, 'examples/rules'), OTLP_PORT: '0', API_PORT: '0', HOST: '127.0.0.1', DECISION_WAIT: '10s' });
  const clock = { now: 1_764_028_800_000 };
  const s = createSidecar(config, { now: () => clock.now, logger: pino({ level: 'silent' }), tickMs: 3_600_000 });
  const { otlpPort, apiPort } = await s.start();
  const r = { sidecar: s, otlp: `http://127.0.0.1:${otlpPort}/v1/traces`, api: `http://127.0.0.1:${apiPort}`, auth: { authorization: `Bearer ${s.token}` }, clock };
  running.push(r);
  return r;
}

async function metric(r: Running, name: string, labels: Record<string, string> = {}): Promise<number> {
  const m = r.sidecar.metrics.registry.getSingleMetric(name);
  if (!m) {
    return 0;
  }
  const { values } = await m.get();
  return values.filter((v) => Object.entries(labels).every(([k, x]) => (v.labels as Record<string, unknown>)[k] === x)).reduce((n, v) => n + v.value, 0);
}

async function expectNothingTaken(r: Running): Promise<void> {
  expect(r.sidecar.shards.bufferedSpans).toBe(0);
  expect(await metric(r, 'betrace_spans_received_total')).toBe(0);
  expect(await metric(r, 'betrace_ingest_bytes_total')).toBe(0);
  r.clock.now += 10_001;
  await r.sidecar.shards.tick();
  expect(await metric(r, 'betrace_traces_evaluated_total')).toBe(0);
  expect((r.sidecar.store.db.prepare('SELECT count(*) AS n FROM signals').get() as { n: number }).n).toBe(0);
}

const TRACE_ID = '5b8efff798038103d269b633813fc700';
const SPAN_ID = 'eee19b7ec3c1b100';

/** An OTLP/JSON request whose spans are `spans` (each merged over a valid span). */
function jsonRequest(...spans: Array<Record<string, unknown>>): string {
  const base = { traceId: TRACE_ID, spanId: SPAN_ID, name: 'checkout', startTimeUnixNano: '1764028800000000000', endTimeUnixNano: '1764028800500000000' };
  return JSON.stringify({ resourceSpans: [{ resource: { attributes: [{ key: 'service.name', value: { stringValue: 'shop' } }] }, scopeSpans: [{}, { spans: spans.map((s) => ({ ...base, ...s })) }] }] });
}

/** An AnyValue nested `depth` levels, as OTLP/JSON text (built as text: no recursion anywhere). */
function deepJsonValue(depth: number, kind: 'arrayValue' | 'kvlistValue'): string {
  const open = kind === 'arrayValue' ? '{"arrayValue":{"values":[' : '{"kvlistValue":{"values":[{"key":"k","value":';
  const close = kind === 'arrayValue' ? ']}}' : '}]}}';
  return open.repeat(depth - 1) + '{"stringValue":"leaf"}' + close.repeat(depth - 1);
}

function deepJsonRequest(depth: number, kind: 'arrayValue' | 'kvlistValue'): string {
  return jsonRequest({}).replace('"name":"checkout"', `"name":"checkout","attributes":[{"key":"deep","value":${deepJsonValue(depth, kind)}}]`);
}

async function postJson(r: Running, body: string): Promise<Response> {
  return fetch(r.otlp, { method: 'POST', headers: { 'content-type': 'application/json' }, body });
}

async function postProto(r: Running, body: Uint8Array): Promise<{ status: number; message: string }> {
  const res = await fetch(r.otlp, { method: 'POST', headers: { 'content-type': 'application/x-protobuf' }, body: Buffer.from(body) });
  const status = RpcStatus.toObject(RpcStatus.decode(new Uint8Array(await res.arrayBuffer()))) as { message?: string };
  return { status: res.status, message: status.message ?? '' };
}

const depthMessage = `attribute values nest deeper than ${MAX_ATTRIBUTE_DEPTH} levels (the limit)`;

describe('deeply nested attribute values', () => {
  it.each(['arrayValue', 'kvlistValue'] as const)('takes JSON %s nested to the limit', async (kind) => {
    const r = await sidecar();
    const res = await postJson(r, deepJsonRequest(MAX_ATTRIBUTE_DEPTH, kind));
    expect(res.status).toBe(200);
    expect(r.sidecar.shards.bufferedSpans).toBe(1);
  });

  it.each([
    ['arrayValue', MAX_ATTRIBUTE_DEPTH + 1],
    ['kvlistValue', MAX_ATTRIBUTE_DEPTH + 1],
    ['arrayValue', 10_000],
    ['kvlistValue', 100_000],
  ] as const)('refuses JSON %s nested %i levels: 400 naming the limit, nothing taken', async (kind, depth) => {
    const r = await sidecar();
    const res = await postJson(r, deepJsonRequest(depth, kind));
    expect(res.status).toBe(400);
    const { message } = (await res.json()) as { message: string };
    expect(message.startsWith('resourceSpans[0].scopeSpans[1].spans[0].attributes[0].value')).toBe(true);
    expect(message.endsWith(`: ${depthMessage}`)).toBe(true);
    expect(await metric(r, 'betrace_ingest_refused_total', { reason: 'malformed' })).toBe(1);
    await expectNothingTaken(r);
  });

  it('refuses protobuf one level past the limit with the same limit, and thousands deep as malformed', async () => {
    const r = await sidecar();
    const request = (depth: number) =>
      encodeFields([
        message(1, [
          message(2, [
            message(2, [
              [1, 2, Buffer.from(TRACE_ID, 'hex')],
              [2, 2, Buffer.from(SPAN_ID, 'hex')],
              message(9, [str(1, 'deep'), message(2, nestedValue(depth, [true, false]))]),
            ]),
          ]),
        ]),
      ]);
    expect(await postProto(r, request(MAX_ATTRIBUTE_DEPTH + 1))).toEqual({ status: 400, message: `resourceSpans[0].scopeSpans[0].spans[0].attributes[0]: ${depthMessage}` });
    const deep = await postProto(r, request(2_000));
    expect(deep.status).toBe(400);
    expect(deep.message).toMatch(/^the body is not a protobuf ExportTraceServiceRequest: resourceSpans\[0\]\.scopeSpans\[0\]\.spans\[0\]: messages nest deeper than 100 levels \(attribute values may nest at most 32\)$/);
    expect(await metric(r, 'betrace_ingest_refused_total', { reason: 'malformed' })).toBe(2);
    await expectNothingTaken(r);
    expect((await postProto(r, request(MAX_ATTRIBUTE_DEPTH))).status).toBe(200);
  });
});

describe('invalid ids and timestamps', () => {
  const at = 'resourceSpans[0].scopeSpans[1].spans[1]';
  it.each<[string, Record<string, unknown>, string]>([
    ['an all-zero trace id', { traceId: '0'.repeat(32) }, `${at}.traceId: is all zeros, which OTLP defines as invalid`],
    ['an all-zero span id', { spanId: '0'.repeat(16) }, `${at}.spanId: is all zeros, which OTLP defines as invalid`],
    ['a negative start time', { startTimeUnixNano: '-1' }, `${at}.startTimeUnixNano: expected nanoseconds from 0 to 2^64-1, got -1`],
    ['an end time of 2^64 ns', { endTimeUnixNano: String(2n ** 64n) }, `${at}.endTimeUnixNano: expected nanoseconds from 0 to 2^64-1, got 18446744073709551616`],
    ['an event time past 2^64 ns', { events: [{ name: 'e', timeUnixNano: '99999999999999999999999' }] }, `${at}.events[0].timeUnixNano: expected nanoseconds from 0 to 2^64-1, got 99999999999999999999999`],
    ['a link with an all-zero span id', { links: [{ traceId: TRACE_ID, spanId: '0'.repeat(16) }] }, `${at}.links[0].spanId: is all zeros, which OTLP defines as invalid`],
  ])('refuses JSON with %s: 400 naming the field path, nothing taken', async (_name, fields, text) => {
    const r = await sidecar();
    const res = await postJson(r, jsonRequest({}, fields));
    expect(res.status).toBe(400);
    expect(((await res.json()) as { message: string }).message).toBe(text);
    expect(await metric(r, 'betrace_ingest_refused_total', { reason: 'malformed' })).toBe(1);
    await expectNothingTaken(r);
  });

  it.each<[string, Record<string, unknown>, string]>([
    ['an all-zero trace id', { traceId: Buffer.alloc(16) }, 'resourceSpans[0].scopeSpans[0].spans[1].traceId: is all zeros, which OTLP defines as invalid'],
    ['an all-zero span id', { spanId: Buffer.alloc(8) }, 'resourceSpans[0].scopeSpans[0].spans[1].spanId: is all zeros, which OTLP defines as invalid'],
    ['a short trace id', { traceId: Buffer.alloc(15, 1) }, 'resourceSpans[0].scopeSpans[0].spans[1].traceId: expected 16 bytes, got 15'],
  ])('refuses protobuf with %s: 400 naming the field path', async (_name, fields, text) => {
    const r = await sidecar();
    const valid = { traceId: Buffer.from(TRACE_ID, 'hex'), spanId: Buffer.from(SPAN_ID, 'hex'), name: 'checkout' };
    const body = encodeTraceRequest({ resourceSpans: [{ scopeSpans: [{ spans: [valid, { ...valid, ...fields }] }] }] });
    expect(await postProto(r, body)).toEqual({ status: 400, message: text });
    await expectNothingTaken(r);
  });

  it('takes an all-zero parent id as "no parent", as encoders write it', async () => {
    const r = await sidecar();
    const res = await postJson(r, jsonRequest({ parentSpanId: '0'.repeat(16) }));
    expect(res.status).toBe(200);
    expect(r.sidecar.shards.bufferedSpans).toBe(1);
  });
});

describe('OTLP signals other than traces', () => {
  it.each(['logs', 'metrics'])('answers /v1/%s with 404 saying BeTrace takes traces only, in JSON and protobuf', async (signal) => {
    const r = await sidecar();
    const url = r.otlp.replace('/v1/traces', `/v1/${signal}`);
    const json = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"resourceLogs":[]}' });
    expect(json.status).toBe(404);
    const body = (await json.json()) as { code: number; message: string };
    expect(body.message).toMatch(new RegExp(`^BeTrace takes traces only \\(POST /v1/traces\\); send ${signal} to `));
    expect(body.code).toBe(5);
    const proto = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/x-protobuf' }, body: Buffer.alloc(0) });
    expect(proto.status).toBe(404);
    expect((RpcStatus.toObject(RpcStatus.decode(new Uint8Array(await proto.arrayBuffer()))) as { message?: string }).message).toBe(body.message);
    // Nothing of it was taken as trace data.
    expect(await (await fetch(`${r.api}/metrics`)).text()).not.toMatch(/^betrace_(ingest_bytes|spans_received)_total\{[^}]*\} [1-9]/m);
  });
});

describe('paging on the REST API', () => {
  it.each([
    ['/api/v1/signals?limit=1e12', /^querystring\/limit must be <= 1000$/],
    ['/api/v1/signals?limit=0', /^querystring\/limit must be >= 1$/],
    ['/api/v1/signals?offset=-1', /^querystring\/offset must be >= 0$/],
    ['/api/v1/signals?offset=1e300', /^querystring\/offset must be <= 1000000000$/],
    ['/api/v1/signals?limit=2.5', /^querystring\/limit must be integer$/],
    ['/api/v1/audit?offset=1e12', /^querystring\/offset must be <= 1000000000$/],
    ['/api/v1/audit?limit=100000', /^querystring\/limit must be <= 1000$/],
  ])('answers %s with 400 naming the parameter', async (url, text) => {
    const r = await sidecar();
    const res = await fetch(`${r.api}${url}`, { headers: r.auth });
    expect(res.status).toBe(400);
    expect(((await res.json()) as { message: string }).message).toMatch(text);
  });

  it('still pages at the bounds', async () => {
    const r = await sidecar();
    const res = await fetch(`${r.api}/api/v1/signals?limit=1000&offset=1000000000`, { headers: r.auth });
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({ signals: [], limit: 1000, offset: 1_000_000_000 });
  });
});
