/**
 * parseRule: rule text → resolved AST + diagnostics. Never throws for any input:
 * bounds are checked before the grammar runs, so neither size nor nesting can exhaust the stack.
 */
import { MAX_LOGICAL_OPERATORS, MAX_NESTING_DEPTH, MAX_SOURCE_LENGTH } from './limits';
import { LineMap } from './positions';
import { closest, resolveRule } from './resolve';
import { matchRule } from './syntax';
import type { Diagnostic, ParseResult } from './types';

export function parseRule(source: string): ParseResult {
  const lines = new LineMap(source);
  try {
    const bound = checkBounds(source, lines);
    if (bound) {
      return { diagnostics: [bound] };
    }
    const outcome = matchRule(source);
    if (!outcome.ok) {
      return { diagnostics: [syntaxDiagnostic(source, lines, outcome.failure.getRightmostFailurePosition(), outcome.failure.getExpectedText())] };
    }
    return resolveRule(outcome.rule, lines);
  } catch (e) {
    // Not expected: every input is meant to end in a diagnostic above. Report rather than crash the editor or sidecar.
    const message = e instanceof RangeError ? 'the rule is too complex to check' : `internal error while checking the rule: ${String(e)}`;
    return { diagnostics: [lines.diagnostic('error', message, { start: 0, end: source.length }, 'internal')] };
  }
}

/** Scans brackets, strings and comments once; reports the first bound exceeded. */
function checkBounds(source: string, lines: LineMap): Diagnostic | undefined {
  if (source.length > MAX_SOURCE_LENGTH) {
    return lines.diagnostic(
      'error',
      `the rule is ${source.length} characters long; at most ${MAX_SOURCE_LENGTH} are allowed`,
      { start: MAX_SOURCE_LENGTH, end: source.length },
      'too-large',
    );
  }
  let depth = 0;
  let logical = 0;
  for (let i = 0; i < source.length; i++) {
    const c = source[i];
    if (c === '"' || c === "'") {
      i++;
      while (i < source.length && source[i] !== c && source[i] !== '\n') {
        if (source[i] === '\\') {
          i++;
        }
        i++;
      }
    } else if (c === '#' || (c === '/' && source[i + 1] === '/')) {
      while (i < source.length && source[i] !== '\n') {
        i++;
      }
    } else if (c === '(' || c === '[' || c === '{') {
      depth++;
      if (depth > MAX_NESTING_DEPTH) {
        return lines.diagnostic('error', `the rule nests deeper than ${MAX_NESTING_DEPTH} levels`, { start: i, end: i + 1 }, 'too-deep');
      }
    } else if (c === ')' || c === ']' || c === '}') {
      depth = Math.max(0, depth - 1);
    } else if (isLogicalAt(source, i)) {
      logical++;
      if (logical > MAX_LOGICAL_OPERATORS) {
        return lines.diagnostic('error', `the rule combines more than ${MAX_LOGICAL_OPERATORS} conditions with and/or`, { start: i, end: i + 2 }, 'too-complex');
      }
    }
  }
  return undefined;
}

function isLogicalAt(source: string, i: number): boolean {
  const two = source.slice(i, i + 2);
  if (two === '&&' || two === '||') {
    return true;
  }
  const before = i === 0 ? ' ' : source[i - 1];
  if (/[A-Za-z0-9_.]/.test(before)) {
    return false;
  }
  const word = /^(and|or)(?![A-Za-z0-9_])/.exec(source.slice(i, i + 4));
  return word !== null;
}

const IDENT_BEFORE = /([A-Za-z_][A-Za-z0-9_.]*|"[^"\n]*"|\)|\]|[0-9][0-9.]*[a-zµ]*)\s*$/;

/** Turns Ohm's failure (position, expected alternatives) into words a rule author understands. */
function syntaxDiagnostic(source: string, lines: LineMap, position: number, expectedText: string): Diagnostic {
  const expected = expectedText.replace(/^expected\s*/, '');
  const found = tokenAt(source, position);
  const before = IDENT_BEFORE.exec(source.slice(Math.max(0, position - 200), position));
  const prev = before ? before[1] : undefined;
  const at = { start: position, end: position + Math.max(1, found.length) };

  // `alway {` → did you mean always
  const word = /^[A-Za-z_][A-Za-z0-9_]*/.exec(source.slice(position));
  if (word && /^\s*\{/.test(source.slice(position + word[0].length))) {
    const keyword = closestKeyword(word[0]);
    if (keyword) {
      return lines.diagnostic('error', `unknown keyword \`${word[0]}\`; did you mean \`${keyword}\`?`, { start: position, end: position + word[0].length }, 'unknown-keyword');
    }
  }
  const what = found === '' ? 'the end of the rule' : `\`${found}\``;
  if (expected.includes('a comparison operator') && prev !== undefined && found !== '') {
    return lines.diagnostic('error', `expected a comparison operator after \`${prev}\`, found ${what}`, at, 'syntax');
  }
  if (found === '' && /[(\[{]/.test(source) && expected.match(/"\)"|"\]"|"\}"/)) {
    const closer = /"(\)|\]|\})"/.exec(expected);
    return lines.diagnostic('error', `expected \`${closer ? closer[1] : ')'}\` before the end of the rule`, at, 'syntax');
  }
  return lines.diagnostic('error', `unexpected ${what}; expected ${humanizeExpected(expected)}`, at, 'syntax');
}

function tokenAt(source: string, position: number): string {
  const rest = source.slice(position);
  const m = /^([A-Za-z_][A-Za-z0-9_]*|[0-9][0-9.]*[a-zµ]*|"[^"\n]*"?|==|!=|<=|>=|=~|!~|&&|\|\||\S)/.exec(rest);
  return m ? m[1] : '';
}

const KEYWORDS = ['when', 'always', 'never'];

function closestKeyword(word: string): string | undefined {
  return KEYWORDS.includes(word) ? undefined : closest(word, KEYWORDS);
}

/** Ohm lists every alternative; authors need the few that matter. */
function humanizeExpected(expected: string): string {
  const items = expected
    .split(/,\s*(?:or\s+)?|\s+or\s+/)
    .map((s) => s.trim())
    .filter((s) => s !== '');
  const words = new Set<string>();
  for (const item of items) {
    const lit = /^"(.*)"$/.exec(item);
    if (item === 'end of input') {
      words.add('the end of the rule');
    } else if (lit) {
      const t = lit[1];
      if (['.', '(', ':'].includes(t)) {
        continue; // continuations of a name: rarely what the author meant
      }
      words.add(`\`${t}\``);
    } else {
      words.add(item.replace(/^`(.*)`$/, '`$1`'));
    }
  }
  const list = [...words];
  if (list.length === 0) {
    return 'something else';
  }
  if (list.length === 1) {
    return list[0];
  }
  return `${list.slice(0, -1).join(', ')} or ${list[list.length - 1]}`;
}
