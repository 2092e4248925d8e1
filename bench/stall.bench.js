'use strict';
// Stall benchmark: /healthz latency while the sidecar ingests and evaluates one pathological
// trace (a 20 000-span parent chain in one request, ~2 MB of OTLP/protobuf or ~4 MB of OTLP/JSON,
// with a rule whose descendant_of and before walk the chain for every bound span), against the
// same run's idle baseline. A prober in a second process asks /healthz every 5 ms; the sidecar
// runs here. Shard workers (EVAL_WORKERS, default one per core): the HTTP thread skims and logs a
// protobuf body and hands it over, a JSON body it also decodes. The same run measures EVAL_WORKERS=0
// (everything on the HTTP thread) as the baseline.
//
//   npm run bench stall            BENCH_STALL_SPANS=40000 BENCH_STALL_REPEATS=5
//
// Target (issue 11): /healthz p99 ≤ 50 ms during the chain. Writes bench/results/stall.json with --save.
const { fork } = require('child_process');
const fs = require('fs');
const os = require('os');
const path = require('path');
const { performance } = require('perf_hooks');
const { createSidecar } = require('../packages/sidecar/dist/sidecar');
const { loadConfig } = require('../packages/sidecar/dist/config');
const { encodeTraceRequest } = require('../packages/sidecar/dist/ingest/otlpProto');
const { CHAIN_RULE, chainRequest, hexBytes } = require('../packages/sidecar/test/support/chainTrace');
const { saveResult } = require('./save');

const PROBE_EVERY_MS = 5;

if (process.argv[2] === 'prober') {
  // Probes until told to stop; reports [sentAt (epoch ms), latency ms] per probe.
  const probes = [];
  let stop = false;
  process.on('message', async (m) => {
    if (m.stop) {
      stop = true;
      return;
    }
    let first = true;
    while (!stop) {
      const sent = Date.now();
      const t0 = performance.now();
      try {
        const res = await fetch(m.url);
        await res.arrayBuffer();
        probes.push([sent, performance.now() - t0, res.status]);
        if (first) process.send({ started: true });
        first = false;
      } catch {
        probes.push([sent, performance.now() - t0, 0]);
      }
      await new Promise((r) => setTimeout(r, PROBE_EVERY_MS));
    }
    process.send({ probes });
  });
  return;
}

const SPANS = Number(process.env.BENCH_STALL_SPANS || 20000);
const REPEATS = Number(process.env.BENCH_STALL_REPEATS || 3);
const IDLE_MS = 1500;

const pct = (xs, p) => (xs.length === 0 ? NaN : [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor((xs.length * p) / 100))]);
const median = (xs) => pct(xs, 50);
const round = (x) => Math.round(x * 10) / 10;

async function once(workers, body, contentType) {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'betrace-bench-stall-'));
  const env = { DATA_DIR: dataDir, OTLP_PORT: '0', API_PORT: '0', HOST: '127.0.0.1', DECISION_WAIT: '200ms', LOG_LEVEL: 'silent', BETRACE_API_TOKEN: 'bench', MAX_BODY_BYTES: '64MiB' };
  if (workers !== undefined) env.EVAL_WORKERS = String(workers);
  const sidecar = createSidecar(loadConfig(env), { tickMs: 25 });
  const { otlpPort, apiPort } = await sidecar.start();
  const headers = { authorization: 'Bearer bench', 'content-type': 'application/json' };
  await fetch(`http://127.0.0.1:${apiPort}/api/v1/rules`, { method: 'POST', headers, body: JSON.stringify(CHAIN_RULE) });
  let evaluatedAt;
  const record = sidecar.pipeline.record.bind(sidecar.pipeline);
  sidecar.pipeline.record = (...args) => {
    const out = record(...args);
    evaluatedAt = Date.now();
    return out;
  };
  const prober = fork(__filename, ['prober']);
  // The idle baseline starts once the prober answers (a process takes a while to start on a loaded machine).
  await new Promise((resolve) => {
    prober.once('message', resolve);
    prober.send({ url: `http://127.0.0.1:${apiPort}/healthz` });
  });
  await new Promise((r) => setTimeout(r, IDLE_MS));
  const postedAt = Date.now();
  const res = await fetch(`http://127.0.0.1:${otlpPort}/v1/traces`, { method: 'POST', headers: { 'content-type': contentType }, body });
  if (res.status !== 200) throw new Error(`ingest answered ${res.status}`);
  while (evaluatedAt === undefined) {
    await new Promise((r) => setTimeout(r, 10));
  }
  await new Promise((r) => setTimeout(r, 100));
  const { probes } = await new Promise((resolve) => {
    prober.once('message', resolve);
    prober.send({ stop: true });
  });
  prober.kill();
  const metrics = sidecar.metrics.registry.getSingleMetric('betrace_rule_skipped_total') ? await sidecar.metrics.registry.getSingleMetricAsString('betrace_rule_skipped_total') : undefined;
  await sidecar.stop();
  fs.rmSync(dataDir, { recursive: true, force: true });
  const idle = probes.filter(([at]) => at < postedAt).map(([, ms]) => ms);
  // Every probe sent from the request's arrival to the evaluation's end, and the one in flight when it began.
  const during = probes.filter(([at, ms]) => at + ms >= postedAt && at <= evaluatedAt).map(([, ms]) => ms);
  return {
    idle: { p50: round(median(idle)), p99: round(pct(idle, 99)), n: idle.length },
    during: { p50: round(median(during)), p99: round(pct(during, 99)), max: round(Math.max(...during)), n: during.length },
    failed: probes.filter(([, , status]) => status !== 200).length,
    ingestToEvaluatedMs: evaluatedAt - postedAt,
    ruleSkipped: [...(metrics ?? '').matchAll(/reason="(?:time-budget|step-budget)"\} (\d+)/g)].reduce((n, m) => n + Number(m[1]), 0),
  };
}

async function main() {
  const traceId = 'c0ffee'.padEnd(32, '0');
  const bodies = {
    protobuf: Buffer.from(encodeTraceRequest(chainRequest(traceId, SPANS, { id: hexBytes }))),
    json: Buffer.from(JSON.stringify(chainRequest(traceId, SPANS))),
  };
  const types = { protobuf: 'application/x-protobuf', json: 'application/json' };
  const results = { node: process.version, date: new Date().toISOString(), cores: os.availableParallelism(), spans: SPANS, repeats: REPEATS, target: { healthzP99Ms: 50 }, formats: {} };
  console.log(`\nStall benchmark — one ${SPANS}-span parent chain in one request, /healthz probed every ${PROBE_EVERY_MS} ms from another process, ${REPEATS} runs each, ${process.version}, ${results.cores} cores`);
  for (const format of ['protobuf', 'json']) {
    const sharded = [];
    const inProcess = [];
    // Alternate, so drift of the shared machine favours neither.
    for (let i = 0; i < REPEATS; i++) {
      sharded.push(await once(undefined, bodies[format], types[format]));
      inProcess.push(await once(0, bodies[format], types[format]));
    }
    results.formats[format] = { requestBytes: bodies[format].length, shards: sharded, mainThread: inProcess };
    const spread = (runs, f) => `${round(median(runs.map(f)))} [${round(Math.min(...runs.map(f)))}–${round(Math.max(...runs.map(f)))}]`;
    console.log(`\n${format}: ${(bodies[format].length / 1e6).toFixed(1)} MB; median [min–max] of ${REPEATS}`);
    console.log(`${'measure'.padEnd(40)} ${'shard workers (default)'.padEnd(26)} ${'EVAL_WORKERS=0 (baseline)'.padEnd(26)}`);
    const rows = [
      ['idle /healthz p99 (ms)', (r) => r.idle.p99],
      ['/healthz p50 during the chain (ms)', (r) => r.during.p50],
      ['/healthz p99 during the chain (ms)', (r) => r.during.p99],
      ['/healthz max during the chain (ms)', (r) => r.during.max],
      ['request arrival → decision stored (ms)', (r) => r.ingestToEvaluatedMs],
      ['failed probes', (r) => r.failed],
      ['rules skipped (budget)', (r) => r.ruleSkipped],
    ];
    for (const [k, f] of rows) console.log(`${k.padEnd(40)} ${spread(sharded, f).padEnd(26)} ${spread(inProcess, f).padEnd(26)}`);
    const p99 = median(sharded.map((r) => r.during.p99));
    console.log(`target /healthz p99 ≤ 50 ms during the chain: ${p99 <= 50 ? 'met' : 'NOT met'} (${round(p99)} ms; baseline ${round(median(inProcess.map((r) => r.during.p99)))} ms)`);
  }
  const out = path.join(__dirname, 'results', 'stall.json');
  saveResult(out, results);
}

main().catch((e) => {
  console.error(e);
  process.exitCode = 1;
});
