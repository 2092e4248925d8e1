import { backup, backupUsage, restore, restoreUsage } from './backup';
import { check, checkUsage } from './check';
import { discover, discoverUsage } from './discover';
import type { Command } from './io';
import { replay, replayUsage } from './replay';
import { serve, serveUsage } from './serve';
import { slo, sloUsage } from './slo';
import { tenants, tenantsUsage } from './tenants';
import { test, testUsage } from './test';
import { token, tokenUsage } from './token';

/** The `betrace` subcommands: one entry each. */
export const commands: Record<string, { run: Command; usage: string; summary: string }> = {
  check: { run: check, usage: checkUsage, summary: 'validate rule files (exit 1 on errors)' },
  discover: { run: discover, usage: discoverUsage, summary: 'propose rules: mine invariants from OTLP/JSON trace files or a time range in Tempo' },
  test: { run: test, usage: testUsage, summary: 'evaluate rules over OTLP/JSON trace files' },
  replay: { run: replay, usage: replayUsage, summary: 'evaluate rules over a past time range in Tempo' },
  serve: { run: serve, usage: serveUsage, summary: 'run the sidecar: OTLP receiver, evaluation, signals, API' },
  slo: { run: slo, usage: sloUsage, summary: 'print burn-rate alert rules (Prometheus, or Grafana with --grafana) for the rules with an objective' },
  tenants: { run: tenants, usage: tenantsUsage, summary: 'hash an API token for the tenants file; check a tenants file' },
  token: { run: token, usage: tokenUsage, summary: 'rotate the generated API token of a sidecar without a tenants file' },
  backup: { run: backup, usage: backupUsage, summary: 'write a consistent copy of the store (SQLite online backup), also while the sidecar runs' },
  restore: { run: restore, usage: restoreUsage, summary: 'restore a backup into a stopped, empty data folder, after verifying its evidence chains' },
};
