/**
 * The @grafana/plugin-e2e specs run only against the Docker stack (`npm run e2e`), so here
 * Playwright at least loads and lists them: a spec that cannot load (a fixture misused, an import
 * gone) fails this test instead of rotting unnoticed.
 */
import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';

const root = path.join(__dirname, '../..');

it('Playwright loads every e2e spec and lists its tests', () => {
  // Playwright refuses to start inside a Jest worker (it looks for JEST_WORKER_ID): run it as a user would.
  const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('JEST')));
  const r = spawnSync('npx', ['playwright', 'test', '--list'], { cwd: root, env, encoding: 'utf8', timeout: 120_000 });
  expect([r.status, r.stderr + r.stdout.slice(0, 2000)]).toEqual([0, expect.any(String)]);
  const specs = fs.readdirSync(path.join(root, 'tests/e2e')).filter((f) => f.endsWith('.spec.ts'));
  expect(specs.length).toBeGreaterThan(3);
  for (const spec of specs) {
    const tests = r.stdout.split('\n').filter((l) => l.includes(`› ${spec}:`));
    expect([spec, tests.length > 0]).toEqual([spec, true]);
  }
  expect(r.stdout).toMatch(/Total: \d+ tests in \d+ files/);
});
