import {
  FUNCTIONS,
  HELP,
  INTRINSICS,
  KEYWORDS,
  KIND_VALUES,
  METHODS,
  STATUS_VALUES,
  TRACE_FIELDS,
  type TraceVocabulary,
} from './vocabulary';

export type CompletionKind = 'keyword' | 'function' | 'method' | 'field' | 'span' | 'attribute' | 'value';

/** A completion, independent of Monaco: `insertText` replaces the last `replaceLength` characters before the cursor. */
export interface Completion {
  label: string;
  kind: CompletionKind;
  insertText: string;
  detail?: string;
}

export interface CompletionResult {
  /** How many characters before the cursor the completion replaces (the dotted word being typed). */
  replaceLength: number;
  items: Completion[];
}

const IDENT = /^[A-Za-z_]\w*$/;

/** A span name as a selector: a dotted identifier as is, anything else through `span("…")`. */
export function spanNameSelector(name: string): string {
  return name.split('.').every((part) => IDENT.test(part) && !(KEYWORDS as readonly string[]).includes(part))
    ? name
    : `span(${JSON.stringify(name)})`;
}

/** An attribute inside `where(…)`: a bare identifier when it is one, else scoped (`span.http.method`). */
export function attributeRef(name: string, scope: 'span' | 'resource'): string {
  if (
    scope === 'span' &&
    IDENT.test(name) &&
    !(INTRINSICS as readonly string[]).includes(name) &&
    !(KEYWORDS as readonly string[]).includes(name)
  ) {
    return name;
  }
  return `${scope}.${name}`;
}

/** Drops string literals and comments so brackets inside them do not count. */
function code(text: string): string {
  return text.replace(/"(?:[^"\\\n]|\\.)*"?|'(?:[^'\\\n]|\\.)*'?/g, '""').replace(/(#|\/\/)[^\n]*/g, '');
}

/** The name of the call whose parenthesis is open at the end of `text`, if any (`where` in `a.where(x > `). */
export function openCall(text: string): string | undefined {
  const src = code(text);
  const opens: Array<string | undefined> = [];
  for (let i = 0; i < src.length; i++) {
    const c = src[i];
    if (c === '(') {
      const m = /([A-Za-z_]\w*)\s*$/.exec(src.slice(0, i));
      opens.push(m?.[1]);
    } else if (c === ')') {
      opens.pop();
    }
  }
  return opens.length > 0 ? opens[opens.length - 1] : undefined;
}

function items(
  kind: CompletionKind,
  labels: readonly string[],
  insert: (label: string) => string = (l) => l
): Completion[] {
  return labels.map((label) => ({
    label,
    kind,
    insertText: insert(label),
    ...(HELP[label] ? { detail: HELP[label] } : {}),
  }));
}

/**
 * What to offer at the cursor, given the text before it and the names Tempo knows:
 * - after `span.` / `resource.`: attribute names of that scope; after `trace.`: trace fields;
 * - after `status ==` / `kind ==` (inside `where`): their values;
 * - inside `where(…)`: intrinsics, attributes and the operators' keywords;
 * - after a dotted word elsewhere: selector methods and the span names it begins;
 * - elsewhere: keywords, functions, trace fields and span names.
 */
export function completionsAt(before: string, vocabulary: TraceVocabulary): CompletionResult {
  const word = /[A-Za-z_][\w.]*$|$/.exec(before)![0];
  const line = before.slice(before.lastIndexOf('\n') + 1).replace(/"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*'/g, 'S');
  if (/["'#]|\/\//.test(line)) {
    // Inside a string or a comment.
    return { replaceLength: 0, items: [] };
  }
  const scoped = /^(span|resource|trace)\.([\w.]*)$/.exec(word);
  if (scoped) {
    const [, scope] = scoped;
    if (scope === 'trace') {
      return { replaceLength: word.length, items: items('field', TRACE_FIELDS) };
    }
    const names = scope === 'span' ? vocabulary.spanAttributes : vocabulary.resourceAttributes;
    return {
      replaceLength: word.length,
      items: names.map((n) => ({ label: `${scope}.${n}`, kind: 'attribute' as const, insertText: `${scope}.${n}` })),
    };
  }
  const call = openCall(before);
  if (call === 'where') {
    const valueOf = /\b(status|kind)\s*(==|!=)\s*[A-Za-z_]*$/.exec(before);
    if (valueOf) {
      return {
        replaceLength: word.length,
        items: items('value', valueOf[1] === 'status' ? STATUS_VALUES : KIND_VALUES),
      };
    }
    return {
      replaceLength: word.length,
      items: [
        ...items('field', INTRINSICS),
        ...vocabulary.spanAttributes.map((n) => ({
          label: n,
          kind: 'attribute' as const,
          insertText: attributeRef(n, 'span'),
          detail: 'span attribute',
        })),
        ...vocabulary.resourceAttributes.map((n) => ({
          label: `resource.${n}`,
          kind: 'attribute' as const,
          insertText: attributeRef(n, 'resource'),
          detail: 'resource attribute',
        })),
        ...items('keyword', ['and', 'or', 'not', 'in', 'matches', 'contains', 'true', 'false', 'null']),
        ...items('function', ['exists'], (l) => `${l}(`),
      ],
    };
  }
  const spans = vocabulary.spanNames.map((n) => ({
    label: n,
    kind: 'span' as const,
    insertText: spanNameSelector(n),
    detail: 'span name',
  }));
  if (word.includes('.') || /\)\s*\.$/.test(before)) {
    const methods = items('method', METHODS, (l) => `${l}(`);
    if (/\)\s*\.$/.test(before)) {
      return { replaceLength: 0, items: methods };
    }
    const head = word.slice(0, word.lastIndexOf('.') + 1);
    return {
      replaceLength: word.length,
      items: [
        ...methods.map((m) => ({ ...m, insertText: `${head}${m.insertText}` })),
        ...spans.filter((s) => s.label.startsWith(head)),
      ],
    };
  }
  return {
    replaceLength: word.length,
    items: [
      ...items('keyword', KEYWORDS),
      ...items('function', FUNCTIONS, (l) => `${l}(`),
      ...items('field', TRACE_FIELDS),
      ...spans,
    ],
  };
}
