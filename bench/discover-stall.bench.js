'use strict';
// Discovery stall benchmark: /healthz latency while the sidecar runs a discovery job (POST
// /api/v1/discover over a history of shop traces, bench/corpus.js), against the same run's idle
// baseline. A prober in a second process asks /healthz every 5 ms; the sidecar runs here. The
// miner runs on its worker thread (the default) and, as the baseline, on the main thread
// (yielding to the event loop between traces every 10 ms).
//
//   npm run bench discover-stall      BENCH_DISCOVER_TRACES=5000 BENCH_DISCOVER_REPEATS=3
//
// Writes bench/results/discover-stall.json with --save.
const { fork } = require('child_process');
const fs = require('fs');
const os = require('os');
const path = require('path');
const { performance } = require('perf_hooks');
const { createSidecar } = require('../packages/sidecar/dist/sidecar');
const { loadConfig } = require('../packages/sidecar/dist/config');
const { makeCorpus } = require('./corpus');
const { saveResult } = require('./save');

const PROBE_EVERY_MS = 5;

if (process.argv[2] === 'prober') {
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
        if (first) {process.send({ started: true });}
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

const TRACES = Number(process.env.BENCH_DISCOVER_TRACES || 5000);
const REPEATS = Number(process.env.BENCH_DISCOVER_REPEATS || 3);
const IDLE_MS = 1500;

const pct = (xs, p) => (xs.length === 0 ? NaN : [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor((xs.length * p) / 100))]);
const median = (xs) => pct(xs, 50);
const round = (x) => Math.round(x * 10) / 10;

async function once(miner, traces) {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'betrace-bench-discover-'));
  const env = { DATA_DIR: dataDir, OTLP_PORT: '0', API_PORT: '0', HOST: '127.0.0.1', LOG_LEVEL: 'silent', BETRACE_API_TOKEN: 'bench', EVAL_WORKERS: '1' };
  // The history: the corpus, read again on every pass (as the on-disk history is).
  const history = { source: () => () => traces };
  const sidecar = createSidecar(loadConfig(env), { tickMs: 25, history, discoveryMiner: miner });
  const { apiPort } = await sidecar.start();
  const api = `http://127.0.0.1:${apiPort}`;
  const headers = { authorization: 'Bearer bench', 'content-type': 'application/json' };
  const prober = fork(__filename, ['prober']);
  await new Promise((resolve) => {
    prober.once('message', resolve);
    prober.send({ url: `${api}/healthz` });
  });
  await new Promise((r) => setTimeout(r, IDLE_MS));
  const postedAt = Date.now();
  const res = await fetch(`${api}/api/v1/discover`, { method: 'POST', headers, body: JSON.stringify({ from: 0, to: 86_400_000, source: 'history' }) });
  const job = await res.json();
  if (res.status !== 202) {throw new Error(`discover answered ${res.status}: ${JSON.stringify(job)}`);}
  await sidecar.discovery.idle();
  const doneAt = Date.now();
  const done = await (await fetch(`${api}/api/v1/discover/${job.id}`, { headers })).json();
  if (done.state !== 'done') {throw new Error(`the job ended ${done.state}: ${done.error}`);}
  const { probes } = await new Promise((resolve) => {
    prober.once('message', resolve);
    prober.send({ stop: true });
  });
  prober.kill();
  await sidecar.stop();
  fs.rmSync(dataDir, { recursive: true, force: true });
  const idle = probes.filter(([at]) => at < postedAt).map(([, ms]) => ms);
  const during = probes.filter(([at, ms]) => at + ms >= postedAt && at <= doneAt).map(([, ms]) => ms);
  return {
    idle: { p50: round(median(idle)), p99: round(pct(idle, 99)), n: idle.length },
    during: { p50: round(median(during)), p99: round(pct(during, 99)), max: round(Math.max(...during)), n: during.length },
    failed: probes.filter(([, , status]) => status !== 200).length,
    jobMs: doneAt - postedAt,
    suggestions: done.suggestionCount,
  };
}

async function main() {
  const { traces, totalSpans } = makeCorpus(TRACES);
  const results = { node: process.version, date: new Date().toISOString(), cores: os.availableParallelism(), traces: TRACES, spans: totalSpans, repeats: REPEATS };
  console.log(`\nDiscovery stall benchmark — a discovery job over ${TRACES} traces (${totalSpans} spans), /healthz probed every ${PROBE_EVERY_MS} ms from another process, ${REPEATS} runs each, ${process.version}, ${results.cores} cores`);
  const worker = [];
  const here = [];
  for (let i = 0; i < REPEATS; i++) {
    worker.push(await once('worker', traces));
    here.push(await once('here', traces));
  }
  results.worker = worker;
  results.mainThread = here;
  const spread = (runs, f) => `${round(median(runs.map(f)))} [${round(Math.min(...runs.map(f)))}–${round(Math.max(...runs.map(f)))}]`;
  console.log(`median [min–max] of ${REPEATS}`);
  console.log(`${'measure'.padEnd(40)} ${'worker thread (default)'.padEnd(26)} ${'main thread (baseline)'.padEnd(26)}`);
  const rows = [
    ['idle /healthz p99 (ms)', (r) => r.idle.p99],
    ['/healthz p50 during discovery (ms)', (r) => r.during.p50],
    ['/healthz p99 during discovery (ms)', (r) => r.during.p99],
    ['/healthz max during discovery (ms)', (r) => r.during.max],
    ['job (ms)', (r) => r.jobMs],
    ['suggestions', (r) => r.suggestions],
    ['failed probes', (r) => r.failed],
  ];
  for (const [k, f] of rows) {console.log(`${k.padEnd(40)} ${spread(worker, f).padEnd(26)} ${spread(here, f).padEnd(26)}`);}
  const out = path.join(__dirname, 'results', 'discover-stall.json');
  saveResult(out, results);
}

main().catch((e) => {
  console.error(e);
  process.exitCode = 1;
});
