/**
 * The span names a rule set uses: the vocabulary a rule is checked against when nothing better
 * (Tempo's tag values) is known, so `fraud.before(q)` can be told apart from a real span name.
 */
import type { RuleAst } from './ast';
import { parseRule } from './parse';

/** The span names a rule's selectors pick (`payment.charge`, `span("GET /x")`), in order, without duplicates. */
export function spanNamesOf(ast: RuleAst): string[] {
  const names = new Set<string>();
  const visit = (v: unknown): void => {
    if (Array.isArray(v)) {
      v.forEach(visit);
    } else if (v !== null && typeof v === 'object') {
      const node = v as Record<string, unknown>;
      if (node.type === 'name' && typeof node.name === 'string') {
        names.add(node.name);
      }
      for (const [k, child] of Object.entries(node)) {
        if (k !== 'loc') {
          visit(child);
        }
      }
    }
  };
  visit(ast);
  return [...names];
}

/** The span names of rule conditions; conditions that do not parse add none. */
export function spanNamesOfConditions(conditions: Iterable<string>): string[] {
  const names = new Set<string>();
  for (const condition of conditions) {
    const ast = parseRule(condition).ast;
    if (ast !== undefined) {
      spanNamesOf(ast).forEach((n) => names.add(n));
    }
  }
  return [...names];
}
