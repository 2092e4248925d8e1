'use strict';
// Ingest log benchmark: accepted OTLP requests per second through the receiver with the durable
// ingest log (INGEST_FSYNC always / interval:100ms / off) against the same receiver without the
// log, in the same run. Evaluation is kept out of the way (decision_wait 1 h): this measures the
// accept path alone. A client process posts pre-encoded protobuf batches, CONCURRENCY at a time.
// Modes are interleaved over REPEATS rounds; reports median and spread (min–max).
// Writes bench/results/ingest-log.json with --save.
const { fork } = require('child_process');
const fs = require('fs');
const os = require('os');
const path = require('path');
const { createSidecar } = require('../packages/sidecar/dist/sidecar');
const { loadConfig } = require('../packages/sidecar/dist/config');
const { encodeTraceRequest } = require('../packages/sidecar/dist/ingest/otlpProto');
const { saveResult } = require('./save');

const REQUESTS = Number(process.env.BENCH_INGEST_LOG_REQUESTS || 3000);
const CONCURRENCY = Number(process.env.BENCH_INGEST_LOG_CONCURRENCY || 16);
const REPEATS = Number(process.env.BENCH_INGEST_LOG_REPEATS || 5);
const TRACES_PER_REQUEST = 5;
const SPANS_PER_TRACE = 7;

if (process.argv[2] === 'client') {
  process.on('message', async ({ url, payloads, concurrency }) => {
    let next = 0;
    let refused = 0;
    const worker = async () => {
      while (next < payloads.length) {
        const i = next++;
        for (;;) {
          const res = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/x-protobuf' }, body: payloads[i] });
          await res.arrayBuffer();
          if (res.status === 200) break;
          refused++;
          await new Promise((r) => setTimeout(r, 20));
        }
      }
    };
    const t0 = performance.now();
    await Promise.all(Array.from({ length: concurrency }, worker));
    process.send({ seconds: (performance.now() - t0) / 1000, refused });
  });
  return;
}

function payloads(round) {
  const out = [];
  const base = 1_764_028_800_000_000_000n;
  for (let r = 0; r < REQUESTS; r++) {
    const spans = [];
    for (let t = 0; t < TRACES_PER_REQUEST; t++) {
      const traceId = Buffer.alloc(16);
      traceId.writeUInt32BE(round, 0);
      traceId.writeUInt32BE(r, 4);
      traceId.writeUInt32BE(t, 8);
      for (let s = 0; s < SPANS_PER_TRACE; s++) {
        const spanId = Buffer.alloc(8);
        spanId.writeUInt32BE(t * 100 + s + 1, 4);
        spans.push({
          traceId,
          spanId,
          ...(s > 0 ? { parentSpanId: (() => { const p = Buffer.alloc(8); p.writeUInt32BE(t * 100 + 1, 4); return p; })() } : {}),
          name: s === 0 ? 'POST /checkout' : `step-${s}`,
          kind: s === 0 ? 2 : 1,
          startTimeUnixNano: String(base + BigInt(s) * 1_000_000n),
          endTimeUnixNano: String(base + BigInt(s + 1) * 1_000_000n),
          attributes: [{ key: 'http.route', value: { stringValue: '/checkout' } }, { key: 'order_id', value: { stringValue: `o-${r}-${t}` } }],
          status: { code: 1 },
        });
      }
    }
    out.push(Buffer.from(encodeTraceRequest({ resourceSpans: [{ resource: { attributes: [{ key: 'service.name', value: { stringValue: 'shop' } }] }, scopeSpans: [{ scope: { name: 'bench' }, spans }] }] })));
  }
  return out;
}

async function run(mode, bodies) {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'betrace-bench-log-'));
  const config = loadConfig({
    DATA_DIR: dataDir,
    RULES_DIR: path.join(__dirname, '../examples/rules'),
    OTLP_PORT: '0',
    API_PORT: '0',
    HOST: '127.0.0.1',
    DECISION_WAIT: '1h',
    MAX_TRACE_AGE: '2h',
    MAX_BUFFER_SPANS: '5000000',
    MAX_BUFFER_BYTES: '4GiB',
    INGEST_LOG_MAX_BYTES: '4GiB',
    LOG_LEVEL: 'silent',
    ...(mode === 'no log' ? {} : { INGEST_FSYNC: mode }),
  });
  const sidecar = createSidecar(config, { tickMs: 3_600_000, ingestLog: mode !== 'no log' });
  const { otlpPort } = await sidecar.start();
  const client = fork(__filename, ['client'], { serialization: 'advanced' });
  const result = await new Promise((resolve) => {
    client.once('message', resolve);
    client.send({ url: `http://127.0.0.1:${otlpPort}/v1/traces`, payloads: bodies, concurrency: CONCURRENCY });
  });
  client.kill();
  const logBytes = (await sidecar.metrics.registry.getSingleMetric('betrace_ingest_log_bytes').get()).values[0]?.value ?? 0;
  sidecar.shards.drain = async () => 0; // the drain would evaluate everything: not what is measured
  await sidecar.stop();
  fs.rmSync(dataDir, { recursive: true, force: true });
  return { requestsPerSec: REQUESTS / result.seconds, refused: result.refused, logBytes };
}

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

async function main() {
  const modes = ['no log', 'off', 'interval:100ms', 'always'];
  const samples = Object.fromEntries(modes.map((m) => [m, []]));
  const extra = {};
  for (let round = 0; round < REPEATS; round++) {
    const bodies = payloads(round);
    for (const m of round % 2 === 0 ? modes : [...modes].reverse()) {
      const r = await run(m, bodies);
      samples[m].push(r.requestsPerSec);
      extra[m] = { refused: (extra[m]?.refused ?? 0) + r.refused, logBytes: r.logBytes };
    }
  }
  const base = median(samples['no log']);
  const results = { node: process.version, date: new Date().toISOString(), cpus: os.cpus().length, requests: REQUESTS, concurrency: CONCURRENCY, repeats: REPEATS, spansPerRequest: TRACES_PER_REQUEST * SPANS_PER_TRACE, modes: {} };
  console.log(`\nIngest log benchmark — ${REQUESTS} protobuf requests of ${TRACES_PER_REQUEST * SPANS_PER_TRACE} spans, ${CONCURRENCY} concurrent, ${REPEATS} rounds, ${process.version}, ${os.cpus().length} CPUs\n`);
  console.log(['mode', 'accepted req/s (median)', 'spread (min–max)', 'of no log', 'log bytes'].map((c, i) => c.padEnd([16, 24, 20, 10, 12][i])).join(' '));
  for (const m of modes) {
    const xs = samples[m];
    const row = { medianRequestsPerSec: Math.round(median(xs)), min: Math.round(Math.min(...xs)), max: Math.round(Math.max(...xs)), ratioToNoLog: +(median(xs) / base).toFixed(3), refused: extra[m].refused, logBytes: extra[m].logBytes };
    results.modes[m] = row;
    console.log([m, String(row.medianRequestsPerSec), `${row.min}–${row.max}`, `${(row.ratioToNoLog * 100).toFixed(0)} %`, String(row.logBytes)].map((c, i) => c.padEnd([16, 24, 20, 10, 12][i])).join(' '));
  }
  const out = path.join(__dirname, 'results', 'ingest-log.json');
  saveResult(out, results);
}

main().catch((e) => {
  console.error(e);
  process.exitCode = 1;
});
