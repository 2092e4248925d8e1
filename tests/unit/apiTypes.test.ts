/**
 * The plugin's API types (src/api/generated/sidecar.ts) are generated from the sidecar's OpenAPI
 * document: regenerated here from the TypeScript source of the routes, in memory, and compared
 * with the committed file, so a route change without `npm run api:types` fails.
 */
import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';
import { apiDocument } from '../../packages/sidecar/src/api';
import { VERSION } from '../../packages/sidecar/src/sidecar';

const root = path.join(__dirname, '../..');
const committed = path.join(root, 'src/api/generated/sidecar.ts');

/** The types openapi-typescript makes of a document (scripts/api-types.mjs --stdin, in plain Node: it is ESM). */
function typesOf(doc: unknown): string {
  const run = spawnSync(process.execPath, [path.join(root, 'scripts/api-types.mjs'), '--stdin'], { input: JSON.stringify(doc), encoding: 'utf8', timeout: 60_000 });
  if (run.status !== 0) {
    throw new Error(`scripts/api-types.mjs --stdin failed (${run.status}): ${run.stderr}`);
  }
  return run.stdout;
}

describe('the generated API types', () => {
  it('are those of the current OpenAPI document: run `npm run api:types` when this fails', async () => {
    const generated = typesOf(await apiDocument(VERSION));
    expect(generated).toContain('"/api/v1/rules/{id}": {');
    if (generated !== fs.readFileSync(committed, 'utf8')) {
      throw new Error('src/api/generated/sidecar.ts is stale (the sidecar\'s routes or their schemas changed): run `npm run api:types` and commit the file');
    }
  });

  it('notice a change of a schema', async () => {
    const doc = (await apiDocument(VERSION)) as { components: { schemas: Record<string, { properties: Record<string, unknown> }> } };
    doc.components.schemas.Rule.properties.owner = { type: 'string' };
    const changed = typesOf(doc);
    expect(changed).not.toBe(fs.readFileSync(committed, 'utf8'));
    expect(changed).toMatch(/owner\?: string;/);
  });
});
