/**
 * Rule explanations echo span data (computed values, span names, rendered messages) back through
 * the API: those parts pass the policy; the rule's own source text and the ids stay as they are.
 */
import type { BindingExplanation, ClauseExplanation, Explanation, Trace } from '@betrace/evaluator';
import type { Redactor } from './engine';

type Redact = (text: string) => string;

function clause(r: Redact, c: ClauseExplanation): ClauseExplanation {
  const out: ClauseExplanation = { ...c };
  if (c.value !== undefined) {
    out.value = r(c.value);
  }
  if (c.children !== undefined) {
    out.children = c.children.map((child) => clause(r, child));
  }
  return out;
}

function binding(r: Redact, b: BindingExplanation): BindingExplanation {
  return { ...b, spanName: r(b.spanName), clauses: b.clauses.map((c) => clause(r, c)) };
}

/** `trace`: the explained trace, whose sensitive attribute values are withheld wherever they were rendered. */
export function redactExplanation(redactor: Redactor, e: Explanation, trace: Trace): Explanation {
  const r = redactor.withholding(trace.spans.flatMap((s) => [s.attrs, s.resource]));
  const out: Explanation = {
    ...e,
    violations: e.violations.map((v) => ({ ...v, message: r(v.message) })),
    clauses: e.clauses.map((c) => clause(r, c)),
  };
  if (e.bindings !== undefined) {
    out.bindings = e.bindings.map((b) => binding(r, b));
  }
  return out;
}
