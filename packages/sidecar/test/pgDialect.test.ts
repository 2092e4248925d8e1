import { bindValues, toPostgres } from '../src/db/pgDialect';

describe('toPostgres: the stores’ SQL for PostgreSQL', () => {
  // ? → $n, only in SQL code (the cases db/placeholders.ts had, before its scanner became the dialect's).
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
  ])('numbers the ? of %s', (sql, text, count) => {
    expect(toPostgres(sql)).toEqual({ text, names: undefined, positional: count });
  });

  it('numbers a named parameter once however often it appears, and binds one object', () => {
    const st = toPostgres('SELECT * FROM t WHERE a = @a AND (b = @b OR a = @a) AND c = \'@a\'');
    expect(st).toEqual({ text: "SELECT * FROM t WHERE a = $1 AND (b = $2 OR a = $1) AND c = '@a'", names: ['a', 'b'], positional: 0 });
    expect(bindValues(st, [{ a: 1, b: true }])).toEqual([1, 1]);
    expect(() => bindValues(st, [{ a: 1 }])).toThrow('missing named parameter "b"');
  });

  it('rewrites SQLite’s own spellings', () => {
    expect(toPostgres('INSERT OR IGNORE INTO t (a) VALUES (?)').text).toBe('INSERT INTO t (a) VALUES ($1) ON CONFLICT DO NOTHING');
    expect(toPostgres('INSERT OR IGNORE INTO t (a) VALUES (?) RETURNING a').text).toBe('INSERT INTO t (a) VALUES ($1) ON CONFLICT DO NOTHING RETURNING a');
    expect(toPostgres('SELECT max(a, b), max(c), instr(x, ?) FROM t LIMIT -1').text).toBe('SELECT GREATEST(a, b), max(c), strpos(x, $1) FROM t LIMIT ALL');
    expect(toPostgres('SELECT sum(n) AS checkedTraces FROM t NOT INDEXED').text).toBe('SELECT sum(n) AS "checkedTraces" FROM t');
  });

  it('refuses what PostgreSQL does not have, outside strings and comments only', () => {
    expect(() => toPostgres('PRAGMA journal_mode = WAL')).toThrow(/uses PRAGMA/);
    expect(() => toPostgres('INSERT OR REPLACE INTO t VALUES (1)')).toThrow(/INSERT OR REPLACE/);
    expect(toPostgres("SELECT 'pragma' -- no pragma here\n").text).toBe("SELECT 'pragma' -- no pragma here\n");
  });
});
