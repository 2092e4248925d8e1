/**
 * TraceQL for BeTrace's own spans (telemetry-contract.md). Values the user picks are quoted here,
 * never pasted into a query: a control like `164.312(b)` or a stray `"` stays a string.
 */

/** A TraceQL double-quoted string literal for `value`. */
export function traceqlString(value: string): string {
  let out = '';
  for (const ch of value) {
    const code = ch.codePointAt(0)!;
    if (ch === '\\' || ch === '"') {
      out += `\\${ch}`;
    } else if (ch === '\n') {
      out += '\\n';
    } else if (ch === '\r') {
      out += '\\r';
    } else if (ch === '\t') {
      out += '\\t';
    } else if (code < 0x20 || code === 0x7f) {
      throw new Error(
        `a TraceQL string cannot hold the control character U+${code.toString(16).toUpperCase().padStart(4, '0')}`
      );
    } else {
      out += ch;
    }
  }
  return `"${out}"`;
}

export interface EvidenceSelection {
  /** e.g. `soc2`; empty means every framework. */
  framework?: string;
  /** e.g. `CC6.1`; empty means every control of the framework. */
  control?: string;
}

/** The spanset filter of BeTrace's `compliance.evidence` spans, narrowed to a framework and control. */
export function evidenceSpanset(selection: EvidenceSelection): string {
  const conditions = ['resource.service.name = "betrace"', 'name = "compliance.evidence"'];
  if (selection.framework) {
    conditions.push(`span.compliance.framework = ${traceqlString(selection.framework)}`);
  }
  if (selection.control) {
    conditions.push(`span.compliance.control = ${traceqlString(selection.control)}`);
  }
  return `{ ${conditions.join(' && ')} }`;
}

/** TraceQL metrics: evidence records over time, one series per control and outcome. */
export function evidenceOutcomesQuery(selection: EvidenceSelection): string {
  return `${evidenceSpanset(selection)} | count_over_time() by (span.compliance.control, span.compliance.outcome)`;
}
