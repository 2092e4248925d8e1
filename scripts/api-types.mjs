#!/usr/bin/env node
/**
 * The plugin's API types, generated from the sidecar's OpenAPI document with openapi-typescript.
 *
 *   npm run api:types                       builds the packages, then writes src/api/generated/sidecar.ts
 *   node scripts/api-types.mjs --stdin      reads a document (JSON) on stdin, prints the types on stdout
 *
 * The document comes from the route definitions (`apiDocument` in packages/sidecar/src/api.ts:
 * the API app on a throwaway in-memory store, no port opened). tests/unit/apiTypes.test.ts
 * regenerates the types from the TypeScript source with --stdin and fails when the committed
 * file differs.
 */
import * as fs from 'node:fs';
import { createRequire } from 'node:module';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import openapiTS, { astToString } from 'openapi-typescript';

const root = path.join(path.dirname(fileURLToPath(import.meta.url)), '..');
export const OUTPUT = path.join(root, 'src/api/generated/sidecar.ts');

const HEADER = `/**
 * GENERATED from the sidecar's OpenAPI document (GET /api/v1/openapi.json) by \`npm run api:types\`:
 * do not edit. Change the route schemas in packages/sidecar/src (and src/openapi.ts), then run it.
 */

`;

/** The TypeScript of a document: openapi-typescript's output under our header. */
export async function typesOf(doc) {
  const ast = await openapiTS(doc, { silent: true });
  return HEADER + astToString(ast);
}

async function stdin() {
  const chunks = [];
  for await (const c of process.stdin) {
    chunks.push(c);
  }
  return Buffer.concat(chunks).toString('utf8');
}

async function main(args) {
  if (args.includes('--stdin')) {
    process.stdout.write(await typesOf(JSON.parse(await stdin())));
    return;
  }
  const require = createRequire(import.meta.url);
  const dist = path.join(root, 'packages/sidecar/dist');
  if (!fs.existsSync(path.join(dist, 'api.js'))) {
    throw new Error('packages/sidecar/dist/api.js is missing: run `npm run build:packages` first (npm run api:types does)');
  }
  const { apiDocument } = require(path.join(dist, 'api.js'));
  const { VERSION } = require(path.join(dist, 'sidecar.js'));
  const text = await typesOf(await apiDocument(VERSION));
  fs.mkdirSync(path.dirname(OUTPUT), { recursive: true });
  fs.writeFileSync(OUTPUT, text);
  console.log(`wrote ${path.relative(process.cwd(), OUTPUT)}`);
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  main(process.argv.slice(2)).catch((e) => {
    console.error(`api:types: ${e.message}`);
    process.exit(1);
  });
}
