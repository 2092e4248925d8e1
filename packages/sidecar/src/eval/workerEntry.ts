/**
 * Where an evaluation worker's code is. Built, it is worker.js beside this file. Run from the
 * TypeScript sources (jest, ts-node), the worker thread does not inherit the parent's transpiling
 * loader, so it is booted with a small require hook that compiles .ts with @swc/core (a dev
 * dependency) and resolves @betrace/evaluator to its sources, as the test runner does: tests then
 * exercise real worker threads running the current code, never a stale build.
 */
import * as fs from 'fs';
import * as path from 'path';

export interface WorkerEntry {
  /** A file to run, or (with `eval`) the code itself. */
  filename: string;
  eval: boolean;
}

export function defaultWorkerEntry(): WorkerEntry {
  const built = path.join(__dirname, 'worker.js');
  if (fs.existsSync(built)) {
    return { filename: built, eval: false };
  }
  const source = path.join(__dirname, 'worker.ts');
  if (!fs.existsSync(source)) {
    throw new Error(`no evaluation worker at ${built}: build the sidecar (npm run build:packages)`);
  }
  return { filename: sourceBootstrap(source), eval: true };
}

function sourceBootstrap(workerFile: string): string {
  const evaluator = path.join(path.dirname(require.resolve('@betrace/evaluator/package.json')), 'src/index.ts');
  return `
const fs = require('fs');
const Module = require('module');
const swc = require(${JSON.stringify(require.resolve('@swc/core'))});
const resolve = Module._resolveFilename;
Module._resolveFilename = function (request, ...rest) {
  return resolve.call(this, request === '@betrace/evaluator' ? ${JSON.stringify(evaluator)} : request, ...rest);
};
require.extensions['.ts'] = (module, filename) => {
  const { code } = swc.transformSync(fs.readFileSync(filename, 'utf8'), {
    filename,
    module: { type: 'commonjs' },
    jsc: { parser: { syntax: 'typescript' }, target: 'es2022' },
  });
  module._compile(code, filename);
};
require(${JSON.stringify(workerFile)});
`;
}
