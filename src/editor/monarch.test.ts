import { grammarSource } from '../../packages/evaluator/src/grammar/grammarSource';
import { monarchLanguage } from './monarch';
import { KEYWORDS } from './vocabulary';

type Action = string | { cases: Record<string, string> };
type Rule = [RegExp, Action] | [RegExp, Action, string];

/**
 * A small Monarch interpreter for one line (first matching rule wins, `@name` attributes expand,
 * `cases` pick by `@array` membership of $0 or `$1`), enough to pin the tokenizer's output
 * without Monaco, which does not run in jsdom.
 */
function tokenize(line: string): Array<[string, string]> {
  const lang = monarchLanguage() as unknown as Record<string, unknown> & { tokenizer: Record<string, Rule[]> };
  const expand = (re: RegExp) =>
    new RegExp(
      `^(?:${re.source.replace(/@(\w+)/g, (_m, name: string) => (lang[name] as RegExp).source)})`,
      re.flags.replace('g', '')
    );
  const pick = (action: Action, m: RegExpExecArray): string => {
    if (typeof action === 'string') {
      return action;
    }
    for (const [guard, token] of Object.entries(action.cases)) {
      const g = /^(\$(\d))?@(\w+)$/.exec(guard);
      if (guard === '@default') {
        return token;
      }
      if (g) {
        const subject = g[2] ? m[Number(g[2])] : m[0];
        if ((lang[g[3]] as string[]).includes(subject)) {
          return token;
        }
      }
    }
    throw new Error('no case');
  };
  const stack = ['root'];
  const out: Array<[string, string]> = [];
  let rest = line;
  while (rest.length > 0) {
    const rules = lang.tokenizer[stack[stack.length - 1]];
    let matched = false;
    for (const [re, action, next] of rules) {
      if (re.source === '$') {
        continue;
      }
      const m = expand(re).exec(rest);
      if (m && m[0].length > 0) {
        out.push([m[0], pick(action, m)]);
        rest = rest.slice(m[0].length);
        if (next === '@pop') {
          stack.pop();
        } else if (next) {
          stack.push(next.slice(1));
        }
        matched = true;
        break;
      }
    }
    if (!matched) {
      throw new Error(`no rule matches ${JSON.stringify(rest)}`);
    }
  }
  return out.filter(([, t]) => t !== 'white');
}

describe('monarchLanguage', () => {
  it('colours exactly the keywords of the grammar', () => {
    const rule = /keyword = \(([^)]*)\)/.exec(grammarSource)![1];
    expect([...KEYWORDS].sort()).toEqual(
      rule
        .split('|')
        .map((w) => w.trim())
        .sort()
    );
    expect(monarchLanguage().keywords).toEqual([...KEYWORDS]);
  });

  it('tokenizes a when/always rule', () => {
    expect(tokenize('when { p: payment.charge.where(amount > 1000 and status == error) }')).toEqual([
      ['when', 'keyword'],
      ['{', '@brackets'],
      ['p', 'variable'],
      [':', 'delimiter'],
      ['payment', 'identifier'],
      ['.', 'delimiter'],
      ['charge', 'identifier'],
      ['.where', 'keyword.method'],
      ['(', '@brackets'],
      ['amount', 'identifier'],
      ['>', 'operator'],
      ['1000', 'number'],
      ['and', 'keyword'],
      ['status', 'type.intrinsic'],
      ['==', 'operator'],
      ['error', 'identifier'],
      [')', '@brackets'],
      ['}', '@brackets'],
    ]);
  });

  it('reads durations as one token, strings with escapes, functions and comments', () => {
    expect(tokenize(`count(span("GET /a\\"b")) > 3 or max(*, duration) >= 2.5s # slow`)).toEqual([
      ['count', 'predefined'],
      ['(', '@brackets'],
      ['span', 'predefined'],
      ['(', '@brackets'],
      ['"', 'string'],
      ['GET /a', 'string'],
      ['\\"', 'string.escape'],
      ['b', 'string'],
      ['"', 'string'],
      [')', '@brackets'],
      [')', '@brackets'],
      ['>', 'operator'],
      ['3', 'number'],
      ['or', 'keyword'],
      ['max', 'predefined'],
      ['(', '@brackets'],
      ['*', 'delimiter'],
      [',', 'delimiter'],
      ['duration', 'type.intrinsic'],
      [')', '@brackets'],
      ['>=', 'operator'],
      ['2.5s', 'number.duration'],
      ['# slow', 'comment'],
    ]);
  });
});
