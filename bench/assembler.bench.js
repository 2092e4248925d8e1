'use strict';
// Trace assembly alone: TraceAssembler.add of decoded OTLP/protobuf requests (the sidecar
// benchmark's corpus, 40 traces per request, and the same traces cut into pieces of one span
// each so that every span joins a trace already held), then tick() hands every trace over. The
// decode is done before the clock starts and evaluation is a no-op, so what is timed is the
// assembler's own work per span (the buffer, and the span-id check that keeps a span delivered
// twice from counting twice). Runs ROUNDS times in one process after a warm-up; prints the
// median and the spread (min–max) of spans per second. Writes bench/results/assembler.json with --save.
//
//   npm run bench assembler        BENCH_ASSEMBLER_TRACES=12000 BENCH_ASSEMBLER_ROUNDS=15
const path = require('path');
const { performance } = require('perf_hooks');
const { decodeOtlpProtobuf } = require('../packages/evaluator/dist');
const { TraceAssembler } = require('../packages/sidecar/dist/ingest/assembler');
const { encodeTraceRequest } = require('../packages/sidecar/dist/ingest/otlpProto');
const { makeCorpus, toOtlpRequests } = require('./corpus');
const { saveResult } = require('./save');

const TRACES = Number(process.env.BENCH_ASSEMBLER_TRACES || 12000);
const ROUNDS = Number(process.env.BENCH_ASSEMBLER_ROUNDS || 15);
const PER_REQUEST = 40;

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

/** One round: every request added, then one tick past the decision wait hands every trace over. */
function round(batches, spans) {
  const clock = { now: 0 };
  let ready = 0;
  const a = new TraceAssembler({ decisionWaitMs: 100, maxTraceAgeMs: 1000, maxSpans: 1e8, maxBytes: 1e12, now: () => clock.now, onReady: () => ready++, onDrop: () => undefined, onDuplicate: () => undefined });
  const t0 = performance.now();
  for (const traces of batches) {
    a.add('default', traces, 1000, { position: 1 });
  }
  clock.now = 200;
  a.tick();
  const ms = performance.now() - t0;
  if (a.bufferedSpans !== spans) throw new Error(`buffered ${a.bufferedSpans} spans of ${spans}`);
  return spans / (ms / 1000);
}

function measure(name, batches, spans) {
  for (let i = 0; i < 3; i++) round(batches, spans); // warm-up
  const rates = [];
  for (let i = 0; i < ROUNDS; i++) {
    global.gc && global.gc();
    rates.push(round(batches, spans));
  }
  const k = (x) => `${(x / 1e6).toFixed(2)} M`;
  console.log(`${name.padEnd(38)} median ${k(median(rates))} spans/s   spread ${k(Math.min(...rates))} – ${k(Math.max(...rates))}   (${ROUNDS} rounds)`);
  return { medianSpansPerSec: Math.round(median(rates)), minSpansPerSec: Math.round(Math.min(...rates)), maxSpansPerSec: Math.round(Math.max(...rates)) };
}

const { traces, totalSpans } = makeCorpus(TRACES, 7);
const hex = (h) => Buffer.from(h, 'hex');
const whole = toOtlpRequests(traces, hex, PER_REQUEST).map((r) => decodeOtlpProtobuf(encodeTraceRequest(r)));
// Each trace cut into one-span pieces, spread over requests: every span after a trace's first joins a held trace.
const byTrace = new Map();
for (const r of toOtlpRequests(traces, hex, PER_REQUEST)) {
  for (const rs of r.resourceSpans) {
    for (const ss of rs.scopeSpans) {
      for (const s of ss.spans) {
        const key = Buffer.from(s.traceId).toString('hex');
        if (!byTrace.has(key)) byTrace.set(key, []);
        byTrace.get(key).push({ resourceSpans: [{ resource: rs.resource, scopeSpans: [{ scope: ss.scope, spans: [s] }] }] });
      }
    }
  }
}
// Interleaved: every trace's first span, then every trace's second, ...
const pieces = [];
for (let j = 0; pieces.length < totalSpans; j++) {
  for (const list of byTrace.values()) if (j < list.length) pieces.push(list[j]);
}
const perSpan = [];
for (let i = 0; i < pieces.length; i += PER_REQUEST * 10) {
  const chunk = pieces.slice(i, i + PER_REQUEST * 10);
  perSpan.push(decodeOtlpProtobuf(encodeTraceRequest({ resourceSpans: chunk.flatMap((p) => p.resourceSpans) })));
}
console.log(`Trace assembly — ${TRACES} traces, ${totalSpans} spans, ${process.version}`);
const results = { node: process.version, date: new Date().toISOString(), traces: TRACES, spans: totalSpans, rounds: ROUNDS };
results.wholeTraces = measure('whole traces (40 per request)', whole, totalSpans);
results.oneSpanPieces = measure('one-span pieces (400 per request)', perSpan, totalSpans);
saveResult(path.join(__dirname, 'results', 'assembler.json'), results);
