import type { CompileResult, RuleDefinition } from './types';

// Placeholder until the compiler lands (being written now).
export function compileRule(_definition: RuleDefinition): CompileResult {
  throw new Error('compileRule: not implemented yet');
}
