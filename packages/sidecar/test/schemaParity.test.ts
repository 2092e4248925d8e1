/**
 * The two engines' schemas say the same thing: every table of the SQLite migrations exists in the
 * PostgreSQL schema with the same columns (PostgreSQL's explicit `rowid` columns stand for
 * SQLite's implicit one; ingest_decided has PostgreSQL's per-log key), so a migration added to one
 * engine and not the other fails here, not in production.
 */
import { describePostgres, freshDatabase, FreshDatabase } from '../../../tests/support/postgres';
import { sqliteOf } from '../src/db/sql';
import { Store } from '../src/store';

/** Columns that exist on PostgreSQL only, and why. */
const POSTGRES_ONLY: Record<string, string[]> = {
  // SQLite's rowid, made explicit where the stores order by it.
  signal_changes: ['rowid'],
  evidence: ['rowid'],
  evidence_keys: ['rowid'],
  evidence_window_traces: ['rowid'],
  discovery_jobs: ['rowid'],
  // Each replica's ingest log numbers its own positions.
  ingest_decided: ['log_id'],
};

describePostgres('the PostgreSQL schema', () => {
  let db: FreshDatabase;
  beforeAll(async () => {
    db = await freshDatabase();
  });
  afterAll(() => db.drop());

  it('has every table and column of the SQLite schema, and nothing else', () => {
    const sqlite = new Store(':memory:');
    const lite = sqliteOf(sqlite.db)!;
    const expected: Record<string, string[]> = {};
    for (const { name } of lite.prepare("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' AND name <> 'schema_version'").all() as Array<{ name: string }>) {
      expected[name] = (lite.pragma(`table_info(${name})`) as Array<{ name: string }>).map((c) => c.name).concat(POSTGRES_ONLY[name] ?? []).sort();
    }
    sqlite.close();
    const pg = new Store(db.url);
    const rows = pg.db
      .prepare("SELECT table_name, column_name FROM information_schema.columns WHERE table_schema = current_schema() AND table_name <> 'betrace_schema_version' ORDER BY table_name, column_name")
      .all() as Array<{ table_name: string; column_name: string }>;
    pg.close();
    const actual: Record<string, string[]> = {};
    for (const r of rows) {
      (actual[r.table_name] ??= []).push(r.column_name);
    }
    for (const t of Object.keys(actual)) {
      actual[t].sort();
    }
    expect(Object.keys(expected).length).toBeGreaterThan(20);
    expect(actual).toEqual(expected);
  });
});
