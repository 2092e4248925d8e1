'use strict';
// Scale benchmark (issue 12): N `betrace serve` replicas in push mode behind the OpenTelemetry
// Collector's load-balancing exporter (routing_key traceID, static resolver over the replicas'
// OTLP/gRPC ports; bench/peers/collector.js builds it, v0.161.0, into the CI cache), for N = 1, 2, 3,
// and one sidecar without the Collector as the baseline, each REPEATS times in turn, on the same
// pre-encoded OTLP/HTTP protobuf load and the ten rules of the peers benchmark. Printed: aggregate
// spans/s (accepted by the front door; and to the last span taken by a replica), signals, CPU-seconds
// per million spans of each replica (utime + stime from /proc/<pid>/stat, over the spans that
// replica took) and of the Collector, median [min–max]; the store's write cost per signal
// (Store.addSignals, SQLite; PostgreSQL with the switch below); and how long a rule change made
// through one replica's API takes to be in force on every replica.
//
//   npm run bench scale -- [--repeats N] [--spans N] [--replicas 1,2,3] [--store postgres|sqlite] [--save]
//
// Every process shares this machine's cores: on the 2-core CI machine two cores cap the scaling,
// and the figures show the Collector's and the replicas' cost per span, not a speed-up.
// The replicas behind the Collector share one PostgreSQL (a fresh database per run, on
// BETRACE_BENCH_DATABASE_URL's server, else on a throwaway cluster this bench starts with
// scripts/test-postgres.sh); the baseline, one sidecar without the Collector, keeps its SQLite.
// `--store sqlite` gives every replica its own SQLite instead (no shared state: rule changes then
// never reach the other replicas).
const { spawn, spawnSync } = require('child_process');
const crypto = require('crypto');
const fs = require('fs');
const os = require('os');
const path = require('path');
const { ensureCollector, loadBalancingConfig, OTELCOL_VERSION } = require('./peers/collector');
const { buildOtlpCorpus, writeCorpus, BATCH_SPANS } = require('./peers/otlpCorpus');
const { PAIRS, rulesFile } = require('./peers/policies');
const { cpuSeconds, freePort, helper } = require('./peers/proc');
const { metricSum } = require('./peers/systems');
const { saveResult } = require('./save');

/** The PostgreSQL server the replicas share: { url, stop }, or undefined with --store sqlite. */
let postgres;

/** A PostgreSQL server for this bench: BETRACE_BENCH_DATABASE_URL's, or a throwaway cluster. */
function startPostgres() {
  if (process.env.BETRACE_BENCH_DATABASE_URL) {
    return { url: process.env.BETRACE_BENCH_DATABASE_URL, stop: () => undefined };
  }
  const script = path.join(__dirname, '../scripts/test-postgres.sh');
  const r = spawnSync(script, ['start'], { encoding: 'utf8' });
  if (r.status !== 0) {
    throw new Error(`no PostgreSQL for the scale bench (set BETRACE_BENCH_DATABASE_URL, install PostgreSQL, or pass --store sqlite): ${(r.stderr || '').trim()}`);
  }
  const [dir, url] = r.stdout.trim().split('\n');
  return { url, stop: () => spawnSync(script, ['stop', dir], { stdio: 'inherit' }) };
}

/** A new, empty database on the bench's server: its URL. */
async function freshDatabaseUrl() {
  const { Client } = require('pg');
  const name = `betrace_bench_${process.pid}_${crypto.randomBytes(4).toString('hex')}`;
  const c = new Client({ connectionString: postgres.url });
  await c.connect();
  try {
    await c.query(`CREATE DATABASE ${name}`);
  } finally {
    await c.end();
  }
  const u = new URL(postgres.url);
  u.pathname = `/${name}`;
  return u.toString();
}

const SIDECAR_CLI = path.join(__dirname, '../packages/sidecar/dist/cli.js');
const DECISION_WAIT_MS = 1000;
const CONCURRENCY = 4;
const MAX_LOAD_MS = 60_000;
const SETTLE_MS = 30_000;
const WARMUP_SPANS = 20_000;
const POLL_MS = 100;
const RULE_SYNC_TIMEOUT_MS = 5000;
const STORE_SIGNALS = 2000;

function parseArgs(argv) {
  const opts = { repeats: 3, spans: 150_000, replicas: [1, 2, 3], store: 'postgres' };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const value = () => {
      if (i + 1 >= argv.length) throw new Error(`${a} needs a value`);
      return argv[++i];
    };
    if (a === '--repeats') opts.repeats = Number(value());
    else if (a === '--spans') opts.spans = Number(value());
    else if (a === '--replicas') opts.replicas = value().split(',').map(Number);
    else if (a === '--store') opts.store = value();
    else throw new Error(`unknown option ${a} (see the header of bench/scale.bench.js)`);
  }
  if (!Number.isInteger(opts.repeats) || opts.repeats < 1 || !Number.isInteger(opts.spans) || opts.spans < 1000) throw new Error('--repeats ≥ 1 and --spans ≥ 1000, whole numbers');
  if (opts.replicas.some((n) => !Number.isInteger(n) || n < 1)) throw new Error('--replicas expects whole numbers ≥ 1, e.g. 1,2,3');
  if (opts.store !== 'postgres' && opts.store !== 'sqlite') throw new Error('--store is postgres (the default) or sqlite');
  return opts;
}

// ---------------------------------------------------------------- statistics

const sorted = (xs) => [...xs].sort((a, b) => a - b);
function summary(xs) {
  const v = xs.filter((x) => typeof x === 'number' && Number.isFinite(x));
  if (v.length === 0) return undefined;
  const s = sorted(v);
  const m = Math.floor(s.length / 2);
  const median = s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
  return { median: +median.toFixed(3), min: +s[0].toFixed(3), max: +s[s.length - 1].toFixed(3), n: v.length };
}

// ---------------------------------------------------------------- processes

/** The processes this bench started, so an interrupted run leaves none behind. */
const started = new Set();
let tmpRoot;
for (const sig of ['SIGINT', 'SIGTERM']) {
  process.on(sig, () => {
    for (const child of started) child.kill('SIGKILL');
    if (tmpRoot) fs.rmSync(tmpRoot, { recursive: true, force: true });
    process.exit(130);
  });
}

function startProcess(argv, env) {
  const child = spawn(argv[0], argv.slice(1), { env, stdio: ['ignore', 'pipe', 'pipe'] });
  started.add(child);
  let tail = '';
  const keep = (b) => {
    tail = (tail + b.toString('utf8')).slice(-8192);
  };
  child.stdout.on('data', keep);
  child.stderr.on('data', keep);
  const exited = new Promise((r) => child.once('exit', r));
  return {
    pid: child.pid,
    output: () => tail,
    alive: () => child.exitCode === null && child.signalCode === null,
    async stop() {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
      await exited;
      started.delete(child);
    },
  };
}

async function waitFor(what, proc, check, timeoutMs = 30_000) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (!proc.alive()) throw new Error(`${what} exited:\n${proc.output()}`);
    try {
      if (await check()) return;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) throw new Error(`${what} not ready within ${timeoutMs} ms:\n${proc.output()}`);
    await new Promise((r) => setTimeout(r, POLL_MS));
  }
}

async function startReplica(dir, name, token, databaseUrl) {
  const dataDir = path.join(dir, name);
  fs.mkdirSync(dataDir);
  const [otlpPort, grpcPort, apiPort] = [await freePort(), await freePort(), await freePort()];
  const env = {
    PATH: process.env.PATH,
    HOME: process.env.HOME,
    DATA_DIR: dataDir,
    RULES_DIR: path.join(dir, 'rules'),
    HOST: '127.0.0.1',
    OTLP_PORT: String(otlpPort),
    OTLP_GRPC_PORT: String(grpcPort),
    API_PORT: String(apiPort),
    DECISION_WAIT: `${DECISION_WAIT_MS}ms`,
    BETRACE_API_TOKEN: token,
    LOG_LEVEL: 'warn',
    // Replicas sharing PostgreSQL share their evidence keys too (one folder; docs/postgres.md).
    ...(databaseUrl ? { DATABASE_URL: databaseUrl, EVIDENCE_KEY_DIR: path.join(dir, 'keys') } : {}),
  };
  const proc = startProcess([process.execPath, SIDECAR_CLI, 'serve'], env);
  const api = `http://127.0.0.1:${apiPort}`;
  await waitFor(`betrace serve (${name})`, proc, async () => (await fetch(`${api}/readyz`)).status === 200);
  const metrics = async () => (await fetch(`${api}/metrics`)).text();
  return {
    name,
    proc,
    api,
    grpc: `127.0.0.1:${grpcPort}`,
    otlpUrl: `http://127.0.0.1:${otlpPort}/v1/traces`,
    spans: async () => metricSum(await metrics(), 'betrace_spans_received'),
    evaluated: async () => metricSum(await metrics(), 'betrace_traces_evaluated'),
    async signalTotal() {
      const res = await fetch(`${api}/api/v1/signals?limit=1`, { headers: { authorization: `Bearer ${token}` } });
      return (await res.json()).total;
    },
  };
}

async function startCollector(binary, dir, backends) {
  const [otlpHttpPort, metricsPort] = [await freePort(), await freePort()];
  const configPath = path.join(dir, 'otelcol.json');
  fs.writeFileSync(configPath, JSON.stringify(loadBalancingConfig({ otlpHttpPort, metricsPort, backends, logLevel: 'warn' })));
  const proc = startProcess([binary, '--config', configPath], { PATH: process.env.PATH, HOME: process.env.HOME });
  const otlpUrl = `http://127.0.0.1:${otlpHttpPort}/v1/traces`;
  await waitFor('the Collector', proc, async () => (await fetch(`http://127.0.0.1:${metricsPort}/metrics`)).status === 200 && (await fetch(otlpUrl, { method: 'POST', headers: { 'content-type': 'application/x-protobuf' }, body: new Uint8Array(0) })).status === 200);
  return { proc, otlpUrl };
}

async function until(deadline, check) {
  for (;;) {
    if (await check()) return true;
    if (Date.now() > deadline) return false;
    await new Promise((r) => setTimeout(r, POLL_MS));
  }
}

const sum = async (replicas, f) => (await Promise.all(replicas.map(f))).reduce((a, b) => a + b, 0);

// ---------------------------------------------------------------- one run

/** `replicas` sidecars behind the Collector (or, with `direct`, one sidecar alone); the measured load; the rule change. */
async function oneRun({ n, direct, binary, load, warmup, measured }) {
  const dir = fs.mkdtempSync(path.join(tmpRoot, `run-${direct ? 'direct' : n}-`));
  fs.mkdirSync(path.join(dir, 'rules'));
  fs.writeFileSync(path.join(dir, 'rules', 'peers.yaml'), rulesFile());
  const token = crypto.randomBytes(16).toString('hex');
  const replicas = [];
  let collector;
  try {
    // Behind the Collector the replicas share one fresh PostgreSQL database; the baseline keeps SQLite.
    const databaseUrl = postgres && !direct ? await freshDatabaseUrl() : undefined;
    const shared = databaseUrl !== undefined;
    for (let i = 1; i <= n; i++) replicas.push(await startReplica(dir, `replica-${i}`, token, databaseUrl));
    if (!direct) collector = await startCollector(binary, dir, replicas.map((r) => r.grpc));
    const url = direct ? replicas[0].otlpUrl : collector.otlpUrl;

    // Warm-up on other traces (JIT, SQLite pages, the Collector's connections); counters from here.
    const w = await load.ask({ file: warmup.file, index: warmup.index, url, concurrency: CONCURRENCY, maxMs: MAX_LOAD_MS });
    if (w.failureCount > 0) throw new Error(`warm-up refused: ${JSON.stringify(w.failures.slice(0, 3))}`);
    await until(Date.now() + SETTLE_MS, async () => (await sum(replicas, (r) => r.evaluated())) >= warmup.traces);
    const spans0 = await Promise.all(replicas.map((r) => r.spans()));
    const evaluated0 = await sum(replicas, (r) => r.evaluated());
    // With shared state every replica's API shows every signal: count them once.
    const signalCount = () => (shared ? replicas[0].signalTotal() : sum(replicas, (r) => r.signalTotal()));
    const signals0 = await signalCount();
    const cpu0 = replicas.map((r) => cpuSeconds(r.proc.pid));
    const collectorCpu0 = collector ? cpuSeconds(collector.proc.pid) : 0;

    const r = await load.ask({ file: measured.file, index: measured.index, url, concurrency: CONCURRENCY, maxMs: MAX_LOAD_MS });
    const lastAck = Math.max(...r.done);
    // Every span at a replica (the Collector's queues drained), then every trace decided.
    let lastSpanAt;
    const allIn = await until(Date.now() + SETTLE_MS, async () => {
      const got = (await Promise.all(replicas.map((x) => x.spans()))).reduce((a, b, i) => a + b - spans0[i], 0);
      if (got >= measured.spans) lastSpanAt = lastSpanAt ?? Date.now();
      return got >= measured.spans;
    });
    const decided = await until(Date.now() + DECISION_WAIT_MS + SETTLE_MS, async () => (await sum(replicas, (x) => x.evaluated())) - evaluated0 >= measured.traces);
    const perReplica = [];
    for (let i = 0; i < replicas.length; i++) {
      const spans = (await replicas[i].spans()) - spans0[i];
      const cpu = cpuSeconds(replicas[i].proc.pid) - cpu0[i];
      perReplica.push({ name: replicas[i].name, spans, cpuSeconds: +cpu.toFixed(2), cpuSecondsPerMillionSpans: spans > 0 ? +((cpu / spans) * 1e6).toFixed(1) : undefined });
    }
    const collectorCpu = collector ? cpuSeconds(collector.proc.pid) - collectorCpu0 : undefined;
    const signals = (await signalCount()) - signals0;
    const loadSeconds = (lastAck - r.t0) / 1000;

    const ruleSyncMs = await ruleChange(replicas, token);
    return {
      config: direct ? 'direct' : `lb-${n}`,
      replicas: n,
      store: shared ? 'postgres (shared)' : 'sqlite',
      acceptedSpansPerSec: Math.round(measured.spans / loadSeconds),
      spansPerSecToLastReplica: allIn && lastSpanAt ? Math.round(measured.spans / ((lastSpanAt - r.t0) / 1000)) : undefined,
      requests: { sent: measured.requests, retried: r.retries, failed: r.failureCount },
      allSpansAtReplicas: allIn,
      allDecided: decided,
      signals,
      perReplica,
      cpuSecondsPerMillionSpansPerReplica: summary(perReplica.map((p) => p.cpuSecondsPerMillionSpans)),
      sidecarCpuSecondsPerMillionSpans: +((perReplica.reduce((a, p) => a + p.cpuSeconds, 0) / measured.spans) * 1e6).toFixed(1),
      collectorCpuSecondsPerMillionSpans: collectorCpu === undefined ? undefined : +((collectorCpu / measured.spans) * 1e6).toFixed(1),
      ruleSyncMs,
    };
  } finally {
    if (collector) await collector.proc.stop();
    for (const x of replicas) await x.proc.stop();
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

/**
 * A rule created, then changed (severity), through replica 1's API: ms until every replica's API
 * shows the change, or null when one has not within RULE_SYNC_TIMEOUT_MS (each replica's own store).
 */
async function ruleChange(replicas, token) {
  const headers = { authorization: `Bearer ${token}`, 'content-type': 'application/json' };
  const id = `scale-sync-${crypto.randomBytes(4).toString('hex')}`;
  const created = await fetch(`${replicas[0].api}/api/v1/rules`, { method: 'POST', headers, body: JSON.stringify({ id, name: id, severity: 'low', condition: 'trace.has_error', enabled: true }) });
  if (created.status >= 300) throw new Error(`POST /api/v1/rules answered ${created.status}: ${await created.text()}`);
  const t0 = Date.now();
  const patched = await fetch(`${replicas[0].api}/api/v1/rules/${id}`, { method: 'PATCH', headers, body: JSON.stringify({ severity: 'critical' }) });
  if (patched.status >= 300) throw new Error(`PATCH /api/v1/rules/${id} answered ${patched.status}: ${await patched.text()}`);
  const everywhere = await until(t0 + RULE_SYNC_TIMEOUT_MS, async () => {
    for (const r of replicas) {
      const res = await fetch(`${r.api}/api/v1/rules/${id}`, { headers });
      if (res.status !== 200 || (await res.json()).severity !== 'critical') return false;
    }
    return true;
  });
  return everywhere ? Date.now() - t0 : null;
}

// ---------------------------------------------------------------- store write cost

/** ms per signal of Store.addSignals (one signal per call, one writer's outbox row each, as the pipeline stores a trace's violations). */
async function storeWriteCost(kind) {
  const { Store } = require('../packages/sidecar/dist/store');
  const dir = fs.mkdtempSync(path.join(tmpRoot, 'store-'));
  const store = new Store(kind === 'postgres' ? await freshDatabaseUrl() : path.join(dir, 'betrace.db'));
  try {
    const make = (i) => ({
      violation: { ruleId: 'bench-rule', traceId: crypto.createHash('md5').update(String(i)).digest('hex'), boundSpanId: 'a'.repeat(16), matchedSpanIds: ['a'.repeat(16)], message: 'bench', severity: 'medium' },
      ruleVersion: 1,
      ruleName: 'bench-rule',
      source: 'push',
    });
    for (let i = 0; i < 200; i++) store.addSignals('default', [make(-1 - i)], ['webhook'], Date.now());
    const t0 = process.hrtime.bigint();
    for (let i = 0; i < STORE_SIGNALS; i++) store.addSignals('default', [make(i)], ['webhook'], Date.now());
    return Number(process.hrtime.bigint() - t0) / 1e6 / STORE_SIGNALS;
  } finally {
    store.close();
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

// ---------------------------------------------------------------- main

const kfmt = (x) => (x === undefined ? 'n/a' : x >= 1000 ? `${(x / 1000).toFixed(1)} k` : String(x));
const cell = (s, fmt) => (s === undefined ? 'n/a' : `${fmt(s.median)} [${fmt(s.min)}–${fmt(s.max)}]`);

async function main() {
  const opts = parseArgs(process.argv.slice(2));
  if (!fs.existsSync(SIDECAR_CLI)) throw new Error(`${SIDECAR_CLI} is missing: npm run build:packages first`);
  const collector = ensureCollector({ dist: 'loadbalancing', log: (m) => console.log(m) });
  if (collector.skip) {
    console.log(`scale benchmark skipped: ${collector.skip}`);
    return;
  }
  if (collector.built) console.log(`built the load-balancing Collector in ${collector.seconds} s`);
  tmpRoot = fs.mkdtempSync(path.join(os.tmpdir(), 'betrace-scale-'));
  if (opts.store === 'postgres') postgres = startPostgres();
  // The peers benchmark's load generator: posts the corpus file, `concurrency` at a time.
  const load = helper('load.js');
  try {
    const measured = writeCorpus(tmpRoot, 'measured', buildOtlpCorpus(opts.spans, 21));
    const warmup = writeCorpus(tmpRoot, 'warmup', buildOtlpCorpus(WARMUP_SPANS, 98));
    const configs = [{ n: 1, direct: true }, ...opts.replicas.map((n) => ({ n, direct: false }))];
    const cores = os.cpus().length;
    console.log(`\nScale benchmark — BeTrace (this checkout) behind OpenTelemetry Collector ${OTELCOL_VERSION} load_balancing (routing_key traceID, static resolver, OTLP/gRPC to each replica), ${process.version}`);
    console.log(`load: ${measured.spans} spans in ${measured.traces} traces, ${measured.requests} OTLP/HTTP protobuf requests of ~${BATCH_SPANS} spans, ${CONCURRENCY} connections; ${PAIRS.length} rules, DECISION_WAIT ${DECISION_WAIT_MS} ms`);
    console.log(`store: ${postgres ? 'the replicas behind the Collector share one PostgreSQL database (fresh per run); the baseline sidecar keeps its SQLite' : 'each replica its own SQLite (--store sqlite: no shared state)'}`);
    console.log(`NOTE: this machine has ${cores} cores, shared by the Collector, every replica, the load generator and this script: ${cores} cores cap the scaling here; compare the cost per span, not the speed-up.\n`);
    const runs = [];
    for (let rep = 0; rep < opts.repeats; rep++) {
      // Alternate the order, so drift of this shared machine favours no configuration.
      for (const cfg of rep % 2 === 0 ? configs : [...configs].reverse()) {
        const r = await oneRun({ ...cfg, binary: collector.binary, load, warmup, measured });
        runs.push(r);
        console.log(
          `  run ${rep + 1} ${r.config.padEnd(7)} ${kfmt(r.acceptedSpansPerSec).padStart(8)} spans/s accepted, ${kfmt(r.spansPerSecToLastReplica).padStart(8)} to the last replica, ${r.signals} signals, ` +
            `CPU-s/M per replica ${r.perReplica.map((p) => p.cpuSecondsPerMillionSpans).join('/')}${r.collectorCpuSecondsPerMillionSpans !== undefined ? `, Collector ${r.collectorCpuSecondsPerMillionSpans}` : ''}, rule change everywhere ${r.ruleSyncMs === null ? `not within ${RULE_SYNC_TIMEOUT_MS} ms` : `${r.ruleSyncMs} ms`}` +
            `${r.allSpansAtReplicas && r.allDecided && r.requests.failed === 0 ? '' : ' INCOMPLETE'}`,
        );
      }
    }
    const sqlite = [];
    const pgCost = [];
    for (let i = 0; i < opts.repeats; i++) {
      sqlite.push(await storeWriteCost('sqlite'));
      if (postgres) pgCost.push(await storeWriteCost('postgres'));
    }

    const byConfig = {};
    for (const cfg of configs) {
      const key = cfg.direct ? 'direct' : `lb-${cfg.n}`;
      const rs = runs.filter((r) => r.config === key);
      const syncs = rs.map((r) => r.ruleSyncMs);
      byConfig[key] = {
        replicas: cfg.n,
        collector: !cfg.direct,
        acceptedSpansPerSec: summary(rs.map((r) => r.acceptedSpansPerSec)),
        spansPerSecToLastReplica: summary(rs.map((r) => r.spansPerSecToLastReplica)),
        signals: summary(rs.map((r) => r.signals)),
        cpuSecondsPerMillionSpansPerReplica: summary(rs.flatMap((r) => r.perReplica.map((p) => p.cpuSecondsPerMillionSpans))),
        sidecarCpuSecondsPerMillionSpans: summary(rs.map((r) => r.sidecarCpuSecondsPerMillionSpans)),
        collectorCpuSecondsPerMillionSpans: summary(rs.map((r) => r.collectorCpuSecondsPerMillionSpans)),
        ruleSyncMs: syncs.every((s) => s !== null) ? summary(syncs) : { notWithinMs: RULE_SYNC_TIMEOUT_MS, runs: syncs.filter((s) => s === null).length },
      };
    }
    console.log(`\n${'configuration'.padEnd(26)} ${'accepted spans/s'.padEnd(22)} ${'to last replica'.padEnd(22)} ${'signals'.padEnd(18)} ${'CPU-s/M per replica'.padEnd(22)} ${'Collector CPU-s/M'.padEnd(20)} rule change on every replica`);
    for (const [key, b] of Object.entries(byConfig)) {
      const label = key === 'direct' ? '1 sidecar, no Collector' : `${b.replicas} behind the Collector`;
      const sync = b.ruleSyncMs.notWithinMs ? (b.replicas === 1 ? 'n/a' : `not within ${b.ruleSyncMs.notWithinMs} ms`) : cell(b.ruleSyncMs, (x) => `${x.toFixed(0)} ms`);
      console.log(
        `${label.padEnd(26)} ${cell(b.acceptedSpansPerSec, kfmt).padEnd(22)} ${cell(b.spansPerSecToLastReplica, kfmt).padEnd(22)} ${cell(b.signals, (x) => x.toFixed(0)).padEnd(18)} ${cell(b.cpuSecondsPerMillionSpansPerReplica, (x) => x.toFixed(1)).padEnd(22)} ${cell(b.collectorCpuSecondsPerMillionSpans, (x) => x.toFixed(1)).padEnd(20)} ${sync}`,
      );
    }
    const signalCounts = new Set(runs.map((r) => r.signals));
    console.log(`\nsignals: ${signalCounts.size === 1 ? `the same ${[...signalCounts][0]} in every run and configuration` : `DIFFER between runs: ${[...signalCounts].join(', ')}`}`);
    console.log(`store write cost per signal (Store.addSignals, one signal + one outbox row per call): SQLite ${cell(summary(sqlite), (x) => `${x.toFixed(3)} ms`)}${postgres ? `, PostgreSQL ${cell(summary(pgCost), (x) => `${x.toFixed(3)} ms`)} (${(summary(pgCost).median / summary(sqlite).median).toFixed(1)}× SQLite)` : ''}`);
    console.log(`rule change: ${postgres ? 'through replica 1, in force and shown on every replica (RULE_SYNC_MS default 1000)' : 'each replica keeps its own store, so a change through one replica never reaches the others'}`);
    console.log(`scaling: ${cores} cores cap it here — every replica, the Collector and the load generator share them.`);
    const incomplete = runs.filter((r) => !r.allSpansAtReplicas || !r.allDecided || r.requests.failed > 0);
    for (const r of incomplete) console.log(`WARNING: ${r.config}: spans all at replicas ${r.allSpansAtReplicas}, all decided ${r.allDecided}, ${r.requests.failed} requests failed`);

    saveResult(path.join(__dirname, 'results', 'scale.json'), {
      node: process.version,
      date: new Date().toISOString(),
      cores,
      note: `${cores} cores shared by the Collector, every replica and the load generator cap the scaling: compare CPU-seconds per million spans`,
      collector: { version: OTELCOL_VERSION, exporter: 'load_balancing', routingKey: 'traceID', resolver: 'static', protocol: 'OTLP/gRPC' },
      store: postgres ? 'postgres shared by the replicas behind the Collector; sqlite for the baseline' : 'sqlite per replica',
      decisionWaitMs: DECISION_WAIT_MS,
      corpus: { spans: measured.spans, traces: measured.traces, requests: measured.requests, concurrency: CONCURRENCY },
      repeats: opts.repeats,
      byConfig,
      storeWriteMsPerSignal: { sqlite: summary(sqlite), ...(postgres ? { postgres: summary(pgCost) } : {}) },
      runs,
    });
  } finally {
    load.child.kill();
    postgres?.stop();
    fs.rmSync(tmpRoot, { recursive: true, force: true });
  }
}

main().catch((e) => {
  console.error(e);
  process.exitCode = 1;
});
