/**
 * Small pure hashes for discovery: FNV-1a in two 32-bit lanes (no BigInt on the hot path).
 * fnv1a32 splits traces into training and hold-out; fnv1a64Hex names suggestions.
 */

/** FNV-1a, 32 bits, over the UTF-16 code units of `s` (split in two bytes each). */
export function fnv1a32(s: string, seed = 0x811c9dc5): number {
  let h = seed >>> 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    h = Math.imul(h ^ (c & 0xff), 0x01000193);
    h = Math.imul(h ^ (c >>> 8), 0x01000193);
  }
  return h >>> 0;
}

const PRIME_HI = 0x100;
const PRIME_LO = 0x1b3;

/**
 * FNV-1a, 64 bits (offset basis 0xcbf29ce484222325, prime 0x100000001b3), over the UTF-8 bytes
 * of `s`, as 16 lowercase hex characters. The 64-bit multiply is done in 16-bit limbs.
 */
export function fnv1a64Hex(s: string): string {
  // h = [h3 h2 h1 h0], 16 bits each, most significant first.
  let h0 = 0x2325;
  let h1 = 0x8422;
  let h2 = 0x9ce4;
  let h3 = 0xcbf2;
  const bytes = utf8(s);
  for (let i = 0; i < bytes.length; i++) {
    h0 ^= bytes[i];
    // (h * prime) mod 2^64, prime = 2^40 + 0x1b3: h * 0x1b3 + (h << 40).
    const t0 = h0 * PRIME_LO;
    const t1 = h1 * PRIME_LO + (t0 >>> 16);
    const t2 = h2 * PRIME_LO + (t1 >>> 16);
    const t3 = h3 * PRIME_LO + (t2 >>> 16);
    // h << 40 adds h0 << 8 to limb 2 (bits 40..55 start at limb 2, bit 8) and h1 << 8 to limb 3.
    const s2 = (t2 & 0xffff) + ((h0 * PRIME_HI) & 0xffff);
    const s3 = (t3 & 0xffff) + (((h0 * PRIME_HI) >>> 16) & 0xffff) + ((h1 * PRIME_HI) & 0xffff) + (s2 >>> 16);
    h0 = t0 & 0xffff;
    h1 = t1 & 0xffff;
    h2 = s2 & 0xffff;
    h3 = s3 & 0xffff;
  }
  return [h3, h2, h1, h0].map((x) => x.toString(16).padStart(4, '0')).join('');
}

function utf8(s: string): Uint8Array {
  const out: number[] = [];
  for (const ch of s) {
    const c = ch.codePointAt(0)!;
    if (c < 0x80) {
      out.push(c);
    } else if (c < 0x800) {
      out.push(0xc0 | (c >> 6), 0x80 | (c & 0x3f));
    } else if (c < 0x10000) {
      out.push(0xe0 | (c >> 12), 0x80 | ((c >> 6) & 0x3f), 0x80 | (c & 0x3f));
    } else {
      out.push(0xf0 | (c >> 18), 0x80 | ((c >> 12) & 0x3f), 0x80 | ((c >> 6) & 0x3f), 0x80 | (c & 0x3f));
    }
  }
  return Uint8Array.from(out);
}
