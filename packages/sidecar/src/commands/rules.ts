import * as fs from 'fs';
import { FileDiagnostic, parseRuleFile, RuleDefinition } from '@betrace/evaluator';
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

/** Reads and validates rule files (and directories of them); ids must be unique across files too. */
export function loadRules(paths: string[], cwd: string): LoadedRules {
  const files = expandPaths(paths, RULE_EXTENSIONS, cwd);
  const out: LoadedRules = { rules: [], lines: [], errors: 0, warnings: 0, files: files.length };
  const seen = new Map<string, string>();
  for (const file of files) {
    const shown = displayPath(file, cwd);
    const { rules, diagnostics } = parseRuleFile(fs.readFileSync(file, 'utf8'), shown);
    for (const d of diagnostics) {
      out.lines.push(formatDiagnostic(shown, d));
      if (d.severity === 'error') {
        out.errors++;
      } else if (d.severity === 'warning') {
        out.warnings++;
      }
    }
    for (const rule of rules) {
      const first = seen.get(rule.id);
      if (first !== undefined) {
        out.lines.push(`${shown}:1:1: error: rule id \`${rule.id}\` is already defined in ${first}`);
        out.errors++;
        continue;
      }
      seen.set(rule.id, shown);
      out.rules.push({ ...rule, file: shown });
    }
  }
  return out;
}
