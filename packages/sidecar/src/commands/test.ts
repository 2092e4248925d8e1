import * as fs from 'fs';
import { CompiledRule, compileRule, decodeOtlpJsonText, evaluateTrace, Trace, Violation } from '@betrace/evaluator';
import { Command, displayPath, EXIT_BAD_INPUT, EXIT_OK, expandPaths, UsageError } from './io';
import { loadRules } from './rules';

export const testUsage = 'betrace test <rule files or directories...> --traces <trace files or directories...> [--json]';

export const TRACE_EXTENSIONS = ['.json', '.ndjson', '.jsonl'];

/** The OTLP/JSON trace files named by files and directories (walked for TRACE_EXTENSIONS); a missing path is a UsageError. */
export function traceFilesOf(paths: string[], cwd: string): string[] {
  return expandPaths(paths, TRACE_EXTENSIONS, cwd);
}

/** The traces of one OTLP/JSON file (one request, or one per line); throws with the decoder's message when malformed. */
export function readTraceFile(file: string): Trace[] {
  return decodeOtlpJsonText(fs.readFileSync(file, 'utf8'));
}

interface TestArgs {
  rules: string[];
  traces: string[];
  json: boolean;
}

function parseArgs(args: string[]): TestArgs {
  const out: TestArgs = { rules: [], traces: [], json: false };
  let target: string[] = out.rules;
  for (const a of args) {
    if (a === '--json') {
      out.json = true;
    } else if (a === '--traces') {
      target = out.traces;
    } else if (a.startsWith('--traces=')) {
      out.traces.push(a.slice('--traces='.length));
      target = out.traces;
    } else if (a.startsWith('-')) {
      throw new UsageError(`unknown option ${a}`);
    } else {
      target.push(a);
    }
  }
  if (out.rules.length === 0 || out.traces.length === 0) {
    throw new UsageError('needs rule files and --traces');
  }
  return out;
}

/** Evaluates rules over OTLP/JSON trace files and prints the violations. */
export const test: Command = async (args, io) => {
  let parsed: TestArgs;
  try {
    parsed = parseArgs(args);
  } catch (e) {
    io.stderr(`betrace test: ${(e as Error).message}\nusage: ${testUsage}\n`);
    return EXIT_BAD_INPUT;
  }
  let loaded;
  let traceFiles: string[];
  try {
    loaded = loadRules(parsed.rules, io.cwd);
    traceFiles = traceFilesOf(parsed.traces, io.cwd);
  } catch (e) {
    io.stderr(`betrace test: ${(e as Error).message}\n`);
    return EXIT_BAD_INPUT;
  }
  for (const line of loaded.lines) {
    io.stderr(`${line}\n`);
  }
  if (loaded.errors > 0) {
    io.stderr(`betrace test: the rules have ${loaded.errors} error(s); run \`betrace check\` for details\n`);
    return EXIT_BAD_INPUT;
  }
  const compiled: CompiledRule[] = [];
  for (const def of loaded.rules) {
    if (!def.enabled) {
      io.stderr(`note: rule ${def.id} is disabled and not evaluated\n`);
      continue;
    }
    const result = compileRule(def);
    if (result.rule) {
      compiled.push(result.rule);
    }
  }
  const traces: Array<{ file: string; trace: Trace }> = [];
  for (const file of traceFiles) {
    const shown = displayPath(file, io.cwd);
    try {
      const text = fs.readFileSync(file, 'utf8');
      const decoded = decodeOtlpJsonText(text);
      for (const trace of decoded) {
        traces.push({ file: shown, trace });
      }
      if (decoded.length === 0) {
        // A file with no spans is almost always the wrong file (a Tempo search answer, a config):
        // say so rather than report "0 violations" as if its traces had passed.
        const why = /"resourceSpans"\s*:/.test(text) ? 'its `resourceSpans` hold no spans' : 'it has no `resourceSpans` (is it an OTLP/JSON trace export?)';
        io.stderr(`warning: ${shown}: no traces read: ${why}\n`);
      }
    } catch (e) {
      io.stderr(`${shown}: ${(e as Error).message}\n`);
      return EXIT_BAD_INPUT;
    }
  }
  const violations: Array<Violation & { file: string }> = [];
  for (const { file, trace } of traces) {
    for (const v of evaluateTrace(compiled, trace)) {
      violations.push({ ...v, file });
    }
  }
  if (parsed.json) {
    io.stdout(`${JSON.stringify(violations.map((v) => ({ ruleId: v.ruleId, traceId: v.traceId, spanIds: v.matchedSpanIds })))}\n`);
  } else {
    for (const v of violations) {
      const bound = v.boundSpanId ? ` span ${v.boundSpanId}` : '';
      io.stdout(`${v.severity.toUpperCase().padEnd(8)} ${v.ruleId}  trace ${v.traceId}${bound}  (${v.file})\n         ${v.message}\n`);
    }
  }
  io.stderr(`${compiled.length} rule(s) over ${traces.length} trace(s) in ${traceFiles.length} file(s): ${violations.length} violation(s)\n`);
  return EXIT_OK;
};
