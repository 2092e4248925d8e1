'use strict';
// Where a benchmark's results go: bench/results/<name>.json, and only when the run asked for it
// (`npm run bench <name> -- --save`), so a run to look at the numbers leaves the tree untouched.
const fs = require('fs');
const path = require('path');

/** Whether this run was asked to save its results (bench/run.js passes --save on as BETRACE_BENCH_SAVE=1). */
function saving() {
  return process.env.BETRACE_BENCH_SAVE === '1' || process.argv.includes('--save');
}

/** Writes `data` (an object, as JSON) to `file` when saving, and says which happened. */
function saveResult(file, data) {
  const shown = path.relative(process.cwd(), file);
  if (!saving()) {
    console.log(`\nresults not saved (add --save to write ${shown})`);
    return false;
  }
  fs.writeFileSync(file, JSON.stringify(data, null, 2) + '\n');
  console.log(`\nwritten to ${shown}`);
  return true;
}

module.exports = { saveResult, saving };
