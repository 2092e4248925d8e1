/**
 * A canonical form of a parsed rule, to recognise a suggestion that says what an existing rule
 * says already: source positions dropped, the bound variable renamed, `and`/`or` operands in a
 * fixed order, the v1 form `A and not B` read as `when { A } always { B }`, and the symmetric
 * absence `when { A } never { B }` ≡ `when { B } never { A }`.
 */
import type { RuleAst, TraceExpr } from '../ast';
import { parseRule } from '../parse';

export function canonicalRule(text: string): string | undefined {
  const ast = parseRule(text).ast;
  return ast === undefined ? undefined : canonicalAst(ast);
}

export function canonicalAst(ast: RuleAst): string {
  let rule: RuleAst = ast;
  if (rule.type === 'expression' && rule.body.type === 'and' && rule.body.right.type === 'not') {
    rule = { type: 'when', when: rule.body.left, always: rule.body.right.operand, loc: rule.loc };
  }
  if (rule.type === 'when' && rule.binding === undefined && rule.always === undefined && rule.when !== undefined && rule.never !== undefined) {
    if (isPlainExists(rule.when) && isPlainExists(rule.never)) {
      const [x, y] = [stable(rule.when, undefined), stable(rule.never, undefined)].sort();
      return `{"absence":[${x},${y}]}`;
    }
  }
  const variable = rule.type === 'when' ? rule.binding?.name : undefined;
  return stable(rule, variable);
}

function isPlainExists(e: TraceExpr): boolean {
  return e.type === 'exists' && e.selector.type === 'name';
}

/** JSON with sorted keys, without `loc`, the variable written `$`, and commutative operands sorted. */
function stable(node: unknown, variable: string | undefined): string {
  if (Array.isArray(node)) {
    return `[${node.map((x) => stable(x, variable)).join(',')}]`;
  }
  if (node === null || typeof node !== 'object') {
    return JSON.stringify(node);
  }
  const o = node as Record<string, unknown>;
  const keys = Object.keys(o)
    .filter((k) => k !== 'loc')
    .sort();
  const parts: string[] = [];
  if ((o.type === 'and' || o.type === 'or') && 'left' in o && 'right' in o) {
    const [l, r] = [stable(o.left, variable), stable(o.right, variable)].sort();
    return `{"left":${l},"right":${r},"type":${JSON.stringify(o.type)}}`;
  }
  for (const k of keys) {
    let v = o[k];
    if (variable !== undefined && (k === 'name' || k === 'variable') && v === variable && (o.type === 'bound' || o.type === 'boundField' || 'selector' in o)) {
      v = '$';
    }
    parts.push(`${JSON.stringify(k)}:${stable(v, variable)}`);
  }
  return `{${parts.join(',')}}`;
}
