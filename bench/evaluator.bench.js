'use strict';
// Evaluator benchmark: throughput of compiled rules over a corpus of realistic traces, against
// the same rules written by hand and the same rules in json-rules-engine, measured in one run.
// Prints a table and writes bench/results/evaluator.json with --save. One core (this process).
const fs = require('fs');
const os = require('os');
const path = require('path');
const { performance } = require('perf_hooks');
const { Engine } = require('json-rules-engine');
const { compileRule, evaluateTrace, parseRule } = require('../packages/evaluator/dist');
const { makeCorpus } = require('./corpus');
const { ruleTexts, handWritten, jsonRulesEngine } = require('./rules');
const { saveResult } = require('./save');

const TRACES = Number(process.env.BENCH_TRACES || 20000);
const RUNS = Number(process.env.BENCH_RUNS || 7);
const JRE_TRACES = Number(process.env.BENCH_JRE_TRACES || 1000);

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

function compileAll(texts) {
  return texts.map((condition, i) => {
    const r = compileRule({ id: `rule-${i}`, name: `rule ${i}`, severity: 'high', enabled: true, condition });
    if (!r.rule) {throw new Error(`bench rule does not compile: ${condition}\n${JSON.stringify(r.diagnostics)}`);}
    return r.rule;
  });
}

/** Fresh Trace objects for every run: the evaluator caches its per-trace index on the object. */
function freshCopies(traces) {
  return traces.map((t) => ({ traceId: t.traceId, spans: t.spans, rootSpan: t.rootSpan, startNs: t.startNs, endNs: t.endNs }));
}

function time(fn) {
  const t0 = performance.now();
  const out = fn();
  return { ms: performance.now() - t0, out };
}

function measureBeTrace(rules, traces) {
  const times = [];
  let violations = 0;
  for (let run = 0; run < RUNS + 1; run++) {
    const batch = freshCopies(traces);
    const { ms, out } = time(() => {
      let v = 0;
      for (const t of batch) {v += evaluateTrace(rules, t).length;}
      return v;
    });
    if (run > 0) {times.push(ms);} // run 0 warms up the JIT
    violations = out;
  }
  return { ms: median(times), violations };
}

function measureHand(fns, traces) {
  const times = [];
  let fired = 0;
  for (let run = 0; run < RUNS + 1; run++) {
    const { ms, out } = time(() => {
      let n = 0;
      for (const t of traces) {for (const f of fns) {if (f(t)) {n++;}}}
      return n;
    });
    if (run > 0) {times.push(ms);}
    fired = out;
  }
  return { ms: median(times), fired };
}

async function measureJre(traces) {
  const engine = jsonRulesEngine(Engine);
  let fired = 0;
  const t0 = performance.now();
  for (const t of traces) {
    const { events } = await engine.run({ trace: t });
    fired += events.length;
  }
  return { ms: performance.now() - t0, fired };
}

function measureCompile(texts) {
  const perRule = [];
  const parseOnly = [];
  for (let run = 0; run < 50; run++) {
    for (const condition of texts) {
      const t0 = performance.now();
      compileRule({ id: 'r', name: 'r', severity: 'high', enabled: true, condition });
      perRule.push(performance.now() - t0);
      const t1 = performance.now();
      parseRule(condition);
      parseOnly.push(performance.now() - t1);
    }
  }
  return { compileMs: median(perRule), parseMs: median(parseOnly) };
}

async function main() {
  const { traces, totalSpans } = makeCorpus(TRACES);
  const rules10 = compileAll(ruleTexts(0));
  const rules100 = compileAll(Array.from({ length: 10 }, (_v, i) => ruleTexts(i)).flat());
  const hand10 = handWritten(0);
  const hand100 = Array.from({ length: 10 }, (_v, i) => handWritten(i)).flat();

  // The ratio means something only if both fire on exactly the same (trace, rule) pairs.
  for (const [rules, hand] of [
    [rules10, hand10],
    [rules100, hand100],
  ]) {
    for (const t of traces) {
      const fired = new Set(evaluateTrace(rules, t).map((v) => v.ruleId));
      hand.forEach((f, i) => {
        if (f(t) !== fired.has(`rule-${i}`)) {
          throw new Error(`rule ${i} disagrees with its hand-written twin on trace ${t.traceId}: ${ruleTexts(Math.floor(i / 10))[i % 10]}`);
        }
      });
    }
  }
  const t0 = performance.now();
  const b10 = measureBeTrace(rules10, traces);
  const b100 = measureBeTrace(rules100, traces);
  const h10 = measureHand(hand10, traces);
  const h100 = measureHand(hand100, traces);
  console.error(`timed runs took ${((performance.now() - t0) / 1000).toFixed(1)} s`);
  const jreTraces = traces.slice(0, JRE_TRACES);
  const jreSpans = jreTraces.reduce((n, t) => n + t.spans.length, 0);
  const jre = await measureJre(jreTraces);
  const b10OnJre = measureBeTrace(rules10, jreTraces);
  const compile = measureCompile(ruleTexts(0));

  const spansPerSec = (ms, spans) => Math.round(spans / (ms / 1000));
  const results = {
    node: process.version,
    date: new Date().toISOString(),
    cpu: os.cpus()[0] ? os.cpus()[0].model : 'unknown',
    corpus: { traces: TRACES, spans: totalSpans, meanSpansPerTrace: +(totalSpans / TRACES).toFixed(1), runs: RUNS },
    evaluation: {
      rules10: { spansPerSec: spansPerSec(b10.ms, totalSpans), medianMs: +b10.ms.toFixed(2), violations: b10.violations, target: 5000000 },
      rules100: { spansPerSec: spansPerSec(b100.ms, totalSpans), medianMs: +b100.ms.toFixed(2), violations: b100.violations, target: 1000000 },
    },
    handWritten: {
      rules10: { spansPerSec: spansPerSec(h10.ms, totalSpans), medianMs: +h10.ms.toFixed(2), ratio: +(b10.ms / h10.ms).toFixed(3), target: 1.5 },
      rules100: { spansPerSec: spansPerSec(h100.ms, totalSpans), medianMs: +h100.ms.toFixed(2), ratio: +(b100.ms / h100.ms).toFixed(3), target: 1.5 },
    },
    jsonRulesEngine: {
      traces: JRE_TRACES,
      spans: jreSpans,
      spansPerSec: spansPerSec(jre.ms, jreSpans),
      ratioToBeTrace: +(jre.ms / b10OnJre.ms).toFixed(1),
      fired: jre.fired,
      betraceViolations: b10OnJre.violations,
    },
    compile: { parseAndCompileMsPerRule: +compile.compileMs.toFixed(4), parseMsPerRule: +compile.parseMs.toFixed(4), targetMs: 1 },
  };

  const verdict = (ok) => (ok ? 'PASS' : 'MISS');
  const rows = [
    ['evaluation, 10 rules', `${(results.evaluation.rules10.spansPerSec / 1e6).toFixed(2)} M spans/s`, '>= 5 M spans/s', verdict(results.evaluation.rules10.spansPerSec >= 5e6)],
    ['evaluation, 100 rules', `${(results.evaluation.rules100.spansPerSec / 1e6).toFixed(2)} M spans/s`, '>= 1 M spans/s', verdict(results.evaluation.rules100.spansPerSec >= 1e6)],
    ['vs hand-written JS, 10 rules', `${results.handWritten.rules10.ratio}x the time`, '<= 1.5x', verdict(results.handWritten.rules10.ratio <= 1.5)],
    ['vs hand-written JS, 100 rules', `${results.handWritten.rules100.ratio}x the time`, '<= 1.5x', verdict(results.handWritten.rules100.ratio <= 1.5)],
    ['json-rules-engine, 10 rules', `${results.jsonRulesEngine.ratioToBeTrace}x BeTrace's time (${(results.jsonRulesEngine.spansPerSec / 1e3).toFixed(0)} k spans/s)`, '(comparison)', ''],
    ['parse + compile, per rule', `${results.compile.parseAndCompileMsPerRule} ms`, '<= 1 ms', verdict(results.compile.parseAndCompileMsPerRule <= 1)],
    ['parse only (editor keystroke)', `${results.compile.parseMsPerRule} ms`, '', ''],
  ];
  console.log(`\nEvaluator benchmark — ${TRACES} traces, ${totalSpans} spans (${results.corpus.meanSpansPerTrace}/trace), median of ${RUNS} runs, ${process.version}\n`);
  const w = [32, 44, 16, 4];
  console.log(['measure', 'result', 'target', ''].map((c, i) => c.padEnd(w[i])).join(' '));
  for (const r of rows) {console.log(r.map((c, i) => String(c).padEnd(w[i])).join(' '));}
  const out = path.join(__dirname, 'results', 'evaluator.json');
  fs.mkdirSync(path.dirname(out), { recursive: true });
  saveResult(out, results);
}

main().catch((e) => {
  console.error(e);
  process.exitCode = 1;
});
