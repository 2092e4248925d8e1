/**
 * A span delivered twice counts once. Senders deliver at least once: the OpenTelemetry Collector
 * resends a batch whose answer a crash or a timeout cut off, although the sidecar had already
 * logged it, and recovery reads the first copy back from the ingest log. The same trace id and
 * span id again is the same span: trace assembly keeps the copy it holds, counts the others in
 * betrace_spans_duplicate_total{tenant}, and a copy that brings a held trace nothing new neither
 * re-evaluates it nor moves its log positions. Checked on the assembler itself (both its ways of
 * checking ids: a scan up to SCAN_SPANS spans, a set past it), through the sidecar with the
 * shard on the main thread and on worker threads with a count rule (big-trace: span_count >= 30)
 * that would fire on the duplicates, and across a SIGKILL with the batch twice in the ingest log.
 */
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import pino from 'pino';
import { buildTrace, decodeOtlpProtobuf, holdCheckedOtlpProtobuf, MAX_SPANS_PER_TRACE, Span, Trace } from '@betrace/evaluator';
import { TraceAssembler } from '../src/ingest/assembler';
import { loadConfig } from '../src/config';
import { encodeTraceRequest } from '../src/ingest/otlpProto';
import { createSidecar, Sidecar } from '../src/sidecar';
import { chainRequest, hexBytes } from './support/chainTrace';
import { freePort, requireBuiltCli, serve, Served, until } from './support/serve';

const TRACE_ID = 'dd'.repeat(16);

function span(traceId: string, spanId: number, name = `s${spanId}`): Span {
  return {
    traceId,
    spanId: spanId.toString(16).padStart(16, '0'),
    name,
    kind: 'internal',
    status: 'unset',
    statusMessage: '',
    startNs: 0n,
    endNs: 1n,
    durationNs: 1,
    service: 'svc',
    attrs: {},
    resource: {},
    events: [],
    links: [],
  } as unknown as Span;
}

/** A trace holding spans of these ids (repeats allowed: that is the point). */
const trace = (ids: readonly number[], traceId = TRACE_ID, name?: (id: number) => string): Trace => buildTrace(traceId, ids.map((i) => span(traceId, i, name?.(i))));
const range = (from: number, to: number): number[] => Array.from({ length: to - from }, (_, i) => from + i);

function assembler(clock: { now: number }) {
  const ready: Array<{ tenant: string; trace: Trace; position: number | undefined }> = [];
  const duplicates: Array<[string, number]> = [];
  const a = new TraceAssembler({
    decisionWaitMs: 100,
    maxTraceAgeMs: 1000,
    maxSpans: 100_000,
    maxBytes: 1e9,
    now: () => clock.now,
    onReady: (tenant, t, position) => ready.push({ tenant, trace: t, position }),
    onDrop: () => undefined,
    onDuplicate: (tenant, spans) => duplicates.push([tenant, spans]),
  });
  return { a, ready, duplicates, dupes: () => duplicates.reduce((n, [, s]) => n + s, 0) };
}

const spanIds = (t: Trace) => t.spans.map((s) => parseInt(s.spanId, 16)).sort((x, y) => x - y);

describe('trace assembly keeps one copy of a span', () => {
  it.each([
    ['a small trace (its spans scanned)', 5],
    ['a large trace (a set of ids)', 200],
  ])('in one batch: %s', (_what, n) => {
    const clock = { now: 0 };
    const { a, ready, duplicates } = assembler(clock);
    // Every span twice, and the first three a third time, in one request.
    expect(a.add('default', [trace([...range(1, n + 1), ...range(1, n + 1), 1, 2, 3])], 1000).accepted).toBe(true);
    expect(a.bufferedSpans).toBe(n);
    expect(duplicates).toEqual([['default', n + 3]]);
    clock.now = 200;
    expect(a.tick()).toBe(1);
    expect(spanIds(ready[0].trace)).toEqual(range(1, n + 1));
  });

  it('across batches, growing past the scan into a set, holds the union of the ids and the first copy of each', () => {
    const clock = { now: 0 };
    const { a, ready, dupes } = assembler(clock);
    a.add('default', [trace(range(1, 21), TRACE_ID, () => 'first')], 100);
    a.add('default', [trace(range(11, 31), TRACE_ID, () => 'second')], 100); // 10 again, 10 new: 30 held, still scanned
    a.add('default', [trace(range(1, 81), TRACE_ID, () => 'third')], 100); // 30 again, 50 new: past the scan
    a.add('default', [trace(range(1, 81), TRACE_ID, () => 'fourth')], 100); // all again, on the set
    expect(a.bufferedSpans).toBe(80);
    expect(dupes()).toBe(10 + 30 + 80);
    clock.now = 200;
    a.tick();
    expect(spanIds(ready[0].trace)).toEqual(range(1, 81));
    const names = new Map(ready[0].trace.spans.map((s) => [parseInt(s.spanId, 16), s.name]));
    expect([names.get(1), names.get(15), names.get(25), names.get(45)]).toEqual(['first', 'first', 'second', 'third']);
  });

  it.each([
    ['a small trace (its spans scanned)', 5],
    ['a large trace (a set of ids)', 100],
  ])('held as wire bytes or decoded, a span is one span: %s', (_what, n) => {
    const clock = { now: 0 };
    const { a, ready, dupes } = assembler(clock);
    const body = encodeTraceRequest(chainRequest(TRACE_ID, n, { id: hexBytes }) as never);
    const held = holdCheckedOtlpProtobuf(body);
    expect(held.map((t) => t.spanCount)).toEqual([n]);
    a.add('default', held, 1000);
    // The same spans again, decoded (another copy in OTLP/JSON, say), and again as bytes, then one new span.
    a.add('default', decodeOtlpProtobuf(body), 1000);
    a.add('default', holdCheckedOtlpProtobuf(body), 1000);
    expect(a.bufferedSpans).toBe(n);
    expect(dupes()).toBe(2 * n);
    const extra = { ...decodeOtlpProtobuf(body)[0].spans[0], spanId: 'ff'.repeat(8), name: 'extra' } as Span;
    a.add('default', [buildTrace(TRACE_ID, [extra])], 100);
    expect(a.bufferedSpans).toBe(n + 1);
    clock.now = 200;
    expect(a.tick()).toBe(1);
    const want = decodeOtlpProtobuf(body)[0].spans.map((s) => [s.spanId, s.name, s.parentSpanId]);
    expect(ready[0].trace.spans.map((s) => [s.spanId, s.name, s.parentSpanId])).toEqual([...want, ['ff'.repeat(8), 'extra', extra.parentSpanId]]);
  });

  it('builds a held trace past MAX_SPANS_PER_TRACE only up to the cap, and marks the rest dropped', () => {
    const clock = { now: 0 };
    const { a, ready } = assembler(clock);
    const n = MAX_SPANS_PER_TRACE + 3;
    const body = encodeTraceRequest(chainRequest(TRACE_ID, n, { id: hexBytes }) as never);
    a.add('default', holdCheckedOtlpProtobuf(body), 1000);
    expect(a.bufferedSpans).toBe(n);
    clock.now = 200;
    expect(a.tick()).toBe(1);
    const t = ready[0].trace;
    expect(t.spans.length).toBe(MAX_SPANS_PER_TRACE);
    expect(t.droppedSpanCount).toBe(3);
    const want = decodeOtlpProtobuf(body)[0].spans;
    expect([t.spans[0].spanId, t.spans[MAX_SPANS_PER_TRACE - 1].spanId]).toEqual([want[0].spanId, want[MAX_SPANS_PER_TRACE - 1].spanId]);
  });

  it('tells spans apart by trace id and tenant, not by span id alone', () => {
    const clock = { now: 0 };
    const { a, ready, dupes } = assembler(clock);
    a.add('default', [trace([1, 2, 3]), trace([1, 2, 3], 'ee'.repeat(16))], 100);
    a.add('other', [trace([1, 2, 3])], 100);
    expect(a.bufferedSpans).toBe(9);
    expect(dupes()).toBe(0);
    clock.now = 200;
    expect(a.tick()).toBe(3);
    expect(ready.map((r) => r.trace.spans.length)).toEqual([3, 3, 3]);
  });

  it('does not evaluate a held trace again for a copy of spans it has, nor move its log positions; a new span among copies does', () => {
    const clock = { now: 0 };
    const { a, ready, duplicates } = assembler(clock);
    a.add('default', [trace([1, 2, 3])], 100, { position: 10 });
    clock.now = 200;
    expect(a.tick()).toBe(1);
    expect(ready[0].position).toBe(10);
    // The sender's retry of the whole batch, after the trace was evaluated (and is held for late spans).
    clock.now = 250;
    a.add('default', [trace([1, 2, 3])], 100, { position: 11 });
    expect(duplicates).toEqual([['default', 3]]);
    clock.now = 1000;
    expect(a.tick()).toBe(0);
    expect(a.oldestPosition()).toBe(10);
    expect(a.bufferedSpans).toBe(3);
    // A retry that also carries a new span: the trace is evaluated again, with each span once.
    a.add('default', [trace([2, 3, 4])], 100, { position: 12 });
    clock.now = 1200;
    expect(a.tick()).toBe(1);
    expect(spanIds(ready[1].trace)).toEqual([1, 2, 3, 4]);
    expect(ready[1].position).toBe(12);
  });

  it('does not hold back a pending trace for a copy that came during its decision wait', () => {
    const clock = { now: 0 };
    const { a, ready } = assembler(clock);
    a.add('default', [trace([1, 2])], 100);
    clock.now = 90;
    a.add('default', [trace([1, 2])], 100);
    clock.now = 100;
    expect(a.tick()).toBe(1);
    expect(ready[0].trace.spans).toHaveLength(2);
  });

  it('after a restart, holds a decided trace as evaluated when the log holds its batch twice', () => {
    // The batch at position 1 was decided before the crash; the sender resent it (position 2).
    const clock = { now: 5000 };
    const { a, ready, dupes } = assembler(clock);
    a.add('default', [trace([1, 2, 3])], 100, { position: 1, at: 100, force: true });
    a.add('default', [trace([1, 2, 3])], 100, { position: 2, at: 150, force: true });
    a.add('default', [trace([7, 8], 'ee'.repeat(16))], 100, { position: 3, at: 160, force: true });
    a.add('default', [trace([7, 8], 'ee'.repeat(16))], 100, { position: 4, at: 170, force: true });
    expect(a.bufferedSpans).toBe(5);
    expect(dupes()).toBe(5);
    expect(a.settleDecided((_t, id) => (id === TRACE_ID ? 1 : undefined))).toBe(1);
    expect(a.tick()).toBe(1); // the undecided one, once, with its two spans
    expect(ready.map((r) => [r.trace.traceId, r.trace.spans.length, r.position])).toEqual([['ee'.repeat(16), 2, 3]]);
  });
});

/** The big-trace rule of the peers benchmark's rules: it fires on a trace of 30 spans or more. */
const BIG_TRACE = { id: 'big-trace', name: 'big-trace', severity: 'medium', condition: 'trace.span_count >= 30', enabled: true };

const traceIdOf = (i: number) => `${'b1'.repeat(12)}${i.toString(16).padStart(8, '0')}`;
const protobuf = (r: object) => Buffer.from(encodeTraceRequest(JSON.parse(JSON.stringify(r), (k, v: unknown) => ((k === 'traceId' || k === 'spanId' || k === 'parentSpanId') && typeof v === 'string' ? hexBytes(v) : v)) as object));
const json = (r: object) => Buffer.from(JSON.stringify(r));
/** `request` with its spans given twice, in one request. */
function doubled(request: { resourceSpans: unknown[] }): object {
  const r = JSON.parse(JSON.stringify(request)) as { resourceSpans: Array<{ scopeSpans: Array<{ spans: unknown[] }> }> };
  for (const rs of r.resourceSpans) for (const ss of rs.scopeSpans) ss.spans = [...ss.spans, ...ss.spans];
  return r;
}

describe.each([0, 2])('the sidecar (EVAL_WORKERS=%i) with a count rule', (workers) => {
  let sidecar: Sidecar | undefined;
  afterEach(async () => {
    await sidecar?.stop();
    sidecar = undefined;
  });

  async function metricOf(s: Sidecar, name: string): Promise<Array<{ labels: Record<string, unknown>; value: number }>> {
    const m = s.metrics.registry.getSingleMetric(name);
    return m === undefined ? [] : ((await m.get()).values as Array<{ labels: Record<string, unknown>; value: number }>);
  }

  it('counts a span sent twice (in one request, in two, protobuf and JSON) once, and a count rule does not fire on the copies', async () => {
    if (workers > 0) requireBuiltCli(); // the shard worker is the build's
    const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'betrace-dedupe-'));
    const clock = { now: 1_764_028_800_000 };
    sidecar = createSidecar(
      loadConfig({ EVAL_WORKERS: String(workers), DATA_DIR: dataDir, OTLP_PORT: '0', API_PORT: '0', HOST: '127.0.0.1', DECISION_WAIT: '10s', BETRACE_API_TOKEN: 'dedupe-token' }),
      { now: () => clock.now, logger: pino({ level: 'silent' }), tickMs: 3_600_000 },
    );
    const { otlpPort, apiPort } = await sidecar.start();
    const s = sidecar;
    const rule = await fetch(`http://127.0.0.1:${apiPort}/api/v1/rules`, { method: 'POST', headers: { authorization: 'Bearer dedupe-token', 'content-type': 'application/json' }, body: JSON.stringify(BIG_TRACE) });
    expect(rule.status).toBe(201);
    const otlp = `http://127.0.0.1:${otlpPort}/v1/traces`;
    const post = async (body: Buffer, type: 'protobuf' | 'json') => (await fetch(otlp, { method: 'POST', headers: { 'content-type': type === 'json' ? 'application/json' : 'application/x-protobuf' }, body: new Uint8Array(body) })).status;

    // 1: 20 spans, sent twice (the retry of a batch whose answer was lost), then once more as JSON.
    const one = chainRequest(traceIdOf(1), 20);
    expect(await post(protobuf(one), 'protobuf')).toBe(200);
    expect(await post(protobuf(one), 'protobuf')).toBe(200);
    expect(await post(json(one), 'json')).toBe(200);
    // 2: 16 spans, every one twice in one request.
    expect(await post(protobuf(doubled(chainRequest(traceIdOf(2), 16))), 'protobuf')).toBe(200);
    // 3: 29 spans in two pieces that overlap by 12 (a resend cut differently): 29 spans, not 41.
    expect(await post(json(chainRequest(traceIdOf(3), 29, { offset: 0, count: 20 })), 'json')).toBe(200);
    expect(await post(protobuf(chainRequest(traceIdOf(3), 29, { offset: 8, count: 21 })), 'protobuf')).toBe(200);
    // 4, the control: 30 distinct spans in two pieces, each sent once. The rule fires on it.
    expect(await post(protobuf(chainRequest(traceIdOf(4), 30, { offset: 0, count: 15 })), 'protobuf')).toBe(200);
    expect(await post(json(chainRequest(traceIdOf(4), 30, { offset: 15, count: 15 })), 'json')).toBe(200);

    clock.now += 10_001;
    expect(await s.shards.tick()).toBe(4);
    expect(s.shards.bufferedSpans).toBe(20 + 16 + 29 + 30);
    const duplicates = await metricOf(s, 'betrace_spans_duplicate_total');
    expect(duplicates.map((v) => [v.labels.tenant, v.value])).toEqual([['default', 20 + 20 + 16 + 12]]);
    const received = (await metricOf(s, 'betrace_spans_received_total')).reduce((n, v) => n + v.value, 0);
    expect(received).toBe(60 + 32 + 41 + 30); // what came in is counted as received; only the buffer dedupes
    const signalled = s.store.listSignals('default', { limit: 100 }).signals.filter((x) => x.ruleId === BIG_TRACE.id).map((x) => x.traceId);
    expect(signalled).toEqual([traceIdOf(4)]);
    // The held traces, sent again after their evaluation, are not evaluated again.
    expect(await post(protobuf(one), 'protobuf')).toBe(200);
    clock.now += 10_001;
    expect(await s.shards.tick()).toBe(0);
    expect((await metricOf(s, 'betrace_traces_evaluated_total')).reduce((n, v) => n + v.value, 0)).toBe(4);
  });
});

describe('recovery from an ingest log that holds a batch twice', () => {
  let served: Served | undefined;
  afterEach(async () => {
    served?.child.kill('SIGKILL');
    await served?.exited;
    served = undefined;
  });

  it('buffers its spans once after a SIGKILL, and the count rule fires only on the trace that has 30 spans', async () => {
    requireBuiltCli();
    const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'betrace-dedupe-log-'));
    const rulesDir = path.join(tmp, 'rules');
    fs.mkdirSync(rulesDir);
    fs.writeFileSync(path.join(rulesDir, 'big.yaml'), JSON.stringify({ rules: [BIG_TRACE] }));
    const [otlpPort, apiPort] = [await freePort(), await freePort()];
    const env = (decisionWait: string) => ({ DATA_DIR: path.join(tmp, 'data'), RULES_DIR: rulesDir, HOST: '127.0.0.1', OTLP_PORT: String(otlpPort), API_PORT: String(apiPort), DECISION_WAIT: decisionWait, MAX_TRACE_AGE: '2h', BETRACE_API_TOKEN: 'dedupe-token', EVAL_WORKERS: '1', LOG_LEVEL: 'warn' });
    const api = (p: string) => fetch(`http://127.0.0.1:${apiPort}${p}`, { headers: { authorization: 'Bearer dedupe-token' } });
    const metric = async (name: string) => [...(await (await api('/metrics')).text()).matchAll(new RegExp(`^${name}(?:\\{[^}]*\\})? (\\S+)$`, 'gm'))].reduce((n, m) => n + Number(m[1]), 0);
    const up = async (s: Served) => until('the sidecar to be ready', async () => {
      if (s.child.exitCode !== null) throw new Error(`betrace serve exited:\n${s.stderr()}`);
      return (await api('/readyz').catch(() => undefined))?.status === 200;
    }, 60_000);
    fs.mkdirSync(path.join(tmp, 'data'));

    // Nothing is decided before the kill (decision wait 1 h): the log holds each batch twice, undecided.
    served = serve(env('1h'));
    await up(served);
    const post = async (body: Buffer) => (await fetch(`http://127.0.0.1:${otlpPort}/v1/traces`, { method: 'POST', headers: { 'content-type': 'application/x-protobuf' }, body: new Uint8Array(body) })).status;
    const twice = protobuf(chainRequest(traceIdOf(10), 20));
    const control = protobuf(chainRequest(traceIdOf(11), 30));
    for (const body of [twice, control, twice]) expect(await post(body)).toBe(200);
    served.child.kill('SIGKILL');
    await served.exited;

    served = serve(env('200ms'));
    await up(served);
    expect(await metric('betrace_ingest_log_recovered_batches_total')).toBe(3);
    await until('both traces to be evaluated', async () => (await metric('betrace_traces_evaluated_total')) >= 2, 30_000);
    expect(await metric('betrace_traces_evaluated_total')).toBe(2);
    expect(await metric('betrace_spans_duplicate_total')).toBe(20);
    const signals = ((await (await api('/api/v1/signals?limit=100')).json()) as { signals: Array<{ traceId: string; ruleId: string }> }).signals;
    expect(signals.map((x) => [x.traceId, x.ruleId])).toEqual([[traceIdOf(11), BIG_TRACE.id]]);
    fs.rmSync(tmp, { recursive: true, force: true });
  }, 120_000);
});
