/**
 * What went wrong with a fetch(), in words that point at the cause. Node's fetch (undici) throws
 * `TypeError: fetch failed` and hides the reason in `cause` (an Error with `code` ECONNREFUSED,
 * ENOTFOUND, …, or an AggregateError when every address of a host refused); a timeout is a
 * DOMException named TimeoutError. "fetch failed" alone tells an operator nothing.
 *
 * Duck-typed, not `instanceof`: the errors may come from another realm (undici's own, or a vm).
 */
interface ErrorLike {
  name?: unknown;
  message?: unknown;
  code?: unknown;
  cause?: unknown;
  errors?: unknown;
}

function asErrorLike(e: unknown): ErrorLike | undefined {
  return typeof e === 'object' && e !== null ? (e as ErrorLike) : undefined;
}

export function describeFetchError(e: unknown): string {
  const seen = new Set<unknown>();
  let err = asErrorLike(e);
  // Walk to the innermost cause: that is where the system error lives.
  while (err !== undefined && err.cause !== undefined && !seen.has(err.cause)) {
    seen.add(err);
    const next = asErrorLike(err.cause);
    if (next === undefined) {
      break;
    }
    err = next;
  }
  if (err === undefined) {
    return String(e);
  }
  if (Array.isArray(err.errors) && err.errors.length > 0) {
    return [...new Set(err.errors.map((x: unknown) => describeFetchError(x)))].join('; ');
  }
  const message = typeof err.message === 'string' ? err.message : String(err);
  if (err.name === 'TimeoutError') {
    return 'timed out';
  }
  if (typeof err.code === 'string' && !message.includes(err.code)) {
    return message === '' ? err.code : `${err.code}: ${message}`;
  }
  return message;
}

/** A URL as it may appear in a message: no credentials, no query (a TraceQL query can be long). */
export function displayUrl(url: string): string {
  try {
    const u = new URL(url);
    return `${u.protocol}//${u.host}${u.pathname}`;
  } catch {
    return url;
  }
}
