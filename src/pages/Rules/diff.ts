export type DiffOp = 'same' | 'add' | 'del';

export interface DiffLine {
  op: DiffOp;
  text: string;
  /** 1-based line numbers in the old and the new text (absent on the side the line is not on). */
  oldLine?: number;
  newLine?: number;
}

/**
 * A line diff of two texts by longest common subsequence (O(n·m), fine for rules, which are
 * a few dozen lines): deletions before additions at each change, like `diff -u`.
 */
export function lineDiff(oldText: string, newText: string): DiffLine[] {
  const a = oldText === '' ? [] : oldText.split('\n');
  const b = newText === '' ? [] : newText.split('\n');
  const n = a.length;
  const m = b.length;
  // lcs[i][j]: length of the LCS of a[i..] and b[j..].
  const lcs: number[][] = Array.from({ length: n + 1 }, () => new Array<number>(m + 1).fill(0));
  for (let i = n - 1; i >= 0; i--) {
    for (let j = m - 1; j >= 0; j--) {
      lcs[i][j] = a[i] === b[j] ? lcs[i + 1][j + 1] + 1 : Math.max(lcs[i + 1][j], lcs[i][j + 1]);
    }
  }
  const out: DiffLine[] = [];
  let i = 0;
  let j = 0;
  while (i < n || j < m) {
    if (i < n && j < m && a[i] === b[j]) {
      out.push({ op: 'same', text: a[i], oldLine: i + 1, newLine: j + 1 });
      i++;
      j++;
    } else if (j >= m || (i < n && lcs[i + 1][j] >= lcs[i][j + 1])) {
      out.push({ op: 'del', text: a[i], oldLine: i + 1 });
      i++;
    } else {
      out.push({ op: 'add', text: b[j], newLine: j + 1 });
      j++;
    }
  }
  return out;
}

/** The diff as unified-diff-like text (`  ` same, `- ` deleted, `+ ` added), for tests and copying. */
export function formatDiff(lines: DiffLine[]): string {
  return lines.map((l) => `${l.op === 'same' ? ' ' : l.op === 'add' ? '+' : '-'} ${l.text}`).join('\n');
}
