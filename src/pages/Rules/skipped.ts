import type { RuleSkipReason, RuleSkipView } from '../../api/rules';

/** The reasons in the words of the UI, in the order they are listed. */
export const SKIP_REASONS: Record<RuleSkipReason, string> = {
  'time-budget': 'time budget',
  'step-budget': 'step budget',
  error: 'rule error',
};

/** Whether a rule has evaluations that did not complete, to be marked. */
export function wasSkipped(skipped: RuleSkipView | undefined): skipped is RuleSkipView {
  return skipped !== undefined && skipped.count > 0;
}

/**
 * One line for the marker: `Not evaluated on 3 traces (time budget)`, or with several reasons
 * `Not evaluated on 3 traces (time budget 2, step budget 1)`.
 */
export function skippedSummary(skipped: RuleSkipView): string {
  const reasons = (Object.keys(SKIP_REASONS) as RuleSkipReason[]).filter((r) => (skipped.byReason[r] ?? 0) > 0);
  const why =
    reasons.length === 1
      ? SKIP_REASONS[reasons[0]]
      : reasons.map((r) => `${SKIP_REASONS[r]} ${skipped.byReason[r]}`).join(', ');
  const traces = `${skipped.count} ${skipped.count === 1 ? 'trace' : 'traces'}`;
  return why === '' ? `Not evaluated on ${traces}` : `Not evaluated on ${traces} (${why})`;
}
