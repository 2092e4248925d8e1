/**
 * Push mode's shards with real worker threads (the built worker: npm test builds first). The
 * spans of one trace arrive in different requests over different connections, protobuf and
 * JSON interleaved, and must meet in one shard: a satisfying trace split across shards would be
 * evaluated in parts and raise a false signal, a violating one would be evaluated twice. The
 * injected clock reaches the workers with every message, so assembly is driven by the test.
 */
import * as fs from 'fs';
import * as http from 'http';
import * as os from 'os';
import * as path from 'path';
import { threadId } from 'worker_threads';
import pino from 'pino';
import { traceShard } from '@betrace/evaluator';
import { loadConfig } from '../src/config';
import { encodeTraceRequest, RpcStatus } from '../src/ingest/otlpProto';
import { createSidecar, Sidecar } from '../src/sidecar';
import { requireBuiltCli, root } from './support/serve';
import { CHAIN_RULE, chainRequest, hexBytes } from './support/chainTrace';

const RULE = 'payment-fraud-check';
const example = (verdict: 'violates' | 'satisfies') => fs.readFileSync(path.join(root, 'examples/traces', RULE, `${verdict}-1.json`), 'utf8');

interface OtlpSpan {
  traceId: string;
  [k: string]: unknown;
}
interface OtlpRequest {
  resourceSpans: Array<{ resource?: unknown; scopeSpans: Array<{ scope?: unknown; spans: OtlpSpan[] }> }>;
}

/** One request per span of the example trace, under its resource and scope, with trace id `traceId`. */
function perSpan(json: string, traceId: string): OtlpRequest[] {
  const request = JSON.parse(json) as OtlpRequest;
  const out: OtlpRequest[] = [];
  for (const rs of request.resourceSpans) {
    for (const ss of rs.scopeSpans) {
      for (const span of ss.spans) {
        out.push({ resourceSpans: [{ resource: rs.resource, scopeSpans: [{ scope: ss.scope, spans: [{ ...span, traceId }] }] }] });
      }
    }
  }
  return out;
}

const toProtoShape = (r: OtlpRequest): object =>
  JSON.parse(JSON.stringify(r), (key, value: unknown) => ((key === 'traceId' || key === 'spanId' || key === 'parentSpanId') && typeof value === 'string' ? Buffer.from(value, 'hex') : value)) as object;

/** Posts on a connection of its own (no keep-alive agent): a new TCP connection per request. */
function post(url: string, body: Buffer, type: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = http.request(url, { method: 'POST', agent: false, headers: { 'content-type': type, 'content-length': body.length, connection: 'close' } }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode ?? 0));
    });
    req.on('error', reject);
    req.end(body);
  });
}

async function metric(sidecar: Sidecar, name: string): Promise<number> {
  const m = sidecar.metrics.registry.getSingleMetric(name);
  return m === undefined ? 0 : (await m.get()).values.reduce((n, v) => n + v.value, 0);
}

let sidecar: Sidecar | undefined;
afterEach(async () => {
  await sidecar?.stop();
  sidecar = undefined;
});

async function start(workers: number, env: Record<string, string> = {}) {
  requireBuiltCli();
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'betrace-shards-'));
  const clock = { now: 1_764_028_800_000 };
  sidecar = createSidecar(
    loadConfig({ EVAL_WORKERS: String(workers), DATA_DIR: dataDir, RULES_DIR: path.join(root, 'examples/rules'), OTLP_PORT: '0', API_PORT: '0', HOST: '127.0.0.1', DECISION_WAIT: '10s', ...env }),
    { now: () => clock.now, logger: pino({ level: 'silent' }), tickMs: 3_600_000 },
  );
  const { otlpPort, apiPort } = await sidecar.start();
  return { s: sidecar, clock, otlp: `http://127.0.0.1:${otlpPort}/v1/traces`, api: `http://127.0.0.1:${apiPort}` };
}

describe('shard workers', () => {
  it('bring the spans of one trace together from different requests, connections and encodings', async () => {
    const { s, clock, otlp } = await start(3);
    expect(s.shards.workers).toBe(3);
    const traces = Array.from({ length: 12 }, (_, i) => ({ id: `${(i + 1).toString(16).padStart(2, '0')}${'ab'.repeat(15)}`, verdict: i % 2 === 0 ? ('violates' as const) : ('satisfies' as const) }));
    // The traces cover every shard, so no trace meets the others by luck.
    expect(new Set(traces.map((t) => traceShard(t.id, 3))).size).toBe(3);
    const requests = traces.flatMap((t) => perSpan(example(t.verdict), t.id));
    // Interleaved: every trace's spans are spread over the whole sequence, half protobuf, half JSON.
    const order = requests.map((r, i) => ({ r, key: (i * 7919) % requests.length })).sort((a, b) => a.key - b.key);
    const statuses = await Promise.all(
      order.map(({ r }, i) => (i % 2 === 0 ? post(otlp, Buffer.from(encodeTraceRequest(toProtoShape(r))), 'application/x-protobuf') : post(otlp, Buffer.from(JSON.stringify(r)), 'application/json'))),
    );
    expect(statuses.every((c) => c === 200)).toBe(true);
    expect(s.shards.bufferedSpans).toBe(requests.length);
    clock.now += 10_001;
    expect(await s.shards.tick()).toBe(traces.length);
    // Each trace evaluated once, whole: signals for exactly the violating ones.
    expect(await metric(s, 'betrace_traces_evaluated_total')).toBe(traces.length);
    const signalled = s.store.listSignals('default', { limit: 100 }).signals.filter((x) => x.ruleId === RULE).map((x) => x.traceId);
    expect(signalled.sort()).toEqual(traces.filter((t) => t.verdict === 'violates').map((t) => t.id).sort());
    // Every shard held spans, and none holds a trace still pending.
    const states = s.shards.describe();
    expect(states.filter((st) => st.bufferedSpans > 0)).toHaveLength(3);
    expect(states.reduce((n, st) => n + st.pendingSpans, 0)).toBe(0);
  });

  /**
   * Posts each body to a sidecar with `workers` shard workers, then a good one; returns the status
   * and message of each refusal. Nothing of a refused body may be buffered, the good one whole.
   */
  async function refusals(workers: number, type: string, bodies: ReadonlyArray<string | Buffer>, good: Buffer, goodSpans: number): Promise<Array<[number, string]>> {
    const { s, otlp } = await start(workers);
    const out: Array<[number, string]> = [];
    for (const b of bodies) {
      const res = await fetch(otlp, { method: 'POST', headers: { 'content-type': type }, body: b });
      const bytes = new Uint8Array(await res.arrayBuffer());
      const message = type === 'application/json' ? (JSON.parse(Buffer.from(bytes).toString('utf8')) as { message: string }).message : (RpcStatus.toObject(RpcStatus.decode(bytes)) as { message: string }).message;
      out.push([res.status, message]);
    }
    expect(s.shards.bufferedSpans).toBe(0);
    expect(await post(otlp, good, type)).toBe(200);
    expect(s.shards.bufferedSpans).toBe(goodSpans);
    await s.stop();
    sidecar = undefined;
    return out;
  }

  it('decode OTLP/JSON on a worker and refuse a malformed body with the 400 the main thread would give', async () => {
    const bodies = ['{"resourceSpans": 5}', '{"resourceSpans": [{"scopeSpans": [{"spans": [{"traceId": "zz"}]}]}]}', 'not json', '[]'];
    const good = Buffer.from(JSON.stringify(perSpan(example('violates'), 'ab'.repeat(16))[0]));
    const onWorkers = await refusals(2, 'application/json', bodies, good, 1);
    expect(onWorkers.map(([status]) => status)).toEqual([400, 400, 400, 400]);
    expect(onWorkers).toEqual(await refusals(0, 'application/json', bodies, good, 1));
  });

  it('refuse a malformed OTLP/protobuf body with the same 400 with workers as without, and take a good one after it', async () => {
    const good = Buffer.from(encodeTraceRequest(toProtoShape(perSpan(example('violates'), 'ab'.repeat(16))[0])));
    const zeroIds = Buffer.from(encodeTraceRequest(toProtoShape(perSpan(example('violates'), '00'.repeat(16))[0])));
    const bodies = [good.subarray(0, good.length - 3), Buffer.from([0x0a, 0x05, 0x12]), zeroIds, Buffer.from('not protobuf')];
    const onWorkers = await refusals(2, 'application/x-protobuf', bodies, good, 1);
    expect(onWorkers.map(([status]) => status)).toEqual([400, 400, 400, 400]);
    expect(onWorkers).toEqual(await refusals(0, 'application/x-protobuf', bodies, good, 1));
  });

  it('evaluate a pathological trace on a worker thread while the main thread answers', async () => {
    const { s, clock, otlp, api } = await start(2);
    const headers = { authorization: `Bearer ${s.token}`, 'content-type': 'application/json' };
    expect((await fetch(`${api}/api/v1/rules`, { method: 'POST', headers, body: JSON.stringify(CHAIN_RULE) })).status).toBe(201);
    const body = Buffer.from(encodeTraceRequest(chainRequest('c0ffee'.padEnd(32, '0'), 20_000, { id: hexBytes })));
    expect(await post(otlp, body, 'application/x-protobuf')).toBe(200);
    // Where does the evaluation run? record() runs on the main thread; the outcome it records was made elsewhere.
    let recordedOn: number | undefined;
    let evaluatedIn: number | undefined;
    const record = s.pipeline.record.bind(s.pipeline);
    s.pipeline.record = (tenant, outcome, source, active) => {
      recordedOn = threadId;
      evaluatedIn = outcome.seconds;
      return record(tenant, outcome, source, active);
    };
    clock.now += 10_001;
    const tick = s.shards.tick();
    // While the worker evaluates, the HTTP thread serves: /healthz answers before the tick is done.
    let healthzBeforeDecision = false;
    let decided = false;
    void tick.then(() => (decided = true));
    const health = await fetch(`${api}/healthz`);
    healthzBeforeDecision = health.status === 200 && !decided;
    expect(await tick).toBe(1);
    expect(recordedOn).toBe(threadId);
    expect(evaluatedIn).toBeGreaterThan(0);
    expect(healthzBeforeDecision).toBe(true);
    expect(await metric(s, 'betrace_traces_evaluated_total')).toBe(1);
  });

  it('record a rule that ran out of EVAL_BUDGET on a trace as not evaluated: counted, kept on the rule, shown by the API', async () => {
    const { s, clock, otlp, api } = await start(2, { EVAL_BUDGET: '1ms' });
    const headers = { authorization: `Bearer ${s.token}`, 'content-type': 'application/json' };
    expect((await fetch(`${api}/api/v1/rules`, { method: 'POST', headers, body: JSON.stringify(CHAIN_RULE) })).status).toBe(201);
    const traceId = 'b0d9e7'.padEnd(32, '0');
    expect(await post(otlp, Buffer.from(encodeTraceRequest(chainRequest(traceId, 20_000, { id: hexBytes }))), 'application/x-protobuf')).toBe(200);
    clock.now += 10_001;
    expect(await s.shards.tick()).toBe(1);
    expect(s.ruleSkips.of('default', CHAIN_RULE.id)).toMatchObject({ count: 1, byReason: { 'time-budget': 1 }, lastReason: 'time-budget', lastTraceId: traceId });
    const skipped = (await s.metrics.registry.getSingleMetric('betrace_rule_skipped_total')!.get()).values;
    expect(skipped.find((v) => v.labels.rule === CHAIN_RULE.id && v.labels.reason === 'time-budget')?.value).toBe(1);
    const rule = (await (await fetch(`${api}/api/v1/rules/${CHAIN_RULE.id}`, { headers })).json()) as { skipped: { count: number } };
    expect(rule.skipped.count).toBe(1);
    // The rules that finished count as evaluated; the skipped one does not.
    const evaluations = s.metrics.registry.getSingleMetric('betrace_rule_evaluations_total');
    const ofChain = (await evaluations!.get()).values.find((v) => v.labels.rule === CHAIN_RULE.id)?.value ?? 0;
    expect(ofChain).toBe(0);
  });
});
