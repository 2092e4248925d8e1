import type { Trace } from './model';
import type { CompiledRule, Explanation } from './types';

// Placeholder until the explainer lands (being written now).
export function explainRule(_rule: CompiledRule, _trace: Trace): Explanation {
  throw new Error('explainRule: not implemented yet');
}
