'use strict';
// Peers benchmark: `betrace serve` against an OpenTelemetry Collector with the tail_sampling
// processor, on the same pre-encoded OTLP/HTTP protobuf load, 10 BeTrace rules against 10
// equivalent policies, the same 1 s decision wait. Each system runs pinned to one core, then on
// all cores, alternating with the other, REPEATS times; printed are both systems' figures and
// BeTrace/Collector, median [min–max]. The Collector is built here with the official builder
// into a cache outside the repository (bench/peers/collector.js). Writes bench/results/peers.json with --save.
//
//   npm run bench peers -- [--env NAME=VALUE]… [--repeats N] [--spans N] [--collector-shards N] [--nop]
//
// --env passes a variable to `betrace serve` (e.g. --env WORKERS=2); --collector-shards sets the
// tail_sampling processor's num_shards; --nop sends sampled traces to the nop exporter instead of
// the loopback sink (then the Collector's decision latency is not observable). BENCH_PEERS_ENV
// ("A=1,B=2") does what --env does.
const fs = require('fs');
const os = require('os');
const path = require('path');
const { ensureCollector, OTELCOL_VERSION } = require('./peers/collector');
const { buildOtlpCorpus, writeCorpus, BATCH_SPANS, MIN_SPANS, MAX_SPANS } = require('./peers/otlpCorpus');
const { PAIRS } = require('./peers/policies');
const { cpuSeconds, helper, peakRssBytes, hasTaskset, pin } = require('./peers/proc');
const { startBetrace, startCollector } = require('./peers/systems');
const { saveResult } = require('./save');

const DECISION_WAIT_MS = 1000;
const CONCURRENCY = 4;
/** Bounds of one measured load: every request sent, or this long. */
const MAX_LOAD_MS = 20_000;
/** After the load: how long the last decisions may take before the run counts as incomplete. */
const SETTLE_MS = 20_000;
const POLL_MS = 50;
const WARMUP_SPANS = 30_000;
/** The sink has every sampled span once its count has not moved for this long. */
const SINK_QUIET_MS = 2000;

function parseArgs(argv) {
  const opts = { env: {}, repeats: 3, spans: 300_000, shards: 1, nop: false };
  const envPairs = (process.env.BENCH_PEERS_ENV || '').split(',').filter(Boolean);
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const value = () => {
      if (i + 1 >= argv.length) throw new Error(`${a} needs a value`);
      return argv[++i];
    };
    if (a === '--env') envPairs.push(value());
    else if (a === '--repeats') opts.repeats = Number(value());
    else if (a === '--spans') opts.spans = Number(value());
    else if (a === '--collector-shards') opts.shards = Number(value());
    else if (a === '--nop') opts.nop = true;
    else throw new Error(`unknown option ${a} (see the header of bench/peers.bench.js)`);
  }
  for (const pair of envPairs) {
    const eq = pair.indexOf('=');
    if (eq <= 0) throw new Error(`--env expects NAME=VALUE, got ${JSON.stringify(pair)}`);
    opts.env[pair.slice(0, eq)] = pair.slice(eq + 1);
  }
  for (const [k, v] of [['--repeats', opts.repeats], ['--spans', opts.spans], ['--collector-shards', opts.shards]]) {
    if (!Number.isInteger(v) || v < 1) throw new Error(`${k} expects a whole number ≥ 1`);
  }
  return opts;
}

// ---------------------------------------------------------------- statistics

const sorted = (xs) => [...xs].sort((a, b) => a - b);
const median = (xs) => {
  const s = sorted(xs);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
};
const pct = (xs, p) => sorted(xs)[Math.min(xs.length - 1, Math.floor((xs.length * p) / 100))];
/** Median, min and max of the defined values; undefined when there are none. */
function summary(xs) {
  const v = xs.filter((x) => typeof x === 'number' && Number.isFinite(x));
  if (v.length === 0) return undefined;
  const s = sorted(v);
  return { median: +median(v).toFixed(3), min: +s[0].toFixed(3), max: +s[s.length - 1].toFixed(3), n: v.length };
}

// ---------------------------------------------------------------- bench processes


async function startSink() {
  const h = helper('sink.js');
  const { port } = await h.ask(undefined, 'listening');
  return {
    port,
    pid: h.child.pid,
    reset: () => h.ask({ type: 'reset' }, 'reset'),
    spans: async () => (await h.ask({ type: 'count' }, 'count')).spans,
    async firstSeen() {
      const r = await h.ask({ type: 'report' }, 'report');
      return new Map(r.firstSeen);
    },
    stop: () => h.child.kill(),
  };
}

// ---------------------------------------------------------------- corpus


// ---------------------------------------------------------------- one run

async function waitDecided(system, target, deadline) {
  for (;;) {
    const n = await system.decided();
    if (n >= target || Date.now() > deadline) return { n, at: Date.now() };
    if (system.proc.exited()) throw new Error(`${system.name} exited: ${JSON.stringify(system.proc.exited())}\n${system.proc.output()}`);
    await new Promise((r) => setTimeout(r, POLL_MS));
  }
}

/** The system under test right now and the corpus folder, so an interrupted bench leaves neither behind. */
let running;
let corpusDir;
for (const sig of ['SIGINT', 'SIGTERM']) {
  process.on(sig, () => {
    if (running) {
      try {
        process.kill(-running.proc.pid, 'SIGKILL');
      } catch {
        // already gone
      }
    }
    if (corpusDir) fs.rmSync(corpusDir, { recursive: true, force: true });
    process.exit(130);
  });
}

async function sinkQuiet(sink, deadline) {
  let last = await sink.spans();
  let since = Date.now();
  while (Date.now() < deadline) {
    await new Promise((r) => setTimeout(r, 200));
    const n = await sink.spans();
    if (n !== last) {
      last = n;
      since = Date.now();
    } else if (Date.now() - since >= SINK_QUIET_MS) return;
  }
}

async function oneRun({ kind, cpus, opts, binary, sink, load, warmup, measured }) {
  const system = (running =
    kind === 'BeTrace'
      ? await startBetrace({ cpus, decisionWaitMs: DECISION_WAIT_MS, extraEnv: opts.env })
      : await startCollector({ cpus, decisionWaitMs: DECISION_WAIT_MS, binary, sink: opts.nop ? undefined : sink, shards: opts.shards }));
  try {
    // Warm-up on other traces (JIT, pools, SQLite pages), then the counters start from here.
    const w = await load.ask({ file: warmup.file, index: warmup.index, url: system.otlpUrl, concurrency: CONCURRENCY, maxMs: MAX_LOAD_MS });
    if (w.failureCount > 0) throw new Error(`${kind} refused warm-up requests: ${JSON.stringify(w.failures.slice(0, 3))}`);
    const warmTraces = new Set(warmup.tracesOf.flat()).size;
    const warmed = await waitDecided(system, warmTraces, Date.now() + DECISION_WAIT_MS + SETTLE_MS);
    if (sink) await sink.reset();
    const decided0 = warmed.n;
    const cpu0 = cpuSeconds(system.proc.pid);

    const r = await load.ask({ file: measured.file, index: measured.index, url: system.otlpUrl, concurrency: CONCURRENCY, maxMs: MAX_LOAD_MS });
    // Traces with at least one accepted span are what the system must decide; its last accepted
    // piece is when the sender was done with it.
    const lastAck = new Map();
    const started = new Set();
    let acceptedSpans = 0;
    let acceptedRequests = 0;
    let lastDone = 0;
    const complete = new Set(measured.spansOf.keys());
    r.done.forEach((at, i) => {
      for (const id of measured.tracesOf[i]) {
        if (at === 0) complete.delete(id);
        else {
          started.add(id);
          lastAck.set(id, Math.max(lastAck.get(id) || 0, at));
        }
      }
      if (at > 0) {
        acceptedRequests++;
        acceptedSpans += measured.spansIn[i];
        lastDone = Math.max(lastDone, at);
      }
    });

    const settled = await waitDecided(system, decided0 + started.size, Date.now() + DECISION_WAIT_MS + SETTLE_MS);
    // The Collector's exporter sends sampled traces after deciding: its CPU and its decisions
    // include that delivery, so wait until the sink has all of them.
    if (kind === 'Collector' && !opts.nop) await sinkQuiet(sink, Date.now() + SETTLE_MS);
    const cpu = cpuSeconds(system.proc.pid) - cpu0;
    const rss = peakRssBytes(system.proc.pid);
    const decisions = await system.decisions();
    const latencies = [];
    let positive;
    if (decisions !== undefined) {
      positive = new Set();
      for (const [id, at] of decisions) {
        if (!complete.has(id) || !lastAck.has(id)) continue;
        positive.add(id);
        latencies.push(at - lastAck.get(id));
      }
    }
    const decided = settled.n - decided0;
    const loadSeconds = (lastDone - r.t0) / 1000;
    return {
      system: kind,
      cpus,
      requests: { sent: measured.requests, accepted: acceptedRequests, retried: r.retries, failed: r.failureCount, failures: r.failures.slice(0, 3) },
      acceptedSpans,
      loadSeconds: +loadSeconds.toFixed(3),
      acceptedSpansPerSec: Math.round(acceptedSpans / loadSeconds),
      // Every accepted trace decided: the sustained rate, less the decision wait every trace sits out.
      spansPerSecToLastDecision: decided >= started.size ? Math.round(acceptedSpans / ((settled.at - r.t0 - DECISION_WAIT_MS) / 1000)) : undefined,
      tracesStarted: started.size,
      tracesDecided: decided,
      allDecided: decided >= started.size,
      cpuSeconds: +cpu.toFixed(2),
      cpuSecondsPerMillionSpans: +((cpu / acceptedSpans) * 1e6).toFixed(2),
      peakRssMiB: +(rss / 1024 ** 2).toFixed(1),
      decisionLatencyMs: latencies.length ? { p50: pct(latencies, 50), p99: pct(latencies, 99), samples: latencies.length } : undefined,
      positiveTraces: positive ? positive.size : undefined,
      positive,
      complete,
    };
  } finally {
    running = undefined;
    await system.stop();
  }
}

// ---------------------------------------------------------------- report

const kfmt = (x) => (x === undefined ? 'n/a' : x >= 1000 ? `${(x / 1000).toFixed(1)} k` : String(x));
function cell(s, fmt) {
  if (s === undefined) return 'n/a';
  return `${fmt(s.median)} [${fmt(s.min)}–${fmt(s.max)}]`;
}

const METRICS = [
  ['accepted spans/s', (r) => r.acceptedSpansPerSec, kfmt],
  ['spans/s to last decision', (r) => r.spansPerSecToLastDecision, kfmt],
  ['CPU-s per M spans', (r) => r.cpuSecondsPerMillionSpans, (x) => x.toFixed(1)],
  ['peak RSS (MiB)', (r) => r.peakRssMiB, (x) => x.toFixed(0)],
  ['decision latency p50 (ms)', (r) => r.decisionLatencyMs && r.decisionLatencyMs.p50, (x) => x.toFixed(0)],
  ['decision latency p99 (ms)', (r) => r.decisionLatencyMs && r.decisionLatencyMs.p99, (x) => x.toFixed(0)],
];

function compare(runs, configs) {
  const out = {};
  for (const c of configs) {
    const b = runs.filter((r) => r.cpus === c.cpus && r.system === 'BeTrace');
    const k = runs.filter((r) => r.cpus === c.cpus && r.system === 'Collector');
    const row = {};
    for (const [label, get] of METRICS) {
      // Ratios pair the runs of one repeat, which ran back to back.
      const ratios = b.map((r, i) => (k[i] && get(r) !== undefined && get(k[i]) ? get(r) / get(k[i]) : undefined));
      row[label] = { betrace: summary(b.map(get)), collector: summary(k.map(get)), ratio: summary(ratios) };
    }
    // The same traces flagged by both? Counted over the traces both runs of a pair received whole.
    row.agreement = b.map((r, i) => {
      const o = k[i];
      if (!r.positive || !o || !o.positive) return undefined;
      const a = { both: 0, betraceOnly: 0, collectorOnly: 0 };
      for (const id of r.positive) {
        if (o.positive.has(id)) a.both++;
        else if (o.complete.has(id)) a.betraceOnly++;
      }
      for (const id of o.positive) if (!r.positive.has(id) && r.complete.has(id)) a.collectorOnly++;
      return a;
    });
    out[c.label] = row;
  }
  return out;
}

function scaling(runs, configs) {
  const [one, all] = configs;
  const out = {};
  for (const system of ['BeTrace', 'Collector']) {
    const a = runs.filter((r) => r.system === system && r.cpus === one.cpus);
    const b = runs.filter((r) => r.system === system && r.cpus === all.cpus);
    out[system] = summary(a.map((r, i) => (b[i] ? b[i].acceptedSpansPerSec / r.acceptedSpansPerSec : undefined)));
  }
  return out;
}

function print(results, configs) {
  const w = [28, 26, 26, 20];
  const line = (cols) => console.log(cols.map((c, i) => String(c).padEnd(w[i])).join(' '));
  console.log(`\nPeers benchmark — BeTrace (this checkout) vs OpenTelemetry Collector ${OTELCOL_VERSION} tail_sampling, ${PAIRS.length} rules / ${PAIRS.length} policies, decision wait ${DECISION_WAIT_MS} ms, ${process.version}`);
  const c = results.corpus;
  console.log(`load: ${c.spans} spans in ${c.traces} traces (${MIN_SPANS}–${MAX_SPANS} spans), ${c.requests} OTLP/HTTP protobuf requests of ~${BATCH_SPANS} spans, ${CONCURRENCY} connections; ${results.repeats} alternating runs, median [min–max]`);
  for (const cfg of configs) {
    console.log(`\n${cfg.label}: ${cfg.note}`);
    line(['measure', 'BeTrace', 'Collector', 'BeTrace/Collector']);
    const row = results.comparison[cfg.label];
    for (const [label, , fmt] of METRICS) {
      const m = row[label];
      line([label, cell(m.betrace, fmt), cell(m.collector, fmt), cell(m.ratio, (x) => `${x.toFixed(2)}×`)]);
    }
    const agree = row.agreement.filter(Boolean);
    if (agree.length) {
      const sum = (f) => agree.reduce((n, a) => n + a[f], 0);
      console.log(`traces flagged, over ${agree.length} pairs of runs: ${sum('both')} by both, ${sum('betraceOnly')} by BeTrace only, ${sum('collectorOnly')} by the Collector only`);
    }
  }
  const s = results.scaling;
  console.log(`\nscaling, accepted spans/s on ${configs[1].label} ÷ 1 core: BeTrace ${cell(s.BeTrace, (x) => `${x.toFixed(2)}×`)}, Collector ${cell(s.Collector, (x) => `${x.toFixed(2)}×`)}`);
  if (results.collectorExporter === 'nop') console.log('Collector decision latency: n/a — the nop exporter makes sampled traces unobservable (run without --nop).');
  const incomplete = results.runs.filter((r) => !r.allDecided || r.requests.failed > 0);
  for (const r of incomplete) console.log(`WARNING: ${r.system} on cpus ${r.cpus}: ${r.tracesDecided}/${r.tracesStarted} traces decided, ${r.requests.failed} requests failed ${JSON.stringify(r.requests.failures)}`);
}

// ---------------------------------------------------------------- main

async function main() {
  const opts = parseArgs(process.argv.slice(2));
  const cpuCount = os.cpus().length;
  if (!hasTaskset() || cpuCount < 2) {
    console.log(`peers benchmark skipped: it needs taskset and at least 2 CPUs (taskset ${hasTaskset() ? 'found' : 'missing'}, ${cpuCount} CPUs)`);
    return;
  }
  const collector = ensureCollector((m) => console.log(m));
  if (collector.skip) {
    console.log(`peers benchmark skipped: ${collector.skip}`);
    return;
  }
  const all = cpuCount === 2 ? '0,1' : `0-${cpuCount - 1}`;
  const configs = [
    { label: '1 core', cpus: '0', benchCpus: '1', note: 'each system on taskset -c 0; load generator, sink and this script on core 1' },
    { label: `${cpuCount} cores`, cpus: all, benchCpus: all, note: `each system on taskset -c ${all}; load generator, sink and this script compete for the same cores` },
  ];

  const tmp = (corpusDir = fs.mkdtempSync(path.join(os.tmpdir(), 'peers-corpus-')));
  const sink = await startSink();
  const load = helper('load.js');
  try {
    const t0 = Date.now();
    const measured = writeCorpus(tmp, 'measured', buildOtlpCorpus(opts.spans, 11));
    const warmup = writeCorpus(tmp, 'warmup', buildOtlpCorpus(WARMUP_SPANS, 97));
    console.log(`encoded ${measured.spans} + ${warmup.spans} warm-up spans (${(measured.bytes / 1e6).toFixed(0)} MB) in ${((Date.now() - t0) / 1000).toFixed(1)} s`);

    const runs = [];
    for (let rep = 0; rep < opts.repeats; rep++) {
      for (const cfg of configs) {
        for (const p of [process.pid, sink.pid, load.child.pid]) pin(p, cfg.benchCpus);
        // Alternate which system goes first, so drift of this shared machine favours neither.
        const order = rep % 2 === 0 ? ['BeTrace', 'Collector'] : ['Collector', 'BeTrace'];
        for (const kind of order) {
          const r = await oneRun({ kind, cpus: cfg.cpus, opts, binary: collector.binary, sink, load, warmup, measured });
          runs.push(r);
          console.log(
            `  run ${rep + 1} ${cfg.label.padEnd(8)} ${kind.padEnd(9)} ${kfmt(r.acceptedSpansPerSec).padStart(8)} spans/s accepted, ${String(r.cpuSecondsPerMillionSpans).padStart(6)} CPU-s/M, ${String(r.peakRssMiB).padStart(6)} MiB, ` +
              `latency p50/p99 ${r.decisionLatencyMs ? `${r.decisionLatencyMs.p50}/${r.decisionLatencyMs.p99} ms` : 'n/a'}, ${r.tracesDecided}/${r.tracesStarted} decided, ${r.requests.retried} retried`,
          );
        }
      }
    }
    const byOrder = (a, b) => a.system.localeCompare(b.system);
    const results = {
      node: process.version,
      date: new Date().toISOString(),
      collector: { version: OTELCOL_VERSION, exporter: opts.nop ? 'nop' : 'otlphttp → loopback sink', numShards: opts.shards },
      collectorExporter: opts.nop ? 'nop' : 'sink',
      betraceEnv: opts.env,
      decisionWaitMs: DECISION_WAIT_MS,
      rules: PAIRS.map(([id, condition, policy]) => ({ id, condition, policy: policy.type })),
      corpus: { spans: measured.spans, traces: measured.spansOf.size, requests: measured.requests, bytes: measured.bytes, spansPerRequest: BATCH_SPANS, concurrency: CONCURRENCY },
      repeats: opts.repeats,
      configs: configs.map(({ label, cpus, note }) => ({ label, cpus, note })),
      comparison: compare(runs, configs),
      scaling: scaling(runs, configs),
      runs: runs.map(({ positive: _p, complete: _c, ...r }) => r).sort(byOrder),
    };
    // compare() and scaling() pair runs by repeat; the sort above is only for reading the file.
    print({ ...results, runs }, configs);
    const out = path.join(__dirname, 'results', 'peers.json');
    saveResult(out, results);
  } finally {
    sink.stop();
    load.child.kill();
    fs.rmSync(tmp, { recursive: true, force: true });
  }
}

main().catch((e) => {
  console.error(e);
  process.exitCode = 1;
});
