#!/usr/bin/env node
// The `betrace` command. A committed entry point, so npm links it at install time even before the
// TypeScript build has produced dist/ (the root `prepare` script builds it right after `npm ci`).
'use strict';
try {
  require.resolve('../dist/cli.js');
} catch {
  console.error('betrace: packages/sidecar/dist is missing; build it with `npm run build:packages`');
  process.exit(2);
}
require('../dist/cli.js').run();
