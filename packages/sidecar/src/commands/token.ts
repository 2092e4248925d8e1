import * as fs from 'fs';
import * as path from 'path';
import { ConfigError, loadConfig } from '../config';
import { API_TOKEN_HASH_SETTING, generateApiToken } from '../sidecar';
import { openStore } from '../store';
import { describeDatabaseUrl } from '../db/postgresCheck';
import { sha256Hex } from '../tenants';
import type { Command } from './io';
import { EXIT_BAD_INPUT, EXIT_OK } from './io';

export const tokenUsage = 'betrace token rotate   (DATA_DIR: a new API token for the default tenant, printed once; the old one stops working at the next start)';

/**
 * Rotates the generated API token of a sidecar without TENANTS_FILE: a new random token, its
 * SHA-256 stored in DATA_DIR's store (never the token), the token printed once on stdout.
 */
export const token: Command = async (args, io) => {
  if (args.length !== 1 || args[0] !== 'rotate') {
    io.stderr(`usage: ${tokenUsage}\n`);
    return EXIT_BAD_INPUT;
  }
  let config;
  try {
    config = loadConfig(io.env);
  } catch (e) {
    if (e instanceof ConfigError) {
      io.stderr(`betrace token: configuration error: ${e.message}\n`);
      return EXIT_BAD_INPUT;
    }
    throw e;
  }
  if (config.tenantsFile !== undefined) {
    io.stderr('betrace token: TENANTS_FILE is set: its tokens are hashes in that file; hash a new one with `betrace tenants hash-token` and edit the file\n');
    return EXIT_BAD_INPUT;
  }
  if (config.apiToken !== undefined) {
    io.stderr('betrace token: BETRACE_API_TOKEN is set: the token is whatever that variable says; change it there\n');
    return EXIT_BAD_INPUT;
  }
  if (config.dataDir === ':memory:' && config.databaseUrl === undefined) {
    io.stderr('betrace token: DATA_DIR=:memory: keeps nothing; every start generates a new token\n');
    return EXIT_BAD_INPUT;
  }
  const dataDir = path.resolve(io.cwd, config.dataDir);
  if (config.databaseUrl === undefined && !fs.existsSync(dataDir)) {
    io.stderr(`betrace token: DATA_DIR: ${dataDir} does not exist (start the sidecar once first)\n`);
    return EXIT_BAD_INPUT;
  }
  const store = openStore(config, { cwd: io.cwd });
  const where = config.databaseUrl === undefined ? dataDir : `the database at ${describeDatabaseUrl(config.databaseUrl)}`;
  try {
    const fresh = generateApiToken();
    store.db.transaction(() => {
      store.setSetting(API_TOKEN_HASH_SETTING, sha256Hex(fresh));
      store.deleteSetting('api_token');
    })();
    io.stdout(`${fresh}\n`);
    io.stderr(`betrace token: a new API token for ${where} (its SHA-256 is stored, the token is not: keep it now); a running sidecar takes it at its next start\n`);
  } finally {
    store.close();
  }
  return EXIT_OK;
};
