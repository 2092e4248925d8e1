#!/usr/bin/env node
'use strict';
// `npm run bench [name] [-- options]`: runs bench/<name>.bench.js (with the options), or every
// benchmark in turn, each in its own process so one cannot warm the JIT for another.
const { spawnSync } = require('child_process');
const fs = require('fs');
const path = require('path');

// Run only when named: `peers` and `scale` build an OpenTelemetry Collector with Go and run for minutes.
const NAMED_ONLY = new Set(['peers.bench.js', 'slo-promql.bench.js', 'scale.bench.js']);

const args = process.argv.slice(2);
// `--save` writes each benchmark's results to bench/results/ (see bench/save.js); without it a run
// only prints, and leaves the tree as it was.
const save = args.includes('--save');
const [only, ...options] = args.filter((a) => a !== '--save');
const files = fs
  .readdirSync(__dirname)
  .filter((f) => f.endsWith('.bench.js') && (only ? f === `${only}.bench.js` : !NAMED_ONLY.has(f)))
  .sort();
if (files.length === 0) {
  console.error(`no benchmark named ${only}`);
  process.exit(2);
}
let failed = 0;
for (const f of files) {
  const env = save ? { ...process.env, BETRACE_BENCH_SAVE: '1' } : process.env;
  const r = spawnSync(process.execPath, ['--expose-gc', path.join(__dirname, f), ...options], { stdio: 'inherit', env });
  if (r.status !== 0) {failed++;}
}
process.exit(failed === 0 ? 0 : 1);
