/**
 * A rule's `slo` field: `{ objective: "99.9%", window: 30d }` as written in rule files and API
 * bodies, and `{ objective: 0.999, windowMs: 2592000000 }` as the definition holds it (and as the
 * API answers it, so a rule read back can be sent again unchanged). Pure: no I/O.
 */
import { MAX_SLO_WINDOW_MS, MIN_SLO_WINDOW_MS } from './limits';
import type { RuleSlo } from './types';

const UNIT_MS: Record<string, number> = { h: 3_600_000, d: 86_400_000, w: 7 * 86_400_000 };
const OBJECTIVE = /^\s*(\d{1,3}(?:\.(\d{1,9}))?)\s*%\s*$/;
const WINDOW = /^\s*(\d{1,6})\s*([hdw])\s*$/;

/** The objective of a percentage text (`"99.9%"` → 0.999), or undefined when it is none. */
export function parseObjective(text: string): number | undefined {
  const m = OBJECTIVE.exec(text);
  if (!m) {
    return undefined;
  }
  const decimals = (m[2] ?? '').length;
  // Shifted by two decimal places in text, so "99.9%" is exactly the double 0.999 (99.9 / 100 is not).
  const value = Number((Number(m[1]) / 100).toFixed(decimals + 2));
  return value > 0 && value < 1 ? value : undefined;
}

/** The milliseconds of a duration text with a unit (`30d`, `720h`, `4w`), or undefined. */
export function parseWindow(text: string): number | undefined {
  const m = WINDOW.exec(text);
  return m ? Number(m[1]) * UNIT_MS[m[2]] : undefined;
}

/** An objective as users write it: 0.999 → `99.9%`. */
export function formatObjective(objective: number): string {
  return `${Number((objective * 100).toPrecision(12))}%`;
}

/** A window as users write it: in days when it is whole days (2592000000 → `30d`), else in hours. */
export function formatWindow(windowMs: number): string {
  return windowMs % UNIT_MS.d === 0 ? `${windowMs / UNIT_MS.d}d` : `${windowMs / UNIT_MS.h}h`;
}

/** The `slo` field as a rule file writes it. */
export function sloText(slo: RuleSlo): { objective: string; window: string } {
  return { objective: formatObjective(slo.objective), window: formatWindow(slo.windowMs) };
}

const range = `between ${MIN_SLO_WINDOW_MS / UNIT_MS.d}d and ${MAX_SLO_WINDOW_MS / UNIT_MS.d}d`;

/**
 * Validates an `slo` value. Answers the parsed objective, or the problems (each naming the
 * sub-field: `slo.objective`, `slo.window`), all of them.
 */
export function validateSlo(value: unknown): { slo?: RuleSlo; problems: string[] } {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    return { problems: ['`slo` must be a mapping { objective, window }, e.g. { objective: "99.9%", window: 30d }'] };
  }
  const o = value as Record<string, unknown>;
  const problems: string[] = [];
  const stored = typeof o.objective === 'number' && 'windowMs' in o && !('window' in o);
  for (const key of Object.keys(o)) {
    if (!(stored ? ['objective', 'windowMs'] : ['objective', 'window']).includes(key)) {
      problems.push(`\`slo.${key}\` is not a field of \`slo\` (objective, window)`);
    }
  }
  let objective: number | undefined;
  if (o.objective === undefined || o.objective === null) {
    problems.push('`slo` needs an `objective`, a percentage such as "99.9%"');
  } else if (stored) {
    objective = o.objective as number;
    if (!(objective > 0 && objective < 1)) {
      problems.push(`\`slo.objective\` as a fraction must be strictly between 0 and 1; got ${objective}`);
      objective = undefined;
    }
  } else {
    objective = typeof o.objective === 'string' ? parseObjective(o.objective) : undefined;
    if (objective === undefined) {
      problems.push(`\`slo.objective\` must be a percentage strictly between 0 and 100 followed by %, e.g. "99.9%"; got ${JSON.stringify(o.objective)}`);
    }
  }
  let windowMs: number | undefined;
  const w = stored ? o.windowMs : o.window;
  if (w === undefined || w === null) {
    problems.push(`\`slo\` needs a \`window\`, a duration with its unit ${range}, e.g. 30d`);
  } else {
    windowMs = stored ? (Number.isInteger(w) ? (w as number) : undefined) : typeof w === 'string' ? parseWindow(w) : undefined;
    if (windowMs === undefined) {
      problems.push(`\`slo.${stored ? 'windowMs' : 'window'}\` must be a duration with its unit (h, d or w), e.g. 30d; got ${JSON.stringify(w)}`);
    } else if (windowMs < MIN_SLO_WINDOW_MS || windowMs > MAX_SLO_WINDOW_MS) {
      problems.push(`\`slo.window\` must be ${range}; got ${stored ? formatWindow(windowMs) : String(w).trim()}`);
      windowMs = undefined;
    }
  }
  return problems.length === 0 && objective !== undefined && windowMs !== undefined ? { slo: { objective, windowMs }, problems } : { problems };
}
