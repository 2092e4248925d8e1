#!/usr/bin/env node
'use strict';
// `npm run bench [name]`: runs bench/<name>.bench.js, or every benchmark in turn, each in its own
// process so one cannot warm the JIT for another.
const { spawnSync } = require('child_process');
const fs = require('fs');
const path = require('path');

const only = process.argv[2];
const files = fs
  .readdirSync(__dirname)
  .filter((f) => f.endsWith('.bench.js') && (!only || f === `${only}.bench.js`))
  .sort();
if (files.length === 0) {
  console.error(`no benchmark named ${only}`);
  process.exit(2);
}
let failed = 0;
for (const f of files) {
  const r = spawnSync(process.execPath, ['--expose-gc', path.join(__dirname, f)], { stdio: 'inherit' });
  if (r.status !== 0) {failed++;}
}
process.exit(failed === 0 ? 0 : 1);
