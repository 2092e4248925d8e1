/**
 * Rule files (YAML) and rule definitions (JSON from the REST API): validated field by field,
 * with diagnostics that name the rule and the field and point into the file — condition
 * diagnostics included, mapped from the condition text to its place in the YAML.
 */
import { isMap, isScalar, isSeq, LineCounter, Node, parseAllDocuments, Scalar, YAMLMap } from 'yaml';
import { checkMessageTemplate } from './message';
import { parseRule } from './parse';
import { spanNamesOfConditions } from './vocabulary';
import { LineMap } from './positions';
import { validateSlo } from './slo';
import { MAX_COMPLIANCE_MAPPINGS } from './limits';
import { ComplianceMapping, Diagnostic, FileDiagnostic, RuleDefinition, RuleSlo, RuleVocabulary, SEVERITIES, Severity } from './types';

export const RULE_ID_PATTERN = /^[a-z0-9][a-z0-9\-_.]*$/;
const KNOWN_FIELDS = ['id', 'name', 'severity', 'description', 'message', 'compliance', 'slo', 'enabled', 'condition'];

interface FieldSource {
  /** The value as data. */
  value: unknown;
  /** Where the value stands in the file, as offsets (absent for JSON input). */
  range?: [number, number];
  /** For scalar strings: maps offsets in the value to offsets in the file. */
  offsetMap?: (offset: number) => number;
}

type RuleSource = Map<string, FieldSource>;

interface Reporter {
  /**
   * @param range where in the file (offsets), when known
   * @param conditionDiagnostic a diagnostic of the condition text, positioned in that text
   * @param inValue offsets into the value of the field `d.field` (a message placeholder)
   */
  (
    d: Omit<FileDiagnostic, 'startLine' | 'startColumn' | 'endLine' | 'endColumn'>,
    range?: [number, number],
    conditionDiagnostic?: Diagnostic,
    inValue?: [number, number],
  ): void;
}

/** Validates one rule's fields; returns the definition when it has no errors. */
function validateRule(
  source: RuleSource,
  index: number,
  report: Reporter,
  wholeRange?: [number, number],
  vocabulary?: RuleVocabulary,
): RuleDefinition | undefined {
  const idField = source.get('id');
  const ruleId = typeof idField?.value === 'string' ? idField.value : undefined;
  let errors = 0;
  const err = (field: string | undefined, message: string, range?: [number, number]) => {
    errors++;
    report({ severity: 'error', message, ruleId, ruleIndex: index, field }, range ?? wholeRange);
  };
  const str = (field: string, required: boolean): string | undefined => {
    const f = source.get(field);
    if (f === undefined || f.value === undefined || f.value === null) {
      if (required) {
        err(field, `rule ${ruleId ? `\`${ruleId}\`` : `#${index + 1}`} needs ${/^[aeio]/.test(field) ? 'an' : 'a'} \`${field}\``);
      }
      return undefined;
    }
    if (typeof f.value !== 'string') {
      err(field, `\`${field}\` must be a string`, f.range);
      return undefined;
    }
    return f.value;
  };

  for (const [key, f] of source) {
    if (!KNOWN_FIELDS.includes(key)) {
      report({ severity: 'warning', message: `unknown field \`${key}\` is ignored (known: ${KNOWN_FIELDS.join(', ')})`, ruleId, ruleIndex: index, field: key }, f.range);
    }
  }
  const id = str('id', true);
  if (id !== undefined && !RULE_ID_PATTERN.test(id)) {
    err('id', `rule id \`${id}\` must match [a-z0-9][a-z0-9-_.]* (lowercase letters, digits, '-', '_', '.')`, source.get('id')?.range);
  }
  const name = str('name', true);
  let severity: Severity | undefined;
  const sev = source.get('severity');
  if (sev === undefined || sev.value === undefined || sev.value === null) {
    err('severity', `rule ${ruleId ? `\`${ruleId}\`` : `#${index + 1}`} needs a \`severity\` (${SEVERITIES.join(', ')})`);
  } else if (sev.value === 'warning') {
    severity = 'medium';
    report({ severity: 'info', message: 'severity `warning` is read as `medium`', ruleId, ruleIndex: index, field: 'severity' }, sev.range);
  } else if (typeof sev.value === 'string' && (SEVERITIES as readonly string[]).includes(sev.value)) {
    severity = sev.value as Severity;
  } else {
    err('severity', `severity must be one of ${SEVERITIES.join(', ')}; got ${JSON.stringify(sev.value)}`, sev.range);
  }
  const description = str('description', false);
  const message = str('message', false);
  let enabled = true;
  const en = source.get('enabled');
  if (en !== undefined && en.value !== undefined && en.value !== null) {
    if (typeof en.value !== 'boolean') {
      err('enabled', '`enabled` must be true or false', en.range);
    } else {
      enabled = en.value;
    }
  }
  let compliance: ComplianceMapping[] | undefined;
  const comp = source.get('compliance');
  if (comp !== undefined && comp.value !== undefined && comp.value !== null) {
    if (!Array.isArray(comp.value)) {
      err('compliance', '`compliance` must be a list of { framework, control }', comp.range);
    } else if (comp.value.length > MAX_COMPLIANCE_MAPPINGS) {
      err('compliance', `a rule may map to at most ${MAX_COMPLIANCE_MAPPINGS} compliance controls; this one lists ${comp.value.length} (split it into rules, one per control family)`, comp.range);
    } else {
      compliance = [];
      const seen = new Set<string>();
      comp.value.forEach((m: unknown, i: number) => {
        const o = m as Record<string, unknown> | null;
        if (o === null || typeof o !== 'object' || typeof o.framework !== 'string' || typeof o.control !== 'string' || o.framework === '' || o.control === '') {
          err('compliance', `compliance[${i}] needs a string \`framework\` and \`control\`, e.g. { framework: soc2, control: CC7.2 }`, comp.range);
        } else {
          const key = `${o.framework.toLowerCase()}\u0000${o.control}`;
          if (seen.has(key)) {
            err('compliance', `compliance[${i}] maps ${o.framework.toLowerCase()} ${o.control} again; each control is listed once`, comp.range);
          }
          seen.add(key);
          compliance!.push({ framework: o.framework.toLowerCase(), control: o.control });
        }
      });
    }
  }
  let slo: RuleSlo | undefined;
  const sloField = source.get('slo');
  if (sloField !== undefined && sloField.value !== undefined && sloField.value !== null) {
    const checked = validateSlo(sloField.value);
    checked.problems.forEach((p) => err('slo', p, sloField.range));
    slo = checked.slo;
  }
  const condition = str('condition', true);
  if (condition !== undefined) {
    const parsed = parseRule(condition, { vocabulary });
    for (const d of parsed.diagnostics) {
      if (d.severity === 'error') {
        errors++;
      }
      report({ severity: d.severity, message: d.message, code: d.code, ruleId, ruleIndex: index, field: 'condition' }, undefined, d);
    }
    // Placeholders are checked against the condition's binding; an invalid condition has none to check against.
    if (message !== undefined && parsed.ast !== undefined) {
      const variable = parsed.ast.type === 'when' ? parsed.ast.binding?.name : undefined;
      for (const problem of checkMessageTemplate(message, variable)) {
        errors++;
        report(
          { severity: 'error', message: problem.message, code: 'unknown-placeholder', ruleId, ruleIndex: index, field: 'message' },
          source.get('message')?.range,
          undefined,
          [problem.start, problem.end],
        );
      }
    }
  }
  if (errors > 0 || id === undefined || name === undefined || severity === undefined || condition === undefined) {
    return undefined;
  }
  const rule: RuleDefinition = { id, name, severity, enabled, condition };
  if (description !== undefined) {
    rule.description = description;
  }
  if (message !== undefined) {
    rule.message = message;
  }
  if (compliance !== undefined) {
    rule.compliance = compliance;
  }
  if (slo !== undefined) {
    rule.slo = slo;
  }
  return rule;
}

/**
 * Validates a rule definition received as JSON (the REST API). Positions of condition
 * diagnostics are those of the condition text; other diagnostics point at 1:1.
 */
export function validateRuleDefinition(value: unknown, vocabulary?: RuleVocabulary): { rule?: RuleDefinition; diagnostics: FileDiagnostic[] } {
  const diagnostics: FileDiagnostic[] = [];
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    return { diagnostics: [{ severity: 'error', message: 'a rule must be an object', startLine: 1, startColumn: 1, endLine: 1, endColumn: 2 }] };
  }
  const source: RuleSource = new Map(Object.entries(value as Record<string, unknown>).map(([k, v]) => [k, { value: v }]));
  const rule = validateRule(
    source,
    0,
    (d, _range, cond, inValue) => {
      // A placeholder's position is its place in the message text, as a condition's is in the condition.
      const pos = cond ?? (inValue ? new LineMap(String(source.get(d.field ?? '')?.value ?? '')).diagnostic('error', '', { start: inValue[0], end: inValue[1] }) : undefined) ?? { startLine: 1, startColumn: 1, endLine: 1, endColumn: 2 };
      diagnostics.push({ ...d, startLine: pos.startLine, startColumn: pos.startColumn, endLine: pos.endLine, endColumn: pos.endColumn });
    },
    undefined,
    vocabulary,
  );
  return rule ? { rule, diagnostics } : { diagnostics };
}

export interface RuleFileOptions {
  /**
   * What is known about the traces (Tempo's tag values, the span names of rules in other files).
   * The span names the file's other rules use are added to it for each rule.
   */
  vocabulary?: RuleVocabulary;
}

export interface RuleFileResult {
  rules: RuleDefinition[];
  /** Every problem found, sorted by line and column. */
  diagnostics: FileDiagnostic[];
  /** Where each valid rule's `id` stands (1-based), for diagnostics about a rule as a whole. */
  idPositions: Map<string, { line: number; column: number }>;
}

/**
 * Parses a rule file: `rules: [...]` (one or more YAML documents), or a bare list of rules.
 * Never throws. Reports every problem, not the first: each rule is validated whatever the
 * others hold, and a YAML error only keeps the rule it stands in (or its document, when it
 * stands outside any rule) from being read.
 */
export function parseRuleFile(text: string, _fileName?: string, options: RuleFileOptions = {}): RuleFileResult {
  const lines = new LineMap(text);
  const diagnostics: FileDiagnostic[] = [];
  const rules: RuleDefinition[] = [];
  const idPositions = new Map<string, { line: number; column: number }>();
  const at = (range: [number, number] | undefined) => {
    const r = range ?? [0, 0];
    const d = lines.diagnostic('error', '', { start: r[0], end: r[1] });
    return { startLine: d.startLine, startColumn: d.startColumn, endLine: d.endLine, endColumn: d.endColumn };
  };
  let docs;
  try {
    docs = parseAllDocuments(text, { lineCounter: new LineCounter(), prettyErrors: false });
  } catch (e) {
    return { rules, diagnostics: [{ severity: 'error', message: `not YAML: ${String(e)}`, ...at(undefined) }], idPositions };
  }
  const docList = Array.isArray(docs) ? docs : [docs];
  let ruleIndex = 0;
  const items: Array<{ index: number; source: RuleSource; range?: [number, number] }> = [];
  for (const doc of docList) {
    const errorAt: number[] = [];
    for (const e of doc.errors) {
      diagnostics.push({ severity: 'error', message: `YAML: ${e.message.split('\n')[0]}`, ...at([e.pos[0], e.pos[1]]) });
      errorAt.push(e.pos[0]);
    }
    const contents = doc.contents as Node | null;
    if (contents === null) {
      continue;
    }
    let list: Node | undefined;
    if (isSeq(contents)) {
      list = contents;
    } else if (isMap(contents)) {
      const r = (contents as YAMLMap).get('rules', true) as Node | undefined;
      if (!r || !isSeq(r)) {
        if (errorAt.length === 0) {
          diagnostics.push({ severity: 'error', message: 'a rule file holds `rules:` with a list of rules', ...at(contents.range ? [contents.range[0], contents.range[1]] : undefined) });
        }
        continue;
      }
      list = r;
    } else {
      if (errorAt.length === 0) {
        diagnostics.push({ severity: 'error', message: 'a rule file holds `rules:` with a list of rules', ...at(contents.range ? [contents.range[0], contents.range[1]] : undefined) });
      }
      continue;
    }
    const listItems = (list as unknown as { items: Node[] }).items;
    // A YAML error outside every rule (the list itself is broken): its rules cannot be trusted.
    const inside = (pos: number) => listItems.some((item) => item.range && pos >= item.range[0] && pos <= item.range[2]);
    if (errorAt.some((pos) => !inside(pos))) {
      ruleIndex += listItems.length;
      continue;
    }
    for (const item of listItems) {
      const index = ruleIndex++;
      const itemRange: [number, number] | undefined = item.range ? [item.range[0], item.range[1]] : undefined;
      if (item.range && errorAt.some((pos) => pos >= item.range![0] && pos <= item.range![2])) {
        continue; // reported as a YAML error above
      }
      if (!isMap(item)) {
        diagnostics.push({ severity: 'error', message: `rule #${index + 1} must be a mapping of fields`, ruleIndex: index, ...at(itemRange) });
        continue;
      }
      const source: RuleSource = new Map();
      for (const pair of item.items) {
        const key = isScalar(pair.key) ? String((pair.key as Scalar).value) : String(pair.key);
        const valueNode = pair.value as Node | null;
        const range: [number, number] | undefined = valueNode?.range
          ? [valueNode.range[0], valueNode.range[1]]
          : isScalar(pair.key) && (pair.key as Scalar).range
            ? [(pair.key as Scalar).range![0], (pair.key as Scalar).range![1]]
            : undefined;
        const field: FieldSource = { value: valueNode === null ? null : (valueNode as unknown as { toJSON(): unknown }).toJSON(), range };
        if (valueNode && isScalar(valueNode) && typeof valueNode.value === 'string' && valueNode.range) {
          field.offsetMap = scalarOffsetMap(text, valueNode as Scalar<string>);
        }
        source.set(key, field);
      }
      items.push({ index, source, range: itemRange });
    }
  }

  // Each rule is checked against the span names the file's other rules use (and the caller's).
  const namesOf = items.map(({ source }) => {
    const condition = source.get('condition')?.value;
    return typeof condition === 'string' ? spanNamesOfConditions([condition]) : [];
  });
  const seenIds = new Map<string, number>();
  items.forEach(({ index, source, range: itemRange }, i) => {
    const spanNames = new Set(options.vocabulary?.spanNames ?? []);
    namesOf.forEach((names, j) => j !== i && names.forEach((n) => spanNames.add(n)));
    const rule = validateRule(
      source,
      index,
      (d, range, cond, inValue) => {
        if (cond !== undefined || inValue !== undefined) {
          const f = source.get(cond !== undefined ? 'condition' : d.field!)!;
          const map = f.offsetMap ?? ((o: number) => (f.range ? f.range[0] : 0) + o);
          const value = String(f.value);
          const [start, end] = cond !== undefined
            ? [map(offsetOf(value, cond.startLine, cond.startColumn)), map(offsetOf(value, cond.endLine, cond.endColumn))]
            : [map(inValue![0]), map(inValue![1])];
          diagnostics.push({ ...d, ...at([start, Math.max(end, start)]) });
        } else {
          diagnostics.push({ ...d, ...at(range ?? itemRange) });
        }
      },
      itemRange,
      { ...options.vocabulary, spanNames: [...spanNames] },
    );
    if (rule) {
      const idRange = source.get('id')?.range;
      const first = seenIds.get(rule.id);
      if (first !== undefined) {
        diagnostics.push({
          severity: 'error',
          message: `rule id \`${rule.id}\` is used twice (rules #${first + 1} and #${index + 1}); ids are unique per tenant`,
          ruleId: rule.id,
          ruleIndex: index,
          field: 'id',
          ...at(idRange),
        });
        return;
      }
      seenIds.set(rule.id, index);
      const pos = at(idRange);
      idPositions.set(rule.id, { line: pos.startLine, column: pos.startColumn });
      rules.push(rule);
    }
  });
  diagnostics.sort((a, b) => a.startLine - b.startLine || a.startColumn - b.startColumn);
  return { rules, diagnostics, idPositions };
}

/** Offset in `text` of a 1-based line/column. */
function offsetOf(text: string, line: number, column: number): number {
  let offset = 0;
  for (let l = 1; l < line; l++) {
    const nl = text.indexOf('\n', offset);
    if (nl < 0) {
      return text.length;
    }
    offset = nl + 1;
  }
  return Math.min(text.length, offset + column - 1);
}

/**
 * Maps offsets in a string scalar's value to offsets in the file. Walks the value and the
 * file side by side: every value character is found at or after the previous one in the file,
 * skipping what YAML adds around content (block headers, indentation, quotes, folded newlines).
 */
function scalarOffsetMap(file: string, node: Scalar<string>): (offset: number) => number {
  const value = node.value;
  const [start, end] = [node.range![0], node.range![1]];
  let j = start;
  if (node.type === 'BLOCK_LITERAL' || node.type === 'BLOCK_FOLDED') {
    const nl = file.indexOf('\n', start);
    j = nl < 0 ? end : nl + 1;
  } else if (node.type === 'QUOTE_DOUBLE' || node.type === 'QUOTE_SINGLE') {
    j = start + 1;
  }
  const map = new Array<number>(value.length + 1);
  for (let i = 0; i < value.length; i++) {
    const ch = value[i];
    let k = j;
    while (k < end && file[k] !== ch && !(ch === ' ' && file[k] === '\n') && !(ch === '\n' && file[k] === '\n')) {
      k++;
    }
    if (k >= end) {
      map[i] = j;
      continue;
    }
    map[i] = k;
    j = k + 1;
  }
  map[value.length] = value.length === 0 ? j : map[value.length - 1] + 1;
  return (offset: number) => map[Math.max(0, Math.min(offset, value.length))];
}
