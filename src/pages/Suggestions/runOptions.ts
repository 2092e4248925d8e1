import { SUGGESTION_KINDS, type SuggestionKind } from '@betrace/evaluator';
import type { DiscoveryRequest, DiscoverySource } from '../../api/discover';

/** The Run form as typed: numbers stay text until they are checked. */
export interface RunOptions {
  source: DiscoverySource;
  top: string;
  /** Empty: the miner's default. */
  minSupport: string;
  /** Empty: the miner's default. */
  minConfidence: string;
  /** Empty: every kind. */
  kinds: SuggestionKind[];
}

export const DEFAULT_RUN_OPTIONS: RunOptions = {
  source: 'auto',
  top: '50',
  minSupport: '',
  minConfidence: '',
  kinds: [],
};

/** The longest range the sidecar mines at once. */
export const MAX_RANGE_MS = 7 * 24 * 3600 * 1000;

export type RunProblems = Partial<Record<'top' | 'minSupport' | 'minConfidence' | 'range', string>>;

const INTEGER = /^\d+$/;

/** What the sidecar would refuse, in the form's words, before anything is sent. */
export function runProblems(o: RunOptions, range: { from: number; to: number }): RunProblems {
  const problems: RunProblems = {};
  const top = o.top.trim();
  if (!INTEGER.test(top) || Number(top) < 1 || Number(top) > 200) {
    problems.top = 'A whole number from 1 to 200';
  }
  const support = o.minSupport.trim();
  if (support !== '' && (!INTEGER.test(support) || Number(support) < 1)) {
    problems.minSupport = 'A whole number of traces, at least 1 (empty: the miner’s default)';
  }
  const confidence = o.minConfidence.trim();
  if (confidence !== '' && !(Number(confidence) > 0 && Number(confidence) <= 1)) {
    problems.minConfidence = 'A fraction above 0 and at most 1, e.g. 0.95 (empty: the miner’s default)';
  }
  if (!(range.to > range.from)) {
    problems.range = 'The time range is empty';
  } else if (range.to - range.from > MAX_RANGE_MS) {
    problems.range = 'Discovery covers at most 7 days: narrow the time range';
  }
  return problems;
}

/** The request the form stands for (only valid options; see runProblems). */
export function discoveryRequest(o: RunOptions, range: { from: number; to: number }): DiscoveryRequest {
  const request: DiscoveryRequest = { from: range.from, to: range.to, source: o.source, top: Number(o.top.trim()) };
  if (o.minSupport.trim() !== '') {
    request.minSupport = Number(o.minSupport.trim());
  }
  if (o.minConfidence.trim() !== '') {
    request.minConfidence = Number(o.minConfidence.trim());
  }
  if (o.kinds.length > 0 && o.kinds.length < SUGGESTION_KINDS.length) {
    // In the miner's order, whatever order they were ticked in.
    request.kinds = SUGGESTION_KINDS.filter((k) => o.kinds.includes(k));
  }
  return request;
}
