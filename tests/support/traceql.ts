/**
 * A reference implementation of the TraceQL subset BeTrace's pushdown emits, over the normalized
 * trace model. It follows Tempo's semantics for that subset: spanset filters `{ … }` joined by
 * `&&` / `||` (and parentheses), conditions joined by `&&` / `||` inside a spanset, intrinsics
 * (name, status, kind, duration, statusMessage, rootName, rootServiceName, traceDuration),
 * scoped (`span.x`, `resource.x`, quoted `span."x y"`) and unscoped (`.x`: span, then resource)
 * attributes, typed comparisons (a string never equals a number), fully anchored RE2 regexes,
 * `!= nil` for existence, duration literals.
 *
 * Used by the pushdown soundness property test, and by the Tempo test double.
 */
import { RE2JS } from 're2js';
import type { AttrValue, Span, Trace } from '@betrace/evaluator';

export type TqValue =
  | { k: 'string'; v: string }
  | { k: 'number'; v: number }
  | { k: 'duration'; ns: number }
  | { k: 'bool'; v: boolean }
  | { k: 'nil' }
  | { k: 'enum'; v: string };

export type TqField =
  | { k: 'intrinsic'; name: string }
  | { k: 'attr'; scope: 'span' | 'resource' | 'any'; name: string };

export type TqCond =
  | { k: 'and' | 'or'; left: TqCond; right: TqCond }
  | { k: 'cmp'; field: TqField; op: string; value: TqValue; regex?: RE2JS };

export type TqQuery =
  | { k: 'and' | 'or'; left: TqQuery; right: TqQuery }
  | { k: 'spanset'; cond?: TqCond };

const INTRINSICS = new Set(['name', 'status', 'kind', 'duration', 'statusMessage', 'rootName', 'rootServiceName', 'traceDuration']);

export class TraceQLSyntaxError extends Error {
  constructor(
    message: string,
    readonly column: number,
  ) {
    super(`parse error at line 1, col ${column}: ${message}`);
  }
}

class Parser {
  private i = 0;
  constructor(private readonly s: string) {}

  fail(msg: string): never {
    throw new TraceQLSyntaxError(msg, this.i + 1);
  }

  ws(): void {
    while (this.i < this.s.length && /\s/.test(this.s[this.i])) {
      this.i++;
    }
  }

  eat(tok: string): boolean {
    this.ws();
    if (this.s.startsWith(tok, this.i)) {
      this.i += tok.length;
      return true;
    }
    return false;
  }

  expect(tok: string): void {
    if (!this.eat(tok)) {
      this.fail(`expected ${tok}`);
    }
  }

  query(): TqQuery {
    const q = this.qOr();
    this.ws();
    if (this.i !== this.s.length) {
      this.fail(`unexpected ${this.s.slice(this.i, this.i + 10)}`);
    }
    return q;
  }

  private qOr(): TqQuery {
    let left = this.qAnd();
    while (this.eat('||')) {
      left = { k: 'or', left, right: this.qAnd() };
    }
    return left;
  }

  private qAnd(): TqQuery {
    let left = this.qPrimary();
    while (this.eat('&&')) {
      left = { k: 'and', left, right: this.qPrimary() };
    }
    return left;
  }

  private qPrimary(): TqQuery {
    if (this.eat('(')) {
      const q = this.qOr();
      this.expect(')');
      return q;
    }
    this.expect('{');
    if (this.eat('}')) {
      return { k: 'spanset' };
    }
    const cond = this.cOr();
    this.expect('}');
    return { k: 'spanset', cond };
  }

  private cOr(): TqCond {
    let left = this.cAnd();
    while (this.eat('||')) {
      left = { k: 'or', left, right: this.cAnd() };
    }
    return left;
  }

  private cAnd(): TqCond {
    let left = this.cAtom();
    while (this.eat('&&')) {
      left = { k: 'and', left, right: this.cAtom() };
    }
    return left;
  }

  private cAtom(): TqCond {
    if (this.eat('(')) {
      const c = this.cOr();
      this.expect(')');
      return c;
    }
    const field = this.field();
    this.ws();
    const op = ['=~', '!~', '!=', '>=', '<=', '=', '>', '<'].find((o) => this.s.startsWith(o, this.i));
    if (op === undefined) {
      this.fail('expected a comparison operator');
    }
    this.i += op.length;
    const value = this.value();
    const cond: TqCond = { k: 'cmp', field, op, value };
    if (op === '=~' || op === '!~') {
      if (value.k !== 'string') {
        this.fail('regex needs a string');
      }
      try {
        // Tempo anchors regular expressions at both ends.
        cond.regex = RE2JS.compile(`^(?:${value.v})$`);
      } catch (e) {
        this.fail(`invalid regex: ${String(e)}`);
      }
    }
    return cond;
  }

  private ident(): string {
    const m = /^[A-Za-z_][A-Za-z0-9_.\-/]*/.exec(this.s.slice(this.i));
    if (!m) {
      this.fail('expected a name');
    }
    this.i += m[0].length;
    return m[0];
  }

  private quoted(): string {
    this.expect('"');
    let out = '';
    while (this.i < this.s.length && this.s[this.i] !== '"') {
      if (this.s[this.i] === '\\') {
        this.i++;
        const c = this.s[this.i];
        out += c === 'n' ? '\n' : c === 't' ? '\t' : c === 'r' ? '\r' : c;
      } else {
        out += this.s[this.i];
      }
      this.i++;
    }
    this.expect('"');
    return out;
  }

  private field(): TqField {
    this.ws();
    for (const scope of ['span', 'resource'] as const) {
      if (this.s.startsWith(`${scope}.`, this.i)) {
        this.i += scope.length + 1;
        const name = this.s[this.i] === '"' ? this.quoted() : this.ident();
        return { k: 'attr', scope, name };
      }
    }
    if (this.s[this.i] === '.') {
      this.i++;
      const name = this.s[this.i] === '"' ? this.quoted() : this.ident();
      return { k: 'attr', scope: 'any', name };
    }
    const name = this.ident();
    if (!INTRINSICS.has(name)) {
      this.fail(`unknown intrinsic ${name}`);
    }
    return { k: 'intrinsic', name };
  }

  private value(): TqValue {
    this.ws();
    if (this.s[this.i] === '"') {
      return { k: 'string', v: this.quoted() };
    }
    const rest = this.s.slice(this.i);
    const dur = /^(-?\d+(?:\.\d+)?)(ns|us|µs|ms|s|m|h)(?![A-Za-z0-9_])/.exec(rest);
    if (dur) {
      this.i += dur[0].length;
      const unit: Record<string, number> = { ns: 1, us: 1e3, µs: 1e3, ms: 1e6, s: 1e9, m: 60e9, h: 3600e9 };
      return { k: 'duration', ns: Number(dur[1]) * unit[dur[2]] };
    }
    const num = /^-?\d+(\.\d+)?([eE][-+]?\d+)?/.exec(rest);
    if (num) {
      this.i += num[0].length;
      return { k: 'number', v: Number(num[0]) };
    }
    const word = /^[A-Za-z_]+/.exec(rest);
    if (word) {
      this.i += word[0].length;
      if (word[0] === 'true' || word[0] === 'false') {
        return { k: 'bool', v: word[0] === 'true' };
      }
      if (word[0] === 'nil') {
        return { k: 'nil' };
      }
      return { k: 'enum', v: word[0] };
    }
    this.fail('expected a value');
  }
}

export function parseTraceQL(q: string): TqQuery {
  return new Parser(q).query();
}

type Scalar = string | number | boolean | undefined;

function attr(span: Span, f: Extract<TqField, { k: 'attr' }>): AttrValue | undefined {
  const own = (o: Record<string, AttrValue>, k: string) => (Object.prototype.hasOwnProperty.call(o, k) ? o[k] : undefined);
  if (f.scope === 'span') {
    return own(span.attrs, f.name);
  }
  if (f.scope === 'resource') {
    return own(span.resource, f.name);
  }
  return own(span.attrs, f.name) ?? own(span.resource, f.name);
}

function intrinsic(span: Span, trace: Trace, name: string): Scalar | { duration: number } {
  switch (name) {
    case 'name':
      return span.name;
    case 'status':
      return span.status;
    case 'kind':
      return span.kind;
    case 'statusMessage':
      return span.statusMessage;
    case 'duration':
      return { duration: span.durationNs };
    case 'rootName':
      return trace.rootSpan?.name;
    case 'rootServiceName':
      return trace.rootSpan?.service;
    case 'traceDuration':
      return { duration: Number(trace.endNs - trace.startNs) };
  }
  return undefined;
}

function ordered(op: string, a: number | string, b: number | string): boolean {
  switch (op) {
    case '=':
      return a === b;
    case '!=':
      return a !== b;
    case '>':
      return a > b;
    case '>=':
      return a >= b;
    case '<':
      return a < b;
    case '<=':
      return a <= b;
  }
  return false;
}

function matchCond(c: TqCond, span: Span, trace: Trace): boolean {
  if (c.k === 'cmp') {
    return matchComparison(c, span, trace);
  }
  return c.k === 'and'
    ? matchCond(c.left, span, trace) && matchCond(c.right, span, trace)
    : matchCond(c.left, span, trace) || matchCond(c.right, span, trace);
}

function matchComparison(c: Extract<TqCond, { k: 'cmp' }>, span: Span, trace: Trace): boolean {
  const raw = c.field.k === 'intrinsic' ? intrinsic(span, trace, c.field.name) : attr(span, c.field);
  const v = c.value;
  if (v.k === 'nil') {
    const present = raw !== undefined && raw !== null;
    return c.op === '!=' ? present : c.op === '=' ? !present : false;
  }
  if (raw === undefined || raw === null) {
    return false;
  }
  if (c.regex) {
    return typeof raw === 'string' && c.regex.test(raw) === (c.op === '=~');
  }
  if (typeof raw === 'object' && !Array.isArray(raw) && 'duration' in raw) {
    const d = (raw as { duration: number }).duration;
    if (v.k === 'duration') {
      return ordered(c.op, d, v.ns);
    }
    return false;
  }
  if (typeof raw === 'string') {
    if (v.k === 'string' || v.k === 'enum') {
      return ordered(c.op, raw, v.v);
    }
    return false;
  }
  if (typeof raw === 'number' || typeof raw === 'bigint') {
    if (v.k === 'number') {
      return ordered(c.op, Number(raw), v.v);
    }
    return false;
  }
  if (typeof raw === 'boolean') {
    return v.k === 'bool' && (c.op === '=' ? raw === v.v : c.op === '!=' ? raw !== v.v : false);
  }
  return false;
}

/** The spans of a trace a query's spansets select (for search results' span sets). */
export function matchingSpans(q: TqQuery, trace: Trace): Span[] {
  if (q.k === 'spanset') {
    return trace.spans.filter((s) => q.cond === undefined || matchCond(q.cond, s, trace));
  }
  const l = matchingSpans(q.left, trace);
  const r = matchingSpans(q.right, trace);
  if (q.k === 'and') {
    return l.length > 0 && r.length > 0 ? [...new Set([...l, ...r])] : [];
  }
  return [...new Set([...l, ...r])];
}

export function matchesTrace(q: TqQuery | string, trace: Trace): boolean {
  const query = typeof q === 'string' ? parseTraceQL(q) : q;
  return matchingSpans(query, trace).length > 0;
}
