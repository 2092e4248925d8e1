import * as path from 'path';
import pino from 'pino';
import { compileRule, evaluateTrace, Violation } from '@betrace/evaluator';
import { ConfigError, loadConfig, parseDuration } from '../config';
import { Metrics } from '../metrics';
import { Pipeline } from '../pipeline';
import { Redactor, storedHashKey } from '../redact';
import { RuleRegistry } from '../rules';
import { openStore } from '../store';
import { TempoClient, TempoError } from '../tempo/client';
import { DEFAULT_REDACTION } from '../tenants';
import { scanWindow } from '../tempo/scan';
import { Command, EXIT_BAD_INPUT, EXIT_FINDINGS, EXIT_OK } from './io';
import { loadRules } from './rules';

export const replayUsage = 'betrace replay --rules <files or dirs...> --from <time> --to <time> [--dry-run] [--json]   (TEMPO_URL; times: ISO 8601, epoch ms, now, or -2h)';

const WINDOW_MS = 5 * 60_000;

/** `now`, `-2h` (before now), epoch milliseconds, or ISO 8601. */
export function parseTimeArg(text: string, now: number): number | undefined {
  if (text === 'now') return now;
  if (text.startsWith('-')) {
    const d = parseDuration(text.slice(1));
    return d === undefined ? undefined : now - d;
  }
  const n = /^\d+$/.test(text) ? Number(text) : Date.parse(text);
  return Number.isNaN(n) ? undefined : n;
}

/** Replays rules over a past range in Tempo: a dry run prints the violations; otherwise signals are stored (source replay). */
export const replay: Command = async (args, io) => {
  const rulePaths: string[] = [];
  let from: string | undefined;
  let to: string | undefined;
  let dryRun = false;
  let json = false;
  for (let i = 0; i < args.length; i++) {
    const a = args[i];
    if (a === '--rules') {
      while (i + 1 < args.length && !args[i + 1].startsWith('--')) rulePaths.push(args[++i]);
    } else if (a === '--from') from = args[++i];
    else if (a === '--to') to = args[++i];
    else if (a === '--dry-run') dryRun = true;
    else if (a === '--json') json = true;
    else {
      io.stderr(`betrace replay: unknown argument ${a}\nusage: ${replayUsage}\n`);
      return EXIT_BAD_INPUT;
    }
  }
  const now = Date.now();
  const fromMs = from === undefined ? undefined : parseTimeArg(from, now);
  const toMs = to === undefined ? undefined : parseTimeArg(to, now);
  if (rulePaths.length === 0 || fromMs === undefined || toMs === undefined || toMs <= fromMs) {
    io.stderr(`betrace replay: needs --rules, and --from before --to\nusage: ${replayUsage}\n`);
    return EXIT_BAD_INPUT;
  }
  let config;
  try {
    config = loadConfig(io.env);
  } catch (e) {
    io.stderr(`betrace replay: configuration error: ${(e as ConfigError).message}\n`);
    return EXIT_BAD_INPUT;
  }
  if (!config.tempoUrl) {
    // The history belongs to the running sidecar (it compresses and evicts its files): it is replayed through its API.
    io.stderr('betrace replay: set TEMPO_URL (and TEMPO_ORG_ID for a multi-tenant Tempo); without Tempo, replay the sidecar\'s history of recent traces with POST /api/v1/replay\n');
    return EXIT_BAD_INPUT;
  }
  let loaded;
  try {
    loaded = loadRules(rulePaths, io.cwd);
  } catch (e) {
    io.stderr(`betrace replay: ${(e as Error).message}\n`);
    return EXIT_BAD_INPUT;
  }
  loaded.lines.forEach((l) => io.stderr(`${l}\n`));
  if (loaded.errors > 0) {
    return EXIT_BAD_INPUT;
  }
  const rules = loaded.rules.map((r) => ({ compiled: compileRule(r).rule!, version: r.version ?? 0 }));
  const log = pino({ level: 'silent' });
  const client = new TempoClient({ url: config.tempoUrl, orgId: config.tempoOrgId, bearerToken: config.tempoToken, basicAuth: config.tempoBasicAuth, concurrency: 2 });
  const store = dryRun ? undefined : openStore(config);
  const writers = [config.otlpExportUrl && 'otlp', config.grafanaUrl && 'grafana', config.webhookUrl && 'webhook'].filter((w): w is string => typeof w === 'string');
  // Stored signals are redacted like the serving sidecar's: the same policy, the same stored hash key.
  const redactor = store ? new Redactor(DEFAULT_REDACTION, storedHashKey(store)) : undefined;
  const pipeline = store && redactor ? new Pipeline(store, new RuleRegistry(store), new Metrics(), writers, log, Date.now, () => redactor) : undefined;
  const counters = { searches: 0, tracesFetched: 0 };
  const found = new Map<string, Violation>();
  let stored = 0;
  try {
    for (let w = fromMs; w < toMs; w += WINDOW_MS) {
      await scanWindow(client, rules.map((r) => r.compiled), w, Math.min(w + WINDOW_MS, toMs), 200, log, counters, (trace, ruleIds) => {
        const matching = rules.filter((r) => ruleIds.has(r.compiled.definition.id));
        if (pipeline) {
          stored += pipeline.evaluateWith('default', trace, 'replay', matching).length;
        }
        for (const v of evaluateTrace(matching.map((r) => r.compiled), trace)) {
          found.set(`${v.ruleId}\u0000${v.traceId}\u0000${v.boundSpanId ?? ''}`, v);
        }
      });
    }
  } catch (e) {
    io.stderr(`betrace replay: ${e instanceof TempoError ? e.message : String(e)}\n`);
    store?.close();
    return EXIT_FINDINGS;
  }
  store?.close();
  const violations = [...found.values()];
  if (json) {
    io.stdout(`${JSON.stringify(violations.map((v) => ({ ruleId: v.ruleId, traceId: v.traceId, spanIds: v.matchedSpanIds })))}\n`);
  } else {
    for (const v of violations) {
      io.stdout(`${v.severity.toUpperCase().padEnd(8)} ${v.ruleId}  trace ${v.traceId}${v.boundSpanId ? ` span ${v.boundSpanId}` : ''}\n         ${v.message}\n`);
    }
  }
  io.stderr(
    `${rules.length} rule(s) over ${new Date(fromMs).toISOString()} .. ${new Date(toMs).toISOString()}: ${counters.searches} searches, ${counters.tracesFetched} traces fetched, ${violations.length} violation(s)` +
      `${dryRun ? ' (dry run)' : `, ${stored} new signal(s) stored in ${config.dataDir}`}\n`,
  );
  return EXIT_OK;
};
