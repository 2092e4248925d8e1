/**
 * Ingest security against a whole sidecar in-process: real HTTP, real SQLite, OTLP JSON and
 * protobuf, and the real OpenTelemetry exporter. Every refusal is checked for its status, its
 * message, its metric, and that nothing of the batch was stored, buffered, counted or evaluated.
 * Time is an injected clock.
 */
import { execFile } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { promisify } from 'util';
import { gzipSync } from 'zlib';
import pino from 'pino';
import { loadConfig } from '../src/config';
import { signBody } from '../src/ingest/auth';
import { RpcStatus } from '../src/ingest/otlpProto';
import { createSidecar, Sidecar } from '../src/sidecar';
import { DEFAULT_REDACTION, sha256Hex, Tenant } from '../src/tenants';

const root = path.join(__dirname, '../../..');
/** 8 spans, violates no-auto-approve. */
const AUTO_APPROVE = fs.readFileSync(path.join(root, 'examples/traces/no-auto-approve/violates-1.json'), 'utf8');
/** 7 spans, violates payment-fraud-check. */
const FRAUD = fs.readFileSync(path.join(root, 'examples/traces/payment-fraud-check/violates-1.json'), 'utf8');

function tenant(id: string, key: string, extra: Partial<Tenant> = {}): Tenant {
  return { id, apiTokens: [], ingestKeys: [{ name: `${id}-ci`, sha256: sha256Hex(key) }], evidenceKeys: [], redaction: { ...DEFAULT_REDACTION }, ...extra };
}

const HMAC_SECRET = 'hmac-secret-of-signed';
const TENANTS: Tenant[] = [
  tenant('default', 'default-key'),
  tenant('signed', 'signed-key', { ingestHmacSecret: HMAC_SECRET }),
  tenant('limited', 'limited-key', { rateLimit: { spansPerSecond: 2, burst: 10 } }),
];

interface Running {
  sidecar: Sidecar;
  otlp: string;
  clock: { now: number };
  logs: string[];
  dataDir: string;
}

const running: Running[] = [];
afterEach(async () => {
  for (const r of running.splice(0)) {
    await r.sidecar.stop();
  }
});

async function sidecar(options: { env?: Record<string, string>; tenants?: Tenant[]; dataDir?: string; now?: number } = {}): Promise<Running> {
  const dataDir = options.dataDir ?? fs.mkdtempSync(path.join(os.tmpdir(), 'betrace-ingest-'));
  const config = loadConfig({ EVAL_WORKERS: '0', DATA_DIR: dataDir, RULES_DIR: path.join(root, 'examples/rules'), OTLP_PORT: '0', API_PORT: '0', HOST: '127.0.0.1', DECISION_WAIT: '10s', ...options.env });
  const clock = { now: options.now ?? 1_764_028_800_000 };
  const logs: string[] = [];
  const logger = pino({ level: 'info' }, { write: (line: string) => logs.push(line) });
  const s = createSidecar(config, { now: () => clock.now, logger, tickMs: 3_600_000, tenants: options.tenants ?? TENANTS });
  const { otlpPort } = await s.start();
  const r = { sidecar: s, otlp: `http://127.0.0.1:${otlpPort}/v1/traces`, clock, logs, dataDir };
  running.push(r);
  return r;
}

function post(r: Running, body: string | Buffer, headers: Record<string, string> = {}): Promise<Response> {
  return fetch(r.otlp, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body });
}

/** Sum of a metric's values whose labels include `labels`. */
async function metric(r: Running, name: string, labels: Record<string, string> = {}): Promise<number> {
  const m = r.sidecar.metrics.registry.getSingleMetric(name);
  if (!m) {
    return 0;
  }
  const { values } = await m.get();
  return values.filter((v) => Object.entries(labels).every(([k, x]) => (v.labels as Record<string, unknown>)[k] === x)).reduce((n, v) => n + v.value, 0);
}

async function settle(r: Running): Promise<void> {
  r.clock.now += 10_001;
  await r.sidecar.shards.tick();
}

function signalCount(r: Running): number {
  return (r.sidecar.store.db.prepare('SELECT count(*) AS n FROM signals').get() as { n: number }).n;
}

/** Nothing of a refused batch was buffered, counted as usage, evaluated or stored. */
async function expectNothingTaken(r: Running): Promise<void> {
  expect(r.sidecar.shards.bufferedSpans).toBe(0);
  expect(await metric(r, 'betrace_spans_received_total')).toBe(0);
  expect(await metric(r, 'betrace_ingest_bytes_total')).toBe(0);
  await settle(r);
  expect(await metric(r, 'betrace_traces_evaluated_total')).toBe(0);
  expect(signalCount(r)).toBe(0);
}

/** The real OpenTelemetry exporter, in a second process (test/support/exportSpans.js). */
async function exportSpans(r: Running, spans: number, headers: Record<string, string>): Promise<{ code: number; error?: string }> {
  const script = path.join(__dirname, 'support/exportSpans.js');
  const { stdout } = await promisify(execFile)(process.execPath, [script, r.otlp, String(spans), ...Object.entries(headers).map(([k, v]) => `${k}=${v}`)]);
  return JSON.parse(stdout) as { code: number; error?: string };
}

async function message(res: Response): Promise<string> {
  return ((await res.json()) as { message: string }).message;
}

describe('ingest keys', () => {
  it('refuses a request without a key: 401 with a message, counted, logged, nothing taken', async () => {
    const r = await sidecar();
    const res = await post(r, AUTO_APPROVE);
    expect(res.status).toBe(401);
    expect(await message(res)).toBe('an ingest key is required: send Authorization: Bearer <key> or x-api-key: <key>');
    expect(await metric(r, 'betrace_ingest_refused_total', { reason: 'missing_key', tenant: '' })).toBe(1);
    expect(r.logs.some((l) => l.includes('"reason":"missing_key"'))).toBe(true);
    await expectNothingTaken(r);
  });

  it('refuses a wrong key (bearer or x-api-key), answers protobuf with a google.rpc.Status, and never logs the key', async () => {
    const r = await sidecar();
    const bearer = await post(r, AUTO_APPROVE, { authorization: 'Bearer not-the-key-123' });
    expect(bearer.status).toBe(401);
    expect(await message(bearer)).toBe('the ingest key is not valid');
    const header = await post(r, AUTO_APPROVE, { 'x-api-key': 'not-the-key-123' });
    expect(header.status).toBe(401);
    const proto = await fetch(r.otlp, { method: 'POST', headers: { 'content-type': 'application/x-protobuf', 'x-api-key': 'not-the-key-123' }, body: Buffer.alloc(0) });
    expect(proto.status).toBe(401);
    expect(RpcStatus.toObject(RpcStatus.decode(new Uint8Array(await proto.arrayBuffer())))).toEqual({ code: 16, message: 'the ingest key is not valid' });
    expect(await metric(r, 'betrace_ingest_refused_total', { reason: 'wrong_key' })).toBe(3);
    expect(r.logs.filter((l) => l.includes('"reason":"wrong_key"'))).toHaveLength(3);
    expect(r.logs.join('\n')).not.toContain('not-the-key-123');
    await expectNothingTaken(r);
  });

  it('does not read the body of an unauthenticated request: an oversized one is 401, not 413', async () => {
    const r = await sidecar({ env: { MAX_BODY_BYTES: '1024' } });
    const res = await post(r, AUTO_APPROVE, { 'x-api-key': 'wrong' });
    expect(res.status).toBe(401);
  });

  it('takes a batch with a valid key under the key’s tenant, by bearer or x-api-key', async () => {
    const r = await sidecar();
    expect((await post(r, AUTO_APPROVE, { authorization: 'Bearer default-key' })).status).toBe(200);
    expect((await post(r, FRAUD, { 'x-api-key': 'limited-key' })).status).toBe(200);
    expect(await metric(r, 'betrace_spans_received_total', { tenant: 'default' })).toBe(8);
    expect(await metric(r, 'betrace_spans_received_total', { tenant: 'limited' })).toBe(7);
    await settle(r);
    // The example rules are the default tenant's: only its trace raises a signal.
    expect(r.sidecar.store.listSignals('default').signals.map((s) => s.ruleId)).toEqual(['no-auto-approve']);
    expect(r.sidecar.store.listSignals('limited').total).toBe(0);
  });

  it('keeps ingest open for the embedded default tenant only, and closes it once that tenant has a key', async () => {
    const open = await sidecar({ tenants: [{ ...tenant('default', 'x'), ingestKeys: [], openIngest: true }] });
    expect((await post(open, AUTO_APPROVE)).status).toBe(200);
    // A tenant of a tenants file without ingest keys receives nothing, even alone.
    const fileTenant = await sidecar({ tenants: [{ ...tenant('team-a', 'x'), ingestKeys: [] }] });
    const refused = await post(fileTenant, AUTO_APPROVE);
    expect(refused.status).toBe(401);
    const closed = await sidecar({ tenants: [tenant('default', 'only-key')] });
    expect((await post(closed, AUTO_APPROVE)).status).toBe(401);
    expect((await post(closed, AUTO_APPROVE, { 'x-api-key': 'only-key' })).status).toBe(200);
  });

  it('works with the real OpenTelemetry exporter and a custom header', async () => {
    const r = await sidecar();
    expect(await exportSpans(r, 3, { 'x-api-key': 'default-key' })).toEqual({ code: 0 });
    expect(r.sidecar.shards.bufferedSpans).toBe(3);
    expect(await metric(r, 'betrace_spans_received_total', { tenant: 'default' })).toBe(3);
    const refused = await exportSpans(r, 2, { 'x-api-key': 'stolen' });
    expect(refused.code).toBe(1); // ExportResultCode.FAILED, not retried
    expect(await metric(r, 'betrace_ingest_refused_total', { reason: 'wrong_key' })).toBe(1);
    expect(r.sidecar.shards.bufferedSpans).toBe(3);
  });
});

describe('HMAC body signatures', () => {
  const signed = (r: Running, body: string | Buffer, ts = String(Math.floor(r.clock.now / 1000)), secret = HMAC_SECRET) => ({
    'x-api-key': 'signed-key',
    'x-timestamp': ts,
    'x-signature': signBody(secret, ts, Buffer.from(body)),
  });

  it('accepts a body signed over "<timestamp>.<body as sent>", gzip included', async () => {
    const r = await sidecar();
    expect((await post(r, AUTO_APPROVE, signed(r, AUTO_APPROVE))).status).toBe(200);
    const gz = gzipSync(Buffer.from(FRAUD));
    expect((await post(r, gz, { ...signed(r, gz), 'content-encoding': 'gzip' })).status).toBe(200);
    expect(await metric(r, 'betrace_spans_received_total', { tenant: 'signed' })).toBe(15);
  });

  it.each<[string, (r: Running) => Record<string, string>, string, RegExp]>([
    ['no signature', () => ({ 'x-api-key': 'signed-key' }), 'missing_signature', /^this tenant requires signed requests/],
    ['a signature with the wrong secret', (r) => signed(r, AUTO_APPROVE, undefined, 'guessed'), 'bad_signature', /^x-signature does not match/],
    ['a signature of another body', (r) => signed(r, FRAUD), 'bad_signature', /^x-signature does not match/],
    ['a malformed signature', (r) => ({ ...signed(r, AUTO_APPROVE), 'x-signature': 'md5=abc' }), 'bad_signature', /^x-signature must be sha256=<64 hex characters>$/],
    ['a stale timestamp', (r) => signed(r, AUTO_APPROVE, String(Math.floor(r.clock.now / 1000) - 301)), 'stale_timestamp', /is 301 s away from the server clock; signatures are accepted within 300 s$/],
    ['a timestamp from the future', (r) => signed(r, AUTO_APPROVE, String(Math.floor(r.clock.now / 1000) + 400)), 'stale_timestamp', /is 400 s away/],
    ['a timestamp that is not a number', (r) => signed(r, AUTO_APPROVE, 'yesterday'), 'stale_timestamp', /^x-timestamp must be unix seconds/],
  ])('refuses %s with 401 and takes nothing', async (_name, headers, reason, text) => {
    const r = await sidecar();
    const res = await post(r, AUTO_APPROVE, headers(r));
    expect(res.status).toBe(401);
    expect(await message(res)).toMatch(text);
    expect(await metric(r, 'betrace_ingest_refused_total', { tenant: 'signed', reason })).toBe(1);
    expect(r.logs.join('\n')).not.toContain(HMAC_SECRET);
    await expectNothingTaken(r);
  });

  it('answers a request with a signature already accepted 200 as the batch already held, also after a restart, and takes it only once', async () => {
    const r = await sidecar();
    const headers = signed(r, AUTO_APPROVE);
    expect((await post(r, AUTO_APPROVE, headers)).status).toBe(200);
    r.clock.now += 60_000;
    const replay = await post(r, AUTO_APPROVE, headers);
    expect(replay.status).toBe(200);
    expect(await metric(r, 'betrace_ingest_duplicates_total', { tenant: 'signed' })).toBe(1);
    expect(await metric(r, 'betrace_ingest_refused_total', { tenant: 'signed' })).toBe(0);
    expect(await metric(r, 'betrace_spans_received_total')).toBe(8);
    expect(r.sidecar.shards.bufferedSpans).toBe(8);

    await r.sidecar.stop(); // evaluates the trace; the log keeps it while it is held for late spans
    running.splice(running.indexOf(r), 1);
    const again = await sidecar({ dataDir: r.dataDir, now: r.clock.now });
    expect(again.sidecar.shards.bufferedSpans).toBe(8); // read back, held as decided
    expect((await post(again, AUTO_APPROVE, headers)).status).toBe(200);
    expect(await metric(again, 'betrace_ingest_duplicates_total', { tenant: 'signed' })).toBe(1);
    expect(again.sidecar.shards.bufferedSpans).toBe(8);
    expect(await again.sidecar.shards.drain()).toBe(0); // decided before the restart: not evaluated again
    // Past the window the same signature is stale, not a duplicate.
    again.clock.now += 300_000;
    expect(await message(await post(again, AUTO_APPROVE, headers))).toMatch(/s away from the server clock/);
  });
});

describe('rate limits', () => {
  it('answers 429 with Retry-After from the refill rate, takes nothing, and accepts once the bucket has refilled', async () => {
    const r = await sidecar();
    const key = { 'x-api-key': 'limited-key' };
    expect((await post(r, AUTO_APPROVE, key)).status).toBe(200); // 8 of the 10-span burst
    const limited = await post(r, FRAUD, key); // 7 spans, 2 left: 5 missing at 2 spans/s
    expect(limited.status).toBe(429);
    expect(limited.headers.get('retry-after')).toBe('3');
    expect(await message(limited)).toBe('rate limit of 2 spans/s (burst 10) exceeded; retry in 3 s');
    expect(await metric(r, 'betrace_ingest_refused_total', { tenant: 'limited', reason: 'rate_limited' })).toBe(1);
    expect(await metric(r, 'betrace_spans_received_total')).toBe(8);
    expect(r.sidecar.shards.bufferedSpans).toBe(8);
    // Other tenants have their own buckets.
    expect((await post(r, FRAUD, { 'x-api-key': 'default-key' })).status).toBe(200);
    r.clock.now += 2_500;
    expect((await post(r, FRAUD, key)).status).toBe(200);
    expect(await metric(r, 'betrace_spans_received_total', { tenant: 'limited' })).toBe(15);
  });

  it('answers 413 for a batch larger than the burst (it could never fit)', async () => {
    const r = await sidecar({ tenants: [tenant('default', 'k', { rateLimit: { spansPerSecond: 100, burst: 5 } })] });
    const res = await post(r, AUTO_APPROVE, { 'x-api-key': 'k' });
    expect(res.status).toBe(413);
    expect(await message(res)).toBe('a batch of 8 spans exceeds this tenant’s burst of 5 spans; send smaller batches');
    await expectNothingTaken(r);
  });
});

describe('size and shape', () => {
  it.each<[string, Record<string, string>, () => string | Buffer, number, string, RegExp]>([
    ['an oversized body', {}, () => AUTO_APPROVE, 413, 'too_large', /^the body exceeds 4096 bytes$/],
    ['an oversized gzip body', { 'content-encoding': 'gzip' }, () => gzipSync(Buffer.from(' '.repeat(100_000))), 413, 'too_large', /^the decompressed body exceeds 4096 bytes$/],
    ['a malformed body', {}, () => '{"resourceSpans": [', 400, 'malformed', /^the body is not JSON/],
    ['a malformed span', {}, () => JSON.stringify({ resourceSpans: [{ scopeSpans: [{ spans: [{ traceId: 'xyz' }] }] }] }), 400, 'malformed', /traceId: expected 32 hex characters/],
    ['a bad idempotency key', { 'x-idempotency-key': 'has spaces' }, () => FRAUD.slice(0, 10), 400, 'bad_idempotency_key', /^x-idempotency-key must be 1 to 256 visible ASCII characters$/],
  ])('answers %s from an authenticated sender', async (_name, headers, body, status, reason, text) => {
    const r = await sidecar({ env: { MAX_BODY_BYTES: '4096' } });
    const res = await post(r, body(), { 'x-api-key': 'default-key', ...headers });
    expect(res.status).toBe(status);
    expect(await message(res)).toMatch(text);
    expect(await metric(r, 'betrace_ingest_refused_total', { tenant: 'default', reason })).toBe(1);
    await expectNothingTaken(r);
  });
});

describe('idempotency keys', () => {
  it('answers a retried batch 200 without counting or evaluating it again, for 24 h, across a restart', async () => {
    const r = await sidecar();
    const headers = { 'x-api-key': 'default-key', 'x-idempotency-key': 'batch-0001' };
    expect((await post(r, AUTO_APPROVE, headers)).status).toBe(200);
    const retry = await post(r, AUTO_APPROVE, headers);
    expect(retry.status).toBe(200);
    expect(await retry.json()).toEqual({});
    expect(await metric(r, 'betrace_spans_received_total')).toBe(8);
    expect(await metric(r, 'betrace_ingest_bytes_total')).toBe(Buffer.byteLength(AUTO_APPROVE));
    expect(await metric(r, 'betrace_ingest_duplicates_total', { tenant: 'default' })).toBe(1);
    expect(r.sidecar.shards.bufferedSpans).toBe(8);
    await settle(r);
    expect(await metric(r, 'betrace_traces_evaluated_total')).toBe(1);
    expect(signalCount(r)).toBe(1);
    // The key is per tenant: another tenant's batch with the same key is its own.
    expect((await post(r, FRAUD, { 'x-api-key': 'limited-key', 'x-idempotency-key': 'batch-0001' })).status).toBe(200);
    expect(await metric(r, 'betrace_spans_received_total', { tenant: 'limited' })).toBe(7);

    await r.sidecar.stop();
    running.splice(running.indexOf(r), 1);
    const again = await sidecar({ dataDir: r.dataDir, now: r.clock.now + 23 * 3_600_000 });
    // Both batches are read back from the ingest log, held as already decided.
    expect(again.sidecar.shards.bufferedSpans).toBe(8 + 7);
    expect((await post(again, AUTO_APPROVE, headers)).status).toBe(200);
    expect(again.sidecar.shards.bufferedSpans).toBe(8 + 7);
    expect(await metric(again, 'betrace_ingest_duplicates_total')).toBe(1);
    again.clock.now += 3_600_000;
    // Past 24 h the key is forgotten: the batch is taken as new, its spans received and logged
    // again; trace assembly, which still holds that trace, holds its spans once.
    expect((await post(again, AUTO_APPROVE, headers)).status).toBe(200);
    expect(await metric(again, 'betrace_spans_received_total')).toBe(8);
    expect(await metric(again, 'betrace_spans_duplicate_total', { tenant: 'default' })).toBe(8);
    expect(again.sidecar.shards.bufferedSpans).toBe(8 + 7);
  });

  it('does not remember the key of a refused batch, so its retry is taken', async () => {
    const r = await sidecar();
    const headers = { 'x-api-key': 'limited-key', 'x-idempotency-key': 'batch-0002' };
    expect((await post(r, AUTO_APPROVE, { 'x-api-key': 'limited-key' })).status).toBe(200);
    expect((await post(r, FRAUD, headers)).status).toBe(429);
    r.clock.now += 3_000;
    expect((await post(r, FRAUD, headers)).status).toBe(200);
    expect(await metric(r, 'betrace_spans_received_total')).toBe(15);
  });
});
