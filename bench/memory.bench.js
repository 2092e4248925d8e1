'use strict';
// Memory benchmark: resident memory per buffered span of `betrace serve` (the built CLI, its
// default shard workers), on the peers benchmark's OTLP/protobuf corpus (~395 bytes per span on
// the wire), with a decision wait long enough that every span stays buffered. Measured: RSS of
// the whole process (main thread and workers: one address space) when idle after a warm-up, and
// after the load, each sampled from /proc/<pid>/status once the numbers stop moving (after a GC
// in every thread is not available from outside, so the figure includes garbage not yet
// collected). Baselines of the same run: the corpus's wire bytes per span, and the buffer's own
// accounting (the bytes MAX_BUFFER_BYTES bounds). Repeats alternate with EVAL_WORKERS=0.
//
//   npm run bench memory            BENCH_MEMORY_SPANS=300000 BENCH_MEMORY_REPEATS=3
//
// Targets (issue 11): ≤ 400 bytes RSS per buffered span; RSS ≤ 1.5 × MAX_BUFFER_BYTES + the idle
// baseline (the bytes the buffer counts against MAX_BUFFER_BYTES: betrace_buffer_bytes).
// Writes bench/results/memory.json with --save.
const crypto = require('crypto');
const fs = require('fs');
const http = require('http');
const os = require('os');
const path = require('path');
const { spawn } = require('child_process');
const { buildOtlpCorpus } = require('./peers/otlpCorpus');
const { saveResult } = require('./save');

const SPANS = Number(process.env.BENCH_MEMORY_SPANS || 300_000);
const REPEATS = Number(process.env.BENCH_MEMORY_REPEATS || 3);
const CLI = path.join(__dirname, '../packages/sidecar/dist/cli.js');

const rssBytes = (pid) => Number(/VmRSS:\s+(\d+) kB/.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'))[1]) * 1024;
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

function post(agent, url, body) {
  return new Promise((resolve, reject) => {
    const req = http.request(url, { method: 'POST', agent, headers: { 'content-type': 'application/x-protobuf', 'content-length': body.length } }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode));
    });
    req.on('error', reject);
    req.end(body);
  });
}

async function sendAll(url, payloads) {
  const agent = new http.Agent({ keepAlive: true, maxSockets: 4 });
  let next = 0;
  await Promise.all(
    [0, 1, 2, 3].map(async () => {
      while (next < payloads.length) {
        const body = payloads[next++];
        for (let status = await post(agent, url, body); status !== 200; status = await post(agent, url, body)) {
          if (status !== 503 && status !== 429) throw new Error(`ingest answered ${status}`);
          await sleep(50);
        }
      }
    }),
  );
  agent.destroy();
}

async function metric(api, name) {
  const text = await (await fetch(`${api}/metrics`)).text();
  return text.split('\n').filter((l) => l.startsWith(`${name} `) || l.startsWith(`${name}{`)).reduce((n, l) => n + Number(l.slice(l.lastIndexOf(' ') + 1)), 0);
}

/** RSS once it has settled (three samples 500 ms apart within 1 %), at most 10 s. */
async function settledRss(pid) {
  let last = rssBytes(pid);
  for (let i = 0; i < 20; i++) {
    await sleep(500);
    const now = rssBytes(pid);
    if (Math.abs(now - last) / last < 0.01) return now;
    last = now;
  }
  return last;
}

async function once(workers, corpus, warmup) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'betrace-bench-memory-'));
  const port = () => 20000 + crypto.randomInt(20000);
  const [otlpPort, apiPort] = [port(), port()];
  const env = { PATH: process.env.PATH, DATA_DIR: dir, HOST: '127.0.0.1', OTLP_PORT: String(otlpPort), API_PORT: String(apiPort), DECISION_WAIT: '1h', MAX_TRACE_AGE: '2h', LOG_LEVEL: 'warn', BETRACE_API_TOKEN: 'bench', MAX_BUFFER_SPANS: '10000000', MAX_BUFFER_BYTES: '4GiB', INGEST_LOG_MAX_BYTES: '8GiB' };
  if (workers !== undefined) env.EVAL_WORKERS = String(workers);
  const child = spawn(process.execPath, [CLI, 'serve'], { env, stdio: ['ignore', 'ignore', 'inherit'] });
  const api = `http://127.0.0.1:${apiPort}`;
  const url = `http://127.0.0.1:${otlpPort}/v1/traces`;
  try {
    for (let i = 0; ; i++) {
      try {
        if ((await fetch(`${api}/readyz`)).status === 200) break;
      } catch {
        // not yet
      }
      if (i > 200) throw new Error('betrace serve did not start');
      await sleep(100);
    }
    await sendAll(url, warmup.payloads);
    const idle = await settledRss(child.pid);
    const before = await metric(api, 'betrace_buffer_spans');
    const bytesBefore = await metric(api, 'betrace_buffer_bytes');
    await sendAll(url, corpus.payloads);
    await sleep(1500); // the tick refreshes the gauge
    const loaded = await settledRss(child.pid);
    const buffered = (await metric(api, 'betrace_buffer_spans')) - before;
    const accounted = (await metric(api, 'betrace_buffer_bytes')) - bytesBefore;
    return { idleRss: idle, loadedRss: loaded, bufferedSpans: buffered, accountedBytes: accounted, rssPerSpan: (loaded - idle) / buffered, rssPerAccounted: (loaded - idle) / accounted };
  } finally {
    child.kill('SIGKILL');
    await new Promise((r) => child.once('exit', r));
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

async function main() {
  const corpus = buildOtlpCorpus(SPANS, 11);
  const warmup = buildOtlpCorpus(30_000, 97);
  const wireBytes = corpus.payloads.reduce((n, p) => n + p.length, 0);
  const results = { node: process.version, date: new Date().toISOString(), cores: os.availableParallelism(), spans: corpus.spans, wireBytesPerSpan: wireBytes / corpus.spans, target: { rssPerSpan: 400 }, shards: [], mainThread: [] };
  for (let i = 0; i < REPEATS; i++) {
    results.shards.push(await once(undefined, corpus, warmup));
    results.mainThread.push(await once(0, corpus, warmup));
  }
  const cell = (runs, f) => {
    const xs = runs.map(f);
    return `${Math.round(median(xs))} [${Math.round(Math.min(...xs))}–${Math.round(Math.max(...xs))}]`;
  };
  const MiB = 1024 * 1024;
  console.log(`\nMemory benchmark — ${corpus.spans} spans buffered (OTLP/protobuf, ${(wireBytes / corpus.spans).toFixed(0)} wire bytes per span), ${REPEATS} runs each, ${process.version}, ${results.cores} cores; median [min–max]`);
  console.log(`${'measure'.padEnd(34)} ${'shard workers (default)'.padEnd(26)} EVAL_WORKERS=0`);
  for (const [k, f] of [
    ['idle RSS after warm-up (MiB)', (r) => r.idleRss / MiB],
    ['RSS with the corpus buffered (MiB)', (r) => r.loadedRss / MiB],
    ['RSS per buffered span (bytes)', (r) => r.rssPerSpan],
    ['  ÷ wire bytes per span', (r) => (100 * r.rssPerSpan) / results.wireBytesPerSpan],
    ['RSS growth ÷ MAX_BUFFER_BYTES-counted', (r) => 100 * r.rssPerAccounted],
  ]) {
    console.log(`${k.padEnd(34)} ${cell(results.shards, f).padEnd(26)} ${cell(results.mainThread, f)}${k.includes('÷') ? ' (%)' : ''}`);
  }
  const perSpan = median(results.shards.map((r) => r.rssPerSpan));
  console.log(`target ≤ 400 bytes RSS per buffered span: ${perSpan <= 400 ? 'met' : 'NOT met'} (${Math.round(perSpan)} bytes)`);
  const ratio = median(results.shards.map((r) => r.rssPerAccounted));
  console.log(`target RSS ≤ 1.5 × MAX_BUFFER_BYTES + the idle baseline: ${ratio <= 1.5 ? 'met' : 'NOT met'} (growth ${ratio.toFixed(2)} × the bytes counted)`);
  const out = path.join(__dirname, 'results', 'memory.json');
  saveResult(out, results);
}

main().catch((e) => {
  console.error(e);
  process.exitCode = 1;
});
