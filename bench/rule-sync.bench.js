'use strict';
// Rule sync across replicas (issue 12, docs/scaling.md "Rule changes across replicas"): two
// sidecar processes on one SQLite store, or with BETRACE_BENCH_DATABASE_URL one PostgreSQL schema
// (each its own connection, data folder, ports; one evidence key folder); a rule is
// changed through A's API and B's /metrics is scraped until betrace_rules_revision shows the new
// revision. Prints, per RULE_SYNC_MS, the propagation time from sending the change to B having it
// in force (median, p95, max over the changes, spread at random over the sync period). Writes
// bench/results/rule-sync.json with --save.
const { fork } = require('child_process');
const fs = require('fs');
const os = require('os');
const path = require('path');
const { performance } = require('perf_hooks');
const { saveResult } = require('./save');

if (process.argv[2] === 'replica') {
  // One replica: the real sidecar (built), its store opened on the shared file.
  const { createSidecar } = require('../packages/sidecar/dist/sidecar');
  const { loadConfig } = require('../packages/sidecar/dist/config');
  const { Store } = require('../packages/sidecar/dist/store');
  const pino = require('pino');
  const s = createSidecar(loadConfig(process.env), { logger: pino({ level: 'silent' }), openStore: () => new Store(process.env.BENCH_STORE) });
  s.start().then(({ apiPort }) => process.send({ apiPort }));
  process.on('message', (m) => m === 'stop' && s.stop().then(() => process.exit(0)));
  return;
}

const CHANGES = Number(process.env.BENCH_RULE_SYNC_CHANGES || 20);
const SYNC_MS = (process.env.BENCH_RULE_SYNC_MS || '1000,100').split(',').map(Number);
const TOKEN = 'bench-rule-sync-token';
const RULE = { id: 'bench-sync', name: 'bench sync', severity: 'high', condition: 'trace.has(payment.charge) and not trace.has(payment.fraud_check)' };
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const quantile = (xs, q) => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor(q * xs.length))];

async function replica(storeFile, syncMs, keyDir) {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'betrace-bench-rulesync-'));
  // One evidence key folder for both replicas, as replicas sharing a store need (docs/postgres.md).
  const env = { ...process.env, DATA_DIR: dataDir, EVIDENCE_KEY_DIR: keyDir, BENCH_STORE: storeFile, BETRACE_API_TOKEN: TOKEN, HOST: '127.0.0.1', OTLP_PORT: '0', API_PORT: '0', EVAL_WORKERS: '1', RULE_SYNC_MS: String(syncMs), HISTORY_MAX_BYTES: 'off' };
  const child = fork(__filename, ['replica'], { env, stdio: 'inherit' });
  const { apiPort } = await new Promise((resolve, reject) => {
    child.once('message', resolve);
    child.once('exit', (code) => reject(new Error(`replica exited with ${code}`)));
  });
  return { child, api: `http://127.0.0.1:${apiPort}`, dataDir };
}

async function revisionOf(api) {
  const text = await (await fetch(`${api}/metrics`)).text();
  const m = /^betrace_rules_revision\{tenant="default"\} (\d+)$/m.exec(text);
  return m ? Number(m[1]) : -1;
}

async function call(api, method, url, body) {
  const res = await fetch(`${api}${url}`, { method, headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' }, body: JSON.stringify(body) });
  if (res.status >= 300) throw new Error(`${method} ${url}: ${res.status} ${await res.text()}`);
  return res.json();
}

async function measure(syncMs) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'betrace-bench-rulesync-store-'));
  // SQLite by default; with BETRACE_BENCH_DATABASE_URL, a fresh schema on that PostgreSQL server.
  let storeFile = path.join(dir, 'betrace.db');
  if (process.env.BETRACE_BENCH_DATABASE_URL) {
    const u = new URL(process.env.BETRACE_BENCH_DATABASE_URL);
    u.searchParams.set('schema', `rulesync_${process.pid}_${syncMs}_${Date.now()}`);
    storeFile = u.toString();
  }
  const { Store } = require('../packages/sidecar/dist/store');
  new Store(storeFile).close(); // created and migrated once, before the replicas open it
  const a = await replica(storeFile, syncMs, path.join(dir, 'keys'));
  const b = await replica(storeFile, syncMs, path.join(dir, 'keys'));
  const times = [];
  try {
    await call(a.api, 'POST', '/api/v1/rules', RULE);
    for (let i = 0; i < CHANGES; i++) {
      await sleep(Math.random() * syncMs); // changes land anywhere in B's sync period
      const t0 = performance.now();
      const saved = await call(a.api, 'PUT', `/api/v1/rules/${RULE.id}`, { ...RULE, name: `bench sync ${i}` });
      const want = saved.version; // one rule, created at revision 1: revision = version
      while ((await revisionOf(b.api)) < want) {
        if (performance.now() - t0 > 30_000) throw new Error(`replica B did not reach revision ${want} within 30 s`);
        await sleep(2);
      }
      times.push(performance.now() - t0);
    }
  } finally {
    for (const r of [a, b]) {
      r.child.send('stop');
      await new Promise((resolve) => r.child.once('exit', resolve));
      fs.rmSync(r.dataDir, { recursive: true, force: true });
    }
    fs.rmSync(dir, { recursive: true, force: true });
  }
  return { ruleSyncMs: syncMs, changes: times.length, medianMs: Math.round(quantile(times, 0.5)), p95Ms: Math.round(quantile(times, 0.95)), maxMs: Math.round(Math.max(...times)) };
}

(async () => {
  const rows = [];
  for (const syncMs of SYNC_MS) {
    rows.push(await measure(syncMs));
  }
  console.log(`rule change through replica A → in force on replica B (B’s betrace_rules_revision), two processes on one ${process.env.BETRACE_BENCH_DATABASE_URL ? 'PostgreSQL' : 'SQLite'} store`);
  console.log('RULE_SYNC_MS  changes  median ms  p95 ms  max ms');
  for (const r of rows) {
    console.log(`${String(r.ruleSyncMs).padStart(12)}  ${String(r.changes).padStart(7)}  ${String(r.medianMs).padStart(9)}  ${String(r.p95Ms).padStart(6)}  ${String(r.maxMs).padStart(6)}`);
  }
  saveResult(path.join(__dirname, 'results', 'rule-sync.json'), { date: new Date().toISOString(), node: process.version, cpus: os.cpus().length, results: rows });
})().catch((e) => {
  console.error(e);
  process.exit(1);
});
