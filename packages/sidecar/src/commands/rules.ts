import * as fs from 'fs';
import { FileDiagnostic, parseRuleFile, RuleDefinition, spanNamesOfConditions } from '@betrace/evaluator';
import { displayPath, expandPaths } from './io';

export interface LoadedRules {
  rules: Array<RuleDefinition & { file: string }>;
  /** Each diagnostic as `file:line:col: severity: message`. */
  lines: string[];
  errors: number;
  warnings: number;
  files: number;
}

export const RULE_EXTENSIONS = ['.yaml', '.yml'];

export function formatDiagnostic(file: string, d: FileDiagnostic): string {
  const where = d.ruleId !== undefined ? ` [${d.ruleId}${d.field ? `.${d.field}` : ''}]` : d.field ? ` [${d.field}]` : '';
  return `${file}:${d.startLine}:${d.startColumn}: ${d.severity}: ${d.message}${where}`;
}

/**
 * Reads and validates rule files (and directories of them); ids must be unique across files too.
 * Every problem of every file is reported, sorted by file (in the order given) and line. Each
 * rule is checked against the span names all the other rules use (a one-letter selector that is
 * a mistyped variable is told apart from a span name that way).
 */
export function loadRules(paths: string[], cwd: string): LoadedRules {
  const files = expandPaths(paths, RULE_EXTENSIONS, cwd);
  const out: LoadedRules = { rules: [], lines: [], errors: 0, warnings: 0, files: files.length };
  const texts = files.map((file) => fs.readFileSync(file, 'utf8'));
  // The span names of each file's rules, for the rules of the other files.
  const namesOf = texts.map((text) => spanNamesOfConditions(parseRuleFile(text).rules.map((r) => r.condition)));
  const seen = new Map<string, string>();
  files.forEach((file, i) => {
    const shown = displayPath(file, cwd);
    const spanNames = namesOf.flatMap((names, j) => (j === i ? [] : names));
    const { rules, diagnostics, idPositions } = parseRuleFile(texts[i], shown, { vocabulary: { spanNames } });
    const found: Array<{ line: number; column: number; text: string; severity: string }> = diagnostics.map((d) => ({
      line: d.startLine,
      column: d.startColumn,
      text: formatDiagnostic(shown, d),
      severity: d.severity,
    }));
    for (const rule of rules) {
      const first = seen.get(rule.id);
      if (first !== undefined) {
        const pos = idPositions.get(rule.id) ?? { line: 1, column: 1 };
        found.push({ ...pos, severity: 'error', text: `${shown}:${pos.line}:${pos.column}: error: rule id \`${rule.id}\` is already defined in ${first} [${rule.id}.id]` });
        continue;
      }
      seen.set(rule.id, shown);
      out.rules.push({ ...rule, file: shown });
    }
    found.sort((a, b) => a.line - b.line || a.column - b.column);
    for (const f of found) {
      out.lines.push(f.text);
      if (f.severity === 'error') {
        out.errors++;
      } else if (f.severity === 'warning') {
        out.warnings++;
      }
    }
  });
  return out;
}
