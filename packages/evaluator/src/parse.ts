import type { ParseResult } from './types';

// Placeholder until the grammar lands (being written now).
export function parseRule(_source: string): ParseResult {
  throw new Error('parseRule: not implemented yet');
}
