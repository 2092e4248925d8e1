'use strict';
// Sidecar benchmark: sustained ingest-to-evaluation throughput (OTLP protobuf and JSON) with the
// example rules, against the bare decode of the same payloads in the same run; heap bytes per
// buffered span; latency from a trace's last span to its signal being stored.
// The sidecar runs here (one process); a light HTTP client posts pre-encoded payloads from a
// second process. Writes bench/results/sidecar.json with --save.
const { fork } = require('child_process');
const fs = require('fs');
const os = require('os');
const path = require('path');
const { performance } = require('perf_hooks');
const { decodeOtlpProtobufSpans, decodeResourceSpans } = require('../packages/evaluator/dist');
const { createSidecar } = require('../packages/sidecar/dist/sidecar');
const { loadConfig } = require('../packages/sidecar/dist/config');
const { encodeTraceRequest } = require('../packages/sidecar/dist/ingest/otlpProto');
const { makeCorpus, toOtlpRequests } = require('./corpus');
const { saveResult } = require('./save');

if (process.argv[2] === 'client') {
  // The client: posts every payload over keep-alive HTTP, `concurrency` at a time, and reports
  // when each request (hence each trace in it) finished.
  process.on('message', async ({ url, type, file, offsets, concurrency }) => {
    // The payloads come as one file and their offsets: no copy of them through the IPC channel.
    const data = fs.readFileSync(file);
    const payloads = offsets.map(([start, end]) => data.subarray(start, end));
    const done = new Array(payloads.length);
    let next = 0;
    const worker = async () => {
      while (next < payloads.length) {
        const i = next++;
        for (;;) {
          const res = await fetch(url, { method: 'POST', headers: { 'content-type': type }, body: payloads[i] });
          await res.arrayBuffer();
          if (res.status === 200) break;
          await new Promise((r) => setTimeout(r, 50)); // 503: back off as exporters do
        }
        done[i] = Date.now();
      }
    };
    const t0 = Date.now();
    await Promise.all(Array.from({ length: concurrency }, worker));
    process.send({ t0, done });
  });
  return;
}

const TRACES = Number(process.env.BENCH_SIDECAR_TRACES || 12000);
const PER_REQUEST = 40;
const DECISION_WAIT_MS = 250;

function hexToBytes(hex) {
  return Buffer.from(hex, 'hex');
}

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const pct = (xs, p) => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor((xs.length * p) / 100))];

async function runIngest(format, payloads, spans, traceIdsPerRequest) {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'betrace-bench-'));
  const config = loadConfig({
    DATA_DIR: dataDir,
    RULES_DIR: path.join(__dirname, '../examples/rules'),
    OTLP_PORT: '0',
    API_PORT: '0',
    HOST: '127.0.0.1',
    DECISION_WAIT: `${DECISION_WAIT_MS}ms`,
    MAX_TRACE_AGE: '30s',
    MAX_BUFFER_SPANS: '5000000',
    MAX_BUFFER_BYTES: '4GiB',
    LOG_LEVEL: 'silent',
    // BENCH_EVAL_WORKERS=0 measures one shard on the main thread; default: EVAL_WORKERS=auto.
    ...(process.env.BENCH_EVAL_WORKERS !== undefined ? { EVAL_WORKERS: process.env.BENCH_EVAL_WORKERS } : {}),
    // BENCH_SIDECAR_ENV="INGEST_FSYNC=off,…": more settings for the sidecar under test.
    ...Object.fromEntries((process.env.BENCH_SIDECAR_ENV || '').split(',').filter(Boolean).map((kv) => [kv.slice(0, kv.indexOf('=')), kv.slice(kv.indexOf('=') + 1)])),
  });
  const sidecar = createSidecar(config, { tickMs: 25 });
  const evaluatedAt = new Map();
  const signalled = new Set();
  const seen = (traceId, out) => {
    evaluatedAt.set(traceId, Date.now());
    if (out.length > 0) signalled.add(traceId);
    return out;
  };
  if (typeof sidecar.pipeline.record === 'function') {
    // Push mode records each evaluated trace (made on a shard worker) through Pipeline.record.
    const record = sidecar.pipeline.record.bind(sidecar.pipeline);
    sidecar.pipeline.record = (tenant, outcome, source, active) => seen(outcome.traceId, record(tenant, outcome, source, active));
  } else {
    // Before shards (BENCH against an older build): push mode evaluated through Pipeline.evaluate.
    const evaluate = sidecar.pipeline.evaluate.bind(sidecar.pipeline);
    sidecar.pipeline.evaluate = (tenant, trace, source) => seen(trace.traceId, evaluate(tenant, trace, source));
  }
  const { otlpPort } = await sidecar.start();
  const payloadFile = path.join(dataDir, 'payloads.bin');
  const offsets = [];
  let at = 0;
  for (const p of payloads) {
    offsets.push([at, at + p.length]);
    at += p.length;
  }
  fs.writeFileSync(payloadFile, Buffer.concat(payloads.map((p) => Buffer.from(p.buffer, p.byteOffset, p.length))));
  const client = fork(__filename, ['client'], { serialization: 'advanced' });
  const type = format === 'protobuf' ? 'application/x-protobuf' : 'application/json';
  const result = await new Promise((resolve) => {
    client.once('message', resolve);
    client.send({ url: `http://127.0.0.1:${otlpPort}/v1/traces`, type, file: payloadFile, offsets, concurrency: 4 });
  });
  const totalTraces = traceIdsPerRequest.reduce((n, ids) => n + ids.length, 0);
  const deadline = Date.now() + 120_000;
  while (evaluatedAt.size < totalTraces && Date.now() < deadline) {
    await new Promise((r) => setTimeout(r, 20));
  }
  client.kill();
  const lastEvaluated = Math.max(...evaluatedAt.values());
  // Sustained throughput: spans over the time from the first request to the last evaluation,
  // less the decision wait every trace must sit out by design.
  const seconds = (lastEvaluated - result.t0 - DECISION_WAIT_MS) / 1000;
  const latencies = [];
  traceIdsPerRequest.forEach((ids, i) => {
    for (const id of ids) {
      if (signalled.has(id)) latencies.push(evaluatedAt.get(id) - result.done[i]);
    }
  });
  const signals = sidecar.store.listSignals('default', { limit: 1 }).total;
  await sidecar.stop();
  fs.rmSync(dataDir, { recursive: true, force: true });
  return { spansPerSec: Math.round(spans / seconds), seconds: +seconds.toFixed(2), evaluated: evaluatedAt.size, signals, latencyMs: { p50: pct(latencies, 50), p99: pct(latencies, 99), samples: latencies.length } };
}

function bareDecode(format, payloads, spans) {
  const times = [];
  for (let run = 0; run < 4; run++) {
    const t0 = performance.now();
    for (const p of payloads) {
      // What the receiver does with a body.
      if (format === 'protobuf') {
        decodeOtlpProtobufSpans(p);
      } else {
        decodeResourceSpans(JSON.parse(Buffer.from(p).toString('utf8')).resourceSpans, 'resourceSpans', 'hex');
      }
    }
    if (run > 0) times.push(performance.now() - t0);
  }
  return Math.round(spans / (median(times) / 1000));
}

async function heapPerSpan(traces) {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'betrace-bench-'));
  const sidecar = createSidecar(loadConfig({ DATA_DIR: dataDir, OTLP_PORT: '0', API_PORT: '0', HOST: '127.0.0.1', DECISION_WAIT: '1h', MAX_TRACE_AGE: '2h', MAX_BUFFER_SPANS: '5000000', MAX_BUFFER_BYTES: '4GiB', LOG_LEVEL: 'silent', EVAL_WORKERS: '0' }), { tickMs: 3_600_000 });
  // Fresh span objects, as decoding a request would produce.
  const requests = toOtlpRequests(traces, (hex) => hex, PER_REQUEST);
  global.gc && global.gc();
  const before = process.memoryUsage().heapUsed;
  let spans = 0;
  for (const r of requests) {
    const decoded = decodeResourceSpans(JSON.parse(JSON.stringify(r)).resourceSpans, 'resourceSpans', 'hex');
    spans += decoded.length;
    const { groupTraces } = require('../packages/evaluator/dist');
    if (sidecar.shards) sidecar.shards.add('default', { kind: 'traces', traces: groupTraces(decoded) }, 0, undefined);
    else sidecar.assembler.add('default', groupTraces(decoded), 0); // an older build
  }
  global.gc && global.gc();
  const after = process.memoryUsage().heapUsed;
  sidecar.store.close();
  fs.rmSync(dataDir, { recursive: true, force: true });
  return { bytesPerSpan: Math.round((after - before) / spans), spans, gcExposed: Boolean(global.gc) };
}

async function main() {
  // The corpus objects are dropped once encoded: the sidecar under test runs in this process,
  // and a heap holding the whole corpus as objects made garbage collection most of its time.
  const { protobuf, json, idsPerRequest, totalSpans, heapTraces } = (() => {
    const { traces, totalSpans } = makeCorpus(TRACES, 7);
    const protobuf = toOtlpRequests(traces, hexToBytes, PER_REQUEST).map((r) => encodeTraceRequest(r));
    const json = toOtlpRequests(traces, (hex) => hex, PER_REQUEST).map((r) => Buffer.from(JSON.stringify(r)));
    const idsPerRequest = [];
    for (let i = 0; i < traces.length; i += PER_REQUEST) idsPerRequest.push(traces.slice(i, i + PER_REQUEST).map((t) => t.traceId));
    return { protobuf, json, idsPerRequest, totalSpans, heapTraces: traces.slice(0, 4000) };
  })();
  global.gc && global.gc();

  const results = { node: process.version, date: new Date().toISOString(), corpus: { traces: TRACES, spans: totalSpans, requests: protobuf.length, spansPerRequest: Math.round(totalSpans / protobuf.length) }, decisionWaitMs: DECISION_WAIT_MS, rules: 13 };
  for (const [format, payloads, target] of [
    ['protobuf', protobuf, 150000],
    ['json', json, 75000],
  ]) {
    const bare = bareDecode(format, payloads, totalSpans);
    const ingest = await runIngest(format, payloads, totalSpans, idsPerRequest);
    results[format] = { ...ingest, bareDecodeSpansPerSec: bare, ratioToBareDecode: +(ingest.spansPerSec / bare).toFixed(3), target, payloadBytes: payloads.reduce((n, p) => n + p.length, 0) };
  }
  results.heap = await heapPerSpan(heapTraces);

  const verdict = (ok) => (ok ? 'PASS' : 'MISS');
  const lat = (f) => `p50 ${results[f].latencyMs.p50} ms, p99 ${results[f].latencyMs.p99} ms`;
  const rows = [
    ['ingest → evaluation, protobuf', `${(results.protobuf.spansPerSec / 1e3).toFixed(0)} k spans/s`, '>= 150 k', verdict(results.protobuf.spansPerSec >= 150000)],
    ['  of bare protobuf decode', `${(results.protobuf.ratioToBareDecode * 100).toFixed(0)} % (${(results.protobuf.bareDecodeSpansPerSec / 1e3).toFixed(0)} k spans/s)`, '', ''],
    ['ingest → evaluation, JSON', `${(results.json.spansPerSec / 1e3).toFixed(0)} k spans/s`, '>= 75 k', verdict(results.json.spansPerSec >= 75000)],
    ['  of bare JSON decode', `${(results.json.ratioToBareDecode * 100).toFixed(0)} % (${(results.json.bareDecodeSpansPerSec / 1e3).toFixed(0)} k spans/s)`, '', ''],
    ['last span → signal stored (protobuf)', lat('protobuf'), `p99 <= ${DECISION_WAIT_MS + 250} ms`, verdict(results.protobuf.latencyMs.p99 <= DECISION_WAIT_MS + 250)],
    ['last span → signal stored (JSON)', lat('json'), `p99 <= ${DECISION_WAIT_MS + 250} ms`, verdict(results.json.latencyMs.p99 <= DECISION_WAIT_MS + 250)],
    ['heap per buffered span', `${results.heap.bytesPerSpan} B${results.heap.gcExposed ? '' : ' (no --expose-gc: rough)'}`, '', ''],
  ];
  console.log(`\nSidecar benchmark — ${TRACES} traces, ${totalSpans} spans in ${protobuf.length} requests, 13 example rules, decision_wait ${DECISION_WAIT_MS} ms, ${process.version}\n`);
  const w = [38, 40, 20, 4];
  console.log(['measure', 'result', 'target', ''].map((c, i) => c.padEnd(w[i])).join(' '));
  for (const r of rows) console.log(r.map((c, i) => String(c).padEnd(w[i])).join(' '));
  const out = path.join(__dirname, 'results', 'sidecar.json');
  saveResult(out, results);
}

main().catch((e) => {
  console.error(e);
  process.exitCode = 1;
});
