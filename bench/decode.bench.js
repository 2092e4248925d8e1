'use strict';
// Decode benchmark: OTLP/protobuf request bodies → normalized spans, the receiver's new path
// (decodeOtlpProtobuf, attributes built on first access) against its old one measured in the
// same run (protobufjs reflection decode + decodeResourceSpans), on the bench corpus encoded by
// protobufjs. Also: the new path with every span's attributes, events and links read (what a
// rule over all spans costs), and the skim / per-trace partition for worker threads relative to
// a full decode. Methods take turns in every repeat, so machine noise falls on all of them alike.
// Writes bench/results/decode.json with --save.
const fs = require('fs');
const path = require('path');
const { performance } = require('perf_hooks');
const { decodeOtlpProtobuf, decodeResourceSpans, groupTraces, partitionByTrace, skimTraceRequest } = require('../packages/evaluator/dist');
const { decodeTraceRequest, encodeTraceRequest } = require('../packages/sidecar/dist/ingest/otlpProto');
const { makeCorpus, toOtlpRequests } = require('./corpus');
const { saveResult } = require('./save');

const TRACES = Number(process.env.BENCH_DECODE_TRACES || 4000);
const REPEATS = Math.max(5, Number(process.env.BENCH_RUNS || 7));
const PER_REQUEST = 40;
const SHARDS = 4;

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

function touchAll(traces) {
  let n = 0;
  for (const t of traces) {
    for (const s of t.spans) {
      n += Object.keys(s.attrs).length + s.events.length + s.links.length;
    }
  }
  return n;
}

const methods = {
  'protobufjs + decodeResourceSpans (before)': (bodies) => {
    let n = 0;
    for (const b of bodies) {
      n += groupTraces(decodeResourceSpans(decodeTraceRequest(b).resourceSpans, 'resourceSpans', 'hex')).length;
    }
    return n;
  },
  'decodeOtlpProtobuf (after)': (bodies) => {
    let n = 0;
    for (const b of bodies) {
      n += decodeOtlpProtobuf(b).length;
    }
    return n;
  },
  'decodeOtlpProtobuf + read every attribute': (bodies) => {
    let n = 0;
    for (const b of bodies) {
      n += touchAll(decodeOtlpProtobuf(b));
    }
    return n;
  },
  'skimTraceRequest': (bodies) => {
    let n = 0;
    for (const b of bodies) {
      n += skimTraceRequest(b).spanCount;
    }
    return n;
  },
  [`partitionByTrace (${SHARDS} shards)`]: (bodies) => {
    let n = 0;
    for (const b of bodies) {
      n += partitionByTrace(b, SHARDS).length;
    }
    return n;
  },
};

/** Heap the decoded traces hold, per span, measured after a GC with the traces still referenced. */
function heapPerSpan(bodies, spans) {
  const held = {
    'protobufjs + decodeResourceSpans (before)': () => bodies.map((b) => groupTraces(decodeResourceSpans(decodeTraceRequest(b).resourceSpans, 'resourceSpans', 'hex'))),
    'decodeOtlpProtobuf (after)': () => bodies.map((b) => decodeOtlpProtobuf(b)),
    'decodeOtlpProtobuf, every attribute read': () => bodies.map((b) => {
      const traces = decodeOtlpProtobuf(b);
      touchAll(traces);
      return traces;
    }),
  };
  // Several full collections: one leaves garbage of the timing runs behind (weak references, caches).
  const settle = () => {
    for (let i = 0; i < 4; i++) {
      global.gc && global.gc();
    }
    return process.memoryUsage().heapUsed;
  };
  const out = {};
  for (const [name, decode] of Object.entries(held)) {
    const before = settle();
    let kept = decode();
    out[name] = Math.round((settle() - before) / spans);
    kept = undefined;
    void kept;
  }
  return out;
}

function main() {
  const { traces, totalSpans } = makeCorpus(TRACES, 7);
  const bodies = toOtlpRequests(traces, (hex) => Buffer.from(hex, 'hex'), PER_REQUEST).map((r) => Buffer.from(encodeTraceRequest(r)));
  const bytes = bodies.reduce((n, b) => n + b.length, 0);

  // Same spans both ways, or the timing means nothing.
  const before = groupTraces(decodeResourceSpans(decodeTraceRequest(bodies[0]).resourceSpans, 'resourceSpans', 'hex'));
  const after = decodeOtlpProtobuf(bodies[0]);
  const sig = (ts) => JSON.stringify(ts.map((t) => t.spans.map((s) => [s.traceId, s.spanId, s.parentSpanId, s.name, s.kind, s.status, String(s.startNs), s.durationNs, s.service, s.attrs, s.resource])));
  if (sig(before) !== sig(after)) {
    throw new Error('the two decoders disagree on the corpus');
  }

  const heap = heapPerSpan(bodies, totalSpans);
  const names = Object.keys(methods);
  const times = Object.fromEntries(names.map((n) => [n, []]));
  for (let run = 0; run <= REPEATS; run++) {
    for (const name of names) {
      global.gc && global.gc();
      const t0 = performance.now();
      methods[name](bodies);
      const ms = performance.now() - t0;
      if (run > 0) {
        times[name].push(ms); // run 0 warms up the JIT
      }
    }
  }
  const baseline = names[0];
  const full = names[1];
  const rows = names.map((name) => {
    const rates = times[name].map((ms) => totalSpans / (ms / 1000));
    // Same-repeat ratios: each repeat's time against the baseline's in that repeat.
    const speedup = times[name].map((ms, i) => times[baseline][i] / ms);
    const ofDecode = times[name].map((ms, i) => ms / times[full][i]);
    return {
      name,
      spansPerSec: Math.round(median(rates)),
      spansPerSecMin: Math.round(Math.min(...rates)),
      spansPerSecMax: Math.round(Math.max(...rates)),
      msMedian: +median(times[name]).toFixed(1),
      speedupVsBefore: +median(speedup).toFixed(2),
      speedupMin: +Math.min(...speedup).toFixed(2),
      speedupMax: +Math.max(...speedup).toFixed(2),
      costVsDecode: +median(ofDecode).toFixed(2),
    };
  });

  console.log(`\nDecode benchmark — ${TRACES} traces, ${totalSpans} spans in ${bodies.length} protobuf requests (${(bytes / 1e6).toFixed(1)} MB), ${REPEATS} repeats, ${process.version}\n`);
  const w = [44, 26, 22, 12];
  console.log(['method', 'spans/s median (min–max)', '× before (min–max)', 'of decode'].map((c, i) => c.padEnd(w[i])).join(' '));
  for (const r of rows) {
    console.log(
      [r.name, `${(r.spansPerSec / 1e3).toFixed(0)} k (${(r.spansPerSecMin / 1e3).toFixed(0)}–${(r.spansPerSecMax / 1e3).toFixed(0)} k)`, `${r.speedupVsBefore} (${r.speedupMin}–${r.speedupMax})`, `${r.costVsDecode}`]
        .map((c, i) => String(c).padEnd(w[i]))
        .join(' '),
    );
  }
  console.log(`\nheap held per decoded span (bodies not counted; a lazy span also keeps its body, ${Math.round(bytes / totalSpans)} B a span):`);
  for (const [name, b] of Object.entries(heap)) {
    console.log(`  ${name.padEnd(44)} ${b} B${global.gc ? '' : ' (no --expose-gc: rough)'}`);
  }
  const out = path.join(__dirname, 'results', 'decode.json');
  saveResult(out, { node: process.version, date: new Date().toISOString(), corpus: { traces: TRACES, spans: totalSpans, requests: bodies.length, bytes }, repeats: REPEATS, shards: SHARDS, results: rows, heapBytesPerSpan: heap });
}

main();
