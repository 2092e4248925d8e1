import { SEVERITIES, type Severity } from '../api/signals';

/** The highest severity among signals (critical > high > medium > low > info), if any. */
export function topSeverity(severities: readonly string[]): Severity | undefined {
  let top = -1;
  for (const s of severities) {
    top = Math.max(top, (SEVERITIES as readonly string[]).indexOf(s));
  }
  return top < 0 ? undefined : SEVERITIES[top];
}

/**
 * The Signals page's line for one trace (Explore's "BeTrace signals for this trace" opens it):
 * how many signals, and the top severity of those loaded (all of them unless they span pages).
 */
export function traceSignalsSummary(traceId: string, total: number, loaded: readonly string[]): string {
  if (total === 0) {
    return `No signals on trace ${traceId} in this time range.`;
  }
  const top = topSeverity(loaded);
  const of = loaded.length < total ? ` (of the ${loaded.length} on this page)` : '';
  return `${total.toLocaleString('en-US')} ${total === 1 ? 'signal' : 'signals'} on trace ${traceId}; top severity${of}: ${top}.`;
}
