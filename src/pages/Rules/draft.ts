import { parseRule, pushdownRule, sloText, validateSlo, type Diagnostic, type Pushdown, type RuleDefinition, type RuleSlo, type RuleVocabulary } from '@betrace/evaluator';
import type { RuleInput, RuleView } from '../../api/rules';
import { EXAMPLE_RULE } from './rulesScene';

/**
 * The editor's working copy of a rule: every field the form and the code editor change. The
 * objective is kept as a rule file writes it (`99.9%`, `30d`); both empty: no objective.
 */
export type RuleDraft = Omit<RuleInput, 'note' | 'slo'> & { slo: { objective: string; window: string } };

/** The objective as the API answers it (a fraction and milliseconds), or as a draft sent it (text). */
function sloFields(slo: RuleDefinition['slo'] | RuleView['slo'] | undefined): { objective: string; window: string } {
  return slo === undefined ? { objective: '', window: '' } : sloText(slo as RuleSlo);
}

export function emptyDraft(): RuleDraft {
  return {
    id: '',
    name: '',
    severity: 'medium',
    description: '',
    message: '',
    compliance: [],
    slo: { objective: '', window: '' },
    enabled: true,
    condition: EXAMPLE_RULE,
  };
}

export function draftOf(rule: RuleDefinition | RuleView): RuleDraft {
  return {
    id: rule.id,
    name: rule.name,
    severity: rule.severity,
    description: rule.description ?? '',
    message: rule.message ?? '',
    compliance: (rule.compliance ?? []).map((c) => ({ framework: c.framework, control: c.control })),
    slo: sloFields(rule.slo),
    enabled: rule.enabled,
    condition: rule.condition,
  };
}

/** The draft as the API takes it: empty optional fields left out, blank compliance rows dropped. */
export function toInput(draft: RuleDraft, note: string): RuleInput {
  const input: RuleInput = {
    id: draft.id.trim(),
    name: draft.name.trim(),
    severity: draft.severity,
    enabled: draft.enabled,
    condition: draft.condition,
  };
  if (draft.description?.trim()) {
    input.description = draft.description.trim();
  }
  if (draft.message?.trim()) {
    input.message = draft.message.trim();
  }
  const compliance = (draft.compliance ?? []).filter((c) => c.framework.trim() !== '' || c.control.trim() !== '');
  if (compliance.length > 0) {
    input.compliance = compliance.map((c) => ({ framework: c.framework.trim(), control: c.control.trim() }));
  }
  if (draft.slo.objective.trim() !== '' || draft.slo.window.trim() !== '') {
    input.slo = { objective: draft.slo.objective.trim(), window: draft.slo.window.trim() };
  }
  if (note.trim() !== '') {
    input.note = note.trim();
  }
  return input;
}

export function sameDraft(a: RuleDraft, b: RuleDraft): boolean {
  return JSON.stringify(toInput(a, '')) === JSON.stringify(toInput(b, ''));
}

export const RULE_ID_PATTERN = /^[a-z0-9][a-z0-9\-_.]*$/;

/** Problems with the form's fields that the sidecar would refuse, in the form's words. */
export function draftProblems(draft: RuleDraft): Partial<Record<'id' | 'name' | 'compliance' | 'slo', string>> {
  const problems: Partial<Record<'id' | 'name' | 'compliance' | 'slo', string>> = {};
  const slo = toInput(draft, '').slo;
  if (slo !== undefined) {
    // The evaluator's own check, in its words (the sidecar would refuse the same).
    const checked = validateSlo(slo);
    if (checked.problems.length > 0) {
      problems.slo = checked.problems.join('; ');
    }
  }
  if (!RULE_ID_PATTERN.test(draft.id.trim())) {
    problems.id = 'An id is lowercase letters, digits, "-", "_" and ".", starting with a letter or digit';
  }
  if (draft.name.trim() === '') {
    problems.name = 'A rule needs a name';
  }
  if ((draft.compliance ?? []).some((c) => (c.framework.trim() === '') !== (c.control.trim() === ''))) {
    problems.compliance = 'Each compliance mapping needs both a framework and a control';
  }
  return problems;
}

export interface Analysis {
  diagnostics: Diagnostic[];
  pushdown?: Pushdown;
}

/**
 * The evaluator's diagnostics of a condition. With the vocabulary (Tempo's span and attribute
 * names, from the code editor) a mistyped variable or attribute gets a did-you-mean warning.
 */
export function analyse(condition: string, vocabulary?: RuleVocabulary): Analysis {
  const parsed = parseRule(condition, { vocabulary });
  return { diagnostics: parsed.diagnostics, pushdown: parsed.ast ? pushdownRule(parsed.ast) : undefined };
}

/** A text form of a rule version for the history diff: the fields, then the condition. */
export function versionText(rule: RuleDefinition): string {
  const d = draftOf(rule);
  const lines = [
    `name: ${d.name}`,
    `severity: ${d.severity}`,
    `enabled: ${d.enabled}`,
    ...(d.description ? [`description: ${d.description}`] : []),
    ...(d.message ? [`message: ${d.message}`] : []),
    ...(d.compliance ?? []).map((c) => `compliance: ${c.framework} ${c.control}`),
    ...(d.slo.objective !== '' ? [`slo: { objective: ${d.slo.objective}, window: ${d.slo.window} }`] : []),
    'condition:',
    ...d.condition.split('\n').map((l) => `  ${l}`),
  ];
  return lines.join('\n');
}
