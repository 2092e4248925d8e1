/**
 * Rule explanations echo span data (computed values, span names, rendered messages) back through
 * the API: those parts pass the policy; the rule's own source text and the ids stay as they are.
 */
import type { BindingExplanation, ClauseExplanation, Explanation } from '@betrace/evaluator';
import type { Redactor } from './engine';

function clause(r: Redactor, c: ClauseExplanation): ClauseExplanation {
  const out: ClauseExplanation = { ...c };
  if (c.value !== undefined) {
    out.value = r.text(c.value);
  }
  if (c.children !== undefined) {
    out.children = c.children.map((child) => clause(r, child));
  }
  return out;
}

function binding(r: Redactor, b: BindingExplanation): BindingExplanation {
  return { ...b, spanName: r.text(b.spanName), clauses: b.clauses.map((c) => clause(r, c)) };
}

export function redactExplanation(r: Redactor, e: Explanation): Explanation {
  const out: Explanation = {
    ...e,
    violations: e.violations.map((v) => ({ ...v, message: r.text(v.message) })),
    clauses: e.clauses.map((c) => clause(r, c)),
  };
  if (e.bindings !== undefined) {
    out.bindings = e.bindings.map((b) => binding(r, b));
  }
  return out;
}
