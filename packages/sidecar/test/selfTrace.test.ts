/**
 * BeTrace observes itself: a whole sidecar in-process makes its own spans (receive → ingest log
 * append / assemble; evaluate → store → deliver), read here from the SDK's in-memory exporter
 * (the OTLP exporter loads its HTTP agent by dynamic import, which Jest's VM cannot run: the
 * real exporter to an OTLP sink is tested with `betrace serve` in selfTraceServe.test.ts). Its log
 * lines carry the active span's ids, and spans of its own service are never evaluated.
 */
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { Writable } from 'stream';
import pino from 'pino';
import { SpanKind, SpanStatusCode } from '@opentelemetry/api';
import { InMemorySpanExporter, ReadableSpan } from '@opentelemetry/sdk-trace';
import { decodeOtlpProtobuf, skimTraceRequest } from '@betrace/evaluator';
import { loadConfig, ConfigError } from '../src/config';
import { createSidecar, Sidecar, VERSION } from '../src/sidecar';
import { dropOwnSpans } from '../src/telemetry/ownSpans';
import { SELF_SERVICE_NAME, SelfTracer } from '../src/telemetry/selfTrace';
import { ExportTraceServiceRequest } from '../src/ingest/otlpProto';
import { HttpDouble } from './support/doubles';

const root = path.join(__dirname, '../../..');
const RULE = 'soc2-cc7-2-payment-failures-audited';
const violating = fs.readFileSync(path.join(root, 'examples/traces', RULE, 'violates-1.json'), 'utf8');
const violatingTraceId = (
  JSON.parse(violating) as { resourceSpans: Array<{ scopeSpans: Array<{ spans: Array<{ traceId: string }> }> }> }
).resourceSpans[0].scopeSpans[0].spans[0].traceId;

interface Setup {
  sidecar: Sidecar;
  selfTrace: SelfTracer;
  otlp: string;
  clock: { now: number };
  memory: InMemorySpanExporter;
  signalSink: HttpDouble;
  logs: Array<Record<string, unknown>>;
}

const setups: Setup[] = [];
afterEach(async () => {
  for (const s of setups.splice(0)) {
    await s.sidecar.stop();
    await s.signalSink.stop();
  }
});

async function setup(): Promise<Setup> {
  const signalSink = new HttpDouble();
  const signalUrl = await signalSink.start();
  const config = loadConfig({
    EVAL_WORKERS: '0',
    DATA_DIR: fs.mkdtempSync(path.join(os.tmpdir(), 'betrace-self-')),
    RULES_DIR: path.join(root, 'examples/rules'),
    OTLP_PORT: '0',
    API_PORT: '0',
    OTLP_GRPC_PORT: 'off',
    HOST: '127.0.0.1',
    OTLP_EXPORT_URL: signalUrl,
  });
  // As `betrace serve` does: the tracer first, the logger reading its active span.
  const memory = new InMemorySpanExporter();
  const selfTrace = new SelfTracer({ exporter: memory, version: VERSION });
  const logs: Array<Record<string, unknown>> = [];
  const stream = new Writable({
    write(chunk: Buffer, _enc, done) {
      logs.push(JSON.parse(chunk.toString('utf8')) as Record<string, unknown>);
      done();
    },
  });
  const logger = pino({ level: 'info', mixin: () => selfTrace.logFields() }, stream);
  const clock = { now: Date.now() };
  const sidecar = createSidecar(config, {
    now: () => clock.now,
    logger,
    selfTrace,
    tickMs: 3_600_000,
    writerIntervalMs: 3_600_000,
    evidenceIntervalMs: 3_600_000,
  });
  const { otlpPort } = await sidecar.start();
  const s = { sidecar, selfTrace, otlp: `http://127.0.0.1:${otlpPort}/v1/traces`, clock, memory, signalSink, logs };
  setups.push(s);
  return s;
}

async function post(s: Setup, body: string | Uint8Array, type = 'application/json'): Promise<number> {
  const res = await fetch(s.otlp, { method: 'POST', headers: { 'content-type': type }, body });
  await res.arrayBuffer();
  return res.status;
}

async function evaluateAndDeliver(s: Setup): Promise<void> {
  s.clock.now += 10_001;
  await s.sidecar.shards.tick();
  for (const d of s.sidecar.dispatchers) {
    await d.runOnce();
  }
  await s.selfTrace.flush();
}

interface Seen {
  name: string;
  traceId: string;
  spanId: string;
  parentSpanId: string | undefined;
  kind: string;
  service: unknown;
  version: unknown;
  attrs: Record<string, unknown>;
  links: Array<{ traceId: string; spanId: string }>;
  status: string;
  statusMessage: string | undefined;
}

const KINDS: Record<number, string> = {
  [SpanKind.INTERNAL]: 'internal',
  [SpanKind.SERVER]: 'server',
  [SpanKind.CLIENT]: 'client',
};

function seen(x: ReadableSpan): Seen {
  const { traceId, spanId } = x.spanContext();
  return {
    name: x.name,
    traceId,
    spanId,
    parentSpanId: x.parentSpanContext?.spanId,
    kind: KINDS[x.kind] ?? String(x.kind),
    service: x.resource.attributes['service.name'],
    version: x.resource.attributes['service.version'],
    attrs: { ...x.attributes },
    links: x.links.map((l) => ({ traceId: l.context.traceId, spanId: l.context.spanId })),
    status: x.status.code === SpanStatusCode.ERROR ? 'error' : x.status.code === SpanStatusCode.OK ? 'ok' : 'unset',
    statusMessage: x.status.message,
  };
}

/** Every span the sidecar finished, as exported. */
function ownSpans(s: Setup): Seen[] {
  return s.memory.getFinishedSpans().map(seen);
}

/** Spans as an OTLP/JSON request from BeTrace's own service. */
function ownJson(spans: readonly Seen[]): string {
  return JSON.stringify({
    resourceSpans: [
      {
        resource: { attributes: [{ key: 'service.name', value: { stringValue: SELF_SERVICE_NAME } }] },
        scopeSpans: [
          {
            scope: { name: 'betrace-sidecar' },
            spans: spans.map((x) => ({
              traceId: x.traceId,
              spanId: x.spanId,
              ...(x.parentSpanId !== undefined ? { parentSpanId: x.parentSpanId } : {}),
              name: x.name,
              kind: 1,
              startTimeUnixNano: '1700000000000000000',
              endTimeUnixNano: '1700000000001000000',
              attributes: Object.entries(x.attrs).map(([key, v]) => ({
                key,
                value: typeof v === 'number' ? { intValue: String(v) } : { stringValue: String(v) },
              })),
            })),
          },
        ],
      },
    ],
  });
}

const evaluated = async (s: Setup) =>
  (await s.sidecar.metrics.tracesEvaluated.get()).values.reduce((n, v) => n + v.value, 0);

describe('self tracing', () => {
  it('sends receive → append/assemble and evaluate → store → deliver to the OTLP sink, with parents, links and attributes', async () => {
    const s = await setup();
    expect(await post(s, violating)).toBe(200);
    await evaluateAndDeliver(s);
    const spans = ownSpans(s);
    const named = (name: string) => spans.filter((x) => x.name === name);
    const one = (name: string) => {
      const list = named(name);
      expect(list).toHaveLength(1);
      return list[0];
    };
    for (const x of spans) {
      expect(x.service).toBe(SELF_SERVICE_NAME);
      expect(x.version).toBe(VERSION);
    }

    const receive = one('betrace.receive');
    expect(receive.parentSpanId).toBeUndefined();
    expect(receive.kind).toBe('server');
    const sent = JSON.parse(violating) as { resourceSpans: Array<{ scopeSpans: Array<{ spans: unknown[] }> }> };
    const spanCount = sent.resourceSpans.reduce(
      (n, rs) => n + rs.scopeSpans.reduce((m, ss) => m + ss.spans.length, 0),
      0
    );
    expect(receive.attrs).toEqual({
      'betrace.tenant': 'default',
      'betrace.spans': spanCount,
      'betrace.bytes': Buffer.byteLength(violating),
      'betrace.outcome': 'accepted',
      'http.response.status_code': 200,
    });
    const append = one('betrace.ingest_log.append');
    const assemble = one('betrace.assemble');
    for (const child of [append, assemble]) {
      expect(child.traceId).toBe(receive.traceId);
      expect(child.parentSpanId).toBe(receive.spanId);
    }
    expect(assemble.attrs).toEqual({ 'betrace.tenant': 'default', 'betrace.spans': spanCount, 'betrace.traces': 1 });

    const evaluate = one('betrace.evaluate');
    expect(evaluate.parentSpanId).toBeUndefined();
    expect(evaluate.traceId).not.toBe(receive.traceId);
    expect(evaluate.links.map((l) => [l.traceId, l.spanId])).toEqual([[receive.traceId, receive.spanId]]);
    const rules = s.sidecar.rules.active('default').length;
    expect(rules).toBeGreaterThan(1);
    expect(evaluate.attrs).toEqual({
      'betrace.tenant': 'default',
      'betrace.trace_id': violatingTraceId,
      'betrace.spans': spanCount,
      'betrace.rules': rules,
      'betrace.rules_skipped': 0,
      'betrace.violations': 1,
      'betrace.violated_rules': [RULE],
    });
    const store = one('betrace.store');
    expect(store.traceId).toBe(evaluate.traceId);
    expect(store.parentSpanId).toBe(evaluate.spanId);
    expect(store.attrs).toEqual({ 'betrace.tenant': 'default', 'betrace.signals': 1, 'betrace.outcome': 'stored' });

    // The signal span (writer otlp) hangs under the store span that raised the signal; the
    // evidence span (writer otlp-evidence) carries no signal, so its delivery is a trace of its own.
    const [signal] = s.sidecar.store.listSignals('default').signals;
    const deliveries = named('betrace.deliver');
    const signalDelivery = deliveries.find((d) => d.attrs['betrace.writer'] === 'otlp')!;
    expect(signalDelivery.traceId).toBe(evaluate.traceId);
    expect(signalDelivery.parentSpanId).toBe(store.spanId);
    expect(signalDelivery.kind).toBe('client');
    expect(signalDelivery.attrs).toEqual({
      'betrace.writer': 'otlp',
      'betrace.attempt': 1,
      'betrace.tenant': 'default',
      'betrace.signal_id': signal.id,
      'betrace.outcome': 'delivered',
    });
    const others = deliveries.filter((d) => d !== signalDelivery);
    expect(others.length).toBeGreaterThan(0);
    for (const d of others) {
      expect(d.attrs['betrace.outcome']).toBe('delivered');
      expect(d.parentSpanId).toBeUndefined();
    }
    // Nothing of the sidecar's own reached the signal sink.
    expect(
      s.signalSink.requests
        .flatMap((r) => decodeOtlpProtobuf(r.body).flatMap((t) => t.spans))
        .some((x) => x.service === SELF_SERVICE_NAME)
    ).toBe(false);
  });

  it('a failing delivery is a deliver span with outcome retry and an error status', async () => {
    const s = await setup();
    s.signalSink.down = true;
    expect(await post(s, violating)).toBe(200);
    await evaluateAndDeliver(s);
    const failed = ownSpans(s).filter((x) => x.name === 'betrace.deliver');
    expect(failed.length).toBeGreaterThan(0);
    expect(failed[0].attrs['betrace.outcome']).toBe('retry');
    expect(failed[0].status).toBe('error');
    expect(failed[0].statusMessage).toContain('503');
  });

  it("log lines written inside a span carry that span's trace_id and span_id; others carry none", async () => {
    const s = await setup();
    expect(await post(s, violating)).toBe(200);
    await evaluateAndDeliver(s);
    const spans = ownSpans(s);
    const store = spans.find((x) => x.name === 'betrace.store')!;
    const line = s.logs.find((l) => typeof l.msg === 'string' && l.msg.startsWith('signal: '));
    expect(line).toBeDefined();
    expect(line!.trace_id).toBe(store.traceId);
    expect(line!.span_id).toBe(store.spanId);
    const started = s.logs.find((l) => l.msg === 'rules provisioned');
    expect(started).toBeDefined();
    expect(started!.trace_id).toBeUndefined();
    // A refused request logs inside its receive span.
    expect(await post(s, '{"resourceSpans": 7}')).toBe(400);
    await s.selfTrace.flush();
    await new Promise((r) => setImmediate(r));
    const receive = ownSpans(s)
      .filter((x) => x.name === 'betrace.receive')
      .find((x) => x.attrs['betrace.outcome'] === 'malformed')!;
    expect(receive.attrs['http.response.status_code']).toBe(400);
    const refusal = s.logs.find((l) => typeof l.msg === 'string' && l.msg.startsWith('OTLP request refused'))!;
    expect(refusal.trace_id).toBe(receive.traceId);
    expect(refusal.span_id).toBe(receive.spanId);
  });

  it('its own spans sent back to its own receiver are dropped before evaluation', async () => {
    const s = await setup();
    expect(await post(s, violating)).toBe(200);
    await evaluateAndDeliver(s);
    expect(await evaluated(s)).toBe(1);
    // The sidecar's own spans as OTLP/JSON, to its own receiver (as with SELF_OTLP_ENDPOINT pointing at it).
    const own = ownSpans(s);
    const sentSpans = own.length;
    expect(sentSpans).toBeGreaterThan(3);
    s.memory.reset();
    const bodies = [ownJson(own.slice(0, 2)), ownJson(own.slice(2))];
    for (const b of bodies) {
      expect(await post(s, b)).toBe(200);
    }
    await evaluateAndDeliver(s);
    expect(await evaluated(s)).toBe(1);
    const dropped = (await s.sidecar.metrics.registry.getSingleMetric('betrace_own_spans_dropped_total')!.get()).values;
    expect(dropped).toEqual([expect.objectContaining({ labels: { tenant: 'default' }, value: sentSpans })]);
    const receives = ownSpans(s).filter((x) => x.name === 'betrace.receive');
    expect(receives.map((r) => r.attrs['betrace.outcome'])).toEqual(bodies.map(() => 'own_spans'));
    expect(ownSpans(s).some((x) => x.name === 'betrace.evaluate')).toBe(false);

    // A batch mixing a user's trace with BeTrace's own resource: only the user's spans are evaluated.
    const mixed = JSON.parse(violating) as {
      resourceSpans: Array<{
        resource: { attributes: Array<{ key: string; value: { stringValue: string } }> };
        scopeSpans: Array<{ spans: Array<{ traceId: string; spanId: string }> }>;
      }>;
    };
    const ownTraceId = 'ab'.repeat(16);
    mixed.resourceSpans.push({
      resource: { attributes: [{ key: 'service.name', value: { stringValue: SELF_SERVICE_NAME } }] },
      scopeSpans: [
        {
          spans: [
            {
              traceId: ownTraceId,
              spanId: 'cd'.repeat(8),
              name: 'betrace.receive',
              startTimeUnixNano: '1',
              endTimeUnixNano: '2',
            } as { traceId: string; spanId: string },
          ],
        },
      ],
    });
    for (const rs of mixed.resourceSpans.slice(0, -1)) {
      for (const ss of rs.scopeSpans) {
        for (const x of ss.spans) {
          x.traceId = 'ef'.repeat(16);
        }
      }
    }
    expect(await post(s, JSON.stringify(mixed))).toBe(200);
    await evaluateAndDeliver(s);
    expect(await evaluated(s)).toBe(2);
    const evaluations = ownSpans(s).filter((x) => x.name === 'betrace.evaluate');
    expect(evaluations.map((e) => e.attrs['betrace.trace_id'])).toEqual(['ef'.repeat(16)]);
    expect(
      s.sidecar.store
        .listSignals('default')
        .signals.map((x) => x.traceId)
        .sort()
    ).toEqual(['ef'.repeat(16), violatingTraceId].sort());
  });
});

describe('own spans out of a protobuf skim (the shard workers’ path)', () => {
  it('decodes, drops the own spans and hands over plain copies a worker can receive', () => {
    // A protobuf request with one user span and one of BeTrace's own.
    const resource = (service: string) => ({ attributes: [{ key: 'service.name', value: { stringValue: service } }] });
    const span = (trace: number, id: number, name: string) => ({
      traceId: Buffer.alloc(16, trace),
      spanId: Buffer.alloc(8, id),
      name,
      startTimeUnixNano: 1,
      endTimeUnixNano: 2,
      attributes: [{ key: 'k', value: { stringValue: 'v' } }],
      events: [{ name: 'e', timeUnixNano: 1, attributes: [] }],
    });
    const body = ExportTraceServiceRequest.encode(
      ExportTraceServiceRequest.fromObject({
        resourceSpans: [
          { resource: resource('checkout'), scopeSpans: [{ spans: [span(1, 1, 'POST /checkout')] }] },
          { resource: resource(SELF_SERVICE_NAME), scopeSpans: [{ spans: [span(2, 2, 'betrace.receive')] }] },
        ],
      })
    ).finish();
    const skim = skimTraceRequest(body);
    const out = dropOwnSpans(body, { kind: 'protobuf', body, skim }, true);
    expect(out.dropped).toBe(1);
    expect(out.spanCount).toBe(1);
    expect(out.batch.kind).toBe('traces');
    const traces = out.batch.kind === 'traces' ? out.batch.traces : [];
    const cloned = structuredClone(traces);
    expect(cloned).toHaveLength(1);
    expect(cloned[0].spans[0]).toMatchObject({
      name: 'POST /checkout',
      service: 'checkout',
      attrs: { k: 'v' },
      events: [{ name: 'e' }],
    });
    expect(cloned[0].rootSpan?.name).toBe('POST /checkout');
    // A body that does not name the service is passed through untouched.
    const other = Buffer.from(body).toString('latin1').replace(SELF_SERVICE_NAME, 'betrace-sidecaR');
    const otherBody = Buffer.from(other, 'latin1');
    const otherBatch = { kind: 'protobuf' as const, body: otherBody, skim: skimTraceRequest(otherBody) };
    expect(dropOwnSpans(otherBody, otherBatch, true)).toEqual({ batch: otherBatch, spanCount: undefined, dropped: 0 });
    // Only resources are searched: the name in a span's attribute or name is not BeTrace's service.
    const inSpans = ExportTraceServiceRequest.encode(
      ExportTraceServiceRequest.fromObject({
        resourceSpans: [{ resource: resource('checkout'), scopeSpans: [{ spans: [{ ...span(1, 1, SELF_SERVICE_NAME), attributes: [{ key: 'peer.service', value: { stringValue: SELF_SERVICE_NAME } }] }] }] }],
      })
    ).finish();
    const inSpansBatch = { kind: 'protobuf' as const, body: inSpans, skim: skimTraceRequest(inSpans) };
    expect(dropOwnSpans(inSpans, inSpansBatch, true)).toEqual({ batch: inSpansBatch, spanCount: undefined, dropped: 0 });
  });
});

describe('SELF_TRACING configuration', () => {
  it('is off by default and does not read the standard variables then', () => {
    const c = loadConfig({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://collector:4318' });
    expect(c.selfTracing).toBe('off');
    expect(c.selfOtlpTracesUrl).toBeUndefined();
    expect(c.otlpExportTracesUrl).toBe('http://collector:4318/v1/traces');
  });
  it('takes SELF_OTLP_ENDPOINT first, then the standard variables', () => {
    expect(
      loadConfig({
        SELF_TRACING: 'otlp',
        SELF_OTLP_ENDPOINT: 'http://self:4318',
        OTEL_EXPORTER_OTLP_ENDPOINT: 'http://collector:4318',
      }).selfOtlpTracesUrl
    ).toBe('http://self:4318/v1/traces');
    expect(
      loadConfig({ SELF_TRACING: 'otlp', SELF_OTLP_ENDPOINT: 'http://self:4318/v1/traces', SELF_OTLP_HEADERS: 'x-a=1' })
    ).toMatchObject({ selfOtlpTracesUrl: 'http://self:4318/v1/traces', selfOtlpHeaders: { 'x-a': '1' } });
    expect(
      loadConfig({
        SELF_TRACING: 'otlp',
        OTEL_EXPORTER_OTLP_ENDPOINT: 'http://collector:4318',
        OTEL_EXPORTER_OTLP_HEADERS: 'x-b=2',
      })
    ).toMatchObject({ selfOtlpTracesUrl: 'http://collector:4318/v1/traces', selfOtlpHeaders: { 'x-b': '2' } });
    expect(
      loadConfig({ SELF_TRACING: 'otlp', OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: 'http://collector:4318/custom' })
        .selfOtlpTracesUrl
    ).toBe('http://collector:4318/custom');
  });
  it('fails at start naming the variable', () => {
    expect(() => loadConfig({ SELF_TRACING: 'otlp' })).toThrow(ConfigError);
    expect(() => loadConfig({ SELF_TRACING: 'otlp' })).toThrow(
      'SELF_OTLP_ENDPOINT: is required with SELF_TRACING=otlp'
    );
    expect(() => loadConfig({ SELF_TRACING: 'jaeger' })).toThrow(
      'SELF_TRACING: expected one of off, otlp, got "jaeger"'
    );
    expect(() => loadConfig({ SELF_TRACING: 'otlp', SELF_OTLP_ENDPOINT: 'ftp://x' })).toThrow(
      'SELF_OTLP_ENDPOINT: expected an http(s) URL'
    );
  });
});
