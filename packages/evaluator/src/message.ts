/**
 * Message templates: `charge of {p.amount} {p.currency} without a fraud check`.
 * Compiled once per rule version into literal parts and getters.
 */
import type { Span, Trace } from './model';
import { closest } from './resolve';
import type { RuleDefinition } from './types';

export interface MessageInput {
  trace: Trace;
  root: Span | undefined;
  bound: Span | undefined;
  /** The name of the rule's bound variable, if any (templates read it as `{p.…}`). */
  variable: string | undefined;
}

export type MessageTemplate = (input: MessageInput) => string;

/** What a placeholder renders as when its value is absent. */
export const ABSENT = '?';

function render(v: unknown): string {
  if (v === undefined || v === null) {
    return ABSENT;
  }
  if (Array.isArray(v)) {
    return `[${v.map(render).join(', ')}]`;
  }
  if (v instanceof Uint8Array) {
    return `<${v.length} bytes>`;
  }
  if (typeof v === 'object') {
    return JSON.stringify(v, (_k, x: unknown) => (typeof x === 'bigint' ? x.toString() : x));
  }
  return String(v);
}

function spanField(span: Span | undefined, path: string): unknown {
  if (span === undefined) {
    return undefined;
  }
  switch (path) {
    case 'name':
      return span.name;
    case 'duration':
      return `${span.durationNs / 1e6}ms`;
    case 'status':
      return span.status;
    case 'status_message':
      return span.statusMessage;
    case 'kind':
      return span.kind;
    case 'service':
      return span.service;
    case 'id':
    case 'span_id':
      return span.spanId;
  }
  if (path.startsWith('resource.')) {
    return own(span.resource, path.slice('resource.'.length));
  }
  if (path.startsWith('span.')) {
    return own(span.attrs, path.slice('span.'.length));
  }
  return own(span.attrs, path);
}

function own(o: Record<string, unknown>, k: string): unknown {
  return Object.prototype.hasOwnProperty.call(o, k) ? o[k] : undefined;
}

/** The placeholders a template may use besides `{<variable>.<field>}`. */
export const MESSAGE_PLACEHOLDERS = [
  'rule.id',
  'rule.name',
  'rule.severity',
  'trace.id',
  'trace.root.name',
  'trace.root.service',
  'trace.duration',
  'trace.span_count',
] as const;

/** A problem in a message template: offsets into the template, end exclusive. */
export interface TemplateProblem {
  message: string;
  start: number;
  end: number;
}

/**
 * Checks a template's placeholders against what it can render: the fixed placeholders and the
 * fields of the rule's bound variable. A placeholder that can never render (`{nope.x}`, `{p.x}`
 * in a rule that binds no span) would print `?` in every signal: an error, not a surprise later.
 * @param variable the rule's bound variable; `undefined` when the condition binds none
 */
export function checkMessageTemplate(template: string, variable: string | undefined): TemplateProblem[] {
  const problems: TemplateProblem[] = [];
  const re = /\{([^{}]*)\}/g;
  for (let m = re.exec(template); m !== null; m = re.exec(template)) {
    const expr = m[1].trim();
    const at = { start: m.index, end: m.index + m[0].length };
    if ((MESSAGE_PLACEHOLDERS as readonly string[]).includes(expr)) {
      continue;
    }
    const dot = expr.indexOf('.');
    const head = dot > 0 ? expr.slice(0, dot) : expr;
    if (head === 'rule' || head === 'trace') {
      const options = MESSAGE_PLACEHOLDERS.filter((p) => p.startsWith(`${head}.`));
      const near = closest(expr, options);
      problems.push({
        message: `unknown placeholder \`{${expr}}\`${near ? `; did you mean \`{${near}}\`?` : `; ${head} placeholders are ${options.map((o) => `\`{${o}}\``).join(', ')}`}`,
        ...at,
      });
      continue;
    }
    if (dot > 0 && head === variable && expr.length > dot + 1) {
      continue;
    }
    const bound = variable === undefined ? 'the condition binds no span (`when { p: … }`)' : `the bound span is \`${variable}\`${dot > 0 && closest(head, [variable]) ? `; did you mean \`{${variable}${expr.slice(dot)}}\`?` : ''}`;
    problems.push({ message: `unknown variable in placeholder \`{${expr}}\`: ${bound}`, ...at });
  }
  return problems;
}

export function compileMessage(definition: RuleDefinition): MessageTemplate {
  const template = definition.message;
  if (template === undefined || template === '') {
    const name = definition.name;
    return () => name;
  }
  const parts: Array<string | ((input: MessageInput) => unknown)> = [];
  const re = /\{([^{}]*)\}/g;
  let last = 0;
  for (let m = re.exec(template); m !== null; m = re.exec(template)) {
    parts.push(template.slice(last, m.index));
    parts.push(placeholder(m[1].trim(), definition));
    last = m.index + m[0].length;
  }
  parts.push(template.slice(last));
  return (input) => {
    let out = '';
    for (const p of parts) {
      out += typeof p === 'string' ? p : render(p(input));
    }
    return out;
  };
}

function placeholder(expr: string, definition: RuleDefinition): (input: MessageInput) => unknown {
  switch (expr) {
    case 'rule.id':
      return () => definition.id;
    case 'rule.name':
      return () => definition.name;
    case 'rule.severity':
      return () => definition.severity;
    case 'trace.id':
      return (i) => i.trace.traceId;
    case 'trace.root.name':
      return (i) => i.root?.name;
    case 'trace.root.service':
      return (i) => i.root?.service;
    case 'trace.duration':
      return (i) => `${Number(i.trace.endNs - i.trace.startNs) / 1e6}ms`;
    case 'trace.span_count':
      return (i) => i.trace.spans.length;
  }
  const dot = expr.indexOf('.');
  if (dot > 0) {
    const variable = expr.slice(0, dot);
    const path = expr.slice(dot + 1);
    return (i) => (i.variable === variable ? spanField(i.bound, path) : undefined);
  }
  return () => undefined;
}
