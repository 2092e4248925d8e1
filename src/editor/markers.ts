import type { monacoTypes } from '@grafana/ui';
import type { Diagnostic, DiagnosticSeverity } from '@betrace/evaluator';

/** Monaco's MarkerSeverity values (monaco.MarkerSeverity), so this module needs no Monaco at run time. */
export const MARKER_SEVERITY: Record<DiagnosticSeverity, monacoTypes.MarkerSeverity> = {
  error: 8 as monacoTypes.MarkerSeverity,
  warning: 4 as monacoTypes.MarkerSeverity,
  info: 2 as monacoTypes.MarkerSeverity,
};

/**
 * Evaluator diagnostics → Monaco markers. Both use 1-based lines and columns with an exclusive
 * end, so positions carry over; an empty range (an error at the end of the text) is widened to
 * one column so Monaco still draws it.
 */
export function diagnosticsToMarkers(diagnostics: readonly Diagnostic[]): monacoTypes.editor.IMarkerData[] {
  return diagnostics.map((d) => {
    const empty = d.endLine === d.startLine && d.endColumn <= d.startColumn;
    return {
      severity: MARKER_SEVERITY[d.severity],
      message: d.message,
      startLineNumber: d.startLine,
      startColumn: d.startColumn,
      endLineNumber: empty ? d.startLine : d.endLine,
      endColumn: empty ? d.startColumn + 1 : d.endColumn,
      source: 'betrace',
      ...(d.code !== undefined ? { code: d.code } : {}),
    };
  });
}
