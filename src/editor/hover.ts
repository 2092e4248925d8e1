import { HELP } from './vocabulary';

export interface HoverHelp {
  word: string;
  help: string;
  /** 1-based, end exclusive, like Monaco ranges. */
  startColumn: number;
  endColumn: number;
}

/** The help for the keyword, intrinsic, method or function under a 1-based column of a line, if it has any. */
export function hoverAt(line: string, column: number): HoverHelp | undefined {
  const re = /[A-Za-z_]\w*/g;
  let m: RegExpExecArray | null;
  while ((m = re.exec(line)) !== null) {
    const start = m.index + 1;
    const end = start + m[0].length;
    if (column >= start && column < end) {
      // An attribute scope (`span.status`) or a span name part (`payment.charge`) is not the keyword.
      const prev = line[m.index - 1];
      const isMethod = prev === '.' && /^\s*\(/.test(line.slice(m.index + m[0].length));
      if (prev === '.' && !isMethod) {
        return undefined;
      }
      const help = Object.prototype.hasOwnProperty.call(HELP, m[0]) ? HELP[m[0]] : undefined;
      return help ? { word: m[0], help, startColumn: start, endColumn: end } : undefined;
    }
  }
  return undefined;
}
