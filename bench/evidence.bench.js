'use strict';
// Evidence benchmark: GET /api/v1/evidence (limit 100 and 1000, the Evidence page's request) on
// chains of 10 k and 100 k signed records, against the full verification of the same chain in the
// same run (what every list request cost before: ~1 s per 10 k records). A list request verifies
// its page in full, takes the chain summary from the cached full walk (continued over appends) and
// counts per control in SQL. Records look like the recorder's: a summary per rule, mapping and
// minute, 10 sample trace ids. Writes bench/results/evidence.json with --save.
const fs = require('fs');
const os = require('os');
const path = require('path');
const { performance } = require('perf_hooks');
const Fastify = require('fastify');
const { Store } = require('../packages/sidecar/dist/store');
const { EvidenceStore } = require('../packages/sidecar/dist/evidence/store');
const { ChainVerifier, verifyRecords } = require('../packages/sidecar/dist/evidence/chain');
const { registerEvidenceRoutes } = require('../packages/sidecar/dist/evidence/api');
const { saveResult } = require('./save');

const LENGTHS = (process.env.BENCH_EVIDENCE_LENGTHS || '10000,100000').split(',').map(Number);
const REQUESTS = Number(process.env.BENCH_EVIDENCE_REQUESTS || 15);
const T0 = Date.UTC(2025, 10, 25, 0, 0, 0);
const MAPPINGS = [
  ['soc2', 'CC6.1'],
  ['soc2', 'CC7.2'],
  ['hipaa', '164.312(b)'],
  ['pci-dss', '10.2'],
];

function drafts(from, n) {
  const out = [];
  for (let i = from; i < from + n; i++) {
    const [framework, control] = MAPPINGS[i % MAPPINGS.length];
    const minute = Math.floor(i / MAPPINGS.length);
    const failed = i % 7 === 0 ? 1 + (i % 3) : 0;
    out.push({
      framework,
      control,
      ruleId: `rule-${i % MAPPINGS.length}`,
      outcome: failed > 0 ? 'fail' : 'pass',
      evidenceType: 'summary',
      checkedTraces: 40 + (i % 13),
      failedTraces: failed,
      windowStart: T0 + minute * 60000,
      windowEnd: T0 + (minute + 1) * 60000,
      sampleTraceIds: Array.from({ length: 10 }, (_, k) => ((i * 10 + k) % 0xffffffff).toString(16).padStart(32, '0')),
      traceId: i.toString(16).padStart(32, '0'),
    });
  }
  return out;
}

const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
};
const ms = (x) => +x.toFixed(2);

async function main() {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'betrace-bench-evidence-'));
  const store = new Store(path.join(dataDir, 'betrace.db'));
  const evidence = new EvidenceStore(store.db);
  const now = Date.UTC(2026, 10, 28, 12, 0, 0);
  const app = Fastify();
  registerEvidenceRoutes(app, { store, evidence, now: () => now, tenantOf: (req) => String(req.headers['x-tenant']), who: () => 'bench' });
  await app.listen({ port: 0, host: '127.0.0.1' });
  const base = `http://127.0.0.1:${app.server.address().port}`;
  const list = async (tenant, query) => {
    const t = performance.now();
    const res = await fetch(`${base}/api/v1/evidence?${query}`, { headers: { 'x-tenant': tenant } });
    const body = await res.json();
    if (res.status !== 200 || !body.verification.ok) throw new Error(`list ${query}: ${res.status} ${JSON.stringify(body.verification)}`);
    return { ms: performance.now() - t, body };
  };

  const chains = [];
  for (const length of LENGTHS) {
    const tenant = `t${length}`;
    const tb = performance.now();
    for (let i = 0; i < length; i += 1000) evidence.append(tenant, drafts(i, Math.min(1000, length - i)), [], now);
    const buildSeconds = (performance.now() - tb) / 1000;

    // The full walk of the chain (what every list request did before; exports still do).
    const full = [];
    for (let k = 0; k < 2; k++) {
      const t = performance.now();
      const { summary } = new ChainVerifier(evidence).full(tenant, now);
      full.push(performance.now() - t);
      if (!summary.ok || summary.records !== length) throw new Error('the chain does not verify');
    }
    // The first list request walks the chain in full (no cached walk yet); the rest use the cache.
    const first = await list(tenant, 'limit=100');
    const row = { length, buildSeconds: +buildSeconds.toFixed(1), fullVerifyMs: ms(median(full)), firstListMs: ms(first.ms), list: {} };
    for (const limit of [100, 1000]) {
      for (const [where, offset] of [['oldest', 0], ['newest', length - limit]]) {
        const times = [];
        for (let k = 0; k < REQUESTS; k++) times.push((await list(tenant, `limit=${limit}&offset=${offset}`)).ms);
        row.list[`limit ${limit} ${where}`] = { medianMs: ms(median(times)), minMs: ms(Math.min(...times)) };
      }
    }
    // After 60 records appended (an hour of one rule): the cached walk continues over them.
    evidence.append(tenant, drafts(length, 60), [], now);
    const after = await list(tenant, 'limit=1000');
    row.listAfter60AppendsMs = ms(after.ms);
    if (after.body.verification.head !== length + 60 || after.body.verification.scope !== 'cached') throw new Error('the cached walk did not continue');
    // Where a limit=1000 request's time goes, in-process.
    const part = (f) => {
      const times = [];
      for (let k = 0; k < REQUESTS; k++) {
        const t = performance.now();
        f();
        times.push(performance.now() - t);
      }
      return ms(median(times));
    };
    const verifier = new ChainVerifier(evidence);
    verifier.full(tenant, now);
    row.parts = {
      pageQueryMs: part(() => evidence.page(tenant, { limit: 1000, offset: 0 })),
      pageVerifyMs: (() => {
        const { rows } = evidence.page(tenant, { limit: 1000, offset: 0 });
        return part(() => verifyRecords(evidence, tenant, rows));
      })(),
      cachedSummaryMs: part(() => verifier.summary(tenant, now)),
      controlsSqlMs: part(() => evidence.controls(tenant, {})),
    };
    row.ratio = {};
    for (const [k, v] of Object.entries(row.list)) row.ratio[k] = Math.round(row.fullVerifyMs / v.medianMs);
    chains.push(row);
  }
  await app.close();
  store.close();
  fs.rmSync(dataDir, { recursive: true, force: true });

  const results = { node: process.version, date: new Date().toISOString(), requestsPerCase: REQUESTS, chains };
  console.log(`\nEvidence benchmark — list requests against the full verification of the same chain, ${REQUESTS} requests per case (median), ${process.version}\n`);
  const w = [28, 14, 14, 12];
  for (const c of chains) {
    console.log(`chain of ${c.length} records (built in ${c.buildSeconds} s): full verification ${c.fullVerifyMs} ms; first list request (walks in full) ${c.firstListMs} ms`);
    console.log(['request', 'median ms', 'min ms', 'full / list'].map((h, i) => h.padEnd(w[i])).join(' '));
    for (const [k, v] of Object.entries(c.list)) console.log([`GET ?${k}`, v.medianMs, v.minMs, `${c.ratio[k]}×`].map((x, i) => String(x).padEnd(w[i])).join(' '));
    console.log(`${'limit 1000 after 60 appends'.padEnd(w[0])} ${c.listAfter60AppendsMs} ms (cached walk continued to the head)`);
    console.log(`parts of a limit 1000 request: page query ${c.parts.pageQueryMs} ms, page verification ${c.parts.pageVerifyMs} ms, cached summary ${c.parts.cachedSummaryMs} ms, controls (SQL) ${c.parts.controlsSqlMs} ms\n`);
  }
  const out = path.join(__dirname, 'results', 'evidence.json');
  saveResult(out, results);
}

main().catch((e) => {
  console.error(e);
  process.exitCode = 1;
});
