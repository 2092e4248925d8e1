import { formatDiff, lineDiff } from './diff';

describe('lineDiff', () => {
  it('keeps common lines and shows deletions before additions at a change', () => {
    expect(formatDiff(lineDiff('a\nb\nc\nd', 'a\nx\nc\nd\ne'))).toBe(
      ['  a', '- b', '+ x', '  c', '  d', '+ e'].join('\n')
    );
  });

  it('numbers lines on both sides', () => {
    expect(lineDiff('a\nb', 'b\nc')).toEqual([
      { op: 'del', text: 'a', oldLine: 1 },
      { op: 'same', text: 'b', oldLine: 2, newLine: 1 },
      { op: 'add', text: 'c', newLine: 2 },
    ]);
  });

  it('handles empty texts and identical texts', () => {
    expect(lineDiff('', '')).toEqual([]);
    expect(formatDiff(lineDiff('', 'a'))).toBe('+ a');
    expect(formatDiff(lineDiff('a', ''))).toBe('- a');
    expect(lineDiff('x\ny', 'x\ny').every((l) => l.op === 'same')).toBe(true);
  });
});
