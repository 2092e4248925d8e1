/**
 * The compiled rules of each tenant, rebuilt when a tenant's rules change. Rules from RULES_DIR
 * are provisioned into the store (read-only through the API).
 */
import * as fs from 'fs';
import * as path from 'path';
import { CompiledRule, compileRule, parseRuleFile, type RuleDefinition } from '@betrace/evaluator';
import type { Logger } from 'pino';
import type { Store } from './store';

export interface ActiveRule {
  compiled: CompiledRule;
  version: number;
}

/** A stored, enabled rule this process could not compile: it is not in force here, or in force at `keptVersion`, its last version that compiled. */
export interface RuleCompileFailure {
  ruleId: string;
  version: number;
  message: string;
  keptVersion?: number;
}

/** What one compilation of a tenant's rules saw: the store's rules revision it read, and the rules that did not compile. */
export interface CompiledInfo {
  revision: number;
  failures: readonly RuleCompileFailure[];
}

export interface RuleRegistryHooks {
  /** A reload failed (the store could not be read): the rules in force stay as they were, and the next sync tries again. */
  onReloadFailed?: (tenant: string, error: unknown) => void;
  /** Logs each rule that stops compiling here, once per version. */
  log?: Pick<Logger, 'error'>;
}

interface Compiled extends CompiledInfo {
  rules: ActiveRule[];
}

export class RuleRegistry {
  private readonly compiled = new Map<string, Compiled>();

  /**
   * @param onCompiled called with a tenant's enabled rules each time they are compiled (the
   *   sidecar zero-initialises their counters, so a rule's first signal is an increase, and sets
   *   the revision and compile-failure gauges).
   */
  constructor(
    private readonly store: Store,
    private readonly onCompiled?: (tenant: string, rules: readonly ActiveRule[], info: CompiledInfo) => void,
    private readonly hooks: RuleRegistryHooks = {},
  ) {}

  /** The enabled, compiled rules of a tenant. */
  active(tenant: string): ActiveRule[] {
    return (this.compiled.get(tenant) ?? this.compile(tenant)).rules;
  }

  /** The store's rules revision the tenant's rules in force were compiled at (undefined: not compiled yet). */
  revision(tenant: string): number | undefined {
    return this.compiled.get(tenant)?.revision;
  }

  /** The tenant's stored, enabled rules that did not compile at the last reload. */
  failures(tenant: string): readonly RuleCompileFailure[] {
    return this.compiled.get(tenant)?.failures ?? [];
  }

  /**
   * Recompiles a tenant's rules from the store after a change and swaps them in whole: the
   * evaluator (and the shard workers, which compare the array) sees the old set or the new one,
   * never a mix. The one path of a change through this process's API and of a change another
   * replica made (`sync`). A store that cannot be read keeps the rules in force (logged, counted);
   * the next sync tries again, as the revision in force is still the old one.
   */
  invalidate(tenant: string): boolean {
    try {
      this.compile(tenant);
      return true;
    } catch (e) {
      this.hooks.onReloadFailed?.(tenant, e);
      return false;
    }
  }

  /**
   * One poll of the rules revisions (one small read for all tenants): each compiled tenant whose
   * revision moved since its rules were compiled is reloaded. Returns the tenants reloaded. Changes
   * made through this process's API were compiled at their revision already and are not reloaded
   * twice.
   */
  sync(): string[] {
    const revisions = this.store.rulesRevisions();
    const reloaded: string[] = [];
    for (const [tenant, c] of this.compiled) {
      if ((revisions.get(tenant) ?? 0) !== c.revision && this.invalidate(tenant)) {
        reloaded.push(tenant);
      }
    }
    return reloaded;
  }

  /**
   * Compiles a tenant's enabled rules. The revision is read before the rules: a change landing
   * between the two reads leaves an older revision beside newer rules, so the next sync reloads
   * once more, never the other way round. A stored rule that does not compile here (written by a
   * newer replica during a rolling upgrade, or edited in the database) never stops the others: its
   * last version that compiled stays in force, and it is reported.
   */
  private compile(tenant: string): Compiled {
    const previous = this.compiled.get(tenant);
    const revision = this.store.rulesRevision(tenant);
    const stored = this.store.listRules(tenant);
    const before = new Map((previous?.rules ?? []).map((r) => [r.compiled.definition.id, r]));
    const rules: ActiveRule[] = [];
    const failures: RuleCompileFailure[] = [];
    for (const s of stored) {
      if (!s.definition.enabled) {
        continue;
      }
      let message: string;
      try {
        const result = compileRule(s.definition);
        if (result.rule) {
          rules.push({ compiled: result.rule, version: s.version });
          continue;
        }
        message = result.diagnostics.find((d) => d.severity === 'error')?.message ?? 'the rule does not compile';
      } catch (e) {
        message = e instanceof Error ? e.message : String(e);
      }
      const kept = before.get(s.definition.id);
      if (kept !== undefined) {
        rules.push(kept);
      }
      const failure: RuleCompileFailure = kept === undefined ? { ruleId: s.definition.id, version: s.version, message } : { ruleId: s.definition.id, version: s.version, message, keptVersion: kept.version };
      if (!previous?.failures.some((f) => f.ruleId === failure.ruleId && f.version === failure.version)) {
        this.hooks.log?.error({ tenant, rule: failure.ruleId, version: failure.version, keptVersion: failure.keptVersion, error: message }, 'a stored rule does not compile: its last version that compiled stays in force (none: the rule is not evaluated)');
      }
      failures.push(failure);
    }
    const next = { rules, revision, failures };
    this.compiled.set(tenant, next);
    this.onCompiled?.(tenant, rules, next);
    return next;
  }

  /**
   * Loads every rule file under `dir` into the store as provisioned rules of `tenant`; rules that
   * left the files are deleted. Errors in the files stop the start, naming file, line and column.
   */
  provision(tenant: string, dir: string, now: number): { rules: number; files: number } {
    const files = listYaml(dir);
    const errors: string[] = [];
    const ids = new Set<string>();
    const definitions: Array<{ rule: RuleDefinition; file: string }> = [];
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
    // N replicas start with the same RULES_DIR: one transaction behind the tenant's rule lock, so
    // they provision one after the other, and each after the first finds every rule as its file
    // has it (saveRule keeps an unchanged rule: no new version, no audit entry, no revision).
    this.store.db.transaction(() => {
      this.store.lockRules(tenant, now);
      for (const { rule, file } of definitions) {
        this.store.saveRule(tenant, rule, 'provisioning', path.relative(dir, file), now, { provisioned: true });
      }
      for (const stored of this.store.listRules(tenant)) {
        if (stored.provisioned && !ids.has(stored.definition.id)) {
          this.store.deleteRule(tenant, stored.definition.id, 'provisioning', now, { provisioned: true });
        }
      }
    })();
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
