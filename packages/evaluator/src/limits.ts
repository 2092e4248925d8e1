/**
 * Every resource limit of the evaluator, in one place: what a rule may be (checked when it is
 * parsed), how large a trace may be, and how much work one rule may do on one trace. A limit that
 * is hit is reported (a diagnostic, a truncated trace, a skipped rule), never a hang or a crash.
 * README.md ("Limits") describes each for users; every limit has a test at it and one past it.
 */

// ---------------------------------------------------------------- rule text (parse.ts, resolve.ts)

/** Largest rule source accepted, in UTF-16 code units (64 KiB). */
export const MAX_SOURCE_LENGTH = 64 * 1024;
/** Deepest nesting of (), [] and {} accepted. */
export const MAX_NESTING_DEPTH = 32;
/** Most `and`/`or` operators accepted: long flat chains nest as deeply as brackets do. */
export const MAX_LOGICAL_OPERATORS = 256;
/** At most this many selectors in one rule. */
export const MAX_SELECTORS = 64;

// ---------------------------------------------------------------- rule definitions (rulefile.ts)

/**
 * At most this many compliance mappings on one rule: each mapping is its own evidence stream (and,
 * with per-trace evidence, a record per trace), so an unbounded list multiplies evidence writes.
 */
export const MAX_COMPLIANCE_MAPPINGS = 16;

/**
 * Shortest and longest SLO window (`slo.window`). Below a day the fast-burn alert's 1 h window is
 * a large share of the budget window; past 90 days the sidecar's hourly rule health buckets make
 * the budget a sum over more than 2000 rows per read.
 */
export const MIN_SLO_WINDOW_MS = 86_400_000;
export const MAX_SLO_WINDOW_MS = 90 * 86_400_000;

// ---------------------------------------------------------------- traces (model.ts)

/**
 * Most spans one trace is evaluated on. `buildTrace` keeps the first this many spans (in the order
 * received) and counts the rest in `Trace.droppedSpanCount`; the sidecar caps assembly with it.
 * Every per-trace index is linear (or n log n) in this number.
 */
export const MAX_SPANS_PER_TRACE = 50_000;

// ---------------------------------------------------------------- evaluation work (budget.ts)

/**
 * Work steps one rule may spend on one trace before it is stopped and reported as skipped
 * (`onRuleSkipped(ruleId, 'step-budget')`). A step is one span a selector, `all(…)`, an aggregate
 * or a binding visits, plus one per 64 characters a regular expression reads; the per-trace
 * indexes, which are linear in the trace, are not counted. Deterministic: the same rule on the
 * same trace always takes the same steps, whatever else runs. A linear rule on a full trace
 * takes a few times MAX_SPANS_PER_TRACE steps; this leaves room for bindings over hundreds of spans
 * (each binding re-runs the rule's clauses) and stops rules that are quadratic in a huge trace.
 */
export const MAX_EVALUATION_STEPS = 10_000_000;

/**
 * A wall-clock budget for all rules on one trace, for callers that want one (`timeBudgetMs`);
 * the evaluator applies none by default so that its results stay deterministic.
 */
export const DEFAULT_TRACE_TIME_BUDGET_MS = 2_000;

/** Steps between two reads of the clock when a time budget is set (reading it costs more than a step). */
export const CLOCK_CHECK_INTERVAL_STEPS = 1024;

// ---------------------------------------------------------------- regular expressions (compile.ts)

/** Characters of input a regular expression test reads per step it is charged. */
export const REGEX_CHARS_PER_STEP = 64;
/** Longest attribute value whose match result is remembered. */
export const REGEX_MEMO_MAX_KEY = 1024;
/** Distinct values remembered per pattern before the memo starts over. */
export const REGEX_MEMO_SIZE = 4096;
