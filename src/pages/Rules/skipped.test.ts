import { skippedSummary, wasSkipped } from './skipped';

describe('skippedSummary', () => {
  it.each([
    [{ count: 1, byReason: { 'time-budget': 1 } }, 'Not evaluated on 1 trace (time budget)'],
    [{ count: 3, byReason: { 'step-budget': 3 } }, 'Not evaluated on 3 traces (step budget)'],
    [{ count: 2, byReason: { error: 2 } }, 'Not evaluated on 2 traces (rule error)'],
    [
      { count: 4, byReason: { error: 1, 'step-budget': 1, 'time-budget': 2 } },
      'Not evaluated on 4 traces (time budget 2, step budget 1, rule error 1)',
    ],
    // A reason this plugin does not know yet (a newer sidecar): the count still shows.
    [{ count: 5, byReason: {} }, 'Not evaluated on 5 traces'],
  ])('%j → %s', (skipped, text) => {
    expect(skippedSummary(skipped)).toBe(text);
  });
});

describe('wasSkipped', () => {
  it('marks only a rule with a skipped evaluation', () => {
    expect(wasSkipped(undefined)).toBe(false);
    expect(wasSkipped({ count: 0, byReason: {} })).toBe(false);
    expect(wasSkipped({ count: 1, byReason: { 'time-budget': 1 } })).toBe(true);
  });
});
