'use strict';
// setupFiles of the sidecar-postgres jest project: its suites open their stores on PostgreSQL
// (packages/sidecar/test/support/engine.ts reads this).
process.env.BETRACE_TEST_ENGINE = 'postgres';
