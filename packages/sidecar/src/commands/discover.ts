import pino from 'pino';
import { DiscoverProgress, DiscoveryResult, discoverInvariants, Suggestion, SUGGESTION_KINDS, SuggestionKind, TraceSource } from '@betrace/evaluator';
import { ConfigError, loadConfig } from '../config';
import { fileSource, tempoSource, TraceFileError } from '../discovery/sources';
import { TempoClient, TempoError } from '../tempo/client';
import { Command, displayPath, EXIT_BAD_INPUT, EXIT_FINDINGS, EXIT_OK, UsageError } from './io';
import { parseTimeArg } from './replay';
import { loadRules } from './rules';
import { traceFilesOf, TRACE_EXTENSIONS } from './test';

export const discoverUsage =
  'betrace discover (--traces <files or dirs...> | --from <time> --to <time>) [--json] [--top K] [--min-support N] [--min-confidence X] [--kinds k1,k2] [--rules <files or dirs...>] [--seed S]   (--from/--to read Tempo: TEMPO_URL)';

interface DiscoverArgs {
  traces: string[];
  rules: string[];
  from?: string;
  to?: string;
  json: boolean;
  top?: number;
  minSupport?: number;
  minConfidence?: number;
  seed?: number;
  kinds?: SuggestionKind[];
}

/** A whole number in [min, max], or a UsageError naming the option. */
function wholeNumber(option: string, text: string | undefined, min: number, max: number): number {
  const n = text !== undefined && /^-?\d+$/.test(text) ? Number(text) : NaN;
  if (!Number.isSafeInteger(n) || n < min || n > max) {
    throw new UsageError(`${option} must be a whole number from ${min} to ${max}, got ${JSON.stringify(text ?? '')}`);
  }
  return n;
}

function parseArgs(args: string[]): DiscoverArgs {
  const out: DiscoverArgs = { traces: [], rules: [], json: false };
  const values = (i: number, into: string[], option: string): number => {
    let j = i;
    while (j + 1 < args.length && !args[j + 1].startsWith('--')) {
      into.push(args[++j]);
    }
    if (j === i) {
      throw new UsageError(`${option} needs at least one file or directory`);
    }
    return j;
  };
  const value = (i: number, option: string): string => {
    const v = args[i + 1];
    if (v === undefined || v.startsWith('--')) {
      throw new UsageError(`${option} needs a value`);
    }
    return v;
  };
  for (let i = 0; i < args.length; i++) {
    const a = args[i];
    switch (a) {
      case '--json':
        out.json = true;
        break;
      case '--traces':
        i = values(i, out.traces, a);
        break;
      case '--rules':
        i = values(i, out.rules, a);
        break;
      case '--from':
        out.from = value(i++, a);
        break;
      case '--to':
        out.to = value(i++, a);
        break;
      case '--top':
        out.top = wholeNumber(a, args[++i], 1, 10_000);
        break;
      case '--min-support':
        out.minSupport = wholeNumber(a, args[++i], 1, 1_000_000_000);
        break;
      case '--seed':
        out.seed = wholeNumber(a, args[++i], 0, 2 ** 32 - 1);
        break;
      case '--min-confidence': {
        const text = args[++i];
        const x = text !== undefined && /^\d*\.?\d+$/.test(text) ? Number(text) : NaN;
        if (!(x >= 0 && x <= 1)) {
          throw new UsageError(`--min-confidence must be a number from 0 to 1, got ${JSON.stringify(text ?? '')}`);
        }
        out.minConfidence = x;
        break;
      }
      case '--kinds': {
        const text = value(i++, a);
        const kinds = text.split(',').map((k) => k.trim());
        const unknown = kinds.filter((k) => !(SUGGESTION_KINDS as readonly string[]).includes(k));
        if (unknown.length > 0 || kinds.length === 0) {
          throw new UsageError(`--kinds: unknown kind ${JSON.stringify(unknown[0] ?? '')} (known: ${SUGGESTION_KINDS.join(', ')})`);
        }
        out.kinds = kinds as SuggestionKind[];
        break;
      }
      default:
        throw new UsageError(a.startsWith('-') ? `unknown option ${a}` : `unexpected argument ${JSON.stringify(a)} (trace files go after --traces)`);
    }
  }
  const tempo = out.from !== undefined || out.to !== undefined;
  if (out.traces.length > 0 && tempo) {
    throw new UsageError('give --traces or --from/--to, not both');
  }
  if (out.traces.length === 0 && !tempo) {
    throw new UsageError('needs --traces, or --from and --to');
  }
  if (tempo && (out.from === undefined || out.to === undefined)) {
    throw new UsageError('--from and --to go together');
  }
  return out;
}

/** One suggestion as `--json` prints it: the contract's fields first, in their order, then the rest. */
export function suggestionJson(s: Suggestion) {
  return {
    id: s.id,
    kind: s.kind,
    condition: s.condition,
    support: s.support,
    confidence: s.confidence,
    violations: s.violations,
    exampleTraceIds: s.exampleTraceIds,
    title: s.title,
    confidenceLower: s.confidenceLower,
    lift: s.lift,
    violatingTraceIds: s.violatingTraceIds,
    heldOut: s.heldOut,
    score: s.score,
  };
}

const pct = (x: number) => `${(x * 100).toFixed(x > 0 && x < 0.001 ? 3 : 1)}%`;

/** The readable ranked list: rank, kind, support, confidence, violations, then the title and the rule text. */
export function suggestionText(s: Suggestion, rank: number): string {
  const head =
    `${String(rank).padStart(3)}. ${s.kind.padEnd(11)} support ${s.support}  confidence ${s.confidence.toFixed(3)} (≥ ${s.confidenceLower.toFixed(3)})` +
    `  violations ${s.violations}  held-out fire rate ${pct(s.heldOut.fireRate)} of ${s.heldOut.support}`;
  const body = [s.title, ...s.condition.split('\n')].map((l) => `     ${l}`).join('\n');
  const violating = s.violatingTraceIds.length > 0 ? `\n     violating traces: ${s.violatingTraceIds.join(' ')}` : '';
  return `${head}\n${body}${violating}\n`;
}

function summary(r: DiscoveryResult): string {
  const d = r.dropped;
  return (
    `${r.traces} trace(s) (${r.trainingTraces} mined, ${r.heldOutTraces} held out), ${r.spans} span(s), ${r.spanNames} span name(s): ` +
    `${r.candidates} candidate(s), ${r.suggestions.length} suggestion(s); not suggested: ${d.lowSupport} low support, ${d.lowConfidence} low confidence, ` +
    `${d.redundant} redundant, ${d.existing} existing rule(s), ${d.dismissed} dismissed, ${d.heldOut} failed on held-out traces`
  );
}

/** Mines invariants from OTLP/JSON files or a range of Tempo and prints them, best first. */
export const discover: Command = async (args, io) => {
  const fail = (message: string) => {
    io.stderr(`betrace discover: ${message}\n`);
    return EXIT_BAD_INPUT;
  };
  let parsed: DiscoverArgs;
  try {
    parsed = parseArgs(args);
  } catch (e) {
    io.stderr(`betrace discover: ${(e as Error).message}\nusage: ${discoverUsage}\n`);
    return EXIT_BAD_INPUT;
  }
  let existingRules: Array<{ id: string; condition: string }> = [];
  if (parsed.rules.length > 0) {
    let loaded;
    try {
      loaded = loadRules(parsed.rules, io.cwd);
    } catch (e) {
      return fail((e as Error).message);
    }
    loaded.lines.forEach((l) => io.stderr(`${l}\n`));
    if (loaded.errors > 0) {
      return fail(`the rules have ${loaded.errors} error(s); run \`betrace check\` for details`);
    }
    existingRules = loaded.rules.map((r) => ({ id: r.id, condition: r.condition }));
  }
  let source: TraceSource;
  let where: string;
  const tempoCounters = { searches: 0, tracesFetched: 0 };
  if (parsed.traces.length > 0) {
    let files: string[];
    try {
      files = traceFilesOf(parsed.traces, io.cwd);
    } catch (e) {
      return fail((e as Error).message);
    }
    if (files.length === 0) {
      return fail(`no trace files (${TRACE_EXTENSIONS.join(', ')}) in ${parsed.traces.join(' ')}`);
    }
    source = fileSource(files, (f) => displayPath(f, io.cwd));
    where = `${files.length} file(s)`;
  } else {
    const now = Date.now();
    const fromMs = parseTimeArg(parsed.from!, now);
    const toMs = parseTimeArg(parsed.to!, now);
    if (fromMs === undefined || toMs === undefined) {
      return fail(`--${fromMs === undefined ? 'from' : 'to'} must be ISO 8601, epoch milliseconds, now, or a duration before now (-2h), got ${JSON.stringify(fromMs === undefined ? parsed.from : parsed.to)}`);
    }
    if (toMs <= fromMs) {
      return fail('--to must be after --from');
    }
    let config;
    try {
      config = loadConfig(io.env);
    } catch (e) {
      return fail(`configuration error: ${(e as ConfigError).message}`);
    }
    if (!config.tempoUrl) {
      return fail('--from/--to read Tempo: set TEMPO_URL (and TEMPO_ORG_ID for a multi-tenant Tempo)');
    }
    const client = new TempoClient({ url: config.tempoUrl, orgId: config.tempoOrgId, bearerToken: config.tempoToken, basicAuth: config.tempoBasicAuth, concurrency: 2 });
    source = tempoSource(client, fromMs, toMs, { log: pino({ level: 'silent' }), counters: tempoCounters });
    where = `Tempo ${new Date(fromMs).toISOString()} .. ${new Date(toMs).toISOString()}`;
  }
  let lastPhase = '';
  let result: DiscoveryResult;
  try {
    result = await discoverInvariants(source, {
      existingRules,
      ...(parsed.top !== undefined ? { top: parsed.top } : {}),
      ...(parsed.minSupport !== undefined ? { minSupport: parsed.minSupport } : {}),
      ...(parsed.minConfidence !== undefined ? { minConfidence: parsed.minConfidence } : {}),
      ...(parsed.seed !== undefined ? { seed: parsed.seed } : {}),
      ...(parsed.kinds !== undefined ? { kinds: parsed.kinds } : {}),
      onProgress: (p: DiscoverProgress) => {
        if (p.phase !== lastPhase) {
          lastPhase = p.phase;
          io.stderr(`${p.phase}…\n`);
        }
      },
    });
  } catch (e) {
    if (e instanceof TraceFileError) {
      return fail(e.message);
    }
    if (e instanceof TempoError) {
      io.stderr(`betrace discover: ${e.message}\n`);
      return EXIT_FINDINGS;
    }
    throw e;
  }
  if (parsed.json) {
    io.stdout(`${JSON.stringify(result.suggestions.map(suggestionJson))}\n`);
  } else {
    result.suggestions.forEach((s, i) => io.stdout(suggestionText(s, i + 1)));
  }
  const fetched = parsed.traces.length === 0 ? ` (${tempoCounters.searches} searches, ${tempoCounters.tracesFetched} traces fetched)` : '';
  io.stderr(`${where}${fetched}: ${summary(result)}\n`);
  return EXIT_OK;
};
