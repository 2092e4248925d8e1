'use strict';
// The two systems under test, each started pinned (`taskset -c`) in its own process group with a
// fresh temp folder, and asked the same questions: is it ready, how many traces has it decided,
// and when did it decide each one.
const { spawn } = require('child_process');
const crypto = require('crypto');
const fs = require('fs');
const os = require('os');
const path = require('path');
const { collectorConfig } = require('./collector');
const { rulesFile, policies } = require('./policies');
const { freePort } = require('./proc');

const SIDECAR_CLI = path.join(__dirname, '../../packages/sidecar/dist/cli.js');
/** Traces the Collector may hold: well above what a second of this load brings. */
const COLLECTOR_NUM_TRACES = 200_000;
/** Output kept from a system, to explain a failed start or a crash. */
const OUTPUT_TAIL_BYTES = 8192;
const READY_TIMEOUT_MS = 30_000;
/** Signals per API page: the API's maximum. */
const SIGNAL_PAGE = 1000;

async function get(url, headers = {}) {
  const res = await fetch(url, { headers });
  return { status: res.status, text: await res.text() };
}

/** Sum of every series of the Prometheus metric `name` (with or without a `_total` suffix). */
function metricSum(text, name) {
  let sum = 0;
  for (const line of text.split('\n')) {
    if (!line.startsWith(name)) continue;
    const rest = line.slice(name.length);
    if (!/^(_total)?[{ ]/.test(rest)) continue;
    sum += Number(line.slice(line.lastIndexOf(' ') + 1));
  }
  return sum;
}

/** Starts `argv` under `taskset -c cpus`, so the program's own CPU count (GOMAXPROCS, libuv) sees only `cpus`. */
function startPinned(cpus, argv, env) {
  const child = spawn('taskset', ['-c', cpus, ...argv], { env, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
  let tail = '';
  const keep = (b) => {
    tail = (tail + b.toString('utf8')).slice(-OUTPUT_TAIL_BYTES);
  };
  child.stdout.on('data', keep);
  child.stderr.on('data', keep);
  let exited;
  child.once('exit', (code, signal) => {
    exited = { code, signal };
  });
  return {
    pid: child.pid,
    output: () => tail,
    exited: () => exited,
    async stop() {
      if (exited) return;
      const gone = new Promise((r) => child.once('exit', r));
      try {
        process.kill(-child.pid, 'SIGKILL');
      } catch {
        // already gone
      }
      await gone;
    },
  };
}

async function waitUntil(what, proc, check) {
  const deadline = Date.now() + READY_TIMEOUT_MS;
  for (;;) {
    if (proc.exited()) throw new Error(`${what} exited during start (${JSON.stringify(proc.exited())}):\n${proc.output()}`);
    try {
      if (await check()) return;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) throw new Error(`${what} was not ready within ${READY_TIMEOUT_MS} ms:\n${proc.output()}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** An empty export request is valid OTLP: a 2xx means the receiver is up. */
async function otlpAccepts(url) {
  const res = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/x-protobuf' }, body: new Uint8Array(0) });
  await res.arrayBuffer();
  return res.status >= 200 && res.status < 300;
}

/** `betrace serve` from this checkout, configured by environment only, plus `extraEnv`. */
async function startBetrace({ cpus, decisionWaitMs, extraEnv }) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'betrace-peers-'));
  const rulesDir = path.join(dir, 'rules');
  fs.mkdirSync(rulesDir);
  fs.writeFileSync(path.join(rulesDir, 'peers.yaml'), rulesFile());
  const [otlpPort, apiPort] = [await freePort(), await freePort()];
  const token = crypto.randomBytes(16).toString('hex');
  const env = {
    PATH: process.env.PATH,
    HOME: process.env.HOME,
    DATA_DIR: path.join(dir, 'data'),
    RULES_DIR: rulesDir,
    HOST: '127.0.0.1',
    OTLP_PORT: String(otlpPort),
    API_PORT: String(apiPort),
    DECISION_WAIT: `${decisionWaitMs}ms`,
    BETRACE_API_TOKEN: token,
    LOG_LEVEL: 'warn',
    ...extraEnv,
  };
  const proc = startPinned(cpus, [process.execPath, SIDECAR_CLI, 'serve'], env);
  const api = `http://127.0.0.1:${apiPort}`;
  const otlpUrl = `http://127.0.0.1:${otlpPort}/v1/traces`;
  await waitUntil('betrace serve', proc, async () => (await get(`${api}/readyz`)).status === 200 && (await otlpAccepts(otlpUrl)));
  return {
    name: 'BeTrace',
    proc,
    otlpUrl,
    async decided() {
      return metricSum((await get(`${api}/metrics`)).text, 'betrace_traces_evaluated_total');
    },
    /** trace id → when its first signal was stored (ms), over every signal of the run. */
    async decisions() {
      const at = new Map();
      for (let offset = 0; ; offset += SIGNAL_PAGE) {
        const res = await get(`${api}/api/v1/signals?limit=${SIGNAL_PAGE}&offset=${offset}`, { authorization: `Bearer ${token}` });
        if (res.status !== 200) throw new Error(`GET /api/v1/signals answered ${res.status}: ${res.text.slice(0, 300)}`);
        const page = JSON.parse(res.text);
        for (const s of page.signals) {
          const t = Date.parse(s.createdAt);
          if (!(at.get(s.traceId) <= t)) at.set(s.traceId, t);
        }
        if (page.signals.length < SIGNAL_PAGE) return at;
      }
    },
    async stop() {
      await proc.stop();
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** The built Collector with the ten policies; `sink` is the loopback OTLP sink (or undefined for the nop exporter). */
async function startCollector({ cpus, decisionWaitMs, binary, sink, shards }) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'otelcol-peers-'));
  const [otlpPort, metricsPort] = [await freePort(), await freePort()];
  const config = collectorConfig({
    otlpPort,
    metricsPort,
    sinkPort: sink ? sink.port : 0,
    exporter: sink ? 'sink' : 'nop',
    policies: policies(),
    decisionWaitMs,
    numTraces: COLLECTOR_NUM_TRACES,
    shards,
  });
  const configPath = path.join(dir, 'config.yaml');
  fs.writeFileSync(configPath, JSON.stringify(config, null, 2));
  const proc = startPinned(cpus, [binary, '--config', configPath], { PATH: process.env.PATH, HOME: process.env.HOME });
  const metrics = `http://127.0.0.1:${metricsPort}/metrics`;
  const otlpUrl = `http://127.0.0.1:${otlpPort}/v1/traces`;
  await waitUntil('the Collector', proc, async () => (await get(metrics)).status === 200 && (await otlpAccepts(otlpUrl)));
  return {
    name: 'Collector',
    proc,
    otlpUrl,
    async decided() {
      return metricSum((await get(metrics)).text, 'otelcol_processor_tail_sampling_global_count_traces_sampled');
    },
    /** trace id → when the sink first saw a span of it (the sampled traces), or undefined with the nop exporter. */
    async decisions() {
      return sink ? sink.firstSeen() : undefined;
    },
    async stop() {
      await proc.stop();
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}

module.exports = { startBetrace, startCollector, metricSum, COLLECTOR_NUM_TRACES };
