/** Types of chainTrace.js (plain JavaScript, so that `npm run bench stall` can load it unbuilt). */
import type { RuleDefinition } from '@betrace/evaluator';

export const CHAIN_RULE: Pick<RuleDefinition, 'id' | 'name' | 'severity' | 'condition' | 'enabled'>;
export function chainRequest(traceId: string, spans: number, options?: { offset?: number; count?: number; service?: string; id?: (hex: string) => unknown }): { resourceSpans: unknown[] };
export function hexBytes(hex: string): Buffer;
