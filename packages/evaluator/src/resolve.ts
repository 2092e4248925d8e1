/**
 * The second stage of parsing: gives each syntax node its meaning from where it stands
 * (trace level, selector, span condition), producing the typed AST of ast.ts and the
 * semantic diagnostics (unknown names, statically known type mismatches, misplaced
 * bindings, bounds).
 */
import { RE2JS } from 're2js';
import {
  Binding,
  BoundField,
  CompareOp,
  Cond,
  FieldRef,
  INTRINSICS,
  Intrinsic,
  Literal,
  Loc,
  Operand,
  RELATIONS,
  Relation,
  RuleAst,
  Selector,
  TRACE_FIELDS,
  TraceExpr,
  TraceField,
  TraceFieldName,
  TraceValue,
} from './ast';
import { MAX_SELECTORS } from './limits';
import { LineMap } from './positions';
import type { SyntaxClause, SyntaxNode, SyntaxRule } from './syntax';
import type { Diagnostic, DiagnosticSeverity, RuleVocabulary } from './types';

const METHODS = ['where', ...RELATIONS, 'before', 'after'] as const;
const FUNCTIONS = ['count', 'min', 'max', 'sum', 'avg', 'all', 'exists', 'span'] as const;
const STATUS_VALUES = ['ok', 'error', 'unset'];
const KIND_VALUES = ['server', 'client', 'producer', 'consumer', 'internal', 'unspecified'];

/**
 * Damerau–Levenshtein distance (optimal string alignment: a swap of two neighbours counts as
 * one edit, so `fraud_chekc` is one edit from `fraud_check`), for did-you-mean suggestions.
 */
export function editDistance(a: string, b: string): number {
  let before = new Array<number>(b.length + 1).fill(0);
  let prev = Array.from({ length: b.length + 1 }, (_v, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const row = new Array<number>(b.length + 1);
    row[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      row[j] = Math.min(prev[j] + 1, row[j - 1] + 1, prev[j - 1] + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) {
        row[j] = Math.min(row[j], before[j - 2] + 1);
      }
    }
    before = prev;
    prev = row;
  }
  return prev[b.length];
}

/** The closest candidate within a small distance, or undefined. */
export function closest(word: string, candidates: Iterable<string>, limit = word.length <= 4 ? 1 : 2): string | undefined {
  let best: string | undefined;
  let bestDistance = Infinity;
  for (const c of candidates) {
    const d = editDistance(word.toLowerCase(), c);
    if (d < bestDistance && d <= limit) {
      best = c;
      bestDistance = d;
    }
  }
  return best;
}

function didYouMean(word: string, candidates: Iterable<string>): string {
  const c = closest(word, candidates);
  return c === undefined ? '' : `; did you mean \`${c}\`?`;
}

type ValueType = 'number' | 'string' | 'bool' | 'duration' | 'null' | 'list' | 'unknown';

function literalType(lit: Literal): ValueType {
  switch (lit.kind) {
    case 'string':
    case 'enum':
      return 'string';
    case 'number':
      return 'number';
    case 'duration':
      return 'duration';
    case 'bool':
      return 'bool';
    case 'null':
      return 'null';
    case 'list':
      return 'list';
  }
}

class Resolver {
  readonly diagnostics: Diagnostic[] = [];
  private selectorCount = 0;
  private selectorLimitReported = false;
  /** The bound variable visible in the clause being resolved. */
  private bound: string | undefined;

  private readonly spanNames: ReadonlySet<string>;
  /** First segments of the known dotted span names (`payment` of `payment.charge`). */
  private readonly spanNamePrefixes: ReadonlySet<string>;

  constructor(
    private readonly lines: LineMap,
    private readonly vocabulary: RuleVocabulary = {},
  ) {
    this.spanNames = new Set(vocabulary.spanNames ?? []);
    this.spanNamePrefixes = new Set([...this.spanNames].filter((n) => n.includes('.')).map((n) => n.slice(0, n.indexOf('.'))));
  }

  report(severity: DiagnosticSeverity, message: string, at: Loc, code: string): void {
    this.diagnostics.push(this.lines.diagnostic(severity, message, at, code));
  }

  private text(node: { loc: Loc }): string {
    return this.lines.text(node.loc);
  }

  rule(rule: SyntaxRule): RuleAst | undefined {
    if (rule.form === 'expression') {
      const body = this.traceExpr(rule.body);
      return body && { type: 'expression', body, loc: rule.loc };
    }
    return this.whenRule(rule);
  }

  private whenRule(rule: Extract<SyntaxRule, { form: 'when' }>): RuleAst | undefined {
    // The binding is the whole when clause or its first conjunct.
    let bindNode: Extract<SyntaxNode, { k: 'bind' }> | undefined;
    let rest: SyntaxNode | undefined = rule.body;
    if (rule.body.k === 'bind') {
      bindNode = rule.body;
      rest = undefined;
    } else if (rule.body.k === 'and') {
      const conjuncts = flattenAnd(rule.body);
      if (conjuncts[0].k === 'bind') {
        bindNode = conjuncts[0];
        rest = conjuncts.slice(1).reduce((left, right) => ({
          k: 'and' as const,
          left,
          right,
          opLoc: right.loc,
          loc: { start: left.loc.start, end: right.loc.end },
        }));
      }
    }
    let binding: Binding | undefined;
    if (bindNode !== undefined) {
      // The binding's own selector cannot read the variable it binds.
      const selector = this.selector(bindNode.target);
      this.bound = bindNode.name;
      if (selector) {
        binding = { name: bindNode.name, selector, loc: bindNode.loc };
      }
    }
    const when = rest === undefined ? undefined : this.traceExpr(rest);
    let always: TraceExpr | undefined;
    let never: TraceExpr | undefined;
    let seenNever: SyntaxClause | undefined;
    let ok = rest === undefined || when !== undefined;
    if (bindNode !== undefined && binding === undefined) {
      ok = false;
    }
    for (const clause of rule.clauses) {
      const body = this.traceExpr(clause.body);
      ok = ok && body !== undefined;
      if (clause.keyword === 'always') {
        if (always !== undefined) {
          this.report('error', 'a rule has at most one `always` clause', clause.keywordLoc, 'duplicate-clause');
        } else if (seenNever !== undefined) {
          this.report('error', '`always` must come before `never`', clause.keywordLoc, 'clause-order');
        }
        always = body;
      } else {
        if (never !== undefined) {
          this.report('error', 'a rule has at most one `never` clause', clause.keywordLoc, 'duplicate-clause');
        }
        seenNever = clause;
        never = body;
      }
    }
    if (rule.clauses.length === 0) {
      this.report(
        'error',
        '`when` needs an `always { … }` or a `never { … }` clause after it',
        rule.whenLoc,
        'missing-clause',
      );
    }
    this.bound = undefined;
    if (!ok) {
      return undefined;
    }
    const ast: RuleAst = { type: 'when', loc: rule.loc };
    if (binding) {
      ast.binding = binding;
    }
    if (when) {
      ast.when = when;
    }
    if (always) {
      ast.always = always;
    }
    if (never) {
      ast.never = never;
    }
    return ast;
  }

  // ---------------------------------------------------------------- trace level

  traceExpr(node: SyntaxNode): TraceExpr | undefined {
    switch (node.k) {
      case 'or':
      case 'and': {
        const left = this.traceExpr(node.left);
        const right = this.traceExpr(node.right);
        return left && right && { type: node.k, left, right, loc: node.loc };
      }
      case 'not': {
        const operand = this.traceExpr(node.operand);
        return operand && { type: 'not', operand, loc: node.loc };
      }
      case 'paren':
        return this.traceExpr(node.inner);
      case 'bind':
        this.report(
          'error',
          `a binding \`${node.name}:\` may only stand first in \`when { … }\`, outside \`not\` and \`or\``,
          node.nameLoc,
          'misplaced-binding',
        );
        return undefined;
      case 'compare':
        return this.traceComparison(node);
      default:
        return this.traceOperand(node);
    }
  }

  private traceOperand(node: SyntaxNode): TraceExpr | undefined {
    // trace.has_error, p.verified: boolean fields used alone.
    if (node.k === 'path') {
      const field = this.traceFieldOf(node);
      if (field === null) {
        return undefined;
      }
      if (field !== undefined) {
        if (field.field !== 'has_error') {
          this.report(
            'error',
            `\`${this.text(node)}\` is not a condition; compare it, e.g. \`${this.text(node)} > …\``,
            node.loc,
            'not-a-condition',
          );
          return undefined;
        }
        return { type: 'bool', value: field, loc: node.loc };
      }
      const bound = this.boundFieldOf(node);
      if (bound) {
        return { type: 'bool', value: bound, loc: node.loc };
      }
    }
    if (node.k === 'call' && (node.name === 'count' || isAggregate(node.name))) {
      this.report('error', `\`${node.name}(…)\` must be compared, e.g. \`${node.name}(…) > 0\``, node.loc, 'not-a-condition');
      return undefined;
    }
    if (node.k === 'call' && node.name === 'exists') {
      this.report('error', '`exists(…)` tests an attribute inside `where(…)`', node.loc, 'misplaced-exists');
      return undefined;
    }
    if (node.k === 'method' && node.target.k === 'call' && node.target.name === 'all') {
      return this.allSpans(node);
    }
    if (node.k === 'call' && node.name === 'all') {
      this.report('error', '`all(…)` needs a condition: `all(S).where(…)`', node.loc, 'all-without-where');
      return undefined;
    }
    if (isLiteralNode(node)) {
      this.report('error', `\`${this.text(node)}\` is a value, not a condition`, node.loc, 'not-a-condition');
      return undefined;
    }
    const selector = this.selector(node);
    return selector && { type: 'exists', selector, loc: node.loc };
  }

  private allSpans(node: Extract<SyntaxNode, { k: 'method' }>): TraceExpr | undefined {
    const call = node.target as Extract<SyntaxNode, { k: 'call' }>;
    if (node.name !== 'where') {
      this.report('error', `\`all(…)\` takes \`.where(…)\`, not \`.${node.name}(…)\``, node.nameLoc, 'all-without-where');
      return undefined;
    }
    if (call.args.length !== 1) {
      this.report('error', '`all(…)` takes one span selector', call.loc, 'arity');
      return undefined;
    }
    const selector = this.selector(call.args[0]);
    const cond = this.whereCondition(node);
    return selector && cond && { type: 'all', selector, cond, loc: node.loc };
  }

  private traceComparison(node: Extract<SyntaxNode, { k: 'compare' }>): TraceExpr | undefined {
    const op = node.op as CompareOp;
    const left = this.traceValue(node.left, node, 'left');
    const right = this.traceValue(node.right, node, 'right');
    if (!left || !right) {
      return undefined;
    }
    if (left.type === 'literal' && right.type === 'literal') {
      this.report('error', 'this compares two fixed values; a condition needs a span selector, a count or a trace field', node.loc, 'constant-comparison');
      return undefined;
    }
    this.checkTraceTypes(op, left, right, node);
    return { type: 'compare', op, left, right, loc: node.loc };
  }

  private traceValue(node: SyntaxNode, cmp: Extract<SyntaxNode, { k: 'compare' }>, side: 'left' | 'right'): TraceValue | undefined {
    if (node.k === 'call' && node.name === 'count') {
      if (node.args.length !== 1) {
        this.report('error', '`count(…)` takes one span selector', node.loc, 'arity');
        return undefined;
      }
      const selector = this.selector(node.args[0]);
      return selector && { type: 'count', selector, loc: node.loc };
    }
    if (node.k === 'method' && isTracePath(node.target) && node.name === 'count') {
      if (node.args.length !== 1) {
        this.report('error', '`trace.count(…)` takes one span selector', node.loc, 'arity');
        return undefined;
      }
      const selector = this.selector(node.args[0]);
      return selector && { type: 'count', selector, loc: node.loc };
    }
    if (node.k === 'call' && isAggregate(node.name)) {
      if (node.args.length !== 2) {
        this.report('error', `\`${node.name}(…)\` takes a span selector and a span field, e.g. \`${node.name}(db.query, duration)\``, node.loc, 'arity');
        return undefined;
      }
      const selector = this.selector(node.args[0]);
      const field = this.fieldOperand(node.args[1]);
      if (!selector || !field) {
        return undefined;
      }
      return { type: 'aggregate', fn: node.name as 'min' | 'max' | 'sum' | 'avg', selector, field, loc: node.loc };
    }
    if (node.k === 'path') {
      const field = this.traceFieldOf(node);
      if (field === null) {
        return undefined;
      }
      if (field) {
        return field;
      }
      const bound = this.boundFieldOf(node);
      if (bound) {
        return bound;
      }
      if (side === 'right' && node.parts.length === 1) {
        return { type: 'literal', kind: 'enum', value: node.parts[0], loc: node.loc };
      }
    }
    if (isLiteralNode(node)) {
      return this.literal(node);
    }
    if (node.k === 'call' && !FUNCTIONS.includes(node.name as (typeof FUNCTIONS)[number])) {
      this.report('error', `unknown function \`${node.name}\`${didYouMean(node.name, FUNCTIONS)}`, node.nameLoc, 'unknown-function');
      return undefined;
    }
    if (node.k === 'method' && isTracePath(node.target)) {
      if (node.name === 'has') {
        this.report('error', '`trace.has(…)` is a condition and cannot be compared; to count spans write `trace.count(…)`', node.loc, 'not-a-value');
      } else {
        this.unknownTraceFunction(node);
      }
      return undefined;
    }
    if (node.k === 'method' && !METHODS.includes(node.name as (typeof METHODS)[number])) {
      this.unknownMethod(node);
      return undefined;
    }
    // A selector on either side of a comparison: BeTrace v2 read `payment.amount > 1000` as a span name.
    this.report('error', `a span selector cannot be compared directly${this.whereSuggestion(node, cmp)}`, node.loc, 'selector-compared');
    return undefined;
  }

  private whereSuggestion(node: SyntaxNode, cmp: Extract<SyntaxNode, { k: 'compare' }>): string {
    if (node !== cmp.left || node.k !== 'path' || node.parts.length < 2) {
      return '; use `.where(…)` to test its spans, or `count(…)` to count them';
    }
    const name = node.parts.slice(0, -1).join('.');
    const attr = node.parts[node.parts.length - 1];
    return `; did you mean \`${name}.where(${attr} ${cmp.op} ${this.text(cmp.right)})\`?`;
  }

  /** trace.<field>: the field, undefined when the path is not trace.*, null after reporting an unknown field. */
  private traceFieldOf(node: Extract<SyntaxNode, { k: 'path' }>): TraceField | undefined | null {
    if (node.parts[0] !== 'trace' || node.parts.length < 2 || this.bound === 'trace') {
      return undefined;
    }
    const name = node.parts.slice(1).join('.');
    if (!TRACE_FIELDS.includes(name as TraceFieldName)) {
      this.report(
        'error',
        `unknown trace field \`${name}\`${didYouMean(name, TRACE_FIELDS)}`,
        { start: node.loc.start + 'trace.'.length, end: node.loc.end },
        'unknown-field',
      );
      return null;
    }
    return { type: 'traceField', field: name as TraceFieldName, loc: node.loc };
  }

  private boundFieldOf(node: Extract<SyntaxNode, { k: 'path' }>): BoundField | undefined {
    if (this.bound === undefined || node.parts[0] !== this.bound || node.parts.length < 2) {
      return undefined;
    }
    const rest = node.parts.slice(1);
    const fieldLoc = { start: node.loc.start + node.parts[0].length + 1, end: node.loc.end };
    const field = this.fieldFromParts(rest, fieldLoc);
    this.checkAttribute(field, `${this.bound}.`, node.loc);
    return { type: 'boundField', variable: this.bound, field, loc: node.loc };
  }

  /**
   * Warns about an attribute that looks mistyped: an unscoped name one or two edits from a span
   * field (`durration`), or — when the vocabulary knows the traces' attributes — a name none of
   * them carries but one closely resembles. Attributes are open-ended: with no close match, or
   * without a vocabulary, nothing is said.
   * @param prefix how the reference is written before the field (`p.` for a bound span, `span.`)
   * @param scoped whether the author scoped the name (`span.x`, `resource.x`): then it is meant as an attribute
   */
  private checkAttribute(field: FieldRef, prefix: string, at: Loc, scoped = false): void {
    if (field.scope === 'intrinsic') {
      return;
    }
    const written = this.lines.text(at);
    const unscoped = !scoped && written === `${prefix}${field.name}`;
    const near = unscoped && !field.name.includes('.') && field.name.length >= 4 ? closest(field.name, INTRINSICS) : undefined;
    if (near !== undefined) {
      this.report(
        'warning',
        `\`${written}\` is read as the span attribute \`${field.name}\`; did you mean the span field \`${prefix}${near}\`?`,
        at,
        'unknown-field',
      );
      return;
    }
    const known = field.scope === 'span' ? this.vocabulary.spanAttributes : this.vocabulary.resourceAttributes;
    if (known === undefined || known.length === 0 || known.includes(field.name)) {
      return;
    }
    const suggestion = closest(field.name, known);
    if (suggestion === undefined) {
      return;
    }
    const quoted = written.startsWith('"') || written.startsWith("'");
    const as = quoted || (prefix === '' && suggestion.includes('.')) ? `"${suggestion}"` : `${prefix}${suggestion}`;
    this.report(
      'warning',
      `no ${field.scope === 'span' ? 'span' : 'resource'} is known to carry the attribute \`${field.name}\`; did you mean \`${as}\`?`,
      at,
      'unknown-attribute',
    );
  }

  private fieldFromParts(parts: string[], at: Loc): FieldRef {
    if (parts.length === 1 && INTRINSICS.includes(parts[0] as Intrinsic)) {
      return { type: 'field', scope: 'intrinsic', name: parts[0] as Intrinsic, loc: at };
    }
    if (parts.length > 1 && (parts[0] === 'span' || parts[0] === 'resource')) {
      return { type: 'field', scope: parts[0], name: parts.slice(1).join('.'), loc: at };
    }
    return { type: 'field', scope: 'span', name: parts.join('.'), loc: at };
  }

  private checkTraceTypes(op: CompareOp, left: TraceValue, right: TraceValue, node: Extract<SyntaxNode, { k: 'compare' }>): void {
    const typeOf = (v: TraceValue): ValueType => {
      switch (v.type) {
        case 'count':
          return 'number';
        case 'aggregate':
          return v.field.scope === 'intrinsic' && v.field.name === 'duration' ? 'duration' : 'number';
        case 'traceField':
          return v.field === 'duration'
            ? 'duration'
            : v.field === 'span_count'
              ? 'number'
              : v.field === 'has_error'
                ? 'bool'
                : 'string';
        case 'boundField':
          return this.fieldType(v.field);
        case 'literal':
          return literalType(v);
      }
    };
    this.checkTypes(op, typeOf(left), typeOf(right), left, right, node);
  }

  // ---------------------------------------------------------------- selectors

  selector(node: SyntaxNode): Selector | undefined {
    this.selectorCount++;
    if (this.selectorCount > MAX_SELECTORS && !this.selectorLimitReported) {
      this.selectorLimitReported = true;
      this.report('error', `a rule may use at most ${MAX_SELECTORS} span selectors`, node.loc, 'too-many-selectors');
    }
    switch (node.k) {
      case 'star':
        return { type: 'any', loc: node.loc };
      case 'paren':
        return this.selector(node.inner);
      case 'path':
        if (node.parts.length === 1 && node.parts[0] === this.bound) {
          return { type: 'bound', name: node.parts[0], loc: node.loc };
        }
        if (node.parts[0] === 'trace' && node.parts.length > 1) {
          this.report('error', `\`${this.text(node)}\` is a trace field, not a span selector`, node.loc, 'not-a-selector');
          return undefined;
        }
        this.checkSpanName(node);
        return { type: 'name', name: node.parts.join('.'), loc: node.loc };
      case 'call':
        if (node.name === 'span') {
          if (node.args.length !== 1 || node.args[0].k !== 'string') {
            this.report('error', '`span(…)` takes the span name as a string, e.g. `span("GET /api/users/{id}")`', node.loc, 'arity');
            return undefined;
          }
          return { type: 'name', name: node.args[0].value, loc: node.loc };
        }
        if (!FUNCTIONS.includes(node.name as (typeof FUNCTIONS)[number])) {
          this.report('error', `unknown function \`${node.name}\`${didYouMean(node.name, FUNCTIONS)}`, node.nameLoc, 'unknown-function');
          return undefined;
        }
        this.report('error', `\`${node.name}(…)\` is not a span selector`, node.loc, 'not-a-selector');
        return undefined;
      case 'method':
        return this.methodSelector(node);
      default:
        this.report('error', `expected a span selector, found \`${this.text(node)}\``, node.loc, 'not-a-selector');
        return undefined;
    }
  }

  /**
   * A name used as a selector that looks like a mistyped variable rather than a span name: a
   * one-word name near the bound variable or a known span name, a one- or two-letter word, or
   * `l.x` with a one-letter first part. Dotted names and longer words are span names as written
   * (`checkout`, `GET`), so valid rules stay quiet; `span("…")` says a name is meant.
   */
  private checkSpanName(node: Extract<SyntaxNode, { k: 'path' }>): void {
    const name = node.parts.join('.');
    if (this.spanNames.has(name)) {
      return;
    }
    const bound = this.bound === undefined ? [] : [this.bound];
    if (node.parts.length === 1) {
      const toVariable = closest(name, bound);
      const toName = toVariable === undefined && name.length >= 3 ? closest(name, this.spanNames) : undefined;
      if (toVariable === undefined && toName === undefined && name.length > 2 && !this.vocabulary.spanNamesComplete) {
        return;
      }
      const hint =
        toVariable !== undefined
          ? `; did you mean the bound span \`${toVariable}\`?`
          : toName !== undefined
            ? `; did you mean \`${toName}\`?`
            : `; bind it first (\`when { ${name}: … }\`) if it is meant as a variable, or write \`span("${name}")\` for a span of that name`;
      this.report('warning', `\`${name}\` is read as a span name, and no known span has that name${hint}`, node.loc, 'unknown-span-name');
      return;
    }
    const [first, rest] = [node.parts[0], node.parts.slice(1).join('.')];
    if (this.spanNamePrefixes.has(first)) {
      return;
    }
    if (first === this.bound) {
      this.report(
        'warning',
        `\`${name}\` is read as a span name, not as the field \`${rest}\` of the bound span \`${first}\`: a selector picks spans by name`,
        node.loc,
        'unknown-span-name',
      );
    } else if (first.length === 1) {
      const variable = closest(first, bound);
      const hint = variable !== undefined ? `; did you mean \`${variable}.${rest}\`?` : '';
      this.report('warning', `\`${name}\` is read as a span name; \`${first}\` is not a bound span${hint}`, node.loc, 'unknown-span-name');
    }
  }

  private unknownMethod(node: Extract<SyntaxNode, { k: 'method' }>): void {
    // `payment.count()`: a trace function written as a method.
    const hint =
      node.name === 'count' || node.name === 'exists' || node.name === 'has'
        ? `; write \`${node.name === 'count' ? 'count' : 'trace.has'}(${this.text(node.target)})\``
        : didYouMean(node.name, METHODS);
    this.report('error', `unknown selector method \`${node.name}\`${hint}`, node.nameLoc, 'unknown-method');
  }

  private unknownTraceFunction(node: Extract<SyntaxNode, { k: 'method' }>): void {
    // Two candidates only: a looser match (`cnt` → `count`) cannot mislead.
    const near = closest(node.name, ['has', 'count'], 2);
    const hint = near === undefined ? '; the trace functions are `trace.has(…)` and `trace.count(…)`' : `; did you mean \`trace.${near}\`?`;
    this.report('error', `unknown function \`trace.${node.name}\`${hint}`, node.nameLoc, 'unknown-function');
  }

  private methodSelector(node: Extract<SyntaxNode, { k: 'method' }>): Selector | undefined {
    if (isTracePath(node.target)) {
      if (node.name === 'has') {
        if (node.args.length !== 1) {
          this.report('error', '`trace.has(…)` takes one span selector', node.loc, 'arity');
          return undefined;
        }
        return this.selector(node.args[0]);
      }
      this.unknownTraceFunction(node);
      return undefined;
    }
    if (!METHODS.includes(node.name as (typeof METHODS)[number])) {
      this.unknownMethod(node);
      return undefined;
    }
    const base = this.selector(node.target);
    if (node.name === 'where') {
      const cond = this.whereCondition(node);
      return base && cond && { type: 'where', base, cond, loc: node.loc };
    }
    if (node.name === 'before' || node.name === 'after') {
      const [otherNode, withinNode, ...extra] = node.args;
      if (otherNode === undefined || extra.length > 0 || (withinNode !== undefined && withinNode.k !== 'within')) {
        this.report('error', `\`${node.name}(…)\` takes a span selector and optionally \`within <duration>\``, node.loc, 'arity');
        return undefined;
      }
      const other = this.selector(otherNode);
      let withinNs: number | undefined;
      if (withinNode !== undefined && withinNode.k === 'within') {
        if (withinNode.value.k !== 'duration' || withinNode.value.ns < 0) {
          this.report('error', '`within` takes a duration, e.g. `within 5s`', withinNode.value.loc, 'type-mismatch');
          return undefined;
        }
        withinNs = withinNode.value.ns;
      }
      if (!base || !other) {
        return undefined;
      }
      const sel: Selector = { type: 'order', order: node.name, base, other, loc: node.loc };
      if (withinNs !== undefined) {
        sel.withinNs = withinNs;
      }
      return sel;
    }
    if (node.args.length !== 1 || node.args[0].k === 'within') {
      this.report('error', `\`${node.name}(…)\` takes one span selector`, node.loc, 'arity');
      return undefined;
    }
    const other = this.selector(node.args[0]);
    return base && other && { type: 'relation', relation: node.name as Relation, base, other, loc: node.loc };
  }

  private whereCondition(node: Extract<SyntaxNode, { k: 'method' }>): Cond | undefined {
    if (node.args.length !== 1 || node.args[0].k === 'within') {
      this.report('error', '`where(…)` takes one condition', node.loc, 'arity');
      return undefined;
    }
    return this.cond(node.args[0]);
  }

  // ---------------------------------------------------------------- span conditions

  cond(node: SyntaxNode): Cond | undefined {
    switch (node.k) {
      case 'or':
      case 'and': {
        const left = this.cond(node.left);
        const right = this.cond(node.right);
        return left && right && { type: node.k, left, right, loc: node.loc };
      }
      case 'not': {
        const operand = this.cond(node.operand);
        return operand && { type: 'not', operand, loc: node.loc };
      }
      case 'paren':
        return this.cond(node.inner);
      case 'compare':
        return this.comparison(node);
      case 'bind':
        this.report('error', `a binding \`${node.name}:\` may only stand first in \`when { … }\``, node.nameLoc, 'misplaced-binding');
        return undefined;
      case 'call':
        if (node.name === 'exists') {
          if (node.args.length !== 1) {
            this.report('error', '`exists(…)` takes one attribute', node.loc, 'arity');
            return undefined;
          }
          const field = this.fieldOperand(node.args[0]);
          return field && { type: 'fieldExists', field, loc: node.loc };
        }
        if (!FUNCTIONS.includes(node.name as (typeof FUNCTIONS)[number])) {
          this.report('error', `unknown function \`${node.name}\`${didYouMean(node.name, FUNCTIONS)}`, node.nameLoc, 'unknown-function');
          return undefined;
        }
        this.report('error', `\`${node.name}(…)\` cannot be used inside \`where(…)\``, node.loc, 'not-a-condition');
        return undefined;
      case 'path':
      case 'string': {
        const operand = this.operand(node, 'left');
        if (!operand) {
          return undefined;
        }
        if (operand.type === 'literal') {
          this.report('error', `\`${this.text(node)}\` is a value, not a condition`, node.loc, 'not-a-condition');
          return undefined;
        }
        return { type: 'truthy', field: operand, loc: node.loc };
      }
      default:
        this.report('error', `expected a condition, found \`${this.text(node)}\``, node.loc, 'not-a-condition');
        return undefined;
    }
  }

  private comparison(node: Extract<SyntaxNode, { k: 'compare' }>): Cond | undefined {
    const op = node.op as CompareOp;
    const left = this.operand(node.left, 'left');
    const right = this.operand(node.right, 'right');
    if (!left || !right) {
      return undefined;
    }
    const typeOf = (o: Operand): ValueType => (o.type === 'literal' ? literalType(o) : this.fieldType(o.type === 'field' ? o : o.field));
    this.checkTypes(op, typeOf(left), typeOf(right), left, right, node);
    return { type: 'compare', op, left, right, loc: node.loc };
  }

  /** An attribute or intrinsic, as the argument of exists() or an aggregate. */
  private fieldOperand(node: SyntaxNode): FieldRef | undefined {
    const operand = node.k === 'path' || node.k === 'string' ? this.operand(node, 'left') : undefined;
    if (!operand || operand.type !== 'field') {
      if (operand === undefined && node.k !== 'path' && node.k !== 'string') {
        this.report('error', `expected a span field or attribute, found \`${this.text(node)}\``, node.loc, 'not-a-field');
      } else if (operand !== undefined) {
        this.report('error', `expected a field of the span, found \`${this.text(node)}\``, node.loc, 'not-a-field');
      }
      return undefined;
    }
    return operand;
  }

  private operand(node: SyntaxNode, side: 'left' | 'right'): Operand | undefined {
    if (node.k === 'string') {
      // A quoted name on the left is an attribute (`"http.status_code" >= 500`); on the right, a string.
      if (side === 'right') {
        return { type: 'literal', kind: 'string', value: node.value, loc: node.loc };
      }
      const field: FieldRef = { type: 'field', scope: 'span', name: node.value, loc: node.loc };
      this.checkAttribute(field, '', node.loc);
      return field;
    }
    if (node.k === 'path') {
      const parts = node.parts;
      if (parts.length === 1) {
        if (side === 'right') {
          return { type: 'literal', kind: 'enum', value: parts[0], loc: node.loc };
        }
        const name = parts[0];
        if (INTRINSICS.includes(name as Intrinsic)) {
          return { type: 'field', scope: 'intrinsic', name: name as Intrinsic, loc: node.loc };
        }
        const field: FieldRef = { type: 'field', scope: 'span', name, loc: node.loc };
        this.checkAttribute(field, '', node.loc);
        return field;
      }
      if (parts[0] === 'span' || parts[0] === 'resource') {
        const field: FieldRef = { type: 'field', scope: parts[0], name: parts.slice(1).join('.'), loc: node.loc };
        this.checkAttribute(field, `${parts[0]}.`, node.loc, true);
        return field;
      }
      const bound = this.boundFieldOf(node);
      if (bound) {
        return bound;
      }
      const hint =
        this.bound === undefined
          ? `bind it first (\`when { ${parts[0]}: … }\`) or`
          : `\`${this.bound}\` is the only bound span;`;
      this.report(
        'error',
        `unknown variable \`${parts[0]}\`: ${hint} write a dotted attribute name quoted (\`"${parts.join('.')}"\`) or scoped (\`span.${parts.join('.')}\`)`,
        { start: node.loc.start, end: node.loc.start + parts[0].length },
        'unbound-variable',
      );
      return undefined;
    }
    if (isLiteralNode(node)) {
      return this.literal(node);
    }
    this.report('error', `expected an attribute or a value, found \`${this.text(node)}\``, node.loc, 'not-an-operand');
    return undefined;
  }

  private literal(node: SyntaxNode): Literal | undefined {
    switch (node.k) {
      case 'string':
        return { type: 'literal', kind: 'string', value: node.value, loc: node.loc };
      case 'number':
        return { type: 'literal', kind: 'number', value: node.value, loc: node.loc };
      case 'duration':
        return { type: 'literal', kind: 'duration', value: node.ns, loc: node.loc };
      case 'bool':
        return { type: 'literal', kind: 'bool', value: node.value, loc: node.loc };
      case 'null':
        return { type: 'literal', kind: 'null', value: null, loc: node.loc };
      case 'list': {
        const items: Literal[] = [];
        for (const item of node.items) {
          if (item.k === 'path' && item.parts.length === 1) {
            items.push({ type: 'literal', kind: 'enum', value: item.parts[0], loc: item.loc });
            continue;
          }
          if (item.k === 'list' || !isLiteralNode(item)) {
            this.report('error', `a list holds plain values, found \`${this.text(item)}\``, item.loc, 'not-a-value');
            return undefined;
          }
          const lit = this.literal(item);
          if (!lit) {
            return undefined;
          }
          items.push(lit);
        }
        return { type: 'literal', kind: 'list', value: items, loc: node.loc };
      }
      default:
        return undefined;
    }
  }

  private fieldType(field: FieldRef): ValueType {
    if (field.scope !== 'intrinsic') {
      return 'unknown';
    }
    if (field.name === 'duration') {
      return 'duration';
    }
    return 'string';
  }

  // ---------------------------------------------------------------- static types

  private checkTypes(
    op: CompareOp,
    leftType: ValueType,
    rightType: ValueType,
    left: Operand | TraceValue,
    right: Operand | TraceValue,
    node: Extract<SyntaxNode, { k: 'compare' }>,
  ): void {
    const leftText = this.text(node.left);
    if (op === 'in' || op === 'not in') {
      if (rightType !== 'list') {
        this.report('error', `\`${op}\` takes a list on its right, e.g. \`${leftText} ${op} ["a", "b"]\``, node.right.loc, 'type-mismatch');
      }
      this.checkEnumValues(left, right);
      return;
    }
    if (op === 'matches' || op === '!~') {
      if (right.type !== 'literal' || (right.kind !== 'string' && right.kind !== 'enum')) {
        this.report('error', `\`${node.op}\` takes a regular expression as a string, e.g. \`${leftText} ${node.op} "^GET "\``, node.right.loc, 'type-mismatch');
        return;
      }
      try {
        RE2JS.compile(right.value);
      } catch (e) {
        this.report('error', `invalid regular expression: ${e instanceof Error ? e.message : String(e)}`, node.right.loc, 'invalid-regex');
      }
      return;
    }
    if (op === 'contains') {
      return;
    }
    const ordering = op !== '==' && op !== '!=';
    const pair = (a: ValueType, b: ValueType) => (leftType === a && rightType === b) || (leftType === b && rightType === a);
    const incompatible =
      leftType !== 'unknown' &&
      rightType !== 'unknown' &&
      leftType !== rightType &&
      rightType !== 'null' &&
      leftType !== 'null' &&
      !pair('duration', 'number');
    if (incompatible) {
      this.report(
        'error',
        `\`${leftText}\` is ${article(leftType)} and cannot be compared with ${article(rightType)} \`${this.text(node.right)}\``,
        node.loc,
        'type-mismatch',
      );
      return;
    }
    if (pair('duration', 'number')) {
      const number = [left, right].find((v) => v.type === 'literal' && v.kind === 'number') as Literal | undefined;
      if (number !== undefined && number.value !== 0) {
        this.report(
          'warning',
          `\`${this.lines.text(number.loc)}\` has no unit and is read as nanoseconds; write the unit, e.g. \`${this.lines.text(number.loc)}ms\` or \`${this.lines.text(number.loc)}s\``,
          number.loc,
          'duration-unit',
        );
      }
    }
    if (ordering && (leftType === 'bool' || rightType === 'bool' || leftType === 'list' || rightType === 'list')) {
      this.report('error', `\`${node.op}\` orders numbers, durations and strings; \`${leftText}\` cannot be ordered that way`, node.opLoc, 'type-mismatch');
      return;
    }
    this.checkEnumValues(left, right);
  }

  /** status and kind only take their enum values. */
  private checkEnumValues(left: Operand | TraceValue, right: Operand | TraceValue): void {
    const field = left.type === 'field' ? left : left.type === 'boundField' ? left.field : undefined;
    if (!field || field.scope !== 'intrinsic' || (field.name !== 'status' && field.name !== 'kind')) {
      return;
    }
    const allowed = field.name === 'status' ? STATUS_VALUES : KIND_VALUES;
    const values = right.type === 'literal' ? (right.kind === 'list' ? right.value : [right]) : [];
    for (const v of values) {
      if ((v.kind === 'string' || v.kind === 'enum') && !allowed.includes(v.value)) {
        this.report(
          'error',
          `\`${field.name}\` is one of ${allowed.map((a) => `\`${a}\``).join(', ')}; \`${v.value}\` never matches${didYouMean(v.value, allowed)}`,
          v.loc,
          'unknown-enum',
        );
      }
    }
  }
}

function article(t: ValueType): string {
  switch (t) {
    case 'number':
      return 'a number';
    case 'string':
      return 'a string';
    case 'bool':
      return 'a boolean';
    case 'duration':
      return 'a duration';
    case 'list':
      return 'a list';
    default:
      return t;
  }
}

function isAggregate(name: string): boolean {
  return name === 'min' || name === 'max' || name === 'sum' || name === 'avg';
}

function isTracePath(node: SyntaxNode): boolean {
  return node.k === 'path' && node.parts.length === 1 && node.parts[0] === 'trace';
}

function isLiteralNode(node: SyntaxNode): boolean {
  return (
    node.k === 'string' ||
    node.k === 'number' ||
    node.k === 'duration' ||
    node.k === 'bool' ||
    node.k === 'null' ||
    node.k === 'list'
  );
}

function flattenAnd(node: SyntaxNode): SyntaxNode[] {
  if (node.k !== 'and') {
    return [node];
  }
  return [...flattenAnd(node.left), ...flattenAnd(node.right)];
}

export function resolveRule(rule: SyntaxRule, lines: LineMap, vocabulary?: RuleVocabulary): { ast?: RuleAst; diagnostics: Diagnostic[] } {
  const resolver = new Resolver(lines, vocabulary);
  const ast = resolver.rule(rule);
  const hasError = resolver.diagnostics.some((d) => d.severity === 'error');
  return { ast: hasError ? undefined : ast, diagnostics: resolver.diagnostics };
}
