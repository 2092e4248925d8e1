import type { Trace } from './model';
import type { CompiledRule, Violation } from './types';

// Placeholder until the compiler lands (being written now).
export function evaluateTrace(_rules: readonly CompiledRule[], _trace: Trace): Violation[] {
  throw new Error('evaluateTrace: not implemented yet');
}
