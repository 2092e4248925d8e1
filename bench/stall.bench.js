'use strict';
// Stall benchmark: /healthz latency while the sidecar ingests and evaluates one pathological
// trace (a 20 000-span parent chain, ~4 MB of OTLP/JSON, with a rule whose descendant_of and
// before walk the chain for every span), against the same run's idle baseline. A prober in a
// second process asks /healthz every 5 ms; the sidecar runs here. With evaluation on worker
// threads (EVAL_WORKERS, default one per core) the HTTP thread only decodes the request and
// clones the trace to its worker; BENCH_STALL_INPROCESS=1 adds one run with EVAL_WORKERS=0
// (evaluation on the HTTP thread, as before worker threads) for comparison.
// Writes bench/results/stall.json.
const { fork } = require('child_process');
const fs = require('fs');
const os = require('os');
const path = require('path');
const { performance } = require('perf_hooks');
const { decodeOtlpJsonText } = require('../packages/evaluator/dist');
const { createSidecar } = require('../packages/sidecar/dist/sidecar');
const { loadConfig } = require('../packages/sidecar/dist/config');
const { CHAIN_RULE, chainRequest } = require('../packages/sidecar/test/support/chainTrace');

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

async function once(workers, body) {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'betrace-bench-stall-'));
  const env = { DATA_DIR: dataDir, OTLP_PORT: '0', API_PORT: '0', HOST: '127.0.0.1', DECISION_WAIT: '200ms', LOG_LEVEL: 'silent', BETRACE_API_TOKEN: 'bench', MAX_BODY_BYTES: '64MiB' };
  if (workers !== undefined) env.EVAL_WORKERS = String(workers);
  const sidecar = createSidecar(loadConfig(env), { tickMs: 25 });
  const { otlpPort, apiPort } = await sidecar.start();
  sidecar.pool.warm(); // as `betrace serve` does (a no-op with EVAL_WORKERS=0)
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
  const res = await fetch(`http://127.0.0.1:${otlpPort}/v1/traces`, { method: 'POST', headers: { 'content-type': 'application/json' }, body });
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
  const metrics = await sidecar.metrics.registry.getSingleMetricAsString('betrace_rule_skipped_total');
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
    ruleSkipped: /reason="(?:time-budget|hard-limit)"\} (\d+)/.exec(metrics)?.[1] ?? '0',
  };
}

async function main() {
  const request = chainRequest('c0ffee'.padEnd(32, '0'), SPANS);
  const body = JSON.stringify(request);
  const [trace] = decodeOtlpJsonText(body);
  const cloneMs = [];
  for (let i = 0; i < 5; i++) {
    const t0 = performance.now();
    structuredClone(trace);
    cloneMs.push(performance.now() - t0);
  }
  const runs = [];
  for (let i = 0; i < REPEATS; i++) runs.push(await once(undefined, body));
  const inProcess = process.env.BENCH_STALL_INPROCESS === '1' ? await once(0, body) : undefined;

  const results = {
    node: process.version,
    date: new Date().toISOString(),
    cores: os.availableParallelism(),
    trace: { spans: SPANS, requestBytes: body.length, structuredCloneMs: { median: round(median(cloneMs)), min: round(Math.min(...cloneMs)), max: round(Math.max(...cloneMs)) } },
    workers: runs,
    inProcess,
  };
  const spread = (f) => `${round(median(runs.map(f)))} ms (${round(Math.min(...runs.map(f)))}–${round(Math.max(...runs.map(f)))})`;
  console.log(`\nStall benchmark — one ${SPANS}-span parent chain (${(body.length / 1e6).toFixed(1)} MB OTLP/JSON), /healthz probed every ${PROBE_EVERY_MS} ms from another process, ${REPEATS} runs, ${process.version}, ${results.cores} cores\n`);
  const rows = [
    ['idle /healthz p50', spread((r) => r.idle.p50)],
    ['idle /healthz p99', spread((r) => r.idle.p99)],
    ['during ingest+evaluation /healthz p50', spread((r) => r.during.p50)],
    ['during ingest+evaluation /healthz p99', spread((r) => r.during.p99)],
    ['during ingest+evaluation /healthz max', spread((r) => r.during.max)],
    ['  p99 during / p99 idle', `${round(median(runs.map((r) => r.during.p99 / r.idle.p99)))}×`],
    ['probes during (median)', String(median(runs.map((r) => r.during.n)))],
    ['request arrival → evaluated', spread((r) => r.ingestToEvaluatedMs)],
    ['failed probes', String(runs.reduce((n, r) => n + r.failed, 0))],
    ['structured clone of the trace', `${results.trace.structuredCloneMs.median} ms (${results.trace.structuredCloneMs.min}–${results.trace.structuredCloneMs.max})`],
  ];
  if (inProcess) {
    rows.push(['EVAL_WORKERS=0: during p99 / max', `${inProcess.during.p99} ms / ${inProcess.during.max} ms (idle p99 ${inProcess.idle.p99} ms), arrival → evaluated ${inProcess.ingestToEvaluatedMs} ms`]);
  }
  for (const [k, v] of rows) console.log(`${k.padEnd(42)} ${v}`);
  const out = path.join(__dirname, 'results', 'stall.json');
  fs.writeFileSync(out, JSON.stringify(results, null, 2) + '\n');
  console.log(`\nwritten to ${path.relative(process.cwd(), out)}`);
}

main().catch((e) => {
  console.error(e);
  process.exitCode = 1;
});
