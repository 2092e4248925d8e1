'use strict';
// Rule health's cost on evaluation: the example-rule corpus evaluated as the sidecar did before
// (trigger reported for compliance-mapped rules only: none here) and as it does now (every rule's
// trigger reported, 1 trace in 16 per rule timed), alternating in one process. Prints the median
// traces/s of each over the runs and the ratio; writes bench/results/rule-health.json.
const { performance } = require('perf_hooks');
const { compileRule, evaluateTrace } = require('../packages/evaluator/dist');
const { makeCorpus } = require('./corpus');
const { ruleTexts } = require('./rules');
const { saveResult } = require('./save');

const TRACES = Number(process.env.BENCH_TRACES || 20000);
const RUNS = Number(process.env.BENCH_RUNS || 3);
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

const rules = ruleTexts(0).map((condition, i) => compileRule({ id: `rule-${i}`, name: `rule ${i}`, severity: 'high', enabled: true, condition }).rule);
const all = new Set(rules.map((r) => r.definition.id));
const fresh = (traces) => traces.map((t) => ({ traceId: t.traceId, spans: t.spans, rootSpan: t.rootSpan, startNs: t.startNs, endNs: t.endNs }));

function before(batch) {
  let n = 0;
  for (const t of batch) n += evaluateTrace(rules, t, { timeBudgetMs: 1000, onRuleSkipped: () => {}, onRuleError: () => {} }).length;
  return n;
}

function after(batch) {
  let n = 0;
  let phase = 0;
  const costs = [];
  for (const t of batch) {
    const p = phase;
    phase = (phase + 1) % 16;
    const triggered = [];
    n += evaluateTrace(rules, t, {
      timeBudgetMs: 1000,
      onRuleSkipped: () => {},
      onRuleError: () => {},
      triggerRuleIds: all,
      onTriggered: (id) => triggered.push(id),
      cost: { sampled: (i) => (p + i) % 16 === 0, clock: () => performance.now(), onCost: (id, ms) => costs.push([id, ms]) },
    }).length;
  }
  return n;
}

const { traces } = makeCorpus(TRACES);
const rates = { before: [], after: [] };
for (let run = 0; run < RUNS + 1; run++) {
  for (const [name, fn] of [['before', before], ['after', after]]) {
    const batch = fresh(traces);
    const t0 = performance.now();
    fn(batch);
    const s = (performance.now() - t0) / 1000;
    if (run > 0) rates[name].push(traces.length / s); // the first round warms up
  }
}
const result = {
  traces: traces.length,
  rules: rules.length,
  runs: RUNS,
  beforeTracesPerSec: rates.before.map(Math.round),
  afterTracesPerSec: rates.after.map(Math.round),
  medianBefore: Math.round(median(rates.before)),
  medianAfter: Math.round(median(rates.after)),
  ratio: Number((median(rates.after) / median(rates.before)).toFixed(3)),
};
console.log(JSON.stringify(result, null, 2));
saveResult(require('path').join(__dirname, 'results/rule-health.json'), result);
