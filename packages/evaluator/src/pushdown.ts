import type { RuleAst } from './ast';
import type { Pushdown } from './types';

// Placeholder until the pushdown lands (being written now).
export function pushdownRule(_ast: RuleAst): Pushdown {
  throw new Error('pushdownRule: not implemented yet');
}
