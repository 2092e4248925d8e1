/**
 * Writers against recording doubles: what leaves the sidecar for Tempo (signal spans), Grafana
 * (annotations) and webhooks, storm folding, and an outage during which nothing is lost or doubled.
 */
import { createHmac } from 'crypto';
import * as fs from 'fs';
import * as net from 'net';
import * as os from 'os';
import * as path from 'path';
import pino from 'pino';
import { gunzipSync } from 'zlib';
import { loadConfig } from '../src/config';
import { ExportTraceServiceRequest } from '../src/ingest/otlpProto';
import { createSidecar, Sidecar } from '../src/sidecar';
import { shownUrl } from '../src/writers';
import { grafanaDouble, HttpDouble } from './support/doubles';

const root = path.join(__dirname, '../../..');
const example = (rule: string) => fs.readFileSync(path.join(root, 'examples/traces', rule, 'violates-1.json'), 'utf8');

interface Setup {
  sidecar: Sidecar;
  otlp: string;
  clock: { now: number };
  grafana: HttpDouble;
  sink: HttpDouble;
  webhook: HttpDouble;
}

const setups: Setup[] = [];
afterEach(async () => {
  for (const s of setups.splice(0)) {
    await s.sidecar.stop();
    await Promise.all([s.grafana.stop(), s.sink.stop(), s.webhook.stop()]);
  }
});

async function setup(envOf: Record<string, string> | ((sinkUrl: string) => Record<string, string>) = {}): Promise<Setup> {
  const grafana = grafanaDouble();
  const sink = new HttpDouble();
  const webhook = new HttpDouble();
  const [g, o, w] = await Promise.all([grafana.start(), sink.start(), webhook.start()]);
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'betrace-writers-'));
  const config = loadConfig({ EVAL_WORKERS: '0',
    DATA_DIR: dataDir,
    RULES_DIR: path.join(root, 'examples/rules'),
    OTLP_PORT: '0',
    API_PORT: '0',
    HOST: '127.0.0.1',
    GRAFANA_URL: g,
    GRAFANA_TOKEN: 'glsa_test',
    OTLP_EXPORT_URL: o,
    WEBHOOK_URL: `${w}/hook`,
    WEBHOOK_SECRET: 's3cret',
    ...(typeof envOf === 'function' ? envOf(o) : envOf),
  });
  const clock = { now: Date.UTC(2026, 10, 25, 12, 0, 0) };
  const sidecar = createSidecar(config, { now: () => clock.now, logger: pino({ level: 'silent' }), tickMs: 3_600_000, writerIntervalMs: 3_600_000, writerBaseDelayMs: 1000 });
  const { otlpPort } = await sidecar.start();
  const s = { sidecar, otlp: `http://127.0.0.1:${otlpPort}/v1/traces`, clock, grafana, sink, webhook };
  setups.push(s);
  return s;
}

async function ingest(s: Setup, json: string): Promise<void> {
  const res = await fetch(s.otlp, { method: 'POST', headers: { 'content-type': 'application/json' }, body: json });
  expect(res.status).toBe(200);
  s.clock.now += 10_001;
  await s.sidecar.shards.tick();
}

async function deliverAll(s: Setup): Promise<void> {
  for (const d of s.sidecar.dispatchers) {
    await d.runOnce();
  }
}

describe('writers', () => {
  it('write the signal span into the violating trace, exactly as the contract says', async () => {
    const s = await setup();
    await ingest(s, example('soc2-cc7-2-payment-failures-audited'));
    await deliverAll(s);
    // The signal span first (the otlp writer), then the rule's per-trace compliance.evidence span (test/evidenceFlow.test.ts).
    expect(s.sink.requests).toHaveLength(2);
    const req = s.sink.requests[0];
    expect(req.url).toBe('/v1/traces');
    expect(req.headers['content-type']).toBe('application/x-protobuf');
    const decoded = ExportTraceServiceRequest.toObject(ExportTraceServiceRequest.decode(req.body), { longs: String, bytes: String }) as {
      resourceSpans: Array<{ resource: { attributes: Array<{ key: string; value: Record<string, unknown> }> }; scopeSpans: Array<{ scope: { name: string }; spans: Array<Record<string, unknown>> }> }>;
    };
    const rs = decoded.resourceSpans[0];
    const attrs = (list: Array<{ key: string; value: Record<string, unknown> }>) => Object.fromEntries(list.map((a) => [a.key, Object.values(a.value)[0]]));
    expect(attrs(rs.resource.attributes)).toEqual({ 'service.name': 'betrace', 'service.version': '0.1.0', 'betrace.tenant': 'default' });
    expect(rs.scopeSpans[0].scope.name).toBe('betrace');
    const span = rs.scopeSpans[0].spans[0] as { name: string; kind: number; traceId: string; parentSpanId: string; status: { code: number }; attributes: Array<{ key: string; value: Record<string, unknown> }> };
    const [signal] = s.sidecar.store.listSignals('default').signals;
    expect(span.name).toBe('betrace.signal');
    expect(span.kind).toBe(1);
    expect(Buffer.from(span.traceId, 'base64').toString('hex')).toBe(signal.traceId);
    expect(Buffer.from(span.parentSpanId, 'base64').toString('hex')).toBe(signal.boundSpanId);
    expect(span.status.code).toBe(2);
    expect(attrs(span.attributes)).toMatchObject({
      'betrace.signal.id': signal.id,
      'betrace.rule.id': 'soc2-cc7-2-payment-failures-audited',
      'betrace.rule.name': 'Failed payments are recorded as audit events',
      'betrace.rule.version': '1',
      'betrace.signal.severity': 'high',
      'betrace.signal.source': 'push',
      'compliance.framework': 'soc2',
      'compliance.control': 'CC7.2',
      'betrace.signal.detected_at': new Date(signal.createdAt).toISOString(),
    });
    // Inside the violating trace, where the bound span ends — not at detection time, which would
    // stretch the trace in Tempo to the detection delay (a year, for these example traces).
    const bound = (JSON.parse(example('soc2-cc7-2-payment-failures-audited')) as { resourceSpans: Array<{ scopeSpans: Array<{ spans: Array<{ spanId: string; startTimeUnixNano: string; endTimeUnixNano: string }> }> }> }).resourceSpans
      .flatMap((r) => r.scopeSpans.flatMap((ss) => ss.spans));
    const boundSpan = bound.find((b) => b.spanId === signal.boundSpanId)!;
    const times = span as unknown as { startTimeUnixNano: string; endTimeUnixNano: string };
    expect([times.startTimeUnixNano, times.endTimeUnixNano]).toEqual([boundSpan.endTimeUnixNano, boundSpan.endTimeUnixNano]);
    const traceEnd = bound.reduce((m, b) => (BigInt(b.endTimeUnixNano) > m ? BigInt(b.endTimeUnixNano) : m), 0n);
    expect(BigInt(times.endTimeUnixNano) <= traceEnd).toBe(true);
  });

  it('post one Grafana annotation per signal, and fold a storm of one rule in one minute into one', async () => {
    const s = await setup();
    const trace = example('no-auto-approve');
    await ingest(s, trace);
    // A second trace of the same rule in the same minute (a different trace id).
    await ingest(s, trace.replace(/"traceId": "([0-9a-f]{30})[0-9a-f]{2}"/g, '"traceId": "$1ff"'));
    await deliverAll(s);
    expect(s.grafana.requests.map((r) => [r.method, r.url])).toEqual([
      ['POST', '/api/annotations'],
      ['PATCH', '/api/annotations/1'],
    ]);
    const post = JSON.parse(s.grafana.requests[0].body.toString()) as { time: number; tags: string[]; text: string };
    expect(s.grafana.requests[0].headers.authorization).toBe('Bearer glsa_test');
    expect(post.tags).toEqual(['betrace', 'rule:no-auto-approve', 'severity:high', 'service:payment']);
    expect(post.text).toMatch(/^Payments are never auto-approved: Payments are never auto-approved — trace [0-9a-f]{32}$/);
    expect(JSON.parse(s.grafana.requests[1].body.toString()).text).toMatch(/^Payments are never auto-approved: 2 signals this minute/);
  });

  it('sign webhook bodies with HMAC-SHA256 and offer a Slack format', async () => {
    const s = await setup();
    await ingest(s, example('payment-fraud-check'));
    await deliverAll(s);
    const req = s.webhook.requests[0];
    expect(req.headers['x-betrace-signature']).toBe(`sha256=${createHmac('sha256', 's3cret').update(req.body).digest('hex')}`);
    const body = JSON.parse(req.body.toString()) as { type: string; signal: { ruleId: string; id: string } };
    expect(body.type).toBe('betrace.signal');
    expect(req.headers['x-betrace-signal-id']).toBe(body.signal.id);

    const slack = await setup({ WEBHOOK_FORMAT: 'slack' });
    await ingest(slack, example('payment-fraud-check'));
    await deliverAll(slack);
    expect(JSON.parse(slack.webhook.requests[0].body.toString()).text).toMatch(/^\*CRITICAL\* Large payments need a fraud check: charge of 1250 USD/);
  });

  it('survive an outage: Grafana down for a while, then up — every annotation arrives, none twice', async () => {
    const s = await setup();
    s.grafana.down = true;
    const rules = ['no-auto-approve', 'payment-fraud-check', 'bounded-retries', 'pii-query-needs-auth'];
    for (const r of rules) {
      await ingest(s, example(r));
    }
    const grafana = s.sidecar.dispatchers.find((d) => (d as unknown as { writer: { name: string } }).writer.name === 'grafana')!;
    for (let i = 0; i < 5; i++) {
      await grafana.runOnce();
      s.clock.now += 60_000;
    }
    expect(s.grafana.requests).toHaveLength(0);
    expect(s.sidecar.store.outboxDepth('grafana')).toBe(4);
    s.grafana.down = false;
    for (let i = 0; i < 10 && s.sidecar.store.outboxDepth('grafana') > 0; i++) {
      s.clock.now += 600_000;
      await grafana.runOnce();
    }
    expect(s.sidecar.store.outboxDepth('grafana')).toBe(0);
    const posted = s.grafana.requests.map((r) => (JSON.parse(r.body.toString()) as { tags: string[] }).tags[1]).sort();
    expect(posted).toEqual(rules.map((r) => `rule:${r}`).sort());
    // The other writers were not held up by Grafana's outage.
    expect(s.webhook.requests).toHaveLength(0);
    await deliverAll(s);
    expect(s.webhook.requests).toHaveLength(4);
    expect(s.sink.requests).toHaveLength(4);
  });

  it('export to the standard OTEL_EXPORTER_OTLP_* endpoint, with its headers and gzip', async () => {
    const s = await setup((sink) => ({
      OTLP_EXPORT_URL: '',
      OTEL_EXPORTER_OTLP_ENDPOINT: sink,
      OTEL_EXPORTER_OTLP_HEADERS: 'authorization=Bearer%20abc,x-team=core',
      OTEL_EXPORTER_OTLP_TRACES_HEADERS: 'x-team=payments',
      OTEL_EXPORTER_OTLP_COMPRESSION: 'gzip',
    }));
    await ingest(s, example('soc2-cc7-2-payment-failures-audited'));
    await deliverAll(s);
    expect(s.sink.requests.length).toBeGreaterThanOrEqual(1);
    for (const req of s.sink.requests) {
      expect(req.url).toBe('/v1/traces');
      expect([req.headers.authorization, req.headers['x-team'], req.headers['content-encoding'], req.headers['content-type']]).toEqual(['Bearer abc', 'payments', 'gzip', 'application/x-protobuf']);
      const decoded = ExportTraceServiceRequest.toObject(ExportTraceServiceRequest.decode(gunzipSync(req.body))) as { resourceSpans: Array<{ scopeSpans: Array<{ spans: Array<{ name: string }> }> }> };
      expect(['betrace.signal', 'compliance.evidence']).toContain(decoded.resourceSpans[0].scopeSpans[0].spans[0].name);
    }
  });

  it('back off exponentially with jitter, capped', () => {
    const s = { now: () => 0 } as never;
    const { OutboxDispatcher } = jest.requireActual('../src/writers') as typeof import('../src/writers');
    const d = new OutboxDispatcher(s, { name: 'x', deliver: async () => undefined }, { now: () => 0, log: pino({ level: 'silent' }), metrics: {} as never, baseDelayMs: 1000, maxDelayMs: 60_000, random: () => 1 });
    expect([0, 1, 2, 3, 10].map((a) => d.backoff(a))).toEqual([1000, 2000, 4000, 8000, 60_000]);
    const low = new OutboxDispatcher(s, { name: 'x', deliver: async () => undefined }, { now: () => 0, log: pino({ level: 'silent' }), metrics: {} as never, baseDelayMs: 1000, random: () => 0 });
    expect(low.backoff(3)).toBe(4000);
  });
});

describe('delivery errors', () => {
  it('are logged once per outage with the target and the cause, and the end of the outage too', async () => {
    const closed = await new Promise<number>((resolve) => {
      const server = net.createServer().listen(0, '127.0.0.1', () => {
        const port = (server.address() as net.AddressInfo).port;
        server.close(() => resolve(port));
      });
    });
    let up = false;
    const item = { id: 1, attempts: 0 };
    const store = {
      db: { open: true },
      dueOutbox: () => [item],
      retryOutbox: () => {
        item.attempts++;
      },
      completeOutbox: () => undefined,
      outboxDepth: () => (up ? 0 : 1),
    } as never;
    const lines: Array<{ level: number; msg: string; cause?: string; stack?: string; err?: unknown }> = [];
    const log = pino({ level: 'info' }, { write: (line: string) => lines.push(JSON.parse(line)) });
    const { OutboxDispatcher, send } = jest.requireActual('../src/writers') as typeof import('../src/writers');
    const writer = { name: 'webhook', deliver: async () => void (up ? undefined : await send(`http://127.0.0.1:${closed}/hooks/secret-path`, { method: 'POST' }, 2000)) };
    const d = new OutboxDispatcher(store, writer, { now: () => 0, log, metrics: { writerQueue: { set: () => undefined } } as never });
    for (let i = 0; i < 12; i++) {
      await d.runOnce();
    }
    expect(lines.map((l) => [l.level, l.msg, l.cause])).toEqual([[40, 'delivery failing; retrying with backoff until it works', `POST http://127.0.0.1:${closed}/hooks/…: connect ECONNREFUSED 127.0.0.1:${closed}`]]);
    expect(JSON.stringify(lines)).not.toMatch(/stack|secret-path|fetch failed/);
    up = true;
    await d.runOnce();
    await d.runOnce();
    expect(lines.slice(1).map((l) => [l.level, l.msg])).toEqual([[30, 'delivery works again']]);
    expect((lines[1] as { failedAttempts?: number }).failedAttempts).toBe(12);
  });

  it('name a target by origin and first path segment only: a webhook URL can be a credential', () => {
    expect(shownUrl('https://hooks.slack.com/services/T0000/B0000/XXXXXXXXXXXXXXXXXXXXXXXX')).toBe('https://hooks.slack.com/services/…');
    expect(shownUrl('http://tempo:4318/v1/traces')).toBe('http://tempo:4318/v1/…');
    expect(shownUrl('http://grafana:3000/api/annotations?token=x')).toBe('http://grafana:3000/api/…');
    expect(shownUrl('http://hooks.example.com')).toBe('http://hooks.example.com');
    expect(shownUrl('not a url')).toBe('(invalid URL)');
  });
});
