/**
 * TraceQL pushdown: each rule becomes a TraceQL query selecting a SUPERSET of the traces on
 * which it can fire, so the poller can ask Tempo for candidates and never miss one.
 *
 * Soundness over precision: a term is pushed down only where TraceQL's meaning is at least as
 * wide as BeTrace's. Everything else is dropped (widening):
 * - terms under `not`, `always` clauses (they only suppress firing), `all(…)`, bound values;
 * - comparisons whose TraceQL typing is narrower: BeTrace compares a numeric string attribute
 *   with a number (`amount > 1000` holds for "2000"), TraceQL does not, so a numeric comparison
 *   on an attribute is pushed as `(span.amount > 1000 || span.amount =~ "<numeric string>")`;
 * - attribute `!=`, `!~`, `contains` and `== null`, whose TraceQL treatment of absent or array
 *   values differs;
 * - `matches` is a search in BeTrace and anchored in TraceQL, so the pattern is wrapped in
 *   `(?s).*(?:…).*`.
 */
import type { Cond, FieldRef, Literal, RuleAst, Selector, TraceExpr } from './ast';
import type { Pushdown } from './types';

type Filter =
  | { t: 'true' }
  | { t: 'spanset'; conds: string[] }
  | { t: 'and' | 'or'; items: Filter[] };

const TRUE: Filter = { t: 'true' };

/** A string literal in TraceQL syntax. */
export function traceqlString(s: string): string {
  return `"${s.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n').replace(/\r/g, '\\r').replace(/\t/g, '\\t')}"`;
}

/** Matches the strings BeTrace reads as numbers (values.ts numericString). */
export const NUMERIC_STRING_REGEX = '\\s*[-+]?([0-9]+\\.?[0-9]*|\\.[0-9]+)([eE][-+]?[0-9]+)?\\s*';

function attributeName(scope: 'span' | 'resource', name: string): string {
  return /^[A-Za-z_][A-Za-z0-9_.\-/]*$/.test(name) ? `${scope}.${name}` : `${scope}.${traceqlString(name)}`;
}

function durationLiteral(ns: number): string {
  return `${Math.round(ns)}ns`;
}

function numberLiteral(n: number): string {
  return String(n);
}

function and(items: Filter[]): Filter {
  const flat: Filter[] = [];
  const seen = new Set<string>();
  for (const item of items) {
    const parts = item.t === 'and' ? item.items : [item];
    for (const p of parts) {
      // `{}` only says "some span exists", which any other spanset already implies.
      if (p.t === 'true' || (p.t === 'spanset' && p.conds.length === 0)) {
        continue;
      }
      const key = render(p);
      if (!seen.has(key)) {
        seen.add(key);
        flat.push(p);
      }
    }
  }
  if (flat.length === 0) {
    return items.some((i) => i.t === 'spanset') ? { t: 'spanset', conds: [] } : TRUE;
  }
  return flat.length === 1 ? flat[0] : { t: 'and', items: flat };
}

function or(items: Filter[]): Filter {
  if (items.some((i) => i.t === 'true')) {
    return TRUE;
  }
  const flat: Filter[] = [];
  const seen = new Set<string>();
  for (const item of items) {
    for (const p of item.t === 'or' ? item.items : [item]) {
      const key = render(p);
      if (!seen.has(key)) {
        seen.add(key);
        flat.push(p);
      }
    }
  }
  return flat.length === 1 ? flat[0] : { t: 'or', items: flat };
}

function render(f: Filter): string {
  switch (f.t) {
    case 'true':
      return '{}';
    case 'spanset':
      return f.conds.length === 0 ? '{}' : `{ ${f.conds.join(' && ')} }`;
    case 'and':
      return f.items.map((i) => (i.t === 'or' ? `(${render(i)})` : render(i))).join(' && ');
    case 'or':
      return f.items.map((i) => (i.t === 'and' ? `(${render(i)})` : render(i))).join(' || ');
  }
}

// ---------------------------------------------------------------- trace level

function traceExpr(e: TraceExpr): Filter {
  switch (e.type) {
    case 'and':
      return and([traceExpr(e.left), traceExpr(e.right)]);
    case 'or':
      return or([traceExpr(e.left), traceExpr(e.right)]);
    case 'exists':
      return selector(e.selector);
    case 'bool':
      return e.value.type === 'traceField' && e.value.field === 'has_error' ? { t: 'spanset', conds: ['status = error'] } : TRUE;
    case 'compare': {
      const parts: Filter[] = [];
      const { left, right, op } = e;
      // Aggregates have no value over an empty set, so a comparison with one needs a span of S.
      for (const v of [left, right]) {
        if (v.type === 'aggregate') {
          parts.push(selector(v.selector));
        }
      }
      if (left.type === 'count' && right.type === 'literal' && right.kind === 'number') {
        const n = right.value;
        if ((op === '>' && n >= 0) || (op === '>=' && n >= 1) || (op === '==' && n >= 1)) {
          parts.push(selector(left.selector));
        }
      }
      if (left.type === 'traceField' && right.type === 'literal' && (right.kind === 'string' || right.kind === 'enum') && op === '==') {
        if (left.field === 'root.name') {
          parts.push({ t: 'spanset', conds: [`rootName = ${traceqlString(right.value)}`] });
        } else if (left.field === 'root.service') {
          parts.push({ t: 'spanset', conds: [`rootServiceName = ${traceqlString(right.value)}`] });
        }
      }
      return parts.length === 0 ? TRUE : and(parts);
    }
    case 'not':
    case 'all':
      return TRUE;
  }
}

// ---------------------------------------------------------------- selectors

function selector(sel: Selector): Filter {
  switch (sel.type) {
    case 'name':
      return { t: 'spanset', conds: [`name = ${traceqlString(sel.name)}`] };
    case 'any':
      return { t: 'spanset', conds: [] };
    case 'bound':
      return TRUE;
    case 'where': {
      const base = selector(sel.base);
      const c = cond(sel.cond);
      if (c === undefined) {
        return base;
      }
      if (base.t === 'spanset') {
        return { t: 'spanset', conds: [...base.conds, c] };
      }
      if (base.t === 'true') {
        return { t: 'spanset', conds: [c] };
      }
      return base;
    }
    case 'relation':
    case 'order':
      // Both sides must exist; the structure itself is checked by the evaluator.
      return and([selector(sel.base), selector(sel.other)]);
  }
}

// ---------------------------------------------------------------- span conditions

function cond(c: Cond): string | undefined {
  switch (c.type) {
    case 'and': {
      const l = cond(c.left);
      const r = cond(c.right);
      if (l !== undefined && r !== undefined) {
        return `${l} && ${r}`;
      }
      return l ?? r;
    }
    case 'or': {
      const l = cond(c.left);
      const r = cond(c.right);
      return l !== undefined && r !== undefined ? `(${l} || ${r})` : undefined;
    }
    case 'not':
      return undefined;
    case 'fieldExists': {
      const f = field(c.field);
      return f === undefined || c.field.scope === 'intrinsic' ? undefined : `${f} != nil`;
    }
    case 'truthy':
      return c.field.type === 'field' && c.field.scope !== 'intrinsic' ? `${field(c.field)} = true` : undefined;
    case 'compare': {
      if (c.left.type !== 'field' || c.right.type !== 'literal') {
        return undefined;
      }
      return comparison(c.op, c.left, c.right);
    }
  }
}

function field(f: FieldRef): string | undefined {
  if (f.scope === 'intrinsic') {
    switch (f.name) {
      case 'name':
        return 'name';
      case 'duration':
        return 'duration';
      case 'status':
        return 'status';
      case 'status_message':
        return 'statusMessage';
      case 'kind':
        return 'kind';
      case 'service':
        return 'resource.service.name';
    }
  }
  return attributeName(f.scope as 'span' | 'resource', f.name);
}

const TRACEQL_OPS: Record<string, string> = { '==': '=', '!=': '!=', '<': '<', '<=': '<=', '>': '>', '>=': '>=' };

function comparison(op: string, f: FieldRef, lit: Literal): string | undefined {
  const target = field(f)!;
  if (op === 'matches' && (lit.kind === 'string' || lit.kind === 'enum')) {
    return `${target} =~ ${traceqlString(`(?s).*(?:${lit.value}).*`)}`;
  }
  if (op === 'in' && lit.kind === 'list') {
    const alternatives: string[] = [];
    for (const item of lit.value) {
      const one = comparison('==', f, item);
      if (one === undefined) {
        return undefined;
      }
      alternatives.push(one);
    }
    return alternatives.length === 1 ? alternatives[0] : `(${alternatives.join(' || ')})`;
  }
  const tq = TRACEQL_OPS[op];
  if (tq === undefined) {
    return undefined;
  }
  if (f.scope === 'intrinsic') {
    return intrinsicComparison(f.name, tq, lit, target);
  }
  // Attributes: only what TraceQL matches at least as widely as BeTrace does.
  if (op === '!=') {
    return undefined;
  }
  switch (lit.kind) {
    case 'string':
    case 'enum':
      // A numeric string literal also equals a number attribute in BeTrace; TraceQL would miss it.
      return tq === '=' && !/^\s*[-+]?([0-9]+\.?[0-9]*|\.[0-9]+)([eE][-+]?[0-9]+)?\s*$/.test(lit.value)
        ? `${target} = ${traceqlString(lit.value)}`
        : undefined;
    case 'bool':
      return tq === '=' ? `${target} = ${lit.value}` : undefined;
    case 'number':
    case 'duration':
      return `(${target} ${tq} ${numberLiteral(lit.value)} || ${target} =~ ${traceqlString(NUMERIC_STRING_REGEX)})`;
    default:
      return undefined;
  }
}

function intrinsicComparison(name: string, tq: string, lit: Literal, target: string): string | undefined {
  switch (name) {
    case 'duration':
      return lit.kind === 'duration' || lit.kind === 'number' ? `duration ${tq} ${durationLiteral(lit.value)}` : undefined;
    case 'status':
    case 'kind':
      return (lit.kind === 'enum' || lit.kind === 'string') && (tq === '=' || tq === '!=') && /^[a-z]+$/.test(lit.value)
        ? `${target} ${tq} ${lit.value}`
        : undefined;
    default:
      // name, statusMessage, resource.service.name: always strings on both sides.
      return (lit.kind === 'string' || lit.kind === 'enum') && (tq === '=' || tq === '!=') ? `${target} ${tq} ${traceqlString(lit.value)}` : undefined;
  }
}

// ---------------------------------------------------------------- rule

export function pushdownRule(ast: RuleAst): Pushdown {
  let filter: Filter;
  if (ast.type === 'expression') {
    filter = traceExpr(ast.body);
  } else {
    const parts: Filter[] = [];
    if (ast.binding) {
      parts.push(selector(ast.binding.selector));
    }
    if (ast.when) {
      parts.push(traceExpr(ast.when));
    }
    // Without `always`, the rule fires only when `never` holds; with it, `not always` may suffice.
    if (ast.never && !ast.always) {
      parts.push(traceExpr(ast.never));
    }
    filter = and(parts);
  }
  const query = render(filter);
  return { query, fullScan: query === '{}' };
}
