'use strict';
// Pull-mode benchmark: the example rules replayed over a generated day of traffic held in the
// Tempo test double. Reports Tempo requests per window, traces fetched against traces that
// produced a violation (pushdown selectivity), and end-to-end replay throughput in traces/s.
// Writes bench/results/pull.json with --save.
require('ts-node').register({ transpileOnly: true, compilerOptions: { module: 'commonjs', moduleResolution: 'node10' } });
const fs = require('fs');
const os = require('os');
const path = require('path');
const { performance } = require('perf_hooks');
const pino = require('pino');
const { TempoDouble } = require('../tests/support/tempoDouble');
const { createSidecar } = require('../packages/sidecar/dist/sidecar');
const { loadConfig } = require('../packages/sidecar/dist/config');
const { makeCorpus } = require('./corpus');
const { saveResult } = require('./save');

const TRACES = Number(process.env.BENCH_PULL_TRACES || 6000);
const DAY = 24 * 3600 * 1000;

async function main() {
  const now = Date.UTC(2026, 10, 25, 12, 0, 0);
  const tempo = new TempoDouble({ now: () => now });
  const url = await tempo.start();
  const { traces, totalSpans } = makeCorpus(TRACES, 11);
  traces.forEach((t, i) => {
    const at = BigInt(now - DAY + Math.floor((i * DAY) / TRACES)) * 1000000n;
    const shift = at - t.startNs;
    tempo.ingest('single-tenant', t.spans.map((s) => ({ ...s, startNs: s.startNs + shift, endNs: s.endNs + shift })));
  });
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'betrace-bench-pull-'));
  const sidecar = createSidecar(
    loadConfig({ DATA_DIR: dataDir, RULES_DIR: path.join(__dirname, '../examples/rules'), OTLP_PORT: '0', API_PORT: '0', HOST: '127.0.0.1', TEMPO_URL: url, LOG_LEVEL: 'silent' }),
    { now: () => now, logger: pino({ level: 'silent' }), tickMs: 3600000, pollIntervalMs: 0 },
  );
  await sidecar.start();
  const rules = sidecar.rules.active('default');
  const before = tempo.requests.length;
  const t0 = performance.now();
  const job = sidecar.replay.start('default', rules, now - DAY, now, true);
  await sidecar.replay.idle();
  const seconds = (performance.now() - t0) / 1000;
  const requests = tempo.requests.slice(before);
  const searches = requests.filter((r) => r.url.startsWith('/api/search')).length;
  const fetches = requests.filter((r) => r.url.startsWith('/api/v2/traces/')).length;
  const violatingTraces = new Set(job.violations.map((v) => v.traceId)).size;
  const pushdowns = rules.map((r) => ({ rule: r.compiled.definition.id, query: r.compiled.pushdown.query, fullScan: r.compiled.pushdown.fullScan }));
  const results = {
    node: process.version,
    date: new Date().toISOString(),
    day: { traces: TRACES, spans: totalSpans },
    rules: rules.length,
    distinctPushdownQueries: new Set(pushdowns.map((p) => p.query)).size,
    fullScanRules: pushdowns.filter((p) => p.fullScan).map((p) => p.rule),
    windows: job.windowsDone,
    tempoRequests: { searches, traceFetches: fetches, perWindow: +((searches + fetches) / job.windowsDone).toFixed(1), searchesPerWindow: +(searches / job.windowsDone).toFixed(1) },
    selectivity: { tracesInTempo: TRACES, tracesFetched: job.tracesFetched, tracesWithViolation: violatingTraces, violations: job.violationsFound, fetchedPerViolatingTrace: +(job.tracesFetched / Math.max(1, violatingTraces)).toFixed(2) },
    replay: { seconds: +seconds.toFixed(2), tracesPerSec: Math.round(TRACES / seconds), fetchedTracesPerSec: Math.round(job.tracesFetched / seconds) },
    pushdowns,
  };
  await sidecar.stop();
  await tempo.stop();
  fs.rmSync(dataDir, { recursive: true, force: true });
  console.log(`\nPull benchmark — ${TRACES} traces (${totalSpans} spans) over one day in the Tempo double, ${rules.length} example rules, ${process.version}\n`);
  const rows = [
    ['windows (5 min)', results.windows],
    ['Tempo requests per window', `${results.tempoRequests.perWindow} (${results.tempoRequests.searchesPerWindow} searches)`],
    ['distinct pushdown queries', `${results.distinctPushdownQueries} (full scans: ${results.fullScanRules.join(', ') || 'none'})`],
    ['traces fetched / in Tempo', `${results.selectivity.tracesFetched} / ${TRACES}`],
    ['traces with a violation', `${results.selectivity.tracesWithViolation} (${results.selectivity.violations} violations)`],
    ['fetched per violating trace', results.selectivity.fetchedPerViolatingTrace],
    ['replay throughput', `${results.replay.tracesPerSec} traces/s of traffic (${results.replay.fetchedTracesPerSec} fetched traces/s), ${results.replay.seconds} s`],
  ];
  for (const [k, v] of rows) console.log(`${String(k).padEnd(32)} ${v}`);
  saveResult(path.join(__dirname, 'results', 'pull.json'), results);
}

main().catch((e) => {
  console.error(e);
  process.exitCode = 1;
});
