import { hoverAt } from './hover';
import { HELP } from './vocabulary';

describe('hoverAt', () => {
  const line = 'when { p: payment.charge.where(status == error) } always { count(x) > 1 }';

  it('explains the keyword, method, intrinsic or function under the cursor', () => {
    expect(hoverAt(line, 1)).toEqual({ word: 'when', help: HELP.when, startColumn: 1, endColumn: 5 });
    expect(hoverAt(line, 28)).toEqual({ word: 'where', help: HELP.where, startColumn: 26, endColumn: 31 });
    expect(hoverAt(line, 32)).toEqual({ word: 'status', help: HELP.status, startColumn: 32, endColumn: 38 });
    expect(hoverAt(line, line.indexOf('count') + 1)?.word).toBe('count');
  });

  it('has nothing for span names, attributes, scoped names or whitespace', () => {
    expect(hoverAt(line, 12)).toBeUndefined(); // payment
    expect(hoverAt('a.where(span.status == ok)', 15)).toBeUndefined(); // span.status is an attribute
    expect(hoverAt(line, 5)).toBeUndefined();
    expect(hoverAt('constructor', 3)).toBeUndefined();
  });
});
