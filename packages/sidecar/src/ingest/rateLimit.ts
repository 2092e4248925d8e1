/**
 * Per-tenant token buckets counted in spans: a bucket holds up to `burst` spans and refills at
 * `spansPerSecond`. A batch takes all its spans or none, and a refused batch is told how long
 * until the bucket holds enough (the exporter's Retry-After).
 */
import type { RateLimit } from '../tenants';

interface Bucket {
  tokens: number;
  at: number;
}

export type Reservation = { ok: true; refund: () => void } | { ok: false; retryAfterSeconds: number; neverFits: boolean };

export class TokenBuckets {
  private readonly buckets = new Map<string, Bucket>();

  constructor(private readonly now: () => number) {}

  /** Takes `spans` tokens from the tenant's bucket; `refund` gives them back (the batch was refused later). */
  reserve(tenant: string, limit: RateLimit, spans: number): Reservation {
    const now = this.now();
    const bucket = this.buckets.get(tenant) ?? { tokens: limit.burst, at: now };
    bucket.tokens = Math.min(limit.burst, bucket.tokens + (Math.max(0, now - bucket.at) / 1000) * limit.spansPerSecond);
    bucket.at = now;
    this.buckets.set(tenant, bucket);
    if (spans > limit.burst) {
      return { ok: false, retryAfterSeconds: 0, neverFits: true };
    }
    if (spans > bucket.tokens) {
      const waitS = (spans - bucket.tokens) / limit.spansPerSecond;
      return { ok: false, retryAfterSeconds: Math.max(1, Math.ceil(waitS)), neverFits: false };
    }
    bucket.tokens -= spans;
    return {
      ok: true,
      refund: () => {
        bucket.tokens = Math.min(limit.burst, bucket.tokens + spans);
      },
    };
  }
}
