/**
 * Gateway mode against the Tempo double (tests/support/tempoDouble.ts, multi-tenant, OTLP ingest):
 * accepted batches reach Tempo under their tenant's org id, redacted, as protobuf; an outage (and
 * a restart during it) delays forwarding but delivers every batch exactly once; a full spool
 * refuses with 503 and Retry-After instead of dropping. Time is an injected clock.
 */
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import pino from 'pino';
import { TempoDouble } from '../../../tests/support/tempoDouble';
import { main } from '../src/cli';
import { loadConfig } from '../src/config';
import { gatewayUrl, OtlpResourceSpans, RedactHook } from '../src/ingest/gateway';
import { encodeTraceRequest } from '../src/ingest/otlpProto';
import { createSidecar, Sidecar } from '../src/sidecar';
import { DEFAULT_REDACTION, sha256Hex, Tenant } from '../src/tenants';

const root = path.join(__dirname, '../../..');
const example = (rule: string, verdict: string) => fs.readFileSync(path.join(root, 'examples/traces', rule, `${verdict}-1.json`), 'utf8');
/** 8 spans, trace df326b…; carries user.id. */
const AUTO_APPROVE = example('no-auto-approve', 'violates');
/** 7 spans, trace cb81f9… */
const FRAUD = example('payment-fraud-check', 'violates');
/** 7 spans, trace 19e43e… */
const CLEAN = example('no-auto-approve', 'satisfies');
const TRACE = { autoApprove: 'df326b326a9e839328c7eca715539a7a', fraud: 'cb81f926213516df1f0a6598a1aef89b', clean: '19e43e9968d03af0213704a5ac3290e6' };

function tenant(id: string, key: string, orgId: string): Tenant {
  return { id, apiTokens: [], ingestKeys: [{ name: `${id}-ci`, sha256: sha256Hex(key) }], tempoOrgId: orgId, evidenceKeys: [], redaction: { ...DEFAULT_REDACTION } };
}
const TENANTS = [tenant('default', 'a-key', 'org-a'), tenant('beta', 'b-key', 'org-b')];

/** OTLP/JSON (hex ids) → protobuf, as an SDK would send it. */
function protobuf(json: string): Uint8Array {
  return encodeTraceRequest(
    JSON.parse(json, (key, value: unknown) => ((key === 'traceId' || key === 'spanId' || key === 'parentSpanId') && typeof value === 'string' ? Buffer.from(value, 'hex') : value)) as object,
  );
}

interface Gateway {
  sidecar: Sidecar;
  otlp: string;
  tempo: TempoDouble;
  tempoUrl: string;
  clock: { now: number };
  dataDir: string;
}

const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) {
    await c();
  }
});

async function gateway(options: { tempo?: TempoDouble; dataDir?: string; clock?: { now: number }; env?: Record<string, string>; redact?: RedactHook } = {}): Promise<Gateway> {
  const clock = options.clock ?? { now: Date.UTC(2026, 10, 25, 12, 0, 0) };
  let tempo = options.tempo;
  if (!tempo) {
    tempo = new TempoDouble({ multiTenant: true, now: () => clock.now });
    const t = tempo;
    cleanups.push(() => t.stop());
  }
  const tempoUrl = await tempo.start();
  const dataDir = options.dataDir ?? fs.mkdtempSync(path.join(os.tmpdir(), 'betrace-gateway-'));
  const config = loadConfig({ EVAL_WORKERS: '0',
    DATA_DIR: dataDir,
    RULES_DIR: path.join(root, 'examples/rules'),
    OTLP_PORT: '0',
    API_PORT: '0',
    HOST: '127.0.0.1',
    TEMPO_OTLP_URL: `${tempoUrl}/v1/traces`,
    ...options.env,
  });
  config.gateway = true;
  const sidecar = createSidecar(config, { now: () => clock.now, logger: pino({ level: 'silent' }), tickMs: 3_600_000, gatewayIntervalMs: 0, tenants: TENANTS, redact: options.redact });
  const { otlpPort } = await sidecar.start();
  let stopped = false;
  cleanups.push(async () => {
    if (!stopped) {
      stopped = true;
      await sidecar.stop();
    }
  });
  const stop = sidecar.stop.bind(sidecar);
  sidecar.stop = async () => {
    stopped = true;
    await stop();
  };
  return { sidecar, otlp: `http://127.0.0.1:${otlpPort}/v1/traces`, tempo, tempoUrl, clock, dataDir };
}

function send(g: Gateway, key: string, body: string | Uint8Array): Promise<Response> {
  const type = typeof body === 'string' ? 'application/json' : 'application/x-protobuf';
  return fetch(g.otlp, { method: 'POST', headers: { 'content-type': type, 'x-api-key': key }, body });
}

/** The spans Tempo holds for a trace under an org id: name → attributes (string values). */
async function tempoTrace(g: Gateway, orgId: string, traceId: string): Promise<Array<{ name: string; attrs: Record<string, string> }>> {
  const res = await fetch(`${g.tempoUrl}/api/v2/traces/${traceId}`, { headers: { 'x-scope-orgid': orgId } });
  const body = (await res.json()) as { trace?: { resourceSpans: OtlpResourceSpans[] } };
  return (body.trace?.resourceSpans ?? []).flatMap((rs) =>
    (rs.scopeSpans ?? []).flatMap((ss) =>
      (ss.spans ?? []).map((s) => ({
        name: String(s.name),
        attrs: Object.fromEntries((s.attributes ?? []).map((a) => [a.key, String((a.value as { stringValue?: string } | undefined)?.stringValue ?? '')])),
      })),
    ),
  );
}

async function metric(g: Gateway, name: string, labels: Record<string, string> = {}): Promise<number> {
  const m = g.sidecar.metrics.registry.getSingleMetric(name);
  if (!m) {
    return 0;
  }
  const { values } = await m.get();
  return values.filter((v) => Object.entries(labels).every(([k, x]) => (v.labels as Record<string, unknown>)[k] === x)).reduce((n, v) => n + v.value, 0);
}

const forwards = (g: Gateway) => g.tempo.requests.filter((r) => r.method === 'POST' && r.url === '/v1/traces');

describe('gateway mode', () => {
  it('forwards each accepted batch to Tempo under its tenant’s org id, redacted, and evaluates it too', async () => {
    const seen: string[] = [];
    const redact: RedactHook = (t, resourceSpans) => {
      seen.push(t.id);
      for (const rs of resourceSpans) {
        for (const ss of rs.scopeSpans ?? []) {
          for (const span of ss.spans ?? []) {
            for (const a of span.attributes ?? []) {
              if (a.key === 'user.id') {
                a.value = { stringValue: '[REDACTED]' };
              }
            }
          }
        }
      }
      return resourceSpans;
    };
    const g = await gateway({ redact });
    expect((await send(g, 'a-key', AUTO_APPROVE)).status).toBe(200); // JSON in, protobuf out
    expect((await send(g, 'b-key', protobuf(FRAUD))).status).toBe(200);
    expect(seen).toEqual(['default', 'beta']);
    expect(await g.sidecar.gateway!.runOnce()).toBe(2);

    const a = await tempoTrace(g, 'org-a', TRACE.autoApprove);
    expect(a).toHaveLength(8);
    expect(a.filter((s) => 'user.id' in s.attrs).map((s) => s.attrs['user.id'])).toEqual(['[REDACTED]', '[REDACTED]']);
    expect(a.find((s) => s.name === 'payment.charge')?.attrs.currency).toBe('USD');
    expect(await tempoTrace(g, 'org-b', TRACE.fraud)).toHaveLength(7);
    expect(await tempoTrace(g, 'org-a', TRACE.fraud)).toEqual([]); // nothing crosses tenants
    expect(forwards(g).map((r) => r.tenant)).toEqual(['org-a', 'org-b']);
    expect(await metric(g, 'betrace_gateway_forwarded_spans_total', { tenant: 'default' })).toBe(8);
    expect(await metric(g, 'betrace_gateway_spool_batches')).toBe(0);

    // Evaluation saw the spans as received.
    g.clock.now += 10_001;
    await g.sidecar.shards.tick();
    expect(g.sidecar.store.listSignals('default').signals.map((s) => s.ruleId)).toEqual(['no-auto-approve']);
  });

  it('delivers every batch exactly once after a Tempo outage, with a restart during it', async () => {
    const tempo = new TempoDouble({ multiTenant: true });
    cleanups.push(() => tempo.stop());
    const clock = { now: Date.UTC(2026, 10, 25, 12, 0, 0) };
    const first = await gateway({ tempo, clock });
    tempo.fault = { status: 503, path: '/v1/traces' };
    expect((await send(first, 'a-key', AUTO_APPROVE)).status).toBe(200);
    expect((await send(first, 'b-key', protobuf(FRAUD))).status).toBe(200);
    expect((await send(first, 'a-key', protobuf(CLEAN))).status).toBe(200);
    expect(await first.sidecar.gateway!.runOnce()).toBe(0);
    clock.now += 120_000;
    expect(await first.sidecar.gateway!.runOnce()).toBe(0);
    expect(await metric(first, 'betrace_gateway_failures_total')).toBeGreaterThanOrEqual(2);
    expect(await metric(first, 'betrace_gateway_spool_batches')).toBe(3);
    await first.sidecar.stop();

    const second = await gateway({ tempo, clock, dataDir: first.dataDir });
    expect(await metric(second, 'betrace_gateway_spool_batches')).toBe(3);
    tempo.fault = undefined;
    clock.now += 120_000;
    expect(await second.sidecar.gateway!.runOnce()).toBe(3);
    clock.now += 120_000;
    expect(await second.sidecar.gateway!.runOnce()).toBe(0);
    expect(await tempoTrace(second, 'org-a', TRACE.autoApprove)).toHaveLength(8);
    expect(await tempoTrace(second, 'org-b', TRACE.fraud)).toHaveLength(7);
    expect(await tempoTrace(second, 'org-a', TRACE.clean)).toHaveLength(7);
    expect(await metric(second, 'betrace_gateway_spool_batches')).toBe(0);
    expect(await metric(second, 'betrace_gateway_forwarded_spans_total')).toBe(22);
  });

  it('answers 503 with Retry-After when the spool is full, takes nothing, and takes again once it drains', async () => {
    const size = protobuf(AUTO_APPROVE).length;
    const g = await gateway({ env: { GATEWAY_SPOOL_BYTES: String(size + 100) } });
    g.tempo.fault = { status: 503, path: '/v1/traces' };
    expect((await send(g, 'a-key', protobuf(AUTO_APPROVE))).status).toBe(200);
    expect(await g.sidecar.gateway!.runOnce()).toBe(0);
    const full = await send(g, 'b-key', FRAUD);
    expect(full.status).toBe(503);
    expect(Number(full.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
    expect(((await full.json()) as { message: string }).message).toBe('the spool of batches for Tempo is full (Tempo is unreachable or slow); retry later');
    expect(await metric(g, 'betrace_ingest_refused_total', { tenant: 'beta', reason: 'spool_full' })).toBe(1);
    expect(g.sidecar.shards.bufferedSpans).toBe(8);
    expect(await metric(g, 'betrace_spans_received_total', { tenant: 'beta' })).toBe(0);
    expect(await metric(g, 'betrace_gateway_spool_batches')).toBe(1);

    g.tempo.fault = undefined;
    g.clock.now += 120_000;
    expect(await g.sidecar.gateway!.runOnce()).toBe(1);
    expect((await send(g, 'b-key', FRAUD)).status).toBe(200);
    expect(await g.sidecar.gateway!.runOnce()).toBe(1);
    expect(await tempoTrace(g, 'org-b', TRACE.fraud)).toHaveLength(7);
  });

  it('does not retry a batch Tempo refuses for its content (400), and counts it', async () => {
    const g = await gateway();
    g.tempo.fault = { status: 400, path: '/v1/traces' };
    expect((await send(g, 'a-key', AUTO_APPROVE)).status).toBe(200);
    expect(await g.sidecar.gateway!.runOnce()).toBe(0);
    expect(await metric(g, 'betrace_gateway_dropped_spans_total', { tenant: 'default', reason: '400' })).toBe(8);
    expect(await metric(g, 'betrace_gateway_spool_batches')).toBe(0);
  });
});

describe('gateway configuration', () => {
  it('takes TEMPO_OTLP_URL, or derives Tempo’s OTLP port 4318 from TEMPO_URL', () => {
    expect(gatewayUrl({ tempoUrl: undefined, tempoOtlpUrl: 'http://tempo-distributor:4318' })).toBe('http://tempo-distributor:4318/v1/traces');
    expect(gatewayUrl({ tempoUrl: 'http://tempo:3200', tempoOtlpUrl: undefined })).toBe('http://tempo:4318/v1/traces');
    expect(() => gatewayUrl({ tempoUrl: undefined, tempoOtlpUrl: undefined })).toThrow(/^TEMPO_OTLP_URL: gateway mode needs Tempo’s OTLP\/HTTP endpoint/);
  });

  it('betrace serve --gateway without a Tempo endpoint fails at start, naming the variable', async () => {
    let err = '';
    const code = await main(['serve', '--gateway'], { stdout: () => undefined, stderr: (t) => (err += t), cwd: root, env: { DATA_DIR: fs.mkdtempSync(path.join(os.tmpdir(), 'betrace-gw-')) } });
    expect(code).toBe(2);
    expect(err).toMatch(/^betrace serve: configuration error: TEMPO_OTLP_URL: gateway mode needs/);
  });
});
