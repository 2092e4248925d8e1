/**
 * Value semantics of the rule language (rule-language.md, "Conditions inside where"):
 * - comparing values of different types is false, never an error — `!=` included, so an
 *   absent attribute satisfies neither `x == 1` nor `x != 1`;
 * - a numeric string compares as a number when the other side is a number;
 * - int64 attributes may be bigint; they compare exactly with numbers and other bigints.
 */
import type { CompareOp } from './ast';
import type { AttrValue } from './model';

/** What a comparison operand evaluates to at run time; undefined = absent. */
export type Value = AttrValue | undefined;

export type Ordering = -1 | 0 | 1 | undefined;

// After the integer digits only a '.' can continue the mantissa, so a long run of digits that
// fails to match backtracks in linear time (`\d+\.?\d*` was quadratic: 30 s on 20 000 digits).
const NUMERIC = /^\s*[-+]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][-+]?\d+)?\s*$/;

/** A numeric string as a number; undefined when the string is not a number. */
export function numericString(s: string): number | undefined {
  return NUMERIC.test(s) ? Number(s) : undefined;
}

function isNumeric(v: Value): v is number | bigint {
  return typeof v === 'number' || typeof v === 'bigint';
}

/** Orders two values of comparable types; undefined when their types differ. */
export function order(a: Value, b: Value): Ordering {
  if (isNumeric(a)) {
    if (typeof b === 'string') {
      const n = numericString(b);
      return n === undefined ? undefined : orderNumbers(a, n);
    }
    return isNumeric(b) ? orderNumbers(a, b) : undefined;
  }
  if (typeof a === 'string') {
    if (typeof b === 'string') {
      return a < b ? -1 : a > b ? 1 : 0;
    }
    if (isNumeric(b)) {
      const n = numericString(a);
      return n === undefined ? undefined : orderNumbers(n, b);
    }
    return undefined;
  }
  if (typeof a === 'boolean' && typeof b === 'boolean') {
    return a === b ? 0 : a ? 1 : -1;
  }
  return undefined;
}

function orderNumbers(a: number | bigint, b: number | bigint): Ordering {
  if (Number.isNaN(a) || Number.isNaN(b)) {
    return undefined;
  }
  // `<` and `>` compare number and bigint exactly in JavaScript.
  return a < b ? -1 : a > b ? 1 : 0;
}

/** Equality under the language's rules; undefined when the types differ (so both == and != are false). */
export function equality(a: Value, b: Value): boolean | undefined {
  if (a === undefined || b === undefined) {
    return undefined;
  }
  if (a === null || b === null) {
    return a === b ? true : undefined;
  }
  if (Array.isArray(a) && Array.isArray(b)) {
    if (a.length !== b.length) {
      return false;
    }
    for (let i = 0; i < a.length; i++) {
      if (equality(a[i], b[i]) !== true) {
        return false;
      }
    }
    return true;
  }
  const o = order(a, b);
  return o === undefined ? undefined : o === 0;
}

/** Applies an ordering/equality operator to two run-time values. */
export function compareValues(op: CompareOp, a: Value, b: Value): boolean {
  switch (op) {
    case '==':
      return equality(a, b) === true;
    case '!=':
      return equality(a, b) === false;
    case '<': {
      const o = order(a, b);
      return o === -1;
    }
    case '<=': {
      const o = order(a, b);
      return o === -1 || o === 0;
    }
    case '>': {
      const o = order(a, b);
      return o === 1;
    }
    case '>=': {
      const o = order(a, b);
      return o === 1 || o === 0;
    }
    case 'in':
    case 'not in': {
      if (a === undefined || !Array.isArray(b)) {
        return false;
      }
      let found = false;
      for (const item of b) {
        if (equality(a, item) === true) {
          found = true;
          break;
        }
      }
      return op === 'in' ? found : !found;
    }
    case 'contains':
      if (typeof a === 'string' && typeof b === 'string') {
        return a.includes(b);
      }
      if (Array.isArray(a)) {
        for (const item of a) {
          if (equality(item, b) === true) {
            return true;
          }
        }
      }
      return false;
    default:
      // matches / !~ are compiled with their regular expression (compile.ts).
      return false;
  }
}
