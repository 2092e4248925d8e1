// The PostgreSQL test harness itself: a real server, one database per test file, dropped after.
import { Client } from 'pg';
import { describePostgres, freshDatabase, FreshDatabase, testDatabaseUrl } from '../../../tests/support/postgres';

describePostgres('PostgreSQL test harness', () => {
  let db: FreshDatabase;
  beforeAll(async () => {
    db = await freshDatabase();
  });
  afterAll(async () => {
    await db?.drop();
  });

  it('listens on loopback only and gives each file its own empty database', async () => {
    expect(new URL(db.url).hostname).toBe('127.0.0.1');
    const c = new Client({ connectionString: db.url });
    await c.connect();
    try {
      const r = await c.query<{ db: string; n: string }>(
        "SELECT current_database() AS db, count(*) AS n FROM information_schema.tables WHERE table_schema = 'public'",
      );
      expect(r.rows[0]).toEqual({ db: db.name, n: '0' });
      await c.query('CREATE TABLE t (id bigint PRIMARY KEY)');
      await c.query('INSERT INTO t VALUES (1)');
    } finally {
      await c.end();
    }
  });

  it('drop() removes the database', async () => {
    const other = await freshDatabase();
    await other.drop();
    const c = new Client({ connectionString: testDatabaseUrl });
    await c.connect();
    try {
      const r = await c.query('SELECT 1 FROM pg_database WHERE datname = $1', [other.name]);
      expect(r.rowCount).toBe(0);
    } finally {
      await c.end();
    }
  });

  it('refuses a wrong password (TCP connections need the password)', async () => {
    const u = new URL(db.url);
    u.password = 'wrong';
    const c = new Client({ connectionString: u.toString() });
    await expect(c.connect()).rejects.toThrow(/password authentication failed/);
  });
});
