'use strict';
// `npm test` leaves no temporary folders behind: every test (and every process a test starts:
// sidecars, the CLI, Chromium) makes its temporary files under one folder of this run, because
// os.tmpdir() reads TMPDIR, and the run removes that folder at its end, whatever the tests did.
const fs = require('fs');
const os = require('os');
const path = require('path');
const postgres = require('./jestPostgres');

async function setup() {
  postgres.setup(os.tmpdir());
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'betrace-jest-'));
  process.env.BETRACE_JEST_TMP = dir;
  process.env.TMPDIR = dir;
}

async function teardown() {
  postgres.teardown();
  const dir = process.env.BETRACE_JEST_TMP;
  if (dir !== undefined && path.basename(dir).startsWith('betrace-jest-')) {
    fs.rmSync(dir, { recursive: true, force: true, maxRetries: 3 });
  }
}

module.exports = { setup, teardown };
