/**
 * A PromQL evaluator for exactly the subset BeTrace's generated SLO rules use, written from the
 * Prometheus documentation: instant vector selectors with equality matchers (5 m lookback),
 * `rate(v[d])` with Prometheus' counter extrapolation, `sum(…)`, `*`, `-`, `/` between vectors
 * (one-to-one on identical label sets) and with scalars, comparisons as filters, and `and`.
 * Test support only: there is no Prometheus on this machine.
 */

export type Labels = Record<string, string>;
export interface Sample {
  t: number;
  v: number;
}
export interface Series {
  labels: Labels;
  samples: Sample[];
}
export type Vector = Array<{ labels: Labels; v: number }>;
type Value = { kind: 'scalar'; v: number } | { kind: 'vector'; v: Vector };

const LOOKBACK_MS = 300_000;
const DURATION: Record<string, number> = { s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };

type Node =
  | { type: 'num'; v: number }
  | { type: 'sel'; name: string; matchers: Labels; range?: number }
  | { type: 'call'; fn: 'rate' | 'sum'; arg: Node }
  | { type: 'bin'; op: string; l: Node; r: Node };

/** Binary operator precedence, lowest first (PromQL: or < and/unless < comparisons < +- < * / %). */
const PRECEDENCE: string[][] = [['or'], ['and'], ['==', '!=', '>', '<', '>=', '<='], ['+', '-'], ['*', '/']];

function tokenize(text: string): string[] {
  const re = /\s*(\d+(?:\.\d+)?(?:[smhd])?|[A-Za-z_:][A-Za-z0-9_:]*|"(?:[^"\\]|\\.)*"|==|!=|>=|<=|[(){}[\],=><+\-*/])/y;
  const out: string[] = [];
  let pos = 0;
  while (pos < text.length) {
    if (/^\s*$/.test(text.slice(pos))) {
      break;
    }
    re.lastIndex = pos;
    const m = re.exec(text);
    if (!m) {
      throw new Error(`promql: cannot read ${JSON.stringify(text.slice(pos, pos + 20))}`);
    }
    out.push(m[1]);
    pos = re.lastIndex;
  }
  return out;
}

export function parse(text: string): Node {
  const toks = tokenize(text);
  let i = 0;
  const peek = () => toks[i];
  const next = () => toks[i++];
  const expect = (t: string) => {
    if (next() !== t) {
      throw new Error(`promql: expected ${t} at token ${i - 1} of ${text}`);
    }
  };
  const binary = (level: number): Node => {
    if (level === PRECEDENCE.length) {
      return unary();
    }
    let l = binary(level + 1);
    while (peek() !== undefined && PRECEDENCE[level].includes(peek())) {
      const op = next();
      l = { type: 'bin', op, l, r: binary(level + 1) };
    }
    return l;
  };
  const unary = (): Node => {
    const t = next();
    if (t === '(') {
      const e = binary(0);
      expect(')');
      return e;
    }
    if (/^\d/.test(t)) {
      return { type: 'num', v: Number(t) };
    }
    if (t === 'rate' || t === 'sum') {
      expect('(');
      const arg = binary(0);
      expect(')');
      return { type: 'call', fn: t, arg };
    }
    if (/^[A-Za-z_:]/.test(t)) {
      const matchers: Labels = {};
      if (peek() === '{') {
        next();
        while (peek() !== '}') {
          const name = next();
          expect('=');
          matchers[name] = JSON.parse(next()) as string;
          if (peek() === ',') {
            next();
          }
        }
        next();
      }
      let range: number | undefined;
      if (peek() === '[') {
        next();
        const d = /^(\d+)([smhd])$/.exec(next())!;
        range = Number(d[1]) * DURATION[d[2]];
        expect(']');
      }
      return { type: 'sel', name: t, matchers, range };
    }
    throw new Error(`promql: unexpected ${t} in ${text}`);
  };
  const tree = binary(0);
  if (i !== toks.length) {
    throw new Error(`promql: trailing ${toks.slice(i).join(' ')} in ${text}`);
  }
  return tree;
}

const key = (l: Labels) => JSON.stringify(Object.keys(l).sort().map((k) => [k, l[k]]));
const withoutName = (l: Labels): Labels => Object.fromEntries(Object.entries(l).filter(([k]) => k !== '__name__'));

/**
 * Prometheus' extrapolated rate (promql/functions.go, as documented for `rate`): the increase
 * between the first and last sample in the range (left-open), corrected for counter resets,
 * extrapolated to the range boundaries when the samples reach within 1.1 average intervals of
 * them (else by half an interval), never below zero for a counter; per second.
 */
export function extrapolatedRate(samples: readonly Sample[], rangeStart: number, rangeEnd: number): number | undefined {
  if (samples.length < 2) {
    return undefined;
  }
  const first = samples[0];
  const last = samples[samples.length - 1];
  let result = last.v - first.v;
  for (let k = 1; k < samples.length; k++) {
    if (samples[k].v < samples[k - 1].v) {
      result += samples[k - 1].v; // a counter reset
    }
  }
  const sampledInterval = (last.t - first.t) / 1000;
  const average = sampledInterval / (samples.length - 1);
  let toStart = (first.t - rangeStart) / 1000;
  const toEnd = (rangeEnd - last.t) / 1000;
  if (result > 0 && first.v >= 0) {
    const toZero = sampledInterval * (first.v / result);
    if (toZero < toStart) {
      toStart = toZero;
    }
  }
  const threshold = average * 1.1;
  let interval = sampledInterval;
  interval += toStart < threshold ? toStart : average / 2;
  interval += toEnd < threshold ? toEnd : average / 2;
  return (result * (interval / sampledInterval)) / ((rangeEnd - rangeStart) / 1000);
}

export class PromStore {
  readonly series: Series[] = [];

  add(labels: Labels, samples: Sample[]): void {
    this.series.push({ labels, samples });
  }

  private matching(name: string, matchers: Labels): Series[] {
    return this.series.filter((s) => s.labels.__name__ === name && Object.entries(matchers).every(([k, v]) => (s.labels[k] ?? '') === v));
  }

  /** The value of `expr` at `t` (epoch ms). */
  evaluate(expr: string | Node, t: number): Value {
    const node = typeof expr === 'string' ? parse(expr) : expr;
    return this.eval(node, t);
  }

  private eval(n: Node, t: number): Value {
    switch (n.type) {
      case 'num':
        return { kind: 'scalar', v: n.v };
      case 'sel': {
        if (n.range !== undefined) {
          throw new Error('promql: a range vector only inside rate()');
        }
        const out: Vector = [];
        for (const s of this.matching(n.name, n.matchers)) {
          const latest = [...s.samples].reverse().find((x) => x.t <= t && x.t > t - LOOKBACK_MS);
          if (latest) {
            out.push({ labels: s.labels, v: latest.v });
          }
        }
        return { kind: 'vector', v: out };
      }
      case 'call': {
        if (n.fn === 'rate') {
          const sel = n.arg;
          if (sel.type !== 'sel' || sel.range === undefined) {
            throw new Error('promql: rate() takes a range vector selector');
          }
          const out: Vector = [];
          for (const s of this.matching(sel.name, sel.matchers)) {
            const inRange = s.samples.filter((x) => x.t > t - sel.range! && x.t <= t);
            const r = extrapolatedRate(inRange, t - sel.range, t);
            if (r !== undefined) {
              out.push({ labels: withoutName(s.labels), v: r });
            }
          }
          return { kind: 'vector', v: out };
        }
        const arg = this.eval(n.arg, t);
        if (arg.kind !== 'vector') {
          throw new Error('promql: sum() takes a vector');
        }
        return { kind: 'vector', v: arg.v.length === 0 ? [] : [{ labels: {}, v: arg.v.reduce((a, x) => a + x.v, 0) }] };
      }
      case 'bin':
        return this.binary(n.op, this.eval(n.l, t), this.eval(n.r, t));
    }
  }

  private binary(op: string, l: Value, r: Value): Value {
    const arith = (a: number, b: number): number => {
      switch (op) {
        case '+':
          return a + b;
        case '-':
          return a - b;
        case '*':
          return a * b;
        case '/':
          return a / b;
      }
      throw new Error(`promql: ${op} is not arithmetic`);
    };
    const compare = (a: number, b: number): boolean => {
      switch (op) {
        case '>':
          return a > b;
        case '<':
          return a < b;
        case '>=':
          return a >= b;
        case '<=':
          return a <= b;
        case '==':
          return a === b;
        case '!=':
          return a !== b;
      }
      throw new Error(`promql: ${op} is no comparison`);
    };
    const isCompare = ['>', '<', '>=', '<=', '==', '!='].includes(op);
    if (op === 'and' || op === 'or') {
      if (l.kind !== 'vector' || r.kind !== 'vector') {
        throw new Error(`promql: ${op} takes vectors`);
      }
      const right = new Set(r.v.map((x) => key(withoutName(x.labels))));
      if (op === 'and') {
        return { kind: 'vector', v: l.v.filter((x) => right.has(key(withoutName(x.labels)))) };
      }
      const left = new Set(l.v.map((x) => key(withoutName(x.labels))));
      return { kind: 'vector', v: [...l.v, ...r.v.filter((x) => !left.has(key(withoutName(x.labels))))] };
    }
    if (l.kind === 'scalar' && r.kind === 'scalar') {
      if (isCompare) {
        throw new Error('promql: comparisons between scalars need bool');
      }
      return { kind: 'scalar', v: arith(l.v, r.v) };
    }
    if (l.kind === 'vector' && r.kind === 'scalar') {
      return isCompare
        ? { kind: 'vector', v: l.v.filter((x) => compare(x.v, r.v)) }
        : { kind: 'vector', v: l.v.map((x) => ({ labels: withoutName(x.labels), v: arith(x.v, r.v) })) };
    }
    if (l.kind === 'scalar' && r.kind === 'vector') {
      return isCompare
        ? { kind: 'vector', v: r.v.filter((x) => compare(l.v, x.v)) }
        : { kind: 'vector', v: r.v.map((x) => ({ labels: withoutName(x.labels), v: arith(l.v, x.v) })) };
    }
    // Vector to vector: one-to-one on the label sets without the metric name.
    const right = new Map((r as { v: Vector }).v.map((x) => [key(withoutName(x.labels)), x]));
    const out: Vector = [];
    for (const x of (l as { v: Vector }).v) {
      const y = right.get(key(withoutName(x.labels)));
      if (!y) {
        continue;
      }
      if (isCompare) {
        if (compare(x.v, y.v)) {
          out.push(x);
        }
      } else {
        out.push({ labels: withoutName(x.labels), v: arith(x.v, y.v) });
      }
    }
    return { kind: 'vector', v: out };
  }
}

/**
 * Runs a Prometheus rules file's groups every `intervalMs` from `from` to `to`: recording rules
 * write their samples back into the store (so later rules and evaluations read them), alerting
 * rules without `for` fire when their expression returns a sample. Answers the alerts firing at `to`.
 */
export function runRules(
  store: PromStore,
  groups: ReadonlyArray<{ rules: ReadonlyArray<{ record?: string; alert?: string; expr: string; labels?: Labels }> }>,
  from: number,
  to: number,
  intervalMs: number,
): Array<{ alert: string; labels: Labels }> {
  const recorded = new Map<string, Series>();
  let firing: Array<{ alert: string; labels: Labels }> = [];
  for (let t = from; t <= to; t += intervalMs) {
    firing = [];
    for (const g of groups) {
      for (const rule of g.rules) {
        const value = store.evaluate(rule.expr, t);
        const vector: Vector = value.kind === 'scalar' ? [{ labels: {}, v: value.v }] : value.v;
        for (const x of vector) {
          const labels = { ...withoutName(x.labels), ...(rule.labels ?? {}) };
          if (rule.record !== undefined) {
            const full = { __name__: rule.record, ...labels };
            const k = key(full);
            let s = recorded.get(k);
            if (!s) {
              s = { labels: full, samples: [] };
              recorded.set(k, s);
              store.series.push(s);
            }
            s.samples.push({ t, v: x.v });
          } else if (rule.alert !== undefined) {
            firing.push({ alert: rule.alert, labels });
          }
        }
      }
    }
  }
  return firing;
}
