/**
 * parseRule: rule text → resolved AST + diagnostics. Never throws for any input:
 * bounds are checked before the grammar runs, so neither size nor nesting can exhaust the stack.
 */
import { MAX_LOGICAL_OPERATORS, MAX_NESTING_DEPTH, MAX_SOURCE_LENGTH } from './limits';
import { LineMap } from './positions';
import { closest, resolveRule } from './resolve';
import { matchRule } from './syntax';
import type { Diagnostic, ParseOptions, ParseResult } from './types';

export function parseRule(source: string, options: ParseOptions = {}): ParseResult {
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
    return resolveRule(outcome.rule, lines, options.vocabulary);
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

const IDENT_BEFORE = /([A-Za-z_][A-Za-z0-9_.]*|"[^"\n]*"|\)|\]|\}|[0-9][0-9.]*[a-zµ]*)\s*$/;

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
    const keyword = closestKeyword(word[0], /\bwhen\s*\{/.test(source.slice(0, position)));
    const wordAt = { start: position, end: position + word[0].length };
    if (keyword) {
      return lines.diagnostic('error', `unknown keyword \`${word[0]}\`; did you mean \`${keyword}\`?`, wordAt, 'unknown-keyword');
    }
    // `if { … } then { … }`: a word before `{` where a clause keyword belongs.
    if (!KEYWORDS.includes(word[0]) && (prev === undefined || prev === '}' || /^\s*$/.test(source.slice(0, position)))) {
      return lines.diagnostic('error', `unknown keyword \`${word[0]}\`; a rule is \`when { … }\` followed by \`always { … }\` and/or \`never { … }\``, wordAt, 'unknown-keyword');
    }
  }
  // `if { … }`: the unknown word was read as a name; Ohm fails at the brace after it.
  if (found === '{' && prev !== undefined && /^[A-Za-z_][A-Za-z0-9_]*$/.test(prev) && !KEYWORDS.includes(prev)) {
    const start = source.lastIndexOf(prev, position);
    const keyword = closestKeyword(prev, /\bwhen\s*\{/.test(source.slice(0, start)));
    const hint = keyword ? `did you mean \`${keyword}\`?` : 'a rule is `when { … }` followed by `always { … }` and/or `never { … }`';
    return lines.diagnostic('error', `unknown keyword \`${prev}\`; ${hint}`, { start, end: start + prev.length }, 'unknown-keyword');
  }
  // `"abc` with no closing quote on its line
  if (/^["']/.test(found) && !/^(["'])(?:[^\\\n]|\\.)*?\1/.test(source.slice(position))) {
    return lines.diagnostic('error', `this string has no closing \`${found[0]}\` on its line`, at, 'syntax');
  }
  if (found === '=') {
    return lines.diagnostic('error', '`=` is not an operator; compare with `==`', at, 'syntax');
  }
  if (found === 'within') {
    return lines.diagnostic('error', '`within` follows a comma: `S.before(T, within 5s)`', at, 'syntax');
  }
  const what = found === '' ? 'the end of the rule' : `\`${found}\``;
  const unit = durationUnitMistake(source, position, prev, found);
  if (unit !== undefined) {
    return lines.diagnostic('error', unit.message, { start: unit.start, end: unit.end }, 'duration-unit');
  }
  if (expected.includes('a comparison operator') && (prev === ')' || prev === ']') && found !== '') {
    return lines.diagnostic('error', `expected \`and\`, \`or\` or a comparison operator after \`${prev}\`, found ${what}`, at, 'syntax');
  }
  if (expected.includes('a comparison operator') && prev !== undefined && found !== '') {
    return lines.diagnostic('error', `expected a comparison operator after \`${prev}\`, found ${what}`, at, 'syntax');
  }
  if (found === '' && /[(\[{]/.test(source) && expected.match(/"\)"|"\]"|"\}"/)) {
    const closer = /"(\)|\]|\})"/.exec(expected);
    return lines.diagnostic('error', `expected \`${closer ? closer[1] : ')'}\` before the end of the rule`, at, 'syntax');
  }
  const unexpected = found === '' ? 'unexpected end of the rule' : `unexpected ${what}`;
  return lines.diagnostic('error', `${unexpected}; expected ${humanizeExpected(expected)}`, at, 'syntax');
}

const UNITS = ['ns', 'us', 'µs', 'ms', 's', 'm', 'h'];
/** Unit words authors write for the units the language spells `s`, `m`, `h`, `ms`. */
const UNIT_WORDS: Record<string, string> = {
  sec: 's', secs: 's', second: 's', seconds: 's',
  min: 'm', mins: 'm', minute: 'm', minutes: 'm',
  hr: 'h', hrs: 'h', hour: 'h', hours: 'h',
  msec: 'ms', msecs: 'ms', millis: 'ms', millisecond: 'ms', milliseconds: 'ms',
  usec: 'us', microsecond: 'us', microseconds: 'us',
  nsec: 'ns', nanosecond: 'ns', nanoseconds: 'ns',
  d: '', day: '', days: '',
};

/**
 * `5 s` (a space before the unit), `5sec`, `5 seconds`, `2d`: a number the author meant as a
 * duration. Says how a duration is written instead of "expected `)`".
 */
function durationUnitMistake(source: string, position: number, prev: string | undefined, found: string): { message: string; start: number; end: number } | undefined {
  // `5sec`: the number fails at its own start, the unit glued on.
  const glued = /^(-?[0-9]+(?:\.[0-9]+)?)([A-Za-zµ]+)(?![A-Za-z0-9_])/.exec(source.slice(position));
  if (glued && (UNIT_WORDS[glued[2]] !== undefined || UNITS.includes(glued[2].toLowerCase()))) {
    const suggestion = UNIT_WORDS[glued[2]] ?? glued[2].toLowerCase();
    const end = position + glued[0].length;
    if (suggestion === '') {
      return { message: `\`${glued[0]}\`: durations go up to hours (\`h\`); write \`${Number(glued[1]) * 24}h\``, start: position, end };
    }
    return { message: `unknown duration unit \`${glued[2]}\`; write \`${glued[1]}${suggestion}\` (units: ${UNITS.map((u) => `\`${u}\``).join(', ')})`, start: position, end };
  }
  if (prev === undefined || !/^-?[0-9]+(\.[0-9]+)?$/.test(prev) || !/^[A-Za-zµ]+$/.test(found)) {
    return undefined;
  }
  const unit = UNITS.includes(found) ? found : UNIT_WORDS[found];
  if (unit === undefined || unit === '') {
    return undefined;
  }
  const start = source.lastIndexOf(prev, position);
  return {
    message: `a duration is written without a space before its unit: \`${prev}${unit}\``,
    start,
    end: position + found.length,
  };
}

function tokenAt(source: string, position: number): string {
  const rest = source.slice(position);
  const m = /^([A-Za-z_][A-Za-z0-9_]*|[0-9][0-9.]*[a-zµ]*|"[^"\n]*"?|'[^'\n]*'?|==|!=|<=|>=|=~|!~|&&|\|\||\S)/.exec(rest);
  return m ? m[1] : '';
}

const KEYWORDS = ['when', 'always', 'never'];

/** The clause keyword nearest `word`; after a `when { … }` only `always` and `never` can follow. */
function closestKeyword(word: string, afterWhen = false): string | undefined {
  return KEYWORDS.includes(word) ? undefined : closest(word, afterWhen ? ['always', 'never'] : KEYWORDS);
}

/** Ohm lists every alternative; authors need the few that matter. */
function humanizeExpected(expected: string): string {
  // Items are JSON-quoted literals (which may hold a comma: `","`) or descriptions, joined by `, ` and ` or `.
  const items: string[] = [];
  for (const token of expected.match(/"(?:[^"\\]|\\.)*"|[^,"]+/g) ?? []) {
    for (const part of token.startsWith('"') ? [token] : token.split(/(?:^|\s)or\s/)) {
      const item = part.trim();
      if (item !== '') {
        items.push(item);
      }
    }
  }
  const words = new Set<string>();
  for (const item of items) {
    const lit = /^"(.*)"$/.exec(item);
    if (item === 'end of input') {
      words.add('the end of the rule');
    } else if (lit) {
      const t = JSON.parse(item) as string;
      if (['.', '(', ':'].includes(t)) {
        continue; // continuations of a name: rarely what the author meant
      }
      words.add(`\`${t}\``);
    } else {
      words.add(item.replace(/^`(.*)`$/, '`$1`'));
    }
  }
  // `[`, `null`, `true`, a string, a number, a duration …: say "a value" once.
  const values = ['`[`', '`null`', '`false`', '`true`', 'a string', 'a number', 'a duration'];
  if (['a string', 'a number', 'a duration'].every((v) => words.has(v))) {
    const rest = [...words].filter((w) => !values.includes(w));
    words.clear();
    ['a value', ...rest].forEach((w) => words.add(w));
  }
  if (words.has('a name')) {
    words.delete('an identifier');
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
