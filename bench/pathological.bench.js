'use strict';
// Pathological trace shapes: one OTLP request holding one trace that is a 20 000- or 40 000-span
// parent chain, or one parent with 20 000 children. Evaluates the example rules (bench/rules.js)
// plus rules using every structural and ordering operator, against the baseline of the same run:
// decoding the same OTLP/JSON text into a Trace (decodeOtlpJsonText → buildTrace). Prints median
// and spread over repeats and the ratio; writes bench/results/pathological.json with --save.
//
//   npm run bench pathological
//   BENCH_EVALUATOR_DIST=/path/to/other/packages/evaluator/dist node bench/pathological.bench.js
//     measures another build (e.g. main's) with the same traces and rules;
//   BENCH_SHAPES=chain20k,wide20k  BENCH_RUNS=7  choose shapes and repeats;
//   BENCH_PER_RULE=0 skips the per-rule timings (one more evaluation per rule).
const fs = require('fs');
const path = require('path');
const { performance } = require('perf_hooks');
const { ruleTexts } = require('./rules');

const DIST = process.env.BENCH_EVALUATOR_DIST || path.join(__dirname, '../packages/evaluator/dist');
const { compileRule, decodeOtlpJsonText, evaluateTrace } = require(DIST);
const { saveResult } = require('./save');
const RUNS = Number(process.env.BENCH_RUNS || 7);
const SHAPES = (process.env.BENCH_SHAPES || 'chain20k,chain40k,wide20k').split(',');

const STRUCTURAL = [
  'count(*.descendant_of(span("GET /checkout"))) > 0',
  'count(*.ancestor_of(audit.log)) > 0',
  'count(database.query.child_of(step)) > 0',
  'count(step.parent_of(database.query)) > 0',
  'count(*.sibling_of(auth.check)) > 0',
  'count(*.before(payment.charge)) > 0',
  'count(*.after(auth.check, within 5s)) > 0',
  'count(step.before(step, within 1ms)) > 0',
  'when { q: database.query } always { auth.check.ancestor_of(q) }',
  'when { r: audit.log } always { step.descendant_of(checkout).before(r) }',
];

// Every name the rules look for occurs, spread along the trace, so every rule does its work.
const NAMES = ['step', 'checkout', 'step', 'auth.check', 'step', 'database.query', 'step', 'inventory.reserve', 'step', 'payment.fraud_check', 'step', 'payment.charge', 'step', 'audit.log', 'http.retry'];
const BASE_NS = 1764028800000000000n;
const TRACE_ID = '5b8efff798038103d269b633813fc60c';

function spanId(i) {
  return (i + 1).toString(16).padStart(16, '0');
}

function otlpSpan(i, parent, name) {
  const start = BASE_NS + BigInt(i) * 1000000n;
  const attributes = [
    { key: 'amount', value: { intValue: String(i % 2 === 0 ? 500 : 1500) } },
    { key: 'order_id', value: { stringValue: `ord-${i % 64}` } },
    { key: 'db.operation', value: { stringValue: 'SELECT' } },
    { key: 'db.statement', value: { stringValue: `SELECT * FROM t${i % 16}` } },
  ];
  return {
    traceId: TRACE_ID,
    spanId: spanId(i),
    ...(parent === undefined ? {} : { parentSpanId: spanId(parent) }),
    name,
    kind: i % 3 === 0 ? 3 : 1,
    startTimeUnixNano: String(start),
    endTimeUnixNano: String(start + 500000n),
    attributes,
    status: {},
  };
}

/** OTLP/JSON text of one trace: `parentOf(i)` gives each span's parent. */
function request(n, parentOf) {
  const spans = [];
  for (let i = 0; i < n; i++) {
    spans.push(otlpSpan(i, parentOf(i), i === 0 ? 'GET /checkout' : NAMES[i % NAMES.length]));
  }
  return JSON.stringify({ resourceSpans: [{ resource: { attributes: [{ key: 'service.name', value: { stringValue: 'shop' } }] }, scopeSpans: [{ spans }] }] });
}

const SHAPE_BUILDERS = {
  chain20k: () => request(20000, (i) => (i === 0 ? undefined : i - 1)),
  chain40k: () => request(40000, (i) => (i === 0 ? undefined : i - 1)),
  wide20k: () => request(20001, (i) => (i === 0 ? undefined : 0)),
};

function compileAll(texts) {
  return texts.map((condition, i) => {
    const r = compileRule({ id: `rule-${i}`, name: condition, severity: 'high', enabled: true, condition });
    if (!r.rule) {throw new Error(`bench rule does not compile: ${condition}\n${JSON.stringify(r.diagnostics)}`);}
    return r.rule;
  });
}

function stats(xs) {
  const s = [...xs].sort((a, b) => a - b);
  const median = s[Math.floor(s.length / 2)];
  return { median: +median.toFixed(2), min: +s[0].toFixed(2), max: +s[s.length - 1].toFixed(2), spreadPct: +((100 * (s[s.length - 1] - s[0])) / 2 / median).toFixed(1) };
}

/** Runs fn RUNS times, after one warm-up run unless RUNS is 1; returns the times and the last result. */
function measure(fn) {
  let out;
  const times = [];
  for (let run = RUNS > 1 ? 0 : 1; run <= RUNS; run++) {
    if (global.gc) {global.gc();}
    const t0 = performance.now();
    out = fn();
    const ms = performance.now() - t0;
    if (run > 0) {times.push(ms);}
  }
  return { times, out };
}

function main() {
  const rules = compileAll([...ruleTexts(0), ...STRUCTURAL]);
  const results = { node: process.version, date: new Date().toISOString(), evaluator: path.relative(process.cwd(), DIST) || DIST, runs: RUNS, shapes: {} };
  console.log(`\nPathological traces — ${rules.length} rules (bench/rules.js + ${STRUCTURAL.length} structural), median of ${RUNS} runs, ${process.version}, evaluator ${results.evaluator}\n`);
  const w = [10, 8, 28, 28, 10, 8, 6];
  console.log(['shape', 'spans', 'decode+buildTrace ms', 'evaluate all rules ms', 'ratio', 'fired', 'skip'].map((c, i) => c.padEnd(w[i])).join(' '));
  for (const shape of SHAPES) {
    const text = SHAPE_BUILDERS[shape]();
    const decode = measure(() => decodeOtlpJsonText(text));
    const [trace] = decode.out;
    const skipped = new Set();
    const evaluate = measure(() => evaluateTrace(rules, trace, { onRuleSkipped: (id, reason) => skipped.add(`${id}:${reason}`) }));
    const d = stats(decode.times);
    const e = stats(evaluate.times);
    const fired = new Set(evaluate.out.map((v) => v.ruleId)).size;
    // Per rule, once each (after the warm-up above), to show which rule costs what.
    const perRule = process.env.BENCH_PER_RULE === '0' ? [] : rules.map((r) => {
      const t0 = performance.now();
      evaluateTrace([r], trace);
      return { rule: r.definition.condition, ms: +(performance.now() - t0).toFixed(2) };
    });
    results.shapes[shape] = { spans: trace.spans.length, decodeMs: d, evaluateMs: e, ratio: +(e.median / d.median).toFixed(3), rulesFired: fired, skipped: [...skipped], perRule };
    const show = (s) => `${s.median} (${s.min}–${s.max}, ±${s.spreadPct}%)`;
    console.log([shape, trace.spans.length, show(d), show(e), `${(e.median / d.median).toFixed(3)}x`, fired, skipped.size].map((c, i) => String(c).padEnd(w[i])).join(' '));
  }
  for (const shape of SHAPES) {
    const slow = [...results.shapes[shape].perRule].sort((a, b) => b.ms - a.ms).slice(0, 3);
    console.log(`\n${shape}: slowest rules (one run each): ${slow.map((r) => `${r.ms} ms ${r.rule}`).join(' | ')}`);
  }
  const out = path.join(__dirname, 'results', process.env.BENCH_EVALUATOR_DIST ? 'pathological.other.json' : 'pathological.json');
  fs.mkdirSync(path.dirname(out), { recursive: true });
  saveResult(out, results);
}

main();
