/**
 * The compiled rules of each tenant, rebuilt when a tenant's rules change. Rules from RULES_DIR
 * are provisioned into the store (read-only through the API).
 */
import * as fs from 'fs';
import * as path from 'path';
import { CompiledRule, compileRule, parseRuleFile } from '@betrace/evaluator';
import type { Store } from './store';

export interface ActiveRule {
  compiled: CompiledRule;
  version: number;
}

export class RuleRegistry {
  private readonly compiled = new Map<string, ActiveRule[]>();

  /**
   * @param onCompiled called with a tenant's enabled rules each time they are compiled (the
   *   sidecar zero-initialises their counters, so a rule's first signal is an increase).
   */
  constructor(
    private readonly store: Store,
    private readonly onCompiled?: (tenant: string, rules: readonly ActiveRule[]) => void,
  ) {}

  /** The enabled, compiled rules of a tenant. */
  active(tenant: string): ActiveRule[] {
    let rules = this.compiled.get(tenant);
    if (rules === undefined) {
      rules = [];
      for (const stored of this.store.listRules(tenant)) {
        if (!stored.definition.enabled) {
          continue;
        }
        const result = compileRule(stored.definition);
        if (result.rule) {
          rules.push({ compiled: result.rule, version: stored.version });
        }
      }
      this.compiled.set(tenant, rules);
      this.onCompiled?.(tenant, rules);
    }
    return rules;
  }

  /** Forget a tenant's compiled rules after a change; the next evaluation recompiles. */
  invalidate(tenant: string): void {
    this.compiled.delete(tenant);
  }

  /**
   * Loads every rule file under `dir` into the store as provisioned rules of `tenant`; rules that
   * left the files are deleted. Errors in the files stop the start, naming file, line and column.
   */
  provision(tenant: string, dir: string, now: number): { rules: number; files: number } {
    const files = listYaml(dir);
    const errors: string[] = [];
    const ids = new Set<string>();
    const definitions = [];
    for (const file of files) {
      const { rules, diagnostics } = parseRuleFile(fs.readFileSync(file, 'utf8'), file);
      for (const d of diagnostics.filter((x) => x.severity === 'error')) {
        errors.push(`${file}:${d.startLine}:${d.startColumn}: ${d.message}`);
      }
      for (const r of rules) {
        if (ids.has(r.id)) {
          errors.push(`${file}: rule id ${r.id} is defined twice in ${dir}`);
        }
        ids.add(r.id);
        definitions.push({ rule: r, file });
      }
    }
    if (errors.length > 0) {
      throw new Error(`RULES_DIR ${dir} has errors:\n${errors.join('\n')}`);
    }
    for (const { rule, file } of definitions) {
      this.store.saveRule(tenant, rule, 'provisioning', path.relative(dir, file), now, { provisioned: true });
    }
    for (const stored of this.store.listRules(tenant)) {
      if (stored.provisioned && !ids.has(stored.definition.id)) {
        this.store.deleteRule(tenant, stored.definition.id, 'provisioning', now, { provisioned: true });
      }
    }
    this.invalidate(tenant);
    return { rules: definitions.length, files: files.length };
  }
}

function listYaml(dir: string): string[] {
  const out: string[] = [];
  for (const entry of fs.readdirSync(dir, { withFileTypes: true }).sort((a, b) => a.name.localeCompare(b.name))) {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) {
      out.push(...listYaml(full));
    } else if (/\.ya?ml$/.test(entry.name)) {
      out.push(full);
    }
  }
  return out;
}
