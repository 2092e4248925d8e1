import type { Trace } from '../model';

// Placeholder until the decoders land (being written now).
export function decodeOtlpJson(_body: unknown): Trace[] {
  throw new Error('decodeOtlpJson: not implemented yet');
}

export function decodeTempoTrace(_body: unknown): Trace | undefined {
  throw new Error('decodeTempoTrace: not implemented yet');
}
