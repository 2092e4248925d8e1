/**
 * The first stage of parsing: Ohm grammar match → a small, untyped-by-meaning syntax tree.
 * resolve.ts then gives each node its meaning from its context.
 */
import * as ohm from 'ohm-js';
import type { Loc } from './ast';
import { grammarSource } from './grammar/grammarSource';

export type SyntaxNode =
  | { k: 'or' | 'and'; left: SyntaxNode; right: SyntaxNode; opLoc: Loc; loc: Loc }
  | { k: 'not'; operand: SyntaxNode; loc: Loc }
  | { k: 'paren'; inner: SyntaxNode; loc: Loc }
  | { k: 'bind'; name: string; nameLoc: Loc; target: SyntaxNode; loc: Loc }
  | { k: 'compare'; op: string; left: SyntaxNode; right: SyntaxNode; opLoc: Loc; loc: Loc }
  | { k: 'method'; target: SyntaxNode; name: string; nameLoc: Loc; args: SyntaxNode[]; loc: Loc }
  | { k: 'call'; name: string; nameLoc: Loc; args: SyntaxNode[]; loc: Loc }
  | { k: 'star'; loc: Loc }
  | { k: 'path'; parts: string[]; loc: Loc }
  | { k: 'within'; value: SyntaxNode; loc: Loc }
  | { k: 'string'; value: string; loc: Loc }
  | { k: 'number'; value: number; loc: Loc }
  | { k: 'duration'; ns: number; loc: Loc }
  | { k: 'bool'; value: boolean; loc: Loc }
  | { k: 'null'; loc: Loc }
  | { k: 'list'; items: SyntaxNode[]; loc: Loc };

export interface SyntaxClause {
  keyword: 'always' | 'never';
  keywordLoc: Loc;
  body: SyntaxNode;
  loc: Loc;
}

export type SyntaxRule =
  | { form: 'expression'; body: SyntaxNode; loc: Loc }
  | { form: 'when'; whenLoc: Loc; body: SyntaxNode; clauses: SyntaxClause[]; loc: Loc };

// Built once: grammar construction is the expensive part of Ohm; matching is per keystroke.
export const grammar = ohm.grammar(grammarSource);

const UNIT_NS: Record<string, number> = { ns: 1, us: 1e3, µs: 1e3, ms: 1e6, s: 1e9, m: 60e9, h: 3600e9 };

function loc(node: ohm.Node): Loc {
  return { start: node.source.startIdx, end: node.source.endIdx };
}

function unescape(body: string): string {
  return body.replace(/\\(u[0-9a-fA-F]{4}|.)/g, (_m, esc: string) => {
    switch (esc[0]) {
      case 'n':
        return '\n';
      case 't':
        return '\t';
      case 'r':
        return '\r';
      case 'b':
        return '\b';
      case 'f':
        return '\f';
      case 'u':
        return String.fromCharCode(parseInt(esc.slice(1), 16));
      default:
        return esc;
    }
  });
}

const semantics = grammar.createSemantics().addOperation<unknown>('tree', {
  Rule_when(rule, _end) {
    return rule.tree();
  },
  Rule_expression(expr, _end): SyntaxRule {
    return { form: 'expression', body: expr.tree() as SyntaxNode, loc: loc(this) };
  },
  WhenRule(kw, _open, body, _close, clauses): SyntaxRule {
    return {
      form: 'when',
      whenLoc: loc(kw),
      body: body.tree() as SyntaxNode,
      clauses: clauses.children.map((c) => c.tree() as SyntaxClause),
      loc: loc(this),
    };
  },
  Clause(kw, _open, body, _close): SyntaxClause {
    return {
      keyword: kw.sourceString as 'always' | 'never',
      keywordLoc: loc(kw),
      body: body.tree() as SyntaxNode,
      loc: loc(this),
    };
  },
  Expr_or(left, op, right): SyntaxNode {
    return { k: 'or', left: left.tree() as SyntaxNode, right: right.tree() as SyntaxNode, opLoc: loc(op), loc: loc(this) };
  },
  AndExpr_and(left, op, right): SyntaxNode {
    return { k: 'and', left: left.tree() as SyntaxNode, right: right.tree() as SyntaxNode, opLoc: loc(op), loc: loc(this) };
  },
  NotExpr_not(_op, operand): SyntaxNode {
    return { k: 'not', operand: operand.tree() as SyntaxNode, loc: loc(this) };
  },
  Term_bind(name, _colon, target): SyntaxNode {
    return { k: 'bind', name: name.sourceString, nameLoc: loc(name), target: target.tree() as SyntaxNode, loc: loc(this) };
  },
  Term_compare(left, op, right): SyntaxNode {
    const opText = op.sourceString.replace(/\s+/g, ' ');
    return {
      k: 'compare',
      op: opText === '=~' ? 'matches' : opText,
      left: left.tree() as SyntaxNode,
      right: right.tree() as SyntaxNode,
      opLoc: loc(op),
      loc: loc(this),
    };
  },
  Term_paren(_open, inner, _close): SyntaxNode {
    return { k: 'paren', inner: inner.tree() as SyntaxNode, loc: loc(this) };
  },
  Operand_method(target, _dot, name, _open, args, _close): SyntaxNode {
    return {
      k: 'method',
      target: target.tree() as SyntaxNode,
      name: name.sourceString,
      nameLoc: loc(name),
      args: args.asIteration().children.map((a) => a.tree() as SyntaxNode),
      loc: loc(this),
    };
  },
  Operand_call(name, _open, args, _close): SyntaxNode {
    return {
      k: 'call',
      name: name.sourceString,
      nameLoc: loc(name),
      args: args.asIteration().children.map((a) => a.tree() as SyntaxNode),
      loc: loc(this),
    };
  },
  Operand_star(_star): SyntaxNode {
    return { k: 'star', loc: loc(this) };
  },
  Operand_list(_open, items, _close): SyntaxNode {
    return { k: 'list', items: items.asIteration().children.map((i) => i.tree() as SyntaxNode), loc: loc(this) };
  },
  Arg_within(_kw, value): SyntaxNode {
    return { k: 'within', value: value.tree() as SyntaxNode, loc: loc(this) };
  },
  path(_ident, _tail): SyntaxNode {
    return { k: 'path', parts: this.sourceString.split('.'), loc: loc(this) };
  },
  duration(_sign, _whole, _dot, _frac, unit): SyntaxNode {
    // The number is the text before the unit (`1.5ms` → 1.5); reading the optional fraction's
    // node gave NaN for every decimal duration, which compile then failed on.
    const text = this.sourceString;
    const value = Number(text.slice(0, text.length - unit.sourceString.length));
    return { k: 'duration', ns: Math.round(value * UNIT_NS[unit.sourceString]), loc: loc(this) };
  },
  number(_sign, _whole, _dot, _frac, _e, _esign, _exp): SyntaxNode {
    return { k: 'number', value: Number(this.sourceString), loc: loc(this) };
  },
  string(_open, chars, _close): SyntaxNode {
    return { k: 'string', value: unescape(chars.sourceString), loc: loc(this) };
  },
  true(_t): SyntaxNode {
    return { k: 'bool', value: true, loc: loc(this) };
  },
  false(_f): SyntaxNode {
    return { k: 'bool', value: false, loc: loc(this) };
  },
  null(_n): SyntaxNode {
    return { k: 'null', loc: loc(this) };
  },
  _iter(...children) {
    return children.map((c) => c.tree());
  },
});

export type MatchOutcome = { ok: true; rule: SyntaxRule } | { ok: false; failure: ohm.FailedMatchResult };

export function matchRule(source: string): MatchOutcome {
  const match = grammar.match(source);
  if (match.failed()) {
    return { ok: false, failure: match };
  }
  return { ok: true, rule: semantics(match).tree() as SyntaxRule };
}
