// The SLO alert rules BeTrace generates (docs/slo.md), evaluated by Prometheus' own PromQL engine:
// `npm run bench slo-promql`. Builds bench/promql/main.go (github.com/prometheus/prometheus/promql
// over a TSDB, Apache-2.0) into the bench cache outside the repository — benchmark and test
// infrastructure, never a BeTrace dependency — feeds it counter series sampled every 15 s for a
// rule burning fast (2 % violate: burn 20), slowly (0.8 %: burn 8), not at all (0.05 %) and one
// that stopped burning 35 minutes ago, and checks, against the real engine:
//   - the error ratio over each window (5m, 30m, 1h, 6h) against the share that violates;
//   - which of the Grafana rules' inline expressions (page: 14.4x over 1h and 5m; ticket: 6x over
//     6h and 30m) fire, against what each scenario must do;
//   - that the sidecar's own alert state (alertFires, what GET /api/v1/rules/{id}/slo answers)
//     agrees with the engine on the engine's ratios.
// jest's slo.test.ts checks the same with a PromQL subset evaluator; this is the real engine.
// Exits 1 on any disagreement. Writes bench/results/slo-promql.json with --save.
const { spawnSync } = require('child_process');
const fs = require('fs');
const path = require('path');
const { cacheRoot, hasGo } = require('./peers/collector');
const { saveResult } = require('./save');

const PROMETHEUS_VERSION = 'v0.316.0';
const HOUR = 3_600_000;
const DAY = 24 * HOUR;

function goEnv(root) {
  return {
    ...process.env,
    GOPATH: path.join(root, 'go'),
    GOMODCACHE: process.env.BETRACE_GOMODCACHE || path.join(root, 'go', 'pkg', 'mod'),
    GOCACHE: path.join(root, 'go-build'),
    GOTOOLCHAIN: 'local',
    CGO_ENABLED: '0',
    GOFLAGS: '-mod=mod',
  };
}

/** The engine's binary, built once into the bench cache. */
function ensureEngine() {
  const root = cacheRoot();
  const dir = path.join(root, `promql-${PROMETHEUS_VERSION}`);
  const bin = path.join(dir, 'promql');
  const source = fs.readFileSync(path.join(__dirname, 'promql', 'main.go'), 'utf8');
  if (fs.existsSync(bin) && fs.readFileSync(path.join(dir, 'main.go'), 'utf8') === source) {
    return bin;
  }
  fs.mkdirSync(dir, { recursive: true });
  fs.writeFileSync(path.join(dir, 'main.go'), source);
  if (!fs.existsSync(path.join(dir, 'go.mod'))) {
    fs.writeFileSync(path.join(dir, 'go.mod'), `module betracepromql\n\ngo 1.24\n\nrequire github.com/prometheus/prometheus ${PROMETHEUS_VERSION}\n`);
  }
  for (const args of [['mod', 'tidy'], ['build', '-o', bin, '.']]) {
    const r = spawnSync('go', args, { cwd: dir, env: goEnv(root), stdio: 'inherit' });
    if (r.status !== 0) {
      throw new Error(`go ${args.join(' ')} failed in ${dir}`);
    }
  }
  return bin;
}

const NOW = Date.UTC(2026, 10, 26, 9, 40, 0);
const START = NOW - 8 * HOUR;
const SCENARIOS = [
  { rule: 'fast', share: () => 0.02, page: true, ticket: true },
  { rule: 'slow', share: () => 0.008, page: false, ticket: true },
  { rule: 'none', share: () => 0.0005, page: false, ticket: false },
  { rule: 'stopped', share: (t) => (t <= NOW - 35 * 60_000 ? 0.05 : 0), page: false, ticket: false },
];

/** Counter samples every 15 s: 20 triggering traces a second, `share(t)` of them violating. */
function traffic(rule, share) {
  const triggered = [];
  const violations = [];
  let tr = 0;
  let vi = 0;
  for (let t = START; t <= NOW; t += 15_000) {
    if (t > START) {
      tr += 20 * 15;
      vi += 20 * 15 * share(t);
    }
    triggered.push([t, tr]);
    violations.push([t, vi]);
  }
  return [
    { labels: { __name__: 'betrace_rule_triggered_total', tenant: 'default', rule }, samples: triggered },
    { labels: { __name__: 'betrace_rule_violations_total', tenant: 'default', rule }, samples: violations },
  ];
}

function main() {
  if (!hasGo()) {
    console.error('slo-promql: needs Go (the machine’s go) to build Prometheus’ engine');
    process.exit(2);
  }
  const alerts = require('../packages/sidecar/dist/slo/alerts');
  const bin = ensureEngine();
  const slo = { objective: 0.999, windowMs: 30 * DAY };
  const windows = ['5m', '30m', '1h', '6h'];
  const queries = [];
  for (const s of SCENARIOS) {
    for (const w of windows) queries.push({ expr: alerts.errorRatioExpr('default', s.rule, w), at: NOW, scenario: s.rule, window: w });
    for (const a of alerts.BURN_ALERTS) queries.push({ expr: alerts.alertExprInline('default', s.rule, slo, a), at: NOW, scenario: s.rule, alert: a.severity });
  }
  const input = { series: SCENARIOS.flatMap((s) => traffic(s.rule, s.share)), queries: queries.map(({ expr, at }) => ({ expr, at })) };
  const started = process.hrtime.bigint();
  const r = spawnSync(bin, [], { input: JSON.stringify(input), encoding: 'utf8', maxBuffer: 1 << 26 });
  if (r.status !== 0) {
    throw new Error(`the engine failed: ${r.stderr}`);
  }
  const ms = Number(process.hrtime.bigint() - started) / 1e6;
  const answers = JSON.parse(r.stdout);
  const rows = [];
  let problems = 0;
  for (const s of SCENARIOS) {
    const ratio = {};
    for (const w of windows) {
      const i = queries.findIndex((q) => q.scenario === s.rule && q.window === w);
      const a = answers[i];
      if (a.error) throw new Error(`${a.expr}: ${a.error}`);
      ratio[w] = a.vector.length === 0 ? null : a.vector[0].value;
    }
    const fired = {};
    for (const al of alerts.BURN_ALERTS) {
      const i = queries.findIndex((q) => q.scenario === s.rule && q.alert === al.severity);
      if (answers[i].error) throw new Error(`${answers[i].expr}: ${answers[i].error}`);
      fired[al.severity] = answers[i].vector.length > 0;
      const sidecar = alerts.alertFires(al, slo, (w) => ratio[w]);
      if (sidecar !== fired[al.severity]) problems++;
    }
    const expected = { page: s.page, ticket: s.ticket };
    const ok = fired.page === expected.page && fired.ticket === expected.ticket;
    if (!ok) problems++;
    // Where the share is constant over a window, the engine's ratio is that share.
    const constant = s.rule !== 'stopped';
    const ratioOk = !constant || windows.every((w) => Math.abs(ratio[w] - s.share(NOW)) < 1e-9);
    if (!ratioOk) problems++;
    rows.push({ scenario: s.rule, ...Object.fromEntries(windows.map((w) => [`ratio ${w}`, ratio[w] === null ? '—' : ratio[w].toFixed(6)])), page: fired.page, ticket: fired.ticket, expected: `${expected.page}/${expected.ticket}`, ok: ok && ratioOk });
  }
  console.log(`Prometheus ${PROMETHEUS_VERSION} engine, ${queries.length} queries over ${input.series.length} series in ${ms.toFixed(0)} ms`);
  const columns = Object.keys(rows[0]);
  const width = (c) => Math.max(c.length, ...rows.map((r) => String(r[c]).length));
  console.log(columns.map((c) => c.padEnd(width(c))).join('  '));
  for (const r of rows) console.log(columns.map((c) => String(r[c]).padEnd(width(c))).join('  '));
  console.log(problems === 0 ? 'every generated alert fires exactly when it must, and the sidecar’s alert state agrees with the engine' : `${problems} disagreement(s)`);
  saveResult(path.join(__dirname, 'results', 'slo-promql.json'), { prometheus: PROMETHEUS_VERSION, rows, problems });
  process.exit(problems === 0 ? 0 : 1);
}

main();
