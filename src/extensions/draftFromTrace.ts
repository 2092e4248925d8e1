import { RuleText, ruleLiteral, type AttrValue, type Span, type Trace } from '@betrace/evaluator';
import type { RuleDraft } from '../pages/Rules/draft';
import { emptyDraft } from '../pages/Rules/draft';
import { ruleIdFromTitle } from '../pages/Suggestions/format';

/** The bound variable of a drafted rule: the span the user picked in the trace view. */
export const DRAFT_VARIABLE = 'p';
/** At most this many attributes in the picked span's `where(…)`: a draft is read and edited by a person. */
export const MAX_DRAFT_ATTRIBUTES = 6;
/** At most this many child span names in the structure clause (the rule language allows 64 selectors). */
export const MAX_DRAFT_CHILDREN = 8;

/** What the draft was built from, for the editor's banner. */
export interface TraceDraft {
  draft: RuleDraft;
  traceId: string;
  /** The span the draft is about: the one asked for, or the root when that one is not in the trace. */
  spanId: string;
  /** The span asked for was not in the trace, so the draft is about the root. */
  spanMissing: boolean;
}

/** Attributes that name one thing (an order, a user) are tested for presence, not for this trace's value. */
const ID_LIKE = /(^|[._-])id$/i;

/**
 * A new rule drafted from a trace and the span the user picked in Explore: the span by its name,
 * its service and the attributes that set it apart from its siblings, bound as `p`; its parent
 * and its children's names as the structure it must keep. As drafted the rule holds on the trace
 * it came from (the Test panel shows that); the user then turns it into the invariant they mean.
 * Pure: the same trace and span give the same text.
 */
export function draftFromTrace(trace: Trace, spanId?: string): TraceDraft {
  if (trace.spans.length === 0) {
    throw new Error(`trace ${trace.traceId} has no spans to draft a rule from`);
  }
  const wanted = spanId?.toLowerCase();
  const found = wanted === undefined ? undefined : trace.spans.find((s) => s.spanId === wanted);
  const span = found ?? trace.rootSpan ?? earliest(trace.spans);
  const text = new RuleText();
  const byId = new Map(trace.spans.map((s) => [s.spanId, s]));
  const parent = span.parentSpanId === undefined ? undefined : byId.get(span.parentSpanId);
  const siblings = trace.spans.filter((s) => s !== span && s.parentSpanId === span.parentSpanId);
  const children = trace.spans
    .filter((s) => s.parentSpanId === span.spanId)
    .sort((a, b) => (a.startNs < b.startNs ? -1 : a.startNs > b.startNs ? 1 : a.name.localeCompare(b.name)));
  const childNames = [...new Set(children.map((c) => c.name))].slice(0, MAX_DRAFT_CHILDREN);

  const attrs = distinguishing(span, siblings, text);
  const conds = [
    ...(span.service !== '' ? [`service == ${ruleLiteral(span.service)}`] : []),
    ...attrs.map((a) => a.cond),
    ...(span.status === 'error' ? ['status == error'] : []),
  ];
  const selector = text.selector(span.name) + (conds.length > 0 ? `.where(${conds.join(' and ')})` : '');
  const structure = [
    ...(parent ? [`${text.selector(parent.name)}.parent_of(${DRAFT_VARIABLE})`] : []),
    ...childNames.map((n) => `${text.selector(n)}.child_of(${DRAFT_VARIABLE})`),
  ];
  const lines = [
    `# Drafted in Explore from trace ${trace.traceId}, span ${span.spanId}.`,
    structure.length > 0
      ? '# As drafted it holds on that trace: the span keeps its parent and its children.'
      : '# The span has no parent or children here: the draft asks that it never fails.',
    '# Change the clauses below into the invariant you mean.',
    `when   { ${DRAFT_VARIABLE}: ${selector} }`,
    ...clause(structure, `never  { ${DRAFT_VARIABLE}.where(status == error) }`),
  ];
  const where = span.service !== '' ? `${span.name} in ${span.service}` : span.name;
  const description = [
    `Drafted in Explore from trace ${trace.traceId}, span ${span.spanId} (${where})`,
    found || wanted === undefined ? '' : ` — span ${wanted} is not in the trace, so the draft is about its root`,
    '. ',
    parent ? `Parent: ${parent.name}. ` : 'No parent. ',
    childNames.length > 0 ? `Children: ${childNames.join(', ')}. ` : 'No children. ',
    attrs.length > 0
      ? `Set apart from its ${plural(siblings.length, 'sibling')} by ${attrs.map((a) => a.key).join(', ')}.`
      : siblings.length > 0
        ? `No attribute sets it apart from its ${plural(siblings.length, 'sibling')}.`
        : 'No siblings.',
  ].join('');
  return {
    traceId: trace.traceId,
    spanId: span.spanId,
    spanMissing: wanted !== undefined && !found,
    draft: {
      ...emptyDraft(),
      id: ruleIdFromTitle(where, `span-${span.spanId}`),
      name: `${where}, as in trace ${trace.traceId.slice(0, 8)}`,
      description,
      // Drafted from one trace and not yet reviewed: it fires only once the user enables it.
      enabled: false,
      condition: lines.join('\n') + '\n',
    },
  };
}

function clause(terms: readonly string[], fallback: string): string[] {
  if (terms.length === 0) {
    return [fallback];
  }
  if (terms.length === 1) {
    return [`always { ${terms[0]} }`];
  }
  return ['always {', `  ${terms[0]}`, ...terms.slice(1).map((t) => `  and ${t}`), '}'];
}

/**
 * The span's attributes (by key) whose value no sibling shares: what makes it this span and not
 * its neighbour. Without siblings nothing needs setting apart, and its name and service suffice.
 */
function distinguishing(span: Span, siblings: readonly Span[], text: RuleText): Array<{ key: string; cond: string }> {
  if (siblings.length === 0) {
    return [];
  }
  const out: Array<{ key: string; cond: string }> = [];
  for (const key of Object.keys(span.attrs).sort()) {
    const value = scalar(span.attrs[key]);
    const ref = text.attr(key);
    if (value === undefined || ref === null || siblings.some((s) => scalar(s.attrs[key]) === value)) {
      continue;
    }
    out.push({ key, cond: ID_LIKE.test(key) ? `exists(${ref})` : `${ref} == ${ruleLiteral(value)}` });
    if (out.length === MAX_DRAFT_ATTRIBUTES) {
      break;
    }
  }
  return out;
}

/** A value a rule can compare with a literal; lists, maps, bytes and out-of-range integers are left out. */
function scalar(v: AttrValue | undefined): string | number | boolean | undefined {
  if (typeof v === 'string' || typeof v === 'boolean') {
    return v;
  }
  if (typeof v === 'number' && Number.isFinite(v)) {
    return v;
  }
  return undefined;
}

function earliest(spans: readonly Span[]): Span {
  return spans.reduce((a, b) => (b.startNs < a.startNs ? b : a));
}

function plural(n: number, word: string): string {
  return `${n} ${word}${n === 1 ? '' : 's'}`;
}
