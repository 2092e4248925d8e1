/**
 * Attribute keys: which names are sensitive whatever their value, and which a signal may copy.
 *
 * Built-in names match whole words of the key (split at `.`, `_`, `-`, `/`, spaces and camelCase),
 * so `db.password`, `http.request.header.authorization`, `accessToken` and `x-api-key` are
 * sensitive while `gen_ai.usage.input_tokens` and `cache.key` are not. Policy patterns are globs
 * over the whole key, `*` standing for any run of characters, case-insensitive.
 */

/** Sensitive words, each a sequence of key words (`api key` matches `api_key`, `apiKey`, `x-api-key`). */
export const SENSITIVE_KEY_WORDS: readonly string[] = [
  'password',
  'passwd',
  'pwd',
  'passphrase',
  'secret',
  'token',
  'authorization',
  'cookie',
  'ssn',
  'email',
  'e mail',
  'api key',
  'apikey',
  'private key',
  'access key',
  'credential',
  'credentials',
  'card number',
  'cvv',
  'cvc',
];

/** Word runs that make a key about a secret rather than the secret itself (LLM token counts, OAuth token types). */
export const NOT_SENSITIVE_KEY_WORDS: readonly string[] = ['token count', 'token type', 'token limit', 'token usage', 'max token'];

/** The words of an attribute key, lowercase: `http.request.header.X-Api-Key` → http request header x api key. */
export function keyWords(key: string): string[] {
  return key
    .replace(/([a-z0-9])([A-Z])/g, '$1 $2')
    .toLowerCase()
    .split(/[^a-z0-9]+/)
    .filter((w) => w !== '');
}

function containsRun(words: readonly string[], run: readonly string[]): boolean {
  outer: for (let i = 0; i + run.length <= words.length; i++) {
    for (let j = 0; j < run.length; j++) {
      if (words[i + j] !== run[j]) {
        continue outer;
      }
    }
    return true;
  }
  return false;
}

/** A compiled glob: `*` is any run of characters (dots included), everything else literal, case-insensitive. */
export function globToRegExp(glob: string): RegExp {
  const body = glob
    .split('*')
    .map((part) => part.replace(/[.+?^${}()|[\]\\]/g, '\\$&'))
    .join('.*');
  return new RegExp(`^${body}$`, 'i');
}

const KEY_CACHE_SIZE = 10_000;
const NOT_SENSITIVE = NOT_SENSITIVE_KEY_WORDS.map((w) => w.split(' '));

export class KeyMatcher {
  private readonly runs: string[][];
  private readonly globs: RegExp[];
  private readonly cache = new Map<string, boolean>();

  /** `words`: the built-in sensitive words (pass [] to rely on `globs` alone). */
  constructor(globs: readonly string[], words: readonly string[] = SENSITIVE_KEY_WORDS) {
    this.runs = words.map((w) => w.split(' '));
    this.globs = globs.filter((g) => typeof g === 'string' && g !== '').map(globToRegExp);
  }

  /** Whether `key` (or its dotted path within a kvlist, `path`) matches a pattern. */
  globMatch(key: string, path = key): boolean {
    return this.globs.some((g) => g.test(key) || (path !== key && g.test(path)));
  }

  /** Whether an attribute called `key` (at `path` inside nested kvlists) is sensitive whatever its value. */
  sensitive(key: string, path = key): boolean {
    const id = path === key ? key : `${key}\u0000${path}`;
    let hit = this.cache.get(id);
    if (hit === undefined) {
      const words = keyWords(key);
      hit = this.globMatch(key, path) || (this.runs.some((run) => containsRun(words, run)) && !NOT_SENSITIVE.some((run) => containsRun(words, run)));
      // Attribute keys are few and repeat on every span; the cap only guards against key floods.
      if (this.cache.size >= KEY_CACHE_SIZE) {
        this.cache.clear();
      }
      this.cache.set(id, hit);
    }
    return hit;
  }
}
