import type { Loc } from './ast';
import type { Diagnostic, DiagnosticSeverity } from './types';

/** Maps character offsets of a source text to 1-based line/column positions. */
export class LineMap {
  private readonly lineStarts: number[] = [0];

  constructor(private readonly source: string) {
    for (let i = 0; i < source.length; i++) {
      if (source.charCodeAt(i) === 10) {
        this.lineStarts.push(i + 1);
      }
    }
  }

  /** 1-based line and column of an offset (clamped to the source). */
  position(offset: number): { line: number; column: number } {
    const at = Math.max(0, Math.min(offset, this.source.length));
    let lo = 0;
    let hi = this.lineStarts.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (this.lineStarts[mid] <= at) {
        lo = mid;
      } else {
        hi = mid - 1;
      }
    }
    return { line: lo + 1, column: at - this.lineStarts[lo] + 1 };
  }

  /** A diagnostic covering `loc` (an empty range is widened to one character where the source allows). */
  diagnostic(severity: DiagnosticSeverity, message: string, loc: Loc, code?: string): Diagnostic {
    const start = this.position(loc.start);
    const endOffset = loc.end > loc.start ? loc.end : Math.min(loc.start + 1, this.source.length);
    const end = this.position(Math.max(endOffset, loc.start));
    const d: Diagnostic = {
      severity,
      message,
      startLine: start.line,
      startColumn: start.column,
      endLine: end.line,
      endColumn: end.line === start.line && end.column === start.column ? start.column + 1 : end.column,
    };
    if (code !== undefined) {
      d.code = code;
    }
    return d;
  }

  /** The source text of a node. */
  text(loc: Loc): string {
    return this.source.slice(loc.start, loc.end);
  }
}
