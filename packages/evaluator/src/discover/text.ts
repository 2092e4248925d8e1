/**
 * Rule text for suggestions: span names, attribute names and literals written the way the
 * grammar (grammar/betrace.ohm) reads them back. A name is written bare when the parser reads
 * the bare form back as exactly that name, otherwise as `span("…")` (selectors) or a quoted
 * name (attributes); every choice is checked with the real parser once and remembered.
 */
import type { Cond, RuleAst, Selector, TraceExpr } from '../ast';
import { parseRule } from '../parse';

const IDENT_PATH = /^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)*$/;

export class RuleText {
  private readonly selectors = new Map<string, string>();
  private readonly attrs = new Map<string, string | null>();
  private readonly bound = new Map<string, string | null>();

  /** A selector for spans named exactly `name`. */
  selector(name: string): string {
    let text = this.selectors.get(name);
    if (text === undefined) {
      text = IDENT_PATH.test(name) && readsAsName(name, name) ? name : `span(${JSON.stringify(name)})`;
      this.selectors.set(name, text);
    }
    return text;
  }

  /** A reference to the span attribute `key` inside `where(…)`, or null when none reads back as it. */
  attr(key: string): string | null {
    let text = this.attrs.get(key);
    if (text === undefined) {
      text = null;
      for (const form of [IDENT_PATH.test(key) && !key.includes('.') ? key : undefined, JSON.stringify(key)]) {
        if (form !== undefined && readsAsAttr(`x.where(exists(${form}))`, key, false)) {
          text = form;
          break;
        }
      }
      this.attrs.set(key, text);
    }
    return text;
  }

  /** The attribute `key` of the span bound to `v` (`a.order_id`), or null when it cannot be written so. */
  boundAttr(v: string, key: string): string | null {
    const memo = `${v}\u0000${key}`;
    let text = this.bound.get(memo);
    if (text === undefined) {
      text = null;
      if (IDENT_PATH.test(key)) {
        for (const form of [`${v}.${key}`, `${v}.span.${key}`]) {
          if (readsAsAttr(`x.where(k == ${form})`, key, true, v)) {
            text = form;
            break;
          }
        }
      }
      this.bound.set(memo, text);
    }
    return text;
  }
}

function readsAsName(text: string, name: string): boolean {
  const ast = parseRule(`when { ${text} } always { ${text} }`).ast;
  if (ast === undefined || ast.type !== 'when' || ast.when === undefined || ast.when.type !== 'exists') {
    return false;
  }
  const sel: Selector = ast.when.selector;
  return sel.type === 'name' && sel.name === name;
}

/** Whether `selector` (of `x`, with `v` bound when given) parses cleanly with its condition reading attribute `key`. */
function readsAsAttr(selector: string, key: string, bound: boolean, v = 'a'): boolean {
  // `x` stands for the span: declared a known span name, so only the attribute text can draw a warning.
  const parsed = parseRule(bound ? `when { ${v}: x } never { ${selector} }` : `when { x } never { ${selector} }`, { vocabulary: { spanNames: ['x'] } });
  if (parsed.ast === undefined || parsed.diagnostics.length > 0) {
    return false;
  }
  const ast: RuleAst = parsed.ast;
  const never: TraceExpr | undefined = ast.type === 'when' ? ast.never : undefined;
  if (never === undefined || never.type !== 'exists' || never.selector.type !== 'where') {
    return false;
  }
  const cond: Cond = never.selector.cond;
  if (!bound) {
    return cond.type === 'fieldExists' && cond.field.scope === 'span' && cond.field.name === key;
  }
  return cond.type === 'compare' && cond.right.type === 'boundField' && cond.right.field.scope === 'span' && cond.right.field.name === key;
}

/** A literal for an attribute value (strings quoted, numbers as numbers, booleans bare). */
export function literal(v: string | number | boolean): string {
  if (typeof v === 'string') {
    return JSON.stringify(v);
  }
  if (typeof v === 'number') {
    return numberText(v);
  }
  return v ? 'true' : 'false';
}

export function numberText(n: number): string {
  const s = String(n);
  // String() writes 1e+21 and 1e-7, both of which the grammar reads; NaN/Infinity cannot occur here.
  return s;
}

const UNITS: ReadonlyArray<[string, number]> = [
  ['h', 3_600e9],
  ['m', 60e9],
  ['s', 1e9],
  ['ms', 1e6],
  ['us', 1e3],
  ['ns', 1],
];

/** A duration literal for `ns` nanoseconds, in the largest unit it is at least one of with one decimal at most (`1.5ms`). */
export function durationText(ns: number): string {
  for (const [unit, size] of UNITS) {
    if (ns >= size && Number.isInteger(Math.round((ns / size) * 1e6) / 1e5)) {
      return `${Math.round((ns / size) * 10) / 10}${unit}`;
    }
  }
  return `${Math.round(ns)}ns`;
}

/** Human words for a duration (the same as the literal: `150ms`). */
export const durationWords = durationText;

/** Quotes a span or attribute name for a title. */
export function q(name: string): string {
  return `\`${name}\``;
}
