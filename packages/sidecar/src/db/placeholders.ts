// SQLite's positional `?` placeholders → PostgreSQL's `$1, $2, …`, for the PostgreSQL engine (issue 12).
// Only `?` in SQL text counts: not inside '…' strings (with '' escapes), "…" identifiers,
// $tag$…$tag$ dollar quotes, -- line comments or /* … */ block comments.

/** The statement with each `?` numbered in order, and how many there were. */
export function numberPlaceholders(sql: string): { text: string; count: number } {
  let out = '';
  let n = 0;
  let i = 0;
  const copyUntil = (end: string, from: number): number => {
    const j = sql.indexOf(end, from);
    const stop = j === -1 ? sql.length : j + end.length;
    out += sql.slice(i, stop);
    return stop;
  };
  while (i < sql.length) {
    const c = sql[i];
    const next = sql[i + 1];
    if (c === "'" || c === '"') {
      // A doubled quote inside is an escaped one: it ends the run and the next run continues it.
      i = copyUntil(c, i + 1);
    } else if (c === '-' && next === '-') {
      i = copyUntil('\n', i + 2);
    } else if (c === '/' && next === '*') {
      i = copyUntil('*/', i + 2);
    } else if (c === '$') {
      const tag = /^\$([A-Za-z_][A-Za-z0-9_]*)?\$/.exec(sql.slice(i));
      if (tag !== null) {
        i = copyUntil(tag[0], i + tag[0].length);
      } else {
        out += c;
        i++;
      }
    } else if (c === '?') {
      n++;
      out += `$${n}`;
      i++;
    } else {
      out += c;
      i++;
    }
  }
  return { text: out, count: n };
}
