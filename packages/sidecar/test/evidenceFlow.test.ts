/**
 * Evidence end to end: push, pull and replay produce it (a replay dry run does not), summary
 * windows counted under an injected clock, compliance.evidence spans through the outbox exactly
 * once after an outage, and the API with its exports.
 */
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import pino from 'pino';
import { decodeOtlpJsonText, Span } from '@betrace/evaluator';
import { TempoDouble } from '../../../tests/support/tempoDouble';
import { loadConfig } from '../src/config';
import { ExportTraceServiceRequest } from '../src/ingest/otlpProto';
import { signRecord } from '../src/evidence/record';
import { EvidenceStore } from '../src/evidence/store';
import { createSidecar, Sidecar } from '../src/sidecar';
import { HttpDouble } from './support/doubles';

const root = path.join(__dirname, '../../..');
const RULE = 'soc2-cc7-2-payment-failures-audited';
const HIPAA = 'hipaa-164-312-b-phi-audit';
const example = (verdict: 'violates' | 'satisfies', traceId?: string, rule = RULE) => {
  const json = fs.readFileSync(path.join(root, 'examples/traces', rule, `${verdict}-1.json`), 'utf8');
  return traceId === undefined ? json : json.replace(/"traceId": "[0-9a-f]{32}"/g, `"traceId": "${traceId}"`);
};
const VIOLATING = '9b847ba9b21b1c2a0f399ec747fde0fd';
const SATISFYING = '948551235a8026dd4ff3c1dbf41aef00';
/** The example PHI traces: a PHI read without an audit log, and one with it. */
const PHI_VIOLATING = 'd3056a818b9ef4b05009bb771e96e67f';
const PHI_SATISFYING = '89a24f43458031035909d4efde95c02f';
const T0 = Date.UTC(2026, 10, 25, 12, 0, 0);
const SECRET = 'flow-key-0123456789abcdef0123456789';

interface Push {
  sidecar: Sidecar;
  otlp: string;
  api: string;
  clock: { now: number };
  sink: HttpDouble;
  evidence: EvidenceStore;
}

const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) {
    await c();
  }
});

async function push(workers = '0'): Promise<Push> {
  const sink = new HttpDouble();
  const o = await sink.start();
  cleanups.push(() => sink.stop());
  const config = loadConfig({ EVAL_WORKERS: workers,
    DATA_DIR: fs.mkdtempSync(path.join(os.tmpdir(), 'betrace-evidence-')),
    RULES_DIR: path.join(root, 'examples/rules'),
    OTLP_PORT: '0',
    API_PORT: '0',
    HOST: '127.0.0.1',
    OTLP_EXPORT_URL: o,
  });
  const clock = { now: T0 };
  const sidecar = createSidecar(config, { now: () => clock.now, logger: pino({ level: 'silent' }), tickMs: 3_600_000, writerIntervalMs: 3_600_000, evidenceIntervalMs: 3_600_000 });
  const { otlpPort, apiPort } = await sidecar.start();
  cleanups.push(() => sidecar.stop());
  const evidence = sidecar.evidence.store;
  evidence.seedKeys('default', [{ id: 'k1', secret: SECRET }], T0);
  return { sidecar, otlp: `http://127.0.0.1:${otlpPort}/v1/traces`, api: `http://127.0.0.1:${apiPort}`, clock, sink, evidence };
}

/** Sends a trace and lets it be evaluated 10 s later (DECISION_WAIT). */
async function ingest(p: Push, json: string): Promise<void> {
  const res = await fetch(p.otlp, { method: 'POST', headers: { 'content-type': 'application/json' }, body: json });
  expect(res.status).toBe(200);
  p.clock.now += 10_001;
  await p.sidecar.shards.tick();
}

const ofRule = (p: Push) => p.evidence.all('default').filter((r) => r.ruleId === RULE);

type DecodedSpan = { name: string; traceId: string; spanId: string; parentSpanId?: string; startTimeUnixNano: string; attributes: Array<{ key: string; value: Record<string, unknown> }> };
function evidenceSpans(sink: HttpDouble): DecodedSpan[] {
  return sink.requests
    .map((r) => {
      const req = ExportTraceServiceRequest.toObject(ExportTraceServiceRequest.decode(r.body), { longs: String, bytes: String }) as { resourceSpans: Array<{ scopeSpans: Array<{ spans: DecodedSpan[] }> }> };
      return req.resourceSpans[0].scopeSpans[0].spans[0];
    })
    .filter((s) => s.name === 'compliance.evidence');
}
const hex = (b64: string) => Buffer.from(b64, 'base64').toString('hex');

describe('evidence from push mode', () => {
  it('counts traces per rule and window (injected clock) and writes a record per failing trace', async () => {
    const p = await push();
    await ingest(p, example('violates')); // evaluated 12:00:10
    await ingest(p, example('satisfies')); // 12:00:20
    expect(p.sidecar.evidence.seal()).toBe(0); // the window [12:00, 12:01) is still open
    p.clock.now = T0 + 65_000;
    await ingest(p, example('satisfies', 'cc'.repeat(16))); // 12:01:15
    p.sidecar.evidence.seal();

    const [perTrace, first, ...rest] = ofRule(p);
    expect(rest).toEqual([]);
    expect(perTrace).toMatchObject({ evidenceType: 'trace', outcome: 'fail', framework: 'soc2', control: 'CC7.2', checkedTraces: 1, failedTraces: 1, traceId: VIOLATING, sampleTraceIds: [VIOLATING], windowStart: T0 + 10_001 });
    expect(first).toMatchObject({ evidenceType: 'summary', outcome: 'fail', checkedTraces: 2, failedTraces: 1, windowStart: T0, windowEnd: T0 + 60_000, sampleTraceIds: [VIOLATING, SATISFYING] });
    // Only the payment rule applies to payment traces: the other compliance rules have no record for the window.
    const summaries = p.evidence.all('default').filter((r) => r.evidenceType === 'summary');
    expect(summaries.map((r) => `${r.framework}/${r.control}:${r.checkedTraces}`).sort()).toEqual(['soc2/CC7.2:2']);

    p.clock.now = T0 + 120_000;
    p.sidecar.evidence.seal();
    expect(ofRule(p).slice(2)).toMatchObject([{ evidenceType: 'summary', outcome: 'pass', checkedTraces: 1, failedTraces: 0, windowStart: T0 + 60_000, sampleTraceIds: ['cc'.repeat(16)] }]);
    // Seqs are gap-free across rules, every record signed with the tenant's key.
    const all = p.evidence.all('default');
    expect(all.map((r) => r.seq)).toEqual(all.map((_, i) => i + 1));
    expect(all.every((r) => r.keyId === 'k1' && r.signature === signRecord(r, SECRET))).toBe(true);
  });

  it.each([
    ['on the main thread', '0'],
    ['on shard workers', '2'],
  ])('counts and samples only the traces a rule applies to (its trigger held), evaluated %s', async (_where, workers) => {
    const p = await push(workers);
    await ingest(p, example('violates'));
    await ingest(p, example('satisfies'));
    await ingest(p, example('violates', undefined, HIPAA));
    await ingest(p, example('satisfies', undefined, HIPAA));
    p.clock.now = T0 + 60_000;
    p.sidecar.evidence.seal();
    const summaries = p.evidence.all('default').filter((r) => r.evidenceType === 'summary');
    expect(summaries.map((r) => [r.ruleId, r.checkedTraces, r.failedTraces, r.sampleTraceIds]).sort()).toEqual([
      [HIPAA, 2, 1, [PHI_VIOLATING, PHI_SATISFYING]],
      [RULE, 2, 1, [VIOLATING, SATISFYING]],
    ]);
    // The access-control and card-data rules applied to none of the four traces: no record, neither pass nor fail.
    expect(p.evidence.all('default').filter((r) => r.ruleId !== HIPAA && r.ruleId !== RULE)).toEqual([]);
    const auth = { authorization: `Bearer ${p.sidecar.token}` };
    const body = (await (await fetch(`${p.api}/api/v1/evidence?framework=hipaa`, { headers: auth })).json()) as { summary: { controls: unknown[] } };
    expect(body.summary.controls).toEqual([{ framework: 'hipaa', control: '164.312(b)', records: 2, pass: 0, fail: 2, checkedTraces: 2, failedTraces: 1 }]);
  }, 30_000);

  it('evaluating a trace again counts it once and adds no second per-trace record', async () => {
    const p = await push();
    await ingest(p, example('violates'));
    const trace = decodeOtlpJsonText(example('violates'))[0];
    p.sidecar.pipeline.evaluate('default', trace, 'pull');
    p.clock.now = T0 + 60_000;
    p.sidecar.evidence.seal();
    expect(ofRule(p).map((r) => [r.evidenceType, r.checkedTraces])).toEqual([
      ['trace', 1],
      ['summary', 1],
    ]);
  });

  it('writes compliance.evidence spans through the outbox: after an outage, each record exactly once', async () => {
    const p = await push();
    await ingest(p, example('violates'));
    await ingest(p, example('satisfies'));
    p.clock.now = T0 + 60_000;
    p.sidecar.evidence.seal();
    const records = p.evidence.all('default');
    const dispatcher = p.sidecar.dispatchers.find((d) => (d as unknown as { writer: { name: string } }).writer.name === 'evidence')!;
    p.sink.down = true;
    for (let i = 0; i < 5; i++) {
      await dispatcher.runOnce();
      p.clock.now += 60_000;
    }
    expect(evidenceSpans(p.sink)).toEqual([]);
    expect(p.sidecar.store.outboxDepth('evidence')).toBe(records.length);
    p.sink.down = false;
    for (let i = 0; i < 10 && p.sidecar.store.outboxDepth('evidence') > 0; i++) {
      p.clock.now += 600_000;
      await dispatcher.runOnce();
    }
    await dispatcher.runOnce();
    const spans = evidenceSpans(p.sink);
    const seqs = spans.map((s) => Number(s.attributes.find((a) => a.key === 'betrace.evidence.seq')!.value.intValue));
    expect(seqs.sort((a, b) => a - b)).toEqual(records.map((r) => r.seq));
    expect(new Set(spans.map((s) => hex(s.spanId))).size).toBe(records.length);

    // The per-trace record sits in the violating trace under its root; its attributes are the signed ones.
    const perTrace = records.find((r) => r.evidenceType === 'trace')!;
    const span = spans.find((s) => hex(s.spanId) === perTrace.spanId)!;
    const root = decodeOtlpJsonText(example('violates'))[0].rootSpan!;
    expect([hex(span.traceId), hex(span.parentSpanId!)]).toEqual([VIOLATING, root.spanId]);
    const attrs = Object.fromEntries(span.attributes.map((a) => [a.key, Object.values(a.value)[0]]));
    expect(attrs).toMatchObject({
      'compliance.framework': 'soc2',
      'compliance.control': 'CC7.2',
      'compliance.outcome': 'fail',
      'compliance.rule_id': RULE,
      'compliance.evidence_type': 'trace',
      'compliance.checked_traces': '1',
      'compliance.failed_traces': '1',
      'betrace.evidence.key_id': 'k1',
      'betrace.evidence.prev': perTrace.prev,
      'betrace.evidence.signature': perTrace.signature,
    });
  });

  it('serves records with their verification and per-control counts, and exports them', async () => {
    const p = await push();
    await ingest(p, example('violates'));
    p.clock.now = T0 + 60_000;
    p.sidecar.evidence.seal();
    const auth = { authorization: `Bearer ${p.sidecar.token}` };
    const res = await fetch(`${p.api}/api/v1/evidence?framework=SOC2&control=CC7.2`, { headers: auth });
    expect(res.status).toBe(200);
    const body = (await res.json()) as { records: Array<{ seq: number; verification: { ok: boolean } }>; total: number; verification: { ok: boolean; records: number }; summary: { controls: unknown[] } };
    expect(body.total).toBe(2);
    expect(body.records.every((r) => r.verification.ok)).toBe(true);
    expect(body.verification).toMatchObject({ ok: true, records: p.evidence.all('default').length });
    expect(body.summary.controls).toEqual([{ framework: 'soc2', control: 'CC7.2', records: 2, pass: 0, fail: 2, checkedTraces: 1, failedTraces: 1 }]);

    // Tampering shows in the API: at once on the page holding the record, and in the chain's
    // summary once the cached full walk is older than its bound (10 min).
    p.sidecar.store.db.prepare("UPDATE evidence SET outcome = 'pass', failed_traces = 0 WHERE evidence_type = 'summary' AND rule_id = ?").run(RULE);
    type Page = typeof body & { records: Array<{ seq: number; verification: { signature: string; ok: boolean } }>; verification: { altered: number[]; scope: string } };
    const tampered = ofRule(p)[1].seq;
    const after = (await (await fetch(`${p.api}/api/v1/evidence?control=CC7.2`, { headers: auth })).json()) as Page;
    expect(after.records.find((r) => r.seq === tampered)!.verification).toMatchObject({ signature: 'invalid', ok: false });
    expect(after.verification).toMatchObject({ ok: true, scope: 'cached' });
    p.clock.now += 10 * 60_000;
    const later = (await (await fetch(`${p.api}/api/v1/evidence?control=CC7.2`, { headers: auth })).json()) as Page;
    expect(later.verification).toMatchObject({ ok: false, altered: [tampered], scope: 'full' });

    const pdf = await fetch(`${p.api}/api/v1/evidence/export?format=pdf`, { headers: auth });
    expect(pdf.headers.get('content-type')).toBe('application/pdf');
    expect(Buffer.from(await pdf.arrayBuffer()).subarray(0, 5).toString()).toBe('%PDF-');
    const bad = await fetch(`${p.api}/api/v1/evidence/export?format=docx`, { headers: auth });
    expect(bad.status).toBe(400);
    expect(((await bad.json()) as { message: string }).message).toMatch(/format/);
    expect((await fetch(`${p.api}/api/v1/evidence?from=yesterday`, { headers: auth })).status).toBe(400);
    expect((await fetch(`${p.api}/api/v1/evidence`)).status).toBe(401);
  });
});

describe('evidence from pull mode and replay', () => {
  const MINUTE = 60_000;
  function spansAt(verdict: 'violates' | 'satisfies', traceId: string, atMs: number, rule = RULE): Span[] {
    const [trace] = decodeOtlpJsonText(example(verdict, undefined, rule));
    const shift = BigInt(atMs) * 1_000_000n - trace.startNs;
    return trace.spans.map((s) => ({ ...s, traceId, startNs: s.startNs + shift, endNs: s.endNs + shift }));
  }

  it('pull and replay produce evidence; a replay dry run does not', async () => {
    const clock = { now: T0 };
    const tempo = new TempoDouble({ now: () => clock.now });
    const url = await tempo.start();
    cleanups.push(() => tempo.stop());
    const config = loadConfig({ EVAL_WORKERS: '0',
      DATA_DIR: fs.mkdtempSync(path.join(os.tmpdir(), 'betrace-evidence-pull-')),
      RULES_DIR: path.join(root, 'examples/rules'),
      OTLP_PORT: '0',
      API_PORT: '0',
      HOST: '127.0.0.1',
      TEMPO_URL: url,
    });
    const sidecar = createSidecar(config, { now: () => clock.now, logger: pino({ level: 'silent' }), tickMs: 3_600_000, pollIntervalMs: 0, evidenceIntervalMs: 3_600_000 });
    const { apiPort } = await sidecar.start();
    cleanups.push(() => sidecar.stop());
    const evidence = sidecar.evidence.store;
    const violating = 'ab'.repeat(16);
    tempo.ingest('single-tenant', spansAt('violates', violating, T0 - 9.5 * MINUTE));
    tempo.ingest('single-tenant', spansAt('satisfies', 'cd'.repeat(16), T0 - 8.5 * MINUTE));
    tempo.ingest('single-tenant', spansAt('satisfies', 'ef'.repeat(16), T0 - 8 * MINUTE, HIPAA));

    await sidecar.poller!.pollOnce();
    const afterPull = evidence.all('default').filter((r) => r.ruleId === RULE);
    expect(afterPull.map((r) => [r.evidenceType, r.traceId])).toEqual([['trace', violating]]);
    const openTraces = () => {
      sidecar.evidence.flush();
      return (sidecar.store.db.prepare('SELECT count(*) AS n FROM evidence_window_traces').get() as { n: number }).n;
    };
    const counted = openTraces();
    expect(counted).toBeGreaterThan(0);
    // Each rule counted only the traces it applies to.
    const countedBy = () => {
      sidecar.evidence.flush();
      const rows = sidecar.store.db.prepare('SELECT rule_id AS rule, trace_id FROM evidence_window_traces ORDER BY rule_id, trace_id').all() as Array<{ rule: string; trace_id: string }>;
      const byRule = new Map<string, string[]>();
      for (const r of rows) {
        byRule.set(r.rule, [...(byRule.get(r.rule) ?? []), r.trace_id]);
      }
      return [...byRule].map(([rule, traces]) => ({ rule, traces: traces.join(',') }));
    };
    expect(countedBy()).toEqual([
      { rule: HIPAA, traces: 'ef'.repeat(16) },
      { rule: RULE, traces: `${violating},${'cd'.repeat(16)}` },
    ]);

    const replay = (body: object) =>
      fetch(`http://127.0.0.1:${apiPort}/api/v1/replay`, {
        method: 'POST',
        headers: { authorization: `Bearer ${sidecar.token}`, 'content-type': 'application/json' },
        body: JSON.stringify({ from: String(T0 - 15 * MINUTE), to: String(T0), ...body }),
      });
    clock.now = T0 + 61_000;
    const before = evidence.head('default').seq;
    expect((await replay({ dryRun: true })).status).toBe(202);
    await sidecar.replay!.idle();
    expect(evidence.head('default').seq).toBe(before);
    expect(openTraces()).toBe(counted); // nothing counted into the new window

    sidecar.evidence.seal();
    const sealed = evidence.head('default').seq;
    expect((await replay({ ruleIds: [RULE, HIPAA] })).status).toBe(202);
    await sidecar.replay!.idle();
    expect(countedBy()).toEqual([
      { rule: HIPAA, traces: 'ef'.repeat(16) },
      { rule: RULE, traces: `${violating},${'cd'.repeat(16)}` },
    ]);
    clock.now = T0 + 125_000;
    sidecar.evidence.seal();
    const fromReplay = evidence.all('default').filter((r) => r.seq > sealed);
    // The replayed traces were counted into the window of the replay, each for the rule it applies to; the violation's per-trace record exists already.
    expect(fromReplay.map((r) => [r.ruleId, r.evidenceType, r.checkedTraces, r.failedTraces, r.windowStart]).sort()).toEqual([
      [HIPAA, 'summary', 1, 0, T0 + 60_000],
      [RULE, 'summary', 2, 1, T0 + 60_000],
    ]);
  }, 30_000);
});
