import * as path from 'path';
import { loadTenantsFile, sha256Hex, TenantsFileError } from '../tenants';
import type { Command } from './io';
import { EXIT_BAD_INPUT, EXIT_FINDINGS, EXIT_OK } from './io';

export const tenantsUsage = 'betrace tenants hash-token [TOKEN]   (reads the token from stdin when not given)\n           betrace tenants check FILE';

async function readStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) {
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks).toString('utf8');
}

/**
 * `hash-token`: the `sha256:` value a tenants file stores for an API token or ingest key (the
 * file never holds the token itself). `check`: validates a tenants file, every problem listed.
 */
export const tenants: Command = async (args, io) => {
  const [sub, ...given] = args;
  // `--` ends the options: `hash-token -- --odd-token` hashes "--odd-token".
  const rest = given[0] === '--' ? given.slice(1) : given;
  if (sub === 'hash-token' && rest.length <= 1) {
    // Prefer stdin: a token on the command line lands in shell history and `ps`.
    const token = rest.length === 1 ? rest[0] : (await readStdin()).replace(/\r?\n$/, '');
    if (token === '') {
      io.stderr('betrace tenants hash-token: the token is empty\n');
      return EXIT_BAD_INPUT;
    }
    io.stdout(`${sha256Hex(token)}\n`);
    return EXIT_OK;
  }
  if (sub === 'check' && rest.length === 1) {
    try {
      const list = loadTenantsFile(path.resolve(io.cwd, rest[0]), io.env);
      io.stdout(`${rest[0]}: ${list.length} tenant${list.length === 1 ? '' : 's'} (${list.map((t) => t.id).join(', ')})\n`);
      return EXIT_OK;
    } catch (e) {
      if (e instanceof TenantsFileError) {
        io.stderr(`${e.message}\n`);
        return EXIT_FINDINGS;
      }
      throw e;
    }
  }
  io.stderr(`usage: ${tenantsUsage}\n`);
  return EXIT_BAD_INPUT;
};
