import { numberPlaceholders } from '../src/db/placeholders';

describe('numberPlaceholders (? → $n for PostgreSQL)', () => {
  it.each<[string, string, number]>([
    ['SELECT * FROM rules WHERE tenant = ? AND id = ?', 'SELECT * FROM rules WHERE tenant = $1 AND id = $2', 2],
    ['INSERT INTO t (a, b, c) VALUES (?, ?, ?)', 'INSERT INTO t (a, b, c) VALUES ($1, $2, $3)', 3],
    ["SELECT '?' || ? FROM t WHERE x = 'it''s ?' AND y = ?", "SELECT '?' || $1 FROM t WHERE x = 'it''s ?' AND y = $2", 2],
    ['SELECT "odd?col" FROM t WHERE a = ?', 'SELECT "odd?col" FROM t WHERE a = $1', 1],
    ['SELECT a -- why? because\nFROM t WHERE b = ?', 'SELECT a -- why? because\nFROM t WHERE b = $1', 1],
    ['SELECT /* a ? here */ a FROM t WHERE b = ?', 'SELECT /* a ? here */ a FROM t WHERE b = $1', 1],
    ['SELECT $$ ? $$, $q$ it is ? $q$, ? FROM t', 'SELECT $$ ? $$, $q$ it is ? $q$, $1 FROM t', 1],
    ['SELECT 1', 'SELECT 1', 0],
    ["SELECT 'unterminated ?", "SELECT 'unterminated ?", 0],
  ])('%s', (sql, text, count) => {
    expect(numberPlaceholders(sql)).toEqual({ text, count });
  });
});
