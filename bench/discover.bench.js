'use strict';
// Discovery benchmark (issue 13): quality and cost of invariant discovery on synthetic corpora
// with planted invariants (packages/evaluator/src/discover/synthetic.ts).
//
// Quality: three corpora of 28 planted invariants each (4 of each kind per corpus, 12 per kind in
// all; the kinds' variants rotate between corpora), 5 distractors each, ~1 % truncated traces,
// vocabulary 500, at violation noise 0, 0.5 % and 2 %. Recall: planted invariants among the top
// 50 suggestions of their corpus (a suggestion is equivalent: same rule, bound within tolerance).
// Precision: a suggestion is false when the real evaluator fires it on more than 1 % of the traces
// where its trigger holds, in a CLEAN held-out corpus (noise 0, same model, another seed).
// Calibration: signals per 10 000 trigger events (bound spans, or traces without a binding) of
// the adopted suggestions (= those that found a planted invariant) on that clean corpus.
// Cost: 100 000 traces mined in a child process (single-threaded V8, no concurrent GC, the heap
// bounds of the sidecar's discovery worker: MINING_HEAP_MB), at
// vocabulary 50, 500 and 5 000, each 3×: wall time (also of generating the traces alone, which
// the source does on both passes) and peak RSS (process.resourceUsage().maxRSS).
//
// The generator's own time (measured around each trace it yields, in the same run) is not
// mining: it is subtracted. The 1-minute load average (os.loadavg) before and after each run is
// printed: the machine may be shared, and a loaded machine is slower.
//
//   npm run bench discover [-- --save]   BENCH_DISCOVER_TRACES=20000 BENCH_DISCOVER_COST_TRACES=100000 BENCH_DISCOVER_REPEATS=3
//
// Writes bench/results/discover.json only with --save.
const fs = require('fs');
const os = require('os');
const path = require('path');
const { spawnSync } = require('child_process');
const { saveResult } = require('./save');

const DIST = path.join(__dirname, '../packages/evaluator/dist');
const QUALITY_TRACES = Number(process.env.BENCH_DISCOVER_TRACES || 20000);
const CLEAN_TRACES = Number(process.env.BENCH_DISCOVER_CLEAN_TRACES || 10000);
const COST_TRACES = Number(process.env.BENCH_DISCOVER_COST_TRACES || 100000);
const REPEATS = Number(process.env.BENCH_DISCOVER_REPEATS || 3);
const NOISES = [0, 0.005, 0.02];
const CORPORA = [
  { seed: 11, kindOffset: 0 },
  { seed: 12, kindOffset: 1 },
  { seed: 13, kindOffset: 2 },
];
const TOP = 50;

// The sidecar mines on a worker thread with these V8 heap bounds (MINING_HEAP_MB, resourceLimits):
// the cost runs use the same, as flags (V8's young generation is three semi-spaces).
const MINING_HEAP_FLAGS = (() => {
  const { MINING_HEAP_MB } = require(DIST);
  return [`--max-old-space-size=${MINING_HEAP_MB.old}`, `--max-semi-space-size=${MINING_HEAP_MB.young / 3}`];
})();

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

/** The span name of the trigger, and whether the rule binds (trigger events are then spans). */
function triggerOf(evaluator, condition) {
  const ast = evaluator.parseRule(condition).ast;
  const sel = ast.binding ? ast.binding.selector : ast.when.selector;
  let s = sel;
  while (s.type !== 'name') s = s.base;
  return { name: s.name, bound: ast.binding !== undefined, whenRule: ast.binding ? undefined : ast };
}

async function quality() {
  const evaluator = require(DIST);
  const { syntheticCorpus, matchesPlanted } = require(path.join(DIST, 'discover/synthetic'));
  const rows = [];
  for (const noise of NOISES) {
    let planted = 0, found = 0, suggested = 0, falses = 0, signals = 0, events = 0, distractorsOut = 0;
    const perKind = {};
    for (const c of CORPORA) {
      const corpus = syntheticCorpus({ ...c, traces: QUALITY_TRACES, vocabulary: 500, noise });
      const result = await evaluator.discoverInvariants(corpus.traces, { top: TOP });
      const top = result.suggestions;
      const hit = new Set();
      const adopted = new Set();
      for (const s of top) {
        const i = corpus.planted.findIndex((p) => matchesPlanted(p, s.condition));
        if (i >= 0) {
          hit.add(i);
          adopted.add(s.id);
        }
        if (corpus.distractors.some((d) => d.condition === s.condition)) distractorsOut++;
      }
      for (const [i, p] of corpus.planted.entries()) {
        perKind[p.kind] ??= { planted: 0, found: 0 };
        perKind[p.kind].planted++;
        if (hit.has(i)) perKind[p.kind].found++;
      }
      planted += corpus.planted.length;
      found += hit.size;
      suggested += top.length;
      // The clean held-out corpus: the same model, noise 0, other traces.
      const clean = syntheticCorpus({ ...c, traces: CLEAN_TRACES, vocabulary: 500, noise: 0, traceSeed: c.seed + 1000 });
      const rules = top.map((s) => ({ s, rule: evaluator.compileRule({ id: s.id, name: s.title, severity: 'medium', enabled: true, condition: s.condition }).rule, trig: triggerOf(evaluator, s.condition), triggered: 0, fired: 0, events: 0, signals: 0 }));
      const triggerRules = new Map();
      for (const r of rules) {
        if (r.s.condition.startsWith('when {') && !r.trig.bound) {
          const when = r.s.condition.slice(r.s.condition.indexOf('{') + 1, r.s.condition.indexOf('} ')).trim();
          triggerRules.set(r.s.id, evaluator.compileRule({ id: `${r.s.id}:t`, name: 't', severity: 'low', enabled: true, condition: when }).rule);
        }
      }
      const compiled = [...rules.map((r) => r.rule), ...triggerRules.values()];
      for (const trace of clean.traces()) {
        const byRule = new Map();
        for (const v of evaluator.evaluateTrace(compiled, trace)) byRule.set(v.ruleId, (byRule.get(v.ruleId) || 0) + 1);
        const counts = new Map();
        for (const sp of trace.spans) counts.set(sp.name, (counts.get(sp.name) || 0) + 1);
        for (const r of rules) {
          const n = counts.get(r.trig.name) || 0;
          const triggered = r.trig.bound ? n > 0 : byRule.has(`${r.s.id}:t`);
          if (!triggered) continue;
          r.triggered++;
          r.events += r.trig.bound ? n : 1;
          const fires = byRule.get(r.s.id) || 0;
          if (fires > 0) r.fired++;
          r.signals += fires;
        }
      }
      for (const r of rules) {
        if (r.triggered > 0 && r.fired / r.triggered > 0.01) falses++;
        if (adopted.has(r.s.id)) {
          signals += r.signals;
          events += r.events;
        }
      }
    }
    const recall = found / planted;
    const precision = suggested === 0 ? 1 : 1 - falses / suggested;
    rows.push({ noise, planted, found, recall: +recall.toFixed(3), suggested, falseSuggestions: falses, precision: +precision.toFixed(3), distractorsSuggested: distractorsOut, falseSignalsPer10k: events === 0 ? 0 : +((signals / events) * 1e4).toFixed(3), triggerEvents: events, perKind });
  }
  return rows;
}

function costChild() {
  // In the child: mine COST_TRACES traces at the given vocabulary; print the figures as JSON.
  // The generator runs inside discovery's two passes (the traces are made afresh on each, never
  // held in memory); the time spent in it is measured where it is spent — around every next()
  // of the source's iterator — and subtracted, so "mining" is discovery's own time.
  const evaluator = require(DIST);
  const { syntheticCorpus } = require(path.join(DIST, 'discover/synthetic'));
  const { performance } = require('perf_hooks');
  const vocabulary = Number(process.argv[3]);
  const corpus = syntheticCorpus({ seed: 21, traces: COST_TRACES, vocabulary, noise: 0.005 });
  let generateMs = 0;
  const timed = () => {
    const it = corpus.traces()[Symbol.iterator]();
    return {
      [Symbol.iterator]() {
        return this;
      },
      next() {
        const t = performance.now();
        const r = it.next();
        generateMs += performance.now() - t;
        return r;
      },
    };
  };
  const load = os.loadavg()[0];
  const t0 = performance.now();
  evaluator.discoverInvariants(timed).then((r) => {
    const totalMs = performance.now() - t0;
    process.stdout.write(JSON.stringify({ vocabulary, traces: r.traces, spans: r.spans, spanNames: r.spanNames, suggestions: r.suggestions.length, generateMs, totalMs, miningMs: totalMs - generateMs, maxRssBytes: process.resourceUsage().maxRSS * 1024, load: [load, os.loadavg()[0]] }) + '\n');
  });
}

function cost() {
  const rows = [];
  for (const vocabulary of [50, 500, 5000]) {
    const runs = [];
    for (let i = 0; i < REPEATS; i++) {
      const r = spawnSync(process.execPath, ['--single-threaded', ...MINING_HEAP_FLAGS, __filename, '--cost-child', String(vocabulary)], { encoding: 'utf8', maxBuffer: 1 << 20 });
      if (r.status !== 0) throw new Error(`cost run failed: ${r.stderr}`);
      runs.push(JSON.parse(r.stdout.trim().split('\n').pop()));
    }
    const pick = (k) => runs.map((x) => x[k]);
    const spread = (xs) => [Math.min(...xs), Math.max(...xs)];
    rows.push({
      vocabulary,
      traces: runs[0].traces,
      spans: runs[0].spans,
      spanNames: runs[0].spanNames,
      miningSecondsMedian: +(median(pick('miningMs')) / 1e3).toFixed(2),
      miningSecondsSpread: spread(pick('miningMs')).map((x) => +(x / 1e3).toFixed(2)),
      totalSecondsMedian: +(median(pick('totalMs')) / 1e3).toFixed(2),
      totalSecondsSpread: spread(pick('totalMs')).map((x) => +(x / 1e3).toFixed(2)),
      generateSecondsMedian: +(median(pick('generateMs')) / 1e3).toFixed(2),
      loadAverage: spread(runs.flatMap((x) => x.load)).map((x) => +x.toFixed(2)),
      maxRssMiBMedian: Math.round(median(pick('maxRssBytes')) / 2 ** 20),
      maxRssMiBSpread: spread(pick('maxRssBytes')).map((x) => Math.round(x / 2 ** 20)),
    });
  }
  return rows;
}

async function main() {
  const q = process.env.BENCH_DISCOVER_SKIP_QUALITY ? [] : await quality();
  const c = process.env.BENCH_DISCOVER_SKIP_COST ? [] : cost();
  const verdict = (ok) => (ok ? 'pass' : 'FAIL');
  const lines = [];
  for (const r of q) {
    const [rt, pt] = r.noise <= 0.005 ? [0.9, 0.9] : [0.8, 0.85];
    lines.push([`recall @${TOP}, noise ${r.noise * 100} %`, `${r.recall} (${r.found}/${r.planted})`, `>= ${rt}`, verdict(r.recall >= rt)]);
    lines.push([`precision, noise ${r.noise * 100} %`, `${r.precision} (${r.falseSuggestions} false of ${r.suggested})`, `>= ${pt}`, verdict(r.precision >= pt)]);
    lines.push([`false signals / 10k triggers, noise ${r.noise * 100} %`, `${r.falseSignalsPer10k} (${r.triggerEvents} events)`, '<= 1', verdict(r.falseSignalsPer10k <= 1)]);
    lines.push([`distractors suggested, noise ${r.noise * 100} %`, String(r.distractorsSuggested), '0', verdict(r.distractorsSuggested === 0)]);
  }
  for (const r of c) {
    lines.push([`mine ${r.traces} traces (${(r.spans / 1e6).toFixed(2)} M spans), ${r.spanNames} names`, `${r.miningSecondsMedian} s (${r.miningSecondsSpread.join('–')}); with generation ${r.totalSecondsMedian} s; load ${r.loadAverage.join('–')}`, '<= 60 s', verdict(r.miningSecondsMedian <= 60)]);
    lines.push([`peak RSS, ${r.spanNames} names`, `${r.maxRssMiBMedian} MiB (${r.maxRssMiBSpread.join('–')})`, '<= 1024 MiB', verdict(r.maxRssMiBMedian <= 1024)]);
  }
  const load = os.loadavg().map((x) => x.toFixed(2)).join(' ');
  console.log(`\nDiscovery benchmark — quality on ${CORPORA.length} corpora × ${QUALITY_TRACES} traces (vocabulary 500; clean held-out ${CLEAN_TRACES}), cost on ${COST_TRACES} traces, ${REPEATS} runs (median, min–max), ${process.version}, ${os.cpus().length} cores, load average now ${load} (1, 5, 15 min)${os.loadavg()[0] > os.cpus().length / 2 ? ' — LOADED: cost figures are slower than on an idle machine' : ''}\n`);
  const w = [0, 1, 2, 3].map((i) => Math.max(...lines.map((l) => l[i].length), ['measure', 'result', 'target', ''][i].length));
  console.log(['measure', 'result', 'target', ''].map((h, i) => h.padEnd(w[i])).join('  '));
  for (const l of lines) console.log(l.map((x, i) => x.padEnd(w[i])).join('  '));
  for (const r of q) console.log(`\nper kind, noise ${r.noise * 100} %: ${Object.entries(r.perKind).map(([k, v]) => `${k} ${v.found}/${v.planted}`).join(', ')}`);
  const out = path.join(__dirname, 'results', 'discover.json');
  saveResult(out, { node: process.version, date: new Date().toISOString(), loadAverage: os.loadavg(), qualityTraces: QUALITY_TRACES, cleanTraces: CLEAN_TRACES, costTraces: COST_TRACES, repeats: REPEATS, quality: q, cost: c });
  process.exitCode = lines.every((l) => l[3] !== 'FAIL') ? 0 : 1;
}

if (process.argv[2] === '--cost-child') {
  costChild();
} else {
  main().catch((e) => {
    console.error(e);
    process.exit(1);
  });
}
