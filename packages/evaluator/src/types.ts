/**
 * The public data shapes of the evaluator: rule definitions (what rule files, the REST API
 * and the editor speak), diagnostics, violations and explanations.
 */
import type { RuleAst } from './ast';
import type { RuleSkipReason } from './budget';

export type Severity = 'info' | 'low' | 'medium' | 'high' | 'critical';

export const SEVERITIES: readonly Severity[] = ['info', 'low', 'medium', 'high', 'critical'];

export interface ComplianceMapping {
  /** e.g. `soc2`, `hipaa`, `gdpr`, `pci-dss`, `iso27001`. */
  framework: string;
  /** e.g. `CC6.1`, `164.312(b)`. */
  control: string;
}

/** One rule as rule files (YAML), the REST API and the editor speak it. */
/**
 * A rule's objective, parsed: `slo: { objective: "99.9%", window: 30d }` in a rule file is
 * `{ objective: 0.999, windowMs: 2592000000 }`. The error budget is `1 - objective`.
 */
export interface RuleSlo {
  /** The fraction of triggering traces that must comply, strictly between 0 and 1. */
  objective: number;
  /** The window the objective is measured over, in milliseconds (1 d to 90 d). */
  windowMs: number;
}

export interface RuleDefinition {
  /** Stable, unique per tenant: `[a-z0-9][a-z0-9-_.]*`. */
  id: string;
  name: string;
  severity: Severity;
  description?: string;
  /** Optional message template: `{p.amount}`, `{trace.root.name}`, `{rule.name}` … */
  message?: string;
  compliance?: ComplianceMapping[];
  /** A service level objective on the rule: the share of triggering traces that comply (docs/slo.md). */
  slo?: RuleSlo;
  enabled: boolean;
  /** The rule text in the BeTrace rule language. */
  condition: string;
  /** Version number, when the rule comes from a store that versions it. */
  version?: number;
}

export type DiagnosticSeverity = 'error' | 'warning' | 'info';

/** A problem in a rule's text, with 1-based line/column positions (end is exclusive), ready for Monaco markers. */
export interface Diagnostic {
  severity: DiagnosticSeverity;
  message: string;
  startLine: number;
  startColumn: number;
  endLine: number;
  endColumn: number;
  /** A stable machine-readable code, e.g. `syntax`, `unknown-field`, `selector-compared`. */
  code?: string;
}

/** A diagnostic of a rule file: also names the rule (by id, or index when the id is missing) and the field. */
export interface FileDiagnostic extends Diagnostic {
  ruleId?: string;
  /** The rule's position in the file's `rules` list (0-based). */
  ruleIndex?: number;
  /** The field of the rule the diagnostic is about, e.g. `condition`, `severity`. */
  field?: string;
}

/**
 * What validation may know about the traces a rule will see, to catch typos; every field is
 * optional and validation without it is the same minus those warnings. The editor passes Tempo's
 * tag values; the sidecar and `betrace check` pass the span names the other rules use.
 */
export interface RuleVocabulary {
  /** Span names known to exist (used by other rules, or Tempo's `name` tag values). */
  spanNames?: readonly string[];
  /** Span attribute names the traces carry (Tempo's span-scope tags). */
  spanAttributes?: readonly string[];
  /** Resource attribute names the traces carry (Tempo's resource-scope tags). */
  resourceAttributes?: readonly string[];
  /**
   * True when `spanNames` lists every span name of the traces (Tempo's values, not truncated):
   * a one-word selector outside it is then warned about even when nothing resembles it.
   */
  spanNamesComplete?: boolean;
}

export interface ParseOptions {
  vocabulary?: RuleVocabulary;
}

export interface ParseResult {
  /** Present when the rule has no error diagnostics (warnings may accompany it). */
  ast?: RuleAst;
  diagnostics: Diagnostic[];
}

/** One violation: a rule fired on a trace (once per trace, or once per bound span). */
export interface Violation {
  ruleId: string;
  traceId: string;
  /** The span bound to the rule's variable, for rules with a binding. */
  boundSpanId?: string;
  /** Ids of the spans that made the rule fire (lowercase hex, sorted, no duplicates). */
  matchedSpanIds: string[];
  /** The rendered message template (or a default message). */
  message: string;
  severity: Severity;
}

/** Why one rule did or did not fire on one trace. */
export interface Explanation {
  ruleId: string;
  traceId: string;
  fired: boolean;
  violations: Violation[];
  /** The clause tree of the rule with the outcome of each clause. */
  clauses: ClauseExplanation[];
  /** For a rule with a binding: one entry per candidate span. */
  bindings?: BindingExplanation[];
  /**
   * Present when the evaluation budget ran out (README "Limits"). At stage `evaluation` the rule
   * was not evaluated to the end: `fired`/`violations` are what was found before it stopped, and
   * there are no clauses. At stage `explanation` `fired`/`violations` are complete but the
   * clause tree was not built.
   */
  incomplete?: { stage: 'evaluation' | 'explanation'; reason: RuleSkipReason };
}

export interface ClauseExplanation {
  /** `when`, `always`, `never`, `expression`, or the kind of a sub-clause (`and`, `exists`, `compare`, …). */
  kind: string;
  /** The source text of the clause. */
  text: string;
  startLine: number;
  startColumn: number;
  endLine: number;
  endColumn: number;
  /** Whether the clause held (for the binding being explained, if any). */
  held: boolean;
  /** Spans the clause's selector matched, if it has one (lowercase hex, sorted). */
  matchedSpanIds?: string[];
  /** A value the clause computed, e.g. a count or an aggregate, for display. */
  value?: string;
  children?: ClauseExplanation[];
}

export interface BindingExplanation {
  spanId: string;
  spanName: string;
  fired: boolean;
  clauses: ClauseExplanation[];
}

/** A rule's TraceQL pushdown: a query selecting a superset of the traces on which the rule can fire. */
export interface Pushdown {
  query: string;
  /** True when nothing could be pushed down and the query is `{}` (every trace). */
  fullScan: boolean;
}

export type { RuleAst };

/**
 * A rule compiled once per rule version (compile.ts). The evaluator keeps its closures
 * behind this interface; callers only read these fields.
 */
export interface CompiledRule {
  readonly definition: RuleDefinition;
  readonly ast: RuleAst;
  /** The rule's TraceQL pushdown (pushdown.ts). */
  readonly pushdown: Pushdown;
  /**
   * Span names of which at least one must occur in a trace for the rule to be able to fire;
   * undefined when the rule can fire on any trace. The evaluator skips rules whose names are absent.
   */
  readonly triggerNames?: readonly string[];
}

export interface CompileResult {
  /** Present when the rule has no error diagnostics. */
  rule?: CompiledRule;
  diagnostics: Diagnostic[];
}
