/**
 * The stores' SQL is written once, in the dialect both engines share; where SQLite's spelling
 * differs from PostgreSQL's, this turns the SQLite form into the PostgreSQL one, once per
 * statement text (the result is cached with the prepared statement):
 *
 *   ?, @name                      →  $1, $2 … (a named parameter keeps one number however often it appears)
 *   INSERT OR IGNORE INTO …       →  INSERT INTO … ON CONFLICT DO NOTHING
 *   instr(a, b)                   →  strpos(a, b)
 *   max(a, b) / min(a, b)         →  GREATEST(a, b) / LEAST(a, b)   (two arguments: SQLite's scalar forms)
 *   LIMIT -1                      →  LIMIT ALL
 *   NOT INDEXED                   →  (dropped: a SQLite planner hint)
 *   IN (SELECT value FROM json_each(?))  →  IN (SELECT value::bigint FROM jsonb_array_elements_text(?::jsonb))
 *   AS checkedTraces              →  AS "checkedTraces"  (PostgreSQL folds unquoted names to lower case; SQLite keeps them)
 *
 * Text inside '…' strings, "…" identifiers, dollar quotes and comments is never touched. Anything
 * SQLite-only that is not listed here is refused with the statement named, so a new store query
 * cannot silently differ.
 */

export interface PgStatementText {
  text: string;
  /** The named parameters in $-number order, or undefined when the statement uses `?`. */
  names: string[] | undefined;
  /** How many `?` the statement has (0 for named statements). */
  positional: number;
}

const REFUSED: Array<[RegExp, string]> = [
  [/\bINSERT\s+OR\s+(REPLACE|ABORT|FAIL|ROLLBACK)\b/i, 'INSERT OR REPLACE/ABORT/FAIL/ROLLBACK'],
  [/\bjson_each\s*\(/i, 'json_each'],
  [/\bpragma\b/i, 'PRAGMA'],
  [/\bsqlite_master\b/i, 'sqlite_master'],
  [/\bzeroblob\s*\(/i, 'zeroblob'],
  [/\bdatetime\s*\(|\bstrftime\s*\(|\bjulianday\s*\(/i, 'SQLite date functions'],
];

/** A dollar quote's opening tag: `$$` or `$name$`. */
const DOLLAR_QUOTE = /^\$(?:[A-Za-z_][A-Za-z0-9_]*)?\$/;

/**
 * Applies `fn` to the parts of `sql` that are SQL code, and copies the rest as it is: '…' strings
 * (with '' escapes), "…" identifiers, $tag$…$tag$ dollar quotes, -- line comments and block
 * comments. An unterminated one runs to the end.
 */
function outsideLiterals(sql: string, fn: (code: string) => string): string {
  let out = '';
  let code = 0; // where the current run of code started
  let i = 0;
  const literal = (end: string, from: number): void => {
    out += fn(sql.slice(code, i));
    const j = sql.indexOf(end, from);
    const stop = j === -1 ? sql.length : j + end.length;
    out += sql.slice(i, stop);
    i = code = stop;
  };
  while (i < sql.length) {
    const c = sql[i];
    const next = sql[i + 1];
    const tag = c === '$' ? DOLLAR_QUOTE.exec(sql.slice(i)) : null;
    if (c === "'" || c === '"') {
      // A doubled quote inside is an escaped one: it ends this run and the next run continues it.
      literal(c, i + 1);
    } else if (c === '-' && next === '-') {
      literal('\n', i + 2);
    } else if (c === '/' && next === '*') {
      literal('*/', i + 2);
    } else if (tag !== null) {
      literal(tag[0], i + tag[0].length);
    } else {
      i++;
    }
  }
  return out + fn(sql.slice(code));
}

/** `max(a, b)` with exactly two top-level arguments → GREATEST(a, b) (aggregates take one). */
function scalarMinMax(code: string): string {
  return code.replace(/\b(max|min)\s*\(/gi, (m, fn: string, offset: number) => {
    let depth = 0;
    let commas = 0;
    for (let k = offset + m.length; k < code.length; k++) {
      const c = code[k];
      if (c === '(') {
        depth++;
      } else if (c === ')') {
        if (depth === 0) {
          break;
        }
        depth--;
      } else if (c === ',' && depth === 0) {
        commas++;
      }
    }
    return commas === 1 ? `${fn.toLowerCase() === 'max' ? 'GREATEST' : 'LEAST'}(` : m;
  });
}

export function toPostgres(sql: string): PgStatementText {
  let s = sql.replace(/\bIN\s*\(\s*SELECT\s+value\s+FROM\s+json_each\s*\(\s*\?\s*\)\s*\)/gi, 'IN (SELECT value::bigint FROM jsonb_array_elements_text(?::jsonb))');
  outsideLiterals(s, (code) => {
    for (const [re, what] of REFUSED) {
      if (re.test(code)) {
        throw new Error(`this statement uses ${what}, which PostgreSQL does not have; write it in the shared dialect: ${sql.trim().slice(0, 200)}`);
      }
    }
    return code;
  });
  let ignore = false;
  s = outsideLiterals(s, (code) => {
    let c = code.replace(/\bINSERT\s+OR\s+IGNORE\s+INTO\b/gi, () => {
      ignore = true;
      return 'INSERT INTO';
    });
    c = c.replace(/\binstr\s*\(/gi, 'strpos(');
    c = c.replace(/\bLIMIT\s+-1\b/gi, 'LIMIT ALL');
    c = c.replace(/\s+NOT\s+INDEXED\b/gi, '');
    c = c.replace(/\bAS\s+([a-z_]\w*[A-Z]\w*)/g, 'AS "$1"');
    return scalarMinMax(c);
  });
  if (ignore) {
    const returning = /\bRETURNING\b/i.exec(s);
    s = returning === null ? `${s.trimEnd()} ON CONFLICT DO NOTHING` : `${s.slice(0, returning.index)}ON CONFLICT DO NOTHING ${s.slice(returning.index)}`;
  }
  const names: string[] = [];
  const numbers = new Map<string, number>();
  let positional = 0;
  s = outsideLiterals(s, (code) =>
    code.replace(/\?|(?<![@\w])@([A-Za-z_]\w*)/g, (m, name: string | undefined) => {
      if (name === undefined) {
        positional++;
        return `$${positional}`;
      }
      let n = numbers.get(name);
      if (n === undefined) {
        names.push(name);
        n = names.length;
        numbers.set(name, n);
      }
      return `$${n}`;
    }),
  );
  if (positional > 0 && names.length > 0) {
    throw new Error(`a statement mixes ? and named parameters: ${sql.trim().slice(0, 200)}`);
  }
  return { text: s, names: names.length > 0 ? names : undefined, positional };
}

/** The values for $1…$n, from better-sqlite3-style arguments (positional values, arrays of them, or one object of named values). */
export function bindValues(st: PgStatementText, args: unknown[]): unknown[] {
  if (st.names !== undefined) {
    const obj = args[0];
    if (args.length !== 1 || obj === null || typeof obj !== 'object' || Array.isArray(obj) || ArrayBuffer.isView(obj)) {
      throw new TypeError(`this statement takes named parameters (${st.names.map((n) => `@${n}`).join(', ')}): pass one object`);
    }
    return st.names.map((n) => {
      if (!(n in obj)) {
        throw new RangeError(`missing named parameter "${n}"`);
      }
      return normalize((obj as Record<string, unknown>)[n]);
    });
  }
  const flat = args.flatMap((a) => (Array.isArray(a) ? a : [a]));
  if (flat.length !== st.positional) {
    throw new RangeError(`the statement takes ${st.positional} parameters, got ${flat.length}`);
  }
  return flat.map(normalize);
}

/** SQLite's value model on PostgreSQL: undefined is refused as better-sqlite3 refuses it; booleans are 0/1. */
function normalize(v: unknown): unknown {
  if (v === undefined) {
    throw new TypeError('a parameter is undefined (use null for SQL NULL)');
  }
  if (typeof v === 'boolean') {
    return v ? 1 : 0;
  }
  if (typeof v === 'bigint') {
    return v.toString();
  }
  return v;
}
