/**
 * PII and secret detectors: each finds the sensitive part of a text and knows how to mask it.
 *
 * A regular expression proposes candidates and a check confirms them (Luhn and issuer ranges for
 * cards, area/group/serial rules for SSNs, NANP rules for US phones, `net.isIP` for addresses),
 * so that ids, timestamps, versions, dates and routes that merely look similar stay as they are.
 * Regexes are written without nested quantifiers over the same characters: linear on any input.
 */
import { isIPv4, isIPv6 } from 'net';

export const DETECTOR_NAMES = ['email', 'card', 'ssn', 'phone', 'jwt', 'bearer', 'apikey', 'ip'] as const;
export type DetectorName = (typeof DETECTOR_NAMES)[number];

/** The sensitive part of a text: `text.slice(start, end)`. */
export interface Finding {
  start: number;
  end: number;
  detector: DetectorName;
  /** What `mask` turns the found text into (shape kept, content hidden). */
  masked: string;
  /** The form that is hashed, so that spellings of one value hash alike (digits only, lowercase). */
  canonical: string;
}

export interface Detector {
  name: DetectorName;
  /** Appends the findings in `text`; `digits` is how many ASCII digits it has (a cheap pre-check for the numeric detectors). */
  scan(text: string, out: Finding[], digits: number): void;
}

/** ASCII digits in `s`: numeric detectors skip texts with too few. */
export function countDigits(s: string): number {
  let n = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c >= 48 && c <= 57) {
      n++;
    }
  }
  return n;
}

/** Hides every digit but the last four; separators and `+` stay. */
export function maskDigits(s: string): string {
  let digits = 0;
  for (let i = 0; i < s.length; i++) {
    if (s.charCodeAt(i) >= 48 && s.charCodeAt(i) <= 57) {
      digits++;
    }
  }
  let seen = 0;
  let out = '';
  for (const ch of s) {
    if (ch >= '0' && ch <= '9') {
      seen++;
      out += seen > digits - 4 ? ch : '*';
    } else {
      out += ch;
    }
  }
  return out;
}

const digitsOf = (s: string) => s.replace(/\D/g, '');

/** Secrets keep at most a prefix that names their kind; the rest is four stars, whatever its length. */
const SECRET_MASK = '****';

function push(out: Finding[], detector: DetectorName, start: number, text: string, masked: string, canonical = text): void {
  out.push({ start, end: start + text.length, detector, masked, canonical });
}

// ---------------------------------------------------------------- e-mail

// Letters and digits of any script (`maría@correo.example.es`), so a name is never half kept.
const EMAIL = /(?<![\p{L}\p{N}._%+-])[\p{L}\p{N}][\p{L}\p{N}._%+-]{0,63}@(?:[\p{L}\p{N}](?:[\p{L}\p{N}-]{0,61}[\p{L}\p{N}])?\.)+\p{L}{2,24}(?![\p{L}\p{N}-])/gu;

const email: Detector = {
  name: 'email',
  scan(text, out) {
    if (!text.includes('@')) {
      return;
    }
    for (const m of text.matchAll(EMAIL)) {
      const at = m[0].indexOf('@');
      push(out, 'email', m.index, m[0], `***${m[0].slice(at)}`, m[0].toLowerCase());
    }
  },
};

// ---------------------------------------------------------------- payment cards

// Unbroken 13–19 digits, or the printed groupings (4-4-4-4[-1..3], Amex 4-6-5, Diners 4-6-4) with one separator throughout.
const CARD = /(?<![0-9A-Za-z])(?<!\d[.,])(?:\d{13,19}|\d{4}([ -])\d{4}\1\d{4}\1\d{4}(?:\1\d{1,3})?|\d{4}([ -])\d{6}\2\d{4,5})(?![0-9A-Za-z])(?![.,]\d)/g;

export function luhn(digits: string): boolean {
  let sum = 0;
  for (let i = 0; i < digits.length; i++) {
    let d = digits.charCodeAt(digits.length - 1 - i) - 48;
    if (i % 2 === 1) {
      d *= 2;
      if (d > 9) {
        d -= 9;
      }
    }
    sum += d;
  }
  return sum % 10 === 0;
}

/** Issuer ranges of the major networks (Visa, Mastercard incl. 2-series, Amex, Diners, Discover, JCB, UnionPay, Maestro). */
function issuerOk(d: string): boolean {
  const first = d[0];
  if (first === '3' || first === '4' || first === '5' || first === '6') {
    return true;
  }
  if (first === '2') {
    const p = Number(d.slice(0, 4));
    return p >= 2221 && p <= 2720;
  }
  return false;
}

const card: Detector = {
  name: 'card',
  scan(text, out, digits) {
    if (digits < 13) {
      return;
    }
    for (const m of text.matchAll(CARD)) {
      const d = digitsOf(m[0]);
      if (d.length >= 13 && d.length <= 19 && issuerOk(d) && luhn(d) && !/^(\d)\1+$/.test(d)) {
        push(out, 'card', m.index, m[0], maskDigits(m[0]), d);
      }
    }
  },
};

// ---------------------------------------------------------------- US SSN

const SSN = /(?<![0-9A-Za-z])(?<!\d[-.])(\d{3})([- ])(\d{2})\2(\d{4})(?![0-9A-Za-z])(?![-.]\d)/g;

/** Never-issued SSNs: area 000, 666 or 900–999, group 00, serial 0000. */
export function ssnValid(area: string, group: string, serial: string): boolean {
  return area !== '000' && area !== '666' && area[0] !== '9' && group !== '00' && serial !== '0000';
}

const ssn: Detector = {
  name: 'ssn',
  scan(text, out, digits) {
    if (digits < 9) {
      return;
    }
    for (const m of text.matchAll(SSN)) {
      if (ssnValid(m[1], m[3], m[4])) {
        push(out, 'ssn', m.index, m[0], maskDigits(m[0]), digitsOf(m[0]));
      }
    }
  },
};

// ---------------------------------------------------------------- phone numbers

// International (E.164 with optional separators): `+`, a country code, 8–15 digits in all.
const PHONE_INTL = /(?<![0-9A-Za-z+])\+[1-9](?:[ .-]?\(?\d\)?){6,16}(?![0-9A-Za-z])(?![.-]\d)/g;
// North American: area and exchange codes start with 2–9; separators required (bare 10-digit runs are ids and timestamps).
const PHONE_NANP = /(?<![0-9A-Za-z+.-])(?:1[ .-]?)?(?:\([2-9]\d\d\)[ .-]?|[2-9]\d\d[ .-])[2-9]\d\d[ .-]\d{4}(?![0-9A-Za-z])(?![.-]\d)/g;
// National formats with a trunk 0 (UK, EU): `020 7946 0958`, `07700 900123`, `01 23 45 67 89`, `030-901820`.
const PHONE_TRUNK = /(?<![0-9A-Za-z+.-])0[1-9]\d{0,3}(?:[ -]\d{2,6}){1,4}(?![0-9A-Za-z])(?![.-]\d)/g;

const phone: Detector = {
  name: 'phone',
  scan(text, out, digits) {
    if (digits < 8) {
      return;
    }
    for (const m of text.includes('+') ? text.matchAll(PHONE_INTL) : []) {
      const n = digitsOf(m[0]).length;
      if (n >= 8 && n <= 15) {
        push(out, 'phone', m.index, m[0], maskDigits(m[0]), `+${digitsOf(m[0])}`);
      }
    }
    for (const m of text.matchAll(PHONE_NANP)) {
      const d = digitsOf(m[0]);
      push(out, 'phone', m.index, m[0], maskDigits(m[0]), `+${d.length === 10 ? `1${d}` : d}`);
    }
    for (const m of text.includes('0') ? text.matchAll(PHONE_TRUNK) : []) {
      const n = digitsOf(m[0]).length;
      if (n >= 9 && n <= 12) {
        push(out, 'phone', m.index, m[0], maskDigits(m[0]), digitsOf(m[0]));
      }
    }
  },
};

// ---------------------------------------------------------------- JWTs

const JWT = /(?<![A-Za-z0-9_-])eyJ[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]*/g;

const jwt: Detector = {
  name: 'jwt',
  scan(text, out) {
    if (!text.includes('eyJ')) {
      return;
    }
    for (const m of text.matchAll(JWT)) {
      push(out, 'jwt', m.index, m[0], `eyJ${SECRET_MASK}`);
    }
  },
};

// ---------------------------------------------------------------- bearer and basic credentials

const BEARER_HINT = /earer|EARER|asic|ASIC/;
const BEARER = /(?<![A-Za-z])(?:[Bb]earer|BEARER)[ \t]+([A-Za-z0-9._~+/-]{8,}=*)/g;
const BASIC = /(?<![A-Za-z])(?:[Bb]asic|BASIC)[ \t]+([A-Za-z0-9+/]{8,}={0,2})(?![A-Za-z0-9+/=])/g;

const bearer: Detector = {
  name: 'bearer',
  scan(text, out) {
    if (!BEARER_HINT.test(text)) {
      return;
    }
    for (const m of text.matchAll(BEARER)) {
      const token = m[1];
      // "Bearer authentication" is prose; a token has a digit or punctuation somewhere.
      if (/[0-9._~+/-]/.test(token)) {
        push(out, 'bearer', m.index + m[0].length - token.length, token, SECRET_MASK);
      }
    }
    for (const m of text.matchAll(BASIC)) {
      const decoded = Buffer.from(m[1], 'base64').toString('latin1');
      // Basic credentials decode to printable `user:password`.
      if (decoded.includes(':') && /^[\x20-\x7e]+$/.test(decoded)) {
        push(out, 'bearer', m.index + m[0].length - m[1].length, m[1], SECRET_MASK);
      }
    }
  },
};

// ---------------------------------------------------------------- API keys

interface KeyShape {
  re: RegExp;
  /** Length of the prefix that names the kind of key (kept by `mask`). */
  prefix: (m: RegExpMatchArray) => number;
}

const KEY_SHAPES: KeyShape[] = [
  // AWS access key ids.
  { re: /(?<![A-Za-z0-9])(?:AKIA|ASIA|AGPA|AIDA|AROA|ANPA|ANVA|AIPA)[A-Z0-9]{16}(?![A-Za-z0-9])/g, prefix: () => 4 },
  // GitHub tokens: classic (ghp_, gho_, ghu_, ghs_, ghr_) and fine-grained.
  { re: /(?<![A-Za-z0-9_])gh[pousr]_[A-Za-z0-9]{36,251}(?![A-Za-z0-9_])/g, prefix: () => 4 },
  { re: /(?<![A-Za-z0-9_])github_pat_[A-Za-z0-9_]{22,255}(?![A-Za-z0-9_])/g, prefix: () => 11 },
  // Slack tokens and incoming-webhook URLs.
  { re: /(?<![A-Za-z0-9])xox[abposre]-[A-Za-z0-9-]{10,250}(?![A-Za-z0-9-])/g, prefix: () => 5 },
  { re: /https:\/\/hooks\.slack\.com\/services\/[A-Za-z0-9_/]{20,200}/g, prefix: () => 'https://hooks.slack.com/services/'.length },
  // Stripe secret and restricted keys.
  { re: /(?<![A-Za-z0-9_])(?:sk|rk)_(?:live|test)_[A-Za-z0-9]{16,247}(?![A-Za-z0-9_])/g, prefix: (m) => m[0].indexOf('_', 3) + 1 },
  // Google API keys.
  { re: /(?<![A-Za-z0-9_-])AIza[0-9A-Za-z_-]{35}(?![A-Za-z0-9_-])/g, prefix: () => 4 },
];

/** Texts without one of these cannot hold a known key shape. */
const KEY_HINT = /A(?:KIA|SIA|GPA|IDA|ROA|NPA|NVA|IPA|Iza)|gh[pousr]_|github_pat_|xox|hooks\.slack\.com|[sr]k_(?:live|test)_/;
/** …nor, without `:` or `=` after a secret-sounding word, an assignment. */
const ASSIGNMENT_HINT = /(?:key|key[_-]?id|secret|token|passwd|password|pwd)["']?[ \t]*[:=]/i;

// `api_key=…`, `"client_secret": "…"`, `password: …`, `?token=…`: the value of an assignment to a secret-sounding name.
const ASSIGNMENT =
  /(?<![A-Za-z0-9])(?:api[_-]?key|api[_-]?secret|api[_-]?token|access[_-]?key(?:[_-]?id)?|secret[_-]?access[_-]?key|access[_-]?token|auth[_-]?token|refresh[_-]?token|secret[_-]?key|client[_-]?secret|private[_-]?key|passwd|password|pwd|secret|token)["']?[ \t]*[:=][ \t]*["']?([^\s"'&,;<>{}[\]()]{3,512})/gi;

const apikey: Detector = {
  name: 'apikey',
  scan(text, out) {
    for (const shape of KEY_HINT.test(text) ? KEY_SHAPES : []) {
      for (const m of text.matchAll(shape.re)) {
        push(out, 'apikey', m.index, m[0], `${m[0].slice(0, shape.prefix(m))}${SECRET_MASK}`);
      }
    }
    for (const m of ASSIGNMENT_HINT.test(text) ? text.matchAll(ASSIGNMENT) : []) {
      const value = m[1];
      if (value !== SECRET_MASK) {
        push(out, 'apikey', m.index + m[0].length - value.length, value, SECRET_MASK);
      }
    }
  },
};

// ---------------------------------------------------------------- IP addresses

const IPV4 = /(?<![0-9A-Za-z.])(?:\d{1,3}\.){3}\d{1,3}(?![0-9A-Za-z])(?!\.\d)/g;
// Candidates only: at least two colons among hex digits (and an optional dotted IPv4 tail); net.isIPv6 decides.
const IPV6 = /(?<![0-9A-Za-z:.])(?:[0-9A-Fa-f]{0,4}:){2,7}(?:[0-9A-Fa-f]{1,4}|(?:\d{1,3}\.){3}\d{1,3})?(?![0-9A-Za-z:])(?!\.\d)/g;

const ip: Detector = {
  name: 'ip',
  scan(text, out, digits) {
    if (digits < 1) {
      return;
    }
    for (const m of text.includes('.') ? text.matchAll(IPV4) : []) {
      if (isIPv4(m[0])) {
        const octets = m[0].split('.');
        push(out, 'ip', m.index, m[0], `${octets[0]}.${octets[1]}.*.*`);
      }
    }
    for (const m of text.includes(':') ? text.matchAll(IPV6) : []) {
      if (m[0].length > 2 && isIPv6(m[0])) {
        const groups = m[0].split(':').filter((g) => g !== '');
        push(out, 'ip', m.index, m[0], `${groups.slice(0, 2).join(':')}:*`, m[0].toLowerCase());
      }
    }
  },
};

/** In precedence order: where findings overlap, the earlier detector's wins (a bearer JWT is a bearer token). */
export const DETECTORS: readonly Detector[] = [bearer, jwt, apikey, email, card, ssn, phone, ip];
