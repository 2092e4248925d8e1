/**
 * OTLP/gRPC beside OTLP/HTTP: the real OpenTelemetry gRPC exporter sends to the sidecar, which
 * raises the same signal as over HTTP; the same tenant keys, limits and backpressure apply, with
 * the gRPC codes the OTLP specification names and RetryInfo on the retryable ones.
 */
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import * as grpc from '@grpc/grpc-js';
import { SpanStatusCode } from '@opentelemetry/api';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-grpc';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { SimpleSpanProcessor, TracerProvider } from '@opentelemetry/sdk-trace';
import pino from 'pino';
import { loadConfig } from '../src/config';
import { grpcCode, statusWithRetry, TRACE_EXPORT_PATH } from '../src/ingest/grpc';
import { encodeTraceRequest, RpcStatus } from '../src/ingest/otlpProto';
import { createSidecar, Sidecar } from '../src/sidecar';

const root = path.join(__dirname, '../../..');
const running: Sidecar[] = [];
afterEach(async () => {
  for (const s of running.splice(0)) await s.stop();
});

async function start(env: Record<string, string> = {}) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'betrace-grpc-'));
  const clock = { now: Date.now() };
  const sidecar = createSidecar(
    loadConfig({ EVAL_WORKERS: '0', DATA_DIR: dir, RULES_DIR: path.join(root, 'examples/rules'), OTLP_PORT: '0', OTLP_GRPC_PORT: '0', API_PORT: '0', HOST: '127.0.0.1', DECISION_WAIT: '10s', ...env }),
    { now: () => clock.now, logger: pino({ level: 'silent' }), tickMs: 3_600_000 },
  );
  const ports = await sidecar.start();
  running.push(sidecar);
  return { sidecar, clock, ports };
}

/** A raw gRPC call of Export with `body`, for the error cases the SDK would retry or hide. */
function rawExport(port: number, body: Buffer, metadata: Record<string, string> = {}): Promise<{ code: number; details: string; metadata?: grpc.Metadata }> {
  const client = new grpc.Client(`127.0.0.1:${port}`, grpc.credentials.createInsecure());
  const md = new grpc.Metadata();
  for (const [k, v] of Object.entries(metadata)) md.set(k, v);
  return new Promise((resolve) => {
    client.makeUnaryRequest(TRACE_EXPORT_PATH, (b: Buffer) => b, (b: Buffer) => b, body, md, (err) => {
      client.close();
      resolve(err ? { code: err.code, details: err.details, metadata: err.metadata } : { code: grpc.status.OK, details: '' });
    });
  });
}

describe('OTLP/gRPC receiver', () => {
  it('takes spans from the OpenTelemetry gRPC exporter and raises the same signal as OTLP/HTTP', async () => {
    const { sidecar, clock, ports } = await start();
    expect(ports.otlpGrpcPort).toBeGreaterThan(0);
    const exporter = new OTLPTraceExporter({ url: `http://127.0.0.1:${ports.otlpGrpcPort}` });
    const provider = new TracerProvider({ resource: resourceFromAttributes({ 'service.name': 'payments' }), spanProcessors: [new SimpleSpanProcessor({ exporter })] });
    const tracer = provider.getTracer('grpc-test');
    // payment-fraud-check: a charge above 1000 with no fraud check before it.
    const span = tracer.startSpan('payment.charge', { attributes: { amount: 5000, currency: 'USD', order_id: 'o-1' } });
    span.setStatus({ code: SpanStatusCode.OK });
    span.end();
    await provider.shutdown(); // flushes: SimpleSpanProcessor exports each span as it ends
    clock.now += 10_001;
    await sidecar.shards.tick();
    expect(sidecar.store.listSignals('default').signals.map((s) => s.ruleId)).toContain('payment-fraud-check');
  });

  it('answers a malformed request INVALID_ARGUMENT with the HTTP receiver’s message', async () => {
    const { ports } = await start();
    const r = await rawExport(ports.otlpGrpcPort!, Buffer.from([0x0a, 0x05, 0x01]));
    expect(r.code).toBe(grpc.status.INVALID_ARGUMENT);
    expect(r.details).toMatch(/protobuf/i);
  });

  it('asks for the tenant key like OTLP/HTTP: UNAUTHENTICATED without it, OK with it', async () => {
    const tenantsFile = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'betrace-grpc-t-')), 'tenants.yaml');
    const sha = (t: string) => require('crypto').createHash('sha256').update(t).digest('hex') as string;
    fs.writeFileSync(tenantsFile, `tenants:\n  - id: acme\n    apiTokens: [{ name: grafana, sha256: ${sha('api-acme')} }]\n    ingestKeys: [{ name: collector, sha256: ${sha('ingest-acme')} }]\n`);
    const { ports } = await start({ TENANTS_FILE: tenantsFile });
    const body = Buffer.from(encodeTraceRequest({ resourceSpans: [] }));
    expect((await rawExport(ports.otlpGrpcPort!, body)).code).toBe(grpc.status.UNAUTHENTICATED);
    expect((await rawExport(ports.otlpGrpcPort!, body, { 'x-api-key': 'ingest-acme' })).code).toBe(grpc.status.OK);
  });

  it('maps backpressure to RESOURCE_EXHAUSTED / UNAVAILABLE with RetryInfo', async () => {
    expect([400, 401, 413, 429, 503].map(grpcCode)).toEqual([grpc.status.INVALID_ARGUMENT, grpc.status.UNAUTHENTICATED, grpc.status.INVALID_ARGUMENT, grpc.status.RESOURCE_EXHAUSTED, grpc.status.UNAVAILABLE]);
    // google.rpc.Status { code 14, message, details [Any { type_url, value: RetryInfo { retry_delay { seconds 5 } } }] }, byte by byte.
    const typeUrl = Buffer.from('type.googleapis.com/google.rpc.RetryInfo');
    const any = Buffer.concat([Buffer.from([0x0a, typeUrl.length]), typeUrl, Buffer.from([0x12, 0x04, 0x0a, 0x02, 0x08, 0x05])]);
    const expected = Buffer.concat([Buffer.from([0x08, 14, 0x12, 13]), Buffer.from('shutting down'), Buffer.from([0x1a, any.length]), any]);
    expect(statusWithRetry(grpc.status.UNAVAILABLE, 'shutting down', 5).equals(expected)).toBe(true);
    expect((RpcStatus.toObject(RpcStatus.decode(expected)) as { code: number; message: string })).toMatchObject({ code: 14, message: 'shutting down' });
    // A full buffer, end to end: MAX_BUFFER_SPANS of 1, a request of 2 spans.
    const { ports } = await start({ MAX_BUFFER_SPANS: '1' });
    const span = (id: string) => ({ traceId: Buffer.from('ab'.repeat(16), 'hex'), spanId: Buffer.from(id.repeat(8), 'hex'), name: 'x', startTimeUnixNano: '1', endTimeUnixNano: '2' });
    const body = Buffer.from(encodeTraceRequest({ resourceSpans: [{ scopeSpans: [{ spans: [span('01'), span('02')] }] }] }));
    const r = await rawExport(ports.otlpGrpcPort!, body);
    expect([grpc.status.RESOURCE_EXHAUSTED, grpc.status.UNAVAILABLE]).toContain(r.code);
    const details = r.metadata?.get('grpc-status-details-bin')[0] as Buffer | undefined;
    expect(details).toBeDefined();
    expect((RpcStatus.toObject(RpcStatus.decode(details!)) as { code: number }).code).toBe(r.code);
    expect(details!.includes(typeUrl)).toBe(true);
  });

  it('is off when OTLP_PORT is moved and OTLP_GRPC_PORT is not set, and can be turned off', async () => {
    expect(loadConfig({}).otlpGrpcPort).toBe(4317);
    expect(loadConfig({ OTLP_PORT: '14318' }).otlpGrpcPort).toBeUndefined();
    expect(loadConfig({ OTLP_PORT: '14318', OTLP_GRPC_PORT: '14317' }).otlpGrpcPort).toBe(14317);
    expect(loadConfig({ OTLP_GRPC_PORT: 'off' }).otlpGrpcPort).toBeUndefined();
    expect(() => loadConfig({ OTLP_GRPC_PORT: 'x' })).toThrow('OTLP_GRPC_PORT: expected a whole number from 0 to 65535, got "x"');
    const { ports } = await start({ OTLP_GRPC_PORT: '' });
    expect(ports.otlpGrpcPort).toBeUndefined();
  });
});
