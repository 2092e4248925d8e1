/**
 * The peers benchmark (bench/peers.bench.js) compares BeTrace with the Collector's tail sampling
 * only if its load is what it claims and its rules are live: checked here on a small corpus, with
 * no Collector and no timing. (Whether each policy decides the same traces as its rule is checked
 * against the real Collector in every benchmark run: "traces flagged".)
 */
import { compileRule, decodeResourceSpans, evaluateTrace, groupTraces, RuleDefinition } from '@betrace/evaluator';
import { decodeTraceRequest, encodeTraceRequest } from '../../packages/sidecar/src/ingest/otlpProto';

interface OtlpCorpus {
  payloads: Buffer[];
  tracesOf: string[][];
  spansIn: number[];
  spansOf: Map<string, number>;
  spans: number;
}
const { buildOtlpCorpus, BATCH_SPANS, MIN_SPANS, MAX_SPANS } = require('../../bench/peers/otlpCorpus') as {
  buildOtlpCorpus: (spans: number, seed: number, encode: (r: object) => Uint8Array) => OtlpCorpus;
  BATCH_SPANS: number;
  MIN_SPANS: number;
  MAX_SPANS: number;
};
const { PAIRS, rulesFile, policies } = require('../../bench/peers/policies') as {
  PAIRS: Array<[string, string, { type: string }]>;
  rulesFile: () => string;
  policies: () => Array<{ name: string; type: string }>;
};
const { collectorConfig } = require('../../bench/peers/collector') as {
  collectorConfig: (o: object) => { processors: { tail_sampling: { decision_wait: string; policies: unknown[] } }; service: { pipelines: { traces: { exporters: string[] } } } };
};

describe('peers benchmark load', () => {
  const corpus = buildOtlpCorpus(15_000, 3, encodeTraceRequest);
  const decoded = corpus.payloads.map((p) => decodeResourceSpans((decodeTraceRequest(p) as { resourceSpans: unknown }).resourceSpans, 'resourceSpans', 'hex'));

  it('carries every span of every trace exactly once, in requests of about 512 spans', () => {
    const seen = new Map<string, Set<string>>();
    decoded.forEach((spans, i) => {
      expect(spans.length).toBe(corpus.spansIn[i]);
      for (const s of spans) {
        if (!seen.has(s.traceId)) {
          seen.set(s.traceId, new Set());
        }
        expect(seen.get(s.traceId)!.has(s.spanId)).toBe(false);
        seen.get(s.traceId)!.add(s.spanId);
      }
    });
    expect(corpus.spans).toBeGreaterThanOrEqual(15_000);
    expect(seen.size).toBe(corpus.spansOf.size);
    for (const [id, n] of corpus.spansOf) {
      expect(seen.get(id)!.size).toBe(n);
      expect(n).toBeGreaterThanOrEqual(MIN_SPANS);
      expect(n).toBeLessThanOrEqual(MAX_SPANS);
    }
    // Every request but the last is full (a request may overshoot by one trace piece).
    corpus.spansIn.slice(0, -1).forEach((n) => {
      expect(n).toBeGreaterThanOrEqual(BATCH_SPANS);
      expect(n).toBeLessThan(BATCH_SPANS + MAX_SPANS);
    });
  });

  it('spreads traces across neighbouring requests', () => {
    const requestsOf = new Map<string, number[]>();
    corpus.tracesOf.forEach((ids, i) => ids.forEach((id) => requestsOf.set(id, [...(requestsOf.get(id) ?? []), i])));
    const spread = [...requestsOf.values()].filter((r) => r.length > 1);
    // Pieces of one trace are queued ~one request apart: some traces span requests, all nearby.
    expect(spread.length / requestsOf.size).toBeGreaterThan(0.4);
    for (const r of requestsOf.values()) {
      expect(Math.max(...r) - Math.min(...r)).toBeLessThanOrEqual(4);
    }
  });

  it('is deterministic', () => {
    const again = buildOtlpCorpus(15_000, 3, encodeTraceRequest);
    expect(again.payloads.map((p) => p.length)).toEqual(corpus.payloads.map((p) => p.length));
    expect(Buffer.concat(again.payloads).equals(Buffer.concat(corpus.payloads))).toBe(true);
  });

  it('has ten live rules, each paired with a policy of the same name', () => {
    const file = JSON.parse(rulesFile()) as { rules: RuleDefinition[] };
    expect(file.rules).toHaveLength(10);
    const rules = file.rules.map((r) => {
      const c = compileRule(r);
      expect([r.id, c.diagnostics.filter((d) => d.severity === 'error')]).toEqual([r.id, []]);
      return c.rule!;
    });
    expect(policies().map((p) => p.name)).toEqual(file.rules.map((r) => r.id));
    // Each rule fires on some traces and not on others: none is vacuous on this load.
    const fired = new Map<string, number>();
    const traces = groupTraces(decoded.flat());
    for (const t of traces) {
      for (const v of evaluateTrace(rules, t)) {
        fired.set(v.ruleId, (fired.get(v.ruleId) ?? 0) + 1);
      }
    }
    for (const [id] of PAIRS) {
      expect([id, (fired.get(id) ?? 0) > 0]).toEqual([id, true]);
      expect(fired.get(id)!).toBeLessThan(traces.length / 2);
    }
  });

  it('gives the Collector the policies and the decision wait, and a sink or nop exporter', () => {
    const base = { otlpPort: 1, metricsPort: 2, sinkPort: 3, policies: policies(), decisionWaitMs: 1000, numTraces: 10, shards: 1 };
    const sink = collectorConfig({ ...base, exporter: 'sink' });
    expect(sink.processors.tail_sampling.decision_wait).toBe('1000ms');
    expect(sink.processors.tail_sampling.policies).toHaveLength(10);
    expect(sink.service.pipelines.traces.exporters).toEqual(['otlp_http/sink']);
    expect(collectorConfig({ ...base, exporter: 'nop' }).service.pipelines.traces.exporters).toEqual(['nop']);
  });
});
