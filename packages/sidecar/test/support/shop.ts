import { execFile } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';
import { promisify } from 'util';

const sender = path.join(__dirname, '../../dist/demo/send.js');

/** Runs the demo shop's sender (the real OpenTelemetry SDK) in a second process. */
export async function sendShopTraffic(url: string, clean: number, violations: string[]): Promise<Record<string, string | null>> {
  if (!fs.existsSync(sender)) {
    throw new Error(`${sender} is missing: run \`npm run build:packages\` first (npm test does)`);
  }
  const { stdout } = await promisify(execFile)(process.execPath, [sender, url, String(clean), ...violations]);
  return JSON.parse(stdout) as Record<string, string | null>;
}
