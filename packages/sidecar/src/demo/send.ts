#!/usr/bin/env node
/**
 * Sends a batch of shop checkouts through the OpenTelemetry SDK and prints, as one JSON object,
 * which seeded violation each trace id carries (null for a clean checkout).
 * `node send.js <otlp traces url> <clean checkouts> [violation...] [--seed N]`
 */
import { Shop, Violation, VIOLATIONS } from './shop';

function seeded(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    // Draws stay above 0.11, so the shop's chance failures and retries never happen: only seeded violations fire.
    return 0.11 + (((t ^ (t >>> 14)) >>> 0) / 4294967296) * 0.89;
  };
}

async function main(argv: string[]): Promise<void> {
  const seedAt = argv.indexOf('--seed');
  const seed = seedAt >= 0 ? Number(argv[seedAt + 1]) : 7;
  const args = seedAt >= 0 ? argv.filter((_a, i) => i !== seedAt && i !== seedAt + 1) : argv;
  const [url, cleanText, ...violations] = args;
  for (const v of violations) {
    if (!(VIOLATIONS as readonly string[]).includes(v)) {
      throw new Error(`unknown violation ${v}; known: ${VIOLATIONS.join(', ')}`);
    }
  }
  const shop = new Shop({ url, random: seeded(seed) });
  const sent: Record<string, Violation | null> = {};
  for (let i = 0; i < Number(cleanText); i++) {
    sent[shop.checkout()] = null;
  }
  for (const v of violations as Violation[]) {
    sent[shop.checkout(v)] = v;
  }
  await shop.shutdown();
  process.stdout.write(`${JSON.stringify(sent)}\n`);
}

main(process.argv.slice(2)).catch((e: unknown) => {
  process.stderr.write(`${e instanceof Error ? e.message : String(e)}\n`);
  process.exitCode = 1;
});
