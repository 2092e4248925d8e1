import type { FileDiagnostic, RuleDefinition } from './types';

// Placeholder until the rule-file schema lands (being written now).
export function parseRuleFile(_text: string, _fileName?: string): { rules: RuleDefinition[]; diagnostics: FileDiagnostic[] } {
  throw new Error('parseRuleFile: not implemented yet');
}

export function validateRuleDefinition(_value: unknown): { rule?: RuleDefinition; diagnostics: FileDiagnostic[] } {
  throw new Error('validateRuleDefinition: not implemented yet');
}
