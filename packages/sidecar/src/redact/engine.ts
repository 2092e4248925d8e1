/**
 * The redaction engine: one policy, applied to plain text, OTLP attribute values (every AnyValue
 * kind), whole OTLP resourceSpans and arbitrary JSON records.
 *
 * - Findings become `[REDACTED:<detector>]` (redact), a shape-keeping mask (mask),
 *   `[HASH:<detector>:<16 hex>]` (hash: the first 64 bits of HMAC-SHA256 with the tenant key over
 *   a canonical form, so the same e-mail or card hashes alike wherever it appears) or, for
 *   attributes, the removal of the attribute (drop; in text, where nothing can be removed, drop
 *   redacts).
 * - The engine's own output is left alone (`[REDACTED:…]`, `[HASH:…]`, `[TRUNCATED]` and masks are
 *   never findings), so redacting twice changes nothing.
 * - Work is bounded: a string longer than `maxScanChars` is cut there (`[TRUNCATED]`) before it is
 *   scanned; nesting deeper than MAX_DEPTH is replaced whole.
 * - Nothing throws on odd input: anything the engine cannot read is replaced, never passed through.
 * - Structures are copied on write: what needs no change is returned as the same object.
 */
import { createHmac } from 'crypto';
import type { RedactionAction, RedactionPolicy } from '../tenants';
import { countDigits, DETECTOR_NAMES, DETECTORS, Detector, Finding } from './detectors';
import { KeyMatcher } from './keys';

export const TRUNCATED = '[TRUNCATED]';
export const DEFAULT_MAX_SCAN_CHARS = 65_536;
/** Nesting (kvlists in arrays in kvlists …, or JSON) deeper than this is replaced whole. */
export const MAX_DEPTH = 32;

/** What the engine writes, found again so a second pass leaves it alone. */
const OWN_OUTPUT = /\[(?:REDACTED:[a-z]+|HASH:[a-z]+:[0-9a-f]{16}|TRUNCATED)\]/g;
const OWN_OUTPUT_WHOLE = /^\[(?:REDACTED:[a-z]+|HASH:[a-z]+:[0-9a-f]{16})\]$/;
/** A masked sensitive value (and a masked secret): its length says nothing about the original. */
const KEY_MASK = '****';

/** Where a finding came from: a detector, a sensitive attribute name (`key`), or a byte value (`bytes`). */
export type Source = Finding['detector'] | 'key' | 'bytes' | 'depth';

const DROP = Symbol('drop');
type Dropped = typeof DROP;

type Obj = Record<string, unknown>;
const own = (o: Obj, k: string) => Object.prototype.hasOwnProperty.call(o, k);
const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v) && !(v instanceof Uint8Array);
const ANY_VALUE_FIELDS = ['stringValue', 'boolValue', 'intValue', 'doubleValue', 'arrayValue', 'kvlistValue', 'bytesValue'];
const isAnyValue = (v: unknown): boolean => isObj(v) && Object.keys(v).length === 1 && ANY_VALUE_FIELDS.includes(Object.keys(v)[0]);

/** The scalar values of an attribute (nested ones too: a template renders a kvlist as JSON), as a message would show them. */
function leaves(v: unknown, out: Set<string>, max: number, depth: number): void {
  if (typeof v === 'string' || typeof v === 'number' || typeof v === 'bigint') {
    const s = String(v);
    if (s.length >= 4 && s.length <= max) {
      out.add(s);
    }
  } else if (typeof v === 'object' && v !== null && !(v instanceof Uint8Array) && depth < MAX_DEPTH) {
    for (const x of Array.isArray(v) ? v : Object.values(v)) {
      leaves(x, out, max, depth + 1);
    }
  }
}

export class Redactor {
  private readonly detectors: Detector[];
  private readonly rank: Map<string, number>;
  private readonly keys: KeyMatcher;
  private readonly allow: KeyMatcher;
  private readonly maxScan: number;
  private readonly hmacKey: string;

  /** `hashKey`: the tenant's HMAC key for the `hash` action (policy.hashKey wins when set); needed only when some action is hash. */
  constructor(
    readonly policy: RedactionPolicy,
    hashKey?: string,
  ) {
    const actions = [policy.action, ...Object.values(policy.actions ?? {})];
    const bad = actions.filter((a) => a !== undefined && !['redact', 'mask', 'hash', 'drop'].includes(a));
    if (bad.length > 0) {
      throw new Error(`redaction policy: unknown action ${bad.join(', ')} (known: redact, mask, hash, drop)`);
    }
    const unknown = (policy.detectors ?? []).filter((d) => !(DETECTOR_NAMES as readonly string[]).includes(d));
    if (unknown.length > 0) {
      throw new Error(`redaction policy: unknown detector ${unknown.join(', ')} (known: ${DETECTOR_NAMES.join(', ')})`);
    }
    const key = policy.hashKey ?? hashKey ?? '';
    if (key === '' && actions.includes('hash')) {
      throw new Error('redaction policy: the hash action needs a key (hashKey, or the tenant evidence key)');
    }
    this.hmacKey = key;
    this.detectors = DETECTORS.filter((d) => policy.detectors.includes(d.name));
    this.rank = new Map(this.detectors.map((d, i) => [d.name, i]));
    this.keys = new KeyMatcher(policy.keys ?? []);
    this.allow = new KeyMatcher(policy.allowKeys ?? [], []);
    this.maxScan = Math.max(64, policy.maxScanChars ?? DEFAULT_MAX_SCAN_CHARS);
  }

  private actionOf(source: Source): RedactionAction {
    return this.policy.actions?.[source] ?? this.policy.action ?? 'redact';
  }

  private hash(source: Source, canonical: string | Uint8Array): string {
    return `[HASH:${source}:${createHmac('sha256', this.hmacKey).update(canonical).digest('hex').slice(0, 16)}]`;
  }

  /** A finding rendered by its action; `drop` renders as redact (the caller drops when it can). */
  private render(source: Source, masked: string, canonical: string | Uint8Array): string {
    switch (this.actionOf(source)) {
      case 'mask':
        return masked;
      case 'hash':
        return this.hash(source, canonical);
      default:
        return `[REDACTED:${source}]`;
    }
  }

  /** Findings in `s`, sorted, without overlaps (earlier detectors win), outside the engine's own output. */
  findings(s: string): Finding[] {
    // Nothing a detector finds is shorter than 6 characters (`x@y.de`).
    if (this.detectors.length === 0 || s.length < 6) {
      return [];
    }
    // Own output is blanked (same length, so positions hold) before detectors look, with a
    // character no detector takes for part of a value (a space would let `password=` reach past it).
    const scan = s.includes('[') ? s.replace(OWN_OUTPUT, (m) => '"'.repeat(m.length)) : s;
    const all: Finding[] = [];
    const digits = countDigits(scan);
    for (const d of this.detectors) {
      d.scan(scan, all, digits);
    }
    if (all.length === 0) {
      return all;
    }
    const rank = this.rank;
    all.sort((a, b) => a.start - b.start || rank.get(a.detector)! - rank.get(b.detector)! || b.end - a.end);
    const kept: Finding[] = [];
    for (const f of all) {
      const last = kept[kept.length - 1];
      if (last === undefined || f.start >= last.end) {
        kept.push(f);
      } else if (rank.get(f.detector)! < rank.get(last.detector)! && f.start === last.start) {
        kept[kept.length - 1] = f;
      }
    }
    return kept;
  }

  /** Cuts a string longer than the scan limit (keeping it bounded, and leaving the engine's own cut as it is). */
  private bound(s: string): string {
    if (s.length <= this.maxScan || (s.endsWith(TRUNCATED) && s.length <= this.maxScan * 8)) {
      return s;
    }
    return s.slice(0, this.maxScan - TRUNCATED.length) + TRUNCATED;
  }

  /**
   * Redacts `s` by the findings; `drop` is set when a finding's action is drop. A replacement can
   * expose a value its neighbour hid (a phone glued to a card number), so findings are looked
   * for again in the result, a few rounds at most.
   */
  private redactString(input: string): { text: string; drop: boolean; changed: boolean } {
    let s = this.bound(input);
    let drop = false;
    for (let round = 0; round < 4; round++) {
      const found = this.findings(s);
      if (found.length === 0) {
        break;
      }
      let out = '';
      let at = 0;
      for (const f of found) {
        out += s.slice(at, f.start) + this.render(f.detector, f.masked, f.canonical);
        at = f.end;
        drop ||= this.actionOf(f.detector) === 'drop';
      }
      s = out + s.slice(at);
    }
    return { text: s, drop, changed: s !== input };
  }

  /** Plain text (span names, status messages, annotation text, webhook messages, templates): never dropped, drop redacts. */
  text(s: string): string {
    try {
      return typeof s === 'string' ? this.redactString(s).text : '';
    } catch {
      return '[REDACTED:error]';
    }
  }

  /**
   * The whole value of a sensitive attribute. One finding covering it keeps its detector's name
   * (`[REDACTED:email]`) unless that detector masks: a masked sensitive value is `****`, whatever
   * it was, so that a second pass recognizes it.
   */
  private wholeValue(s: string): string | Dropped {
    if (s === KEY_MASK || OWN_OUTPUT_WHOLE.test(s)) {
      return s;
    }
    if (this.actionOf('key') === 'drop') {
      return DROP;
    }
    const found = this.findings(s);
    if (found.length === 1 && found[0].start === 0 && found[0].end === s.length && this.actionOf(found[0].detector) !== 'mask') {
      const f = found[0];
      return this.actionOf(f.detector) === 'drop' ? DROP : this.render(f.detector, f.masked, f.canonical);
    }
    if (this.actionOf('key') === 'mask') {
      return KEY_MASK;
    }
    if (this.actionOf('key') === 'hash') {
      return this.hash('key', s);
    }
    return '[REDACTED:key]';
  }

  // ---------------------------------------------------------------- OTLP attributes

  /** An OTLP AnyValue (protobufjs-decoded, toObject or OTLP/JSON shape); DROP when the attribute must go. */
  private anyValue(v: unknown, sensitive: boolean, path: string, depth: number): unknown {
    if (!isObj(v)) {
      return v === undefined || v === null ? v : { stringValue: '[REDACTED:error]' };
    }
    if (depth > MAX_DEPTH) {
      return { stringValue: '[REDACTED:depth]' };
    }
    if (own(v, 'stringValue')) {
      const s = v.stringValue;
      if (typeof s !== 'string') {
        return { stringValue: '[REDACTED:error]' };
      }
      if (sensitive) {
        const w = this.wholeValue(s);
        return w === DROP ? DROP : { stringValue: w };
      }
      const r = this.redactString(s);
      if (r.drop) {
        return DROP;
      }
      return r.changed ? { ...v, stringValue: r.text } : v;
    }
    if (own(v, 'intValue')) {
      const n = v.intValue;
      const s = typeof n === 'string' ? n : typeof n === 'number' || typeof n === 'bigint' ? String(n) : isObj(n) ? String(n) : '';
      if (sensitive) {
        const w = this.wholeValue(s);
        return w === DROP ? DROP : { stringValue: w };
      }
      // A card number or phone stored as an integer: replaced by its redacted string.
      const r = this.redactString(s);
      return r.drop ? DROP : r.changed ? { stringValue: r.text } : v;
    }
    if (own(v, 'boolValue') || own(v, 'doubleValue')) {
      if (!sensitive) {
        return v;
      }
      const w = this.wholeValue(String(own(v, 'boolValue') ? v.boolValue : v.doubleValue));
      return w === DROP ? DROP : { stringValue: w };
    }
    if (own(v, 'bytesValue')) {
      const b = v.bytesValue;
      const bytes = b instanceof Uint8Array ? b : typeof b === 'string' ? Buffer.from(b, 'base64') : new Uint8Array(0);
      if (this.policy.bytes === 'keep' && !sensitive) {
        return v;
      }
      const source: Source = sensitive ? 'key' : 'bytes';
      return this.actionOf(source) === 'drop' ? DROP : { stringValue: this.render(source, '****', bytes) };
    }
    if (own(v, 'arrayValue')) {
      const arr = v.arrayValue;
      const values = isObj(arr) && Array.isArray(arr.values) ? arr.values : [];
      let changed = false;
      const out: unknown[] = [];
      for (const item of values) {
        const r = this.anyValue(item, sensitive, path, depth + 1);
        if (r === DROP) {
          return DROP; // one dropped element takes the attribute with it
        }
        changed ||= r !== item;
        out.push(r);
      }
      return changed ? { ...v, arrayValue: { ...(arr as Obj), values: out } } : v;
    }
    if (own(v, 'kvlistValue')) {
      const kv = v.kvlistValue;
      const values = isObj(kv) && Array.isArray(kv.values) ? kv.values : [];
      const out = this.keyValues(values, sensitive, path, depth + 1);
      return out === values ? v : { ...v, kvlistValue: { ...(kv as Obj), values: out } };
    }
    return v;
  }

  private keyValues(list: unknown[], parentSensitive: boolean, parentPath: string, depth: number): unknown[] {
    let out: unknown[] | undefined;
    for (let i = 0; i < list.length; i++) {
      const r = this.keyValue(list[i], parentSensitive, parentPath, depth);
      if (r !== list[i] && out === undefined) {
        out = list.slice(0, i);
      }
      if (out !== undefined && r !== DROP) {
        out.push(r);
      }
    }
    return out ?? list;
  }

  private keyValue(kv: unknown, parentSensitive: boolean, parentPath: string, depth: number): unknown {
    if (!isObj(kv)) {
      return DROP;
    }
    const key = typeof kv.key === 'string' ? kv.key : '';
    const path = parentPath === '' ? key : `${parentPath}.${key}`;
    const sensitive = parentSensitive || this.keys.sensitive(key, path);
    const value = this.anyValue(kv.value, sensitive, path, depth);
    if (value === DROP) {
      return DROP;
    }
    return value === kv.value ? kv : { ...kv, value };
  }

  /** An OTLP attribute list (`KeyValue[]`): values redacted, dropped attributes removed. */
  attributes<T>(list: T[]): T[] {
    try {
      return Array.isArray(list) ? (this.keyValues(list, false, '', 0) as T[]) : list;
    } catch {
      return [];
    }
  }

  // ---------------------------------------------------------------- OTLP resourceSpans

  private withAttributes(o: unknown, field = 'attributes'): unknown {
    if (!isObj(o) || !Array.isArray(o[field])) {
      return o;
    }
    const list = o[field] as unknown[];
    const out = this.keyValues(list, false, '', 0);
    return out === list ? o : { ...o, [field]: out };
  }

  private mapList(list: unknown, fn: (item: unknown) => unknown): unknown {
    if (!Array.isArray(list)) {
      return list;
    }
    let out: unknown[] | undefined;
    for (let i = 0; i < list.length; i++) {
      const r = fn(list[i]);
      if (r !== list[i] && out === undefined) {
        out = list.slice(0, i);
      }
      out?.push(r);
    }
    return out ?? list;
  }

  private span(span: unknown): unknown {
    if (!isObj(span)) {
      return span;
    }
    let out: Obj = this.withAttributes(span) as Obj;
    const set = (k: string, v: unknown) => {
      if (v !== out[k]) {
        out = out === span ? { ...span } : out;
        out[k] = v;
      }
    };
    if (typeof span.name === 'string') {
      set('name', this.text(span.name));
    }
    if (own(span, 'events')) {
      set('events', this.mapList(span.events, (e) => {
        const ev = this.withAttributes(e);
        const name = isObj(ev) && typeof ev.name === 'string' ? this.text(ev.name) : undefined;
        return name !== undefined && name !== (ev as Obj).name ? { ...(ev as Obj), name } : ev;
      }));
    }
    if (own(span, 'links')) {
      set('links', this.mapList(span.links, (l) => this.withAttributes(l)));
    }
    const status = span.status;
    if (isObj(status) && typeof status.message === 'string' && status.message !== '') {
      const message = this.text(status.message);
      if (message !== status.message) {
        set('status', { ...status, message });
      }
    }
    return out;
  }

  private scopeSpans(ss: unknown): unknown {
    if (!isObj(ss)) {
      return ss;
    }
    let out = ss;
    const scope = ss.scope ?? ss.instrumentationLibrary;
    const scopeKey = own(ss, 'scope') ? 'scope' : 'instrumentationLibrary';
    const scoped = this.withAttributes(scope);
    if (scoped !== scope) {
      out = { ...out, [scopeKey]: scoped };
    }
    const spans = this.mapList(ss.spans, (s) => this.span(s));
    return spans === ss.spans ? out : { ...out, spans };
  }

  private resourceSpan(rs: unknown): unknown {
    if (!isObj(rs)) {
      return rs;
    }
    let out = rs;
    const resource = this.withAttributes(rs.resource);
    if (resource !== rs.resource) {
      out = { ...out, resource };
    }
    for (const key of ['scopeSpans', 'instrumentationLibrarySpans']) {
      if (own(rs, key)) {
        const list = this.mapList(rs[key], (ss) => this.scopeSpans(ss));
        if (list !== rs[key]) {
          out = { ...out, [key]: list };
        }
      }
    }
    return out;
  }

  /**
   * OTLP `resourceSpans` (protobufjs-decoded messages, their toObject shape, or OTLP/JSON) with
   * every resource, scope, span, event and link attribute, span and event name, and status
   * message redacted. Ids, times and kinds are untouched; unchanged parts are the same objects.
   * The result encodes with the same protobufjs types (fields are own properties).
   */
  resourceSpans<T>(resourceSpans: T): T {
    try {
      return this.mapList(resourceSpans, (rs) => this.resourceSpan(rs)) as T;
    } catch {
      return [] as unknown as T;
    }
  }

  // ---------------------------------------------------------------- JSON records

  /**
   * An arbitrary JSON-like record (exports, API responses, webhook bodies): every string is
   * scanned, every value under a sensitive key replaced whole, OTLP `{key, value}` pairs read as
   * attributes, large integers scanned as digits. Cycles and over-deep nesting are replaced.
   */
  json<T>(record: T): T {
    try {
      const r = this.jsonValue(record, false, new Set(), 0);
      return (r === DROP ? undefined : r) as T;
    } catch {
      return '[REDACTED:error]' as unknown as T;
    }
  }

  private jsonValue(v: unknown, sensitive: boolean, seen: Set<object>, depth: number): unknown {
    if (typeof v === 'string') {
      if (sensitive) {
        return this.wholeValue(v);
      }
      const r = this.redactString(v);
      return r.drop ? DROP : r.text;
    }
    if (typeof v === 'number' || typeof v === 'bigint' || typeof v === 'boolean') {
      if (sensitive) {
        return this.wholeValue(String(v));
      }
      if (typeof v !== 'boolean' && (typeof v === 'bigint' || Number.isInteger(v)) && String(v).length >= 12) {
        const r = this.redactString(String(v));
        return r.drop ? DROP : r.changed ? r.text : v;
      }
      return v;
    }
    if (v === null || v === undefined || typeof v !== 'object') {
      return v;
    }
    if (v instanceof Uint8Array) {
      if (this.policy.bytes === 'keep' && !sensitive) {
        return v;
      }
      const source: Source = sensitive ? 'key' : 'bytes';
      return this.actionOf(source) === 'drop' ? DROP : this.render(source, '****', v);
    }
    if (seen.has(v) || depth > MAX_DEPTH) {
      return '[REDACTED:depth]';
    }
    seen.add(v);
    try {
      if (Array.isArray(v)) {
        const out: unknown[] = [];
        for (const item of v) {
          const r = this.jsonValue(item, sensitive, seen, depth + 1);
          if (r !== DROP) {
            out.push(r);
          }
        }
        return out;
      }
      const o = v as Obj;
      // An OTLP attribute inside a record: the sensitive name is the `key` field, not a property name.
      if (typeof o.key === 'string' && isAnyValue(o.value) && Object.keys(o).length === 2) {
        return this.keyValue(o, sensitive, '', depth);
      }
      const out: Obj = {};
      for (const k of Object.keys(o)) {
        const r = this.jsonValue(o[k], sensitive || this.keys.sensitive(k), seen, depth + 1);
        if (r !== DROP) {
          out[k] = r;
        }
      }
      return out;
    } finally {
      seen.delete(v);
    }
  }

  // ---------------------------------------------------------------- the allow-list

  /** Whether a signal may copy the span attribute `key`: policy.allowKeys (globs); an empty list is no allow-list. */
  allowed(key: string): boolean {
    return (this.policy.allowKeys ?? []).length === 0 || this.allow.globMatch(key);
  }

  /**
   * A signal message rendered from a template over span attributes (`attrs`: the bound span's, or
   * the root's, as plain maps). Detectors see only the text, so values the text got from
   * sensitive attributes (`{p.db.password}`) or, with an allow-list, from attributes not on it,
   * are found by value first (strings of 4+ characters, longest first) and replaced whole.
   */
  message(text: string, attrs: ReadonlyArray<Record<string, unknown> | undefined>): string {
    return this.withholding(attrs)(text);
  }

  /** `message` for many texts over the same spans: the values to withhold are collected once. */
  withholding(attrs: ReadonlyArray<Record<string, unknown> | undefined>): (text: string) => string {
    let values: string[] = [];
    try {
      const withheld = new Set<string>();
      // Nested maps (kvlists) are walked too: a sensitive key inside one (`user.session_cookie`)
      // withholds its value like a top-level one.
      const walk = (map: Record<string, unknown>, depth: number, top: boolean): void => {
        for (const k of Object.keys(map)) {
          const v = map[k];
          if (this.keys.sensitive(k) || (top && !this.allowed(k))) {
            leaves(v, withheld, this.maxScan, 0);
          } else if (isObj(v) && depth < MAX_DEPTH) {
            walk(v, depth + 1, false);
          } else if (Array.isArray(v) && depth < MAX_DEPTH) {
            v.filter(isObj).forEach((x) => walk(x as Record<string, unknown>, depth + 1, false));
          }
        }
      };
      for (const map of attrs) {
        if (isObj(map)) {
          walk(map, 0, true);
        }
      }
      // Templates and explanations render objects as JSON: a value with a quote or a backslash
      // stands there escaped, so its escaped form is withheld too.
      for (const v of [...withheld]) {
        const escaped = JSON.stringify(v).slice(1, -1);
        if (escaped !== v) {
          withheld.add(escaped);
        }
      }
      values = [...withheld].sort((a, b) => b.length - a.length);
    } catch {
      return () => '[REDACTED:error]';
    }
    return (text) => {
      try {
        if (typeof text !== 'string') {
          return '';
        }
        let out = this.bound(text);
        for (const s of values) {
          if (out.includes(s)) {
            const w = this.wholeValue(s);
            out = out.split(s).join(w === DROP ? '[REDACTED:key]' : w);
          }
        }
        return this.text(out);
      } catch {
        return '[REDACTED:error]';
      }
    };
  }

  /**
   * The attributes a signal may carry from a span: only allow-listed keys, each value redacted
   * (an allow-listed key that is also sensitive is still redacted). `attrs` is a plain map, as in
   * the evaluator's spans.
   */
  copyAllowed(attrs: Record<string, unknown>): Record<string, unknown> {
    const out: Record<string, unknown> = {};
    if (!isObj(attrs)) {
      return out;
    }
    for (const k of Object.keys(attrs)) {
      if (this.allowed(k)) {
        const r = this.jsonValue(attrs[k], this.keys.sensitive(k), new Set(), 0);
        if (r !== DROP) {
          out[k] = r;
        }
      }
    }
    return out;
  }
}
