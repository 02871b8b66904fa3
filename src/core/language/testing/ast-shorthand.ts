/**
 * Test support for the language specs (excluded from the build): compact constructors for the AST of ../ast.ts
 * without spans, and {@link stripSpans} to compare parser output with them. Spans have their own tests.
 */
import type { LiteralValue, NumberType } from '../ast';

/** A node as the specs write it: the AST without `span`/`tagSpan`/`typeSpan`. */
export type Shape = { [key: string]: unknown };

/** Removes every `span`, `tagSpan` and `typeSpan` property, recursively. */
export function stripSpans(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(stripSpans);
  if (value !== null && typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) {
      if (k === 'span' || k === 'tagSpan' || k === 'typeSpan' || v === undefined) continue;
      out[k] = stripSpans(v);
    }
    return out;
  }
  return value;
}

// ---------------------------------------------------------------------------------------------
// Expressions
// ---------------------------------------------------------------------------------------------

export const lit = (value: LiteralValue): Shape => ({ kind: 'literal', value });
/** A number literal whose Esper type its value does not tell (`10L`, `1.0`, `2f`: LiteralExpr.numberType). */
export const numLit = (value: number, numberType: NumberType): Shape => ({ kind: 'literal', value, numberType });

/** `p('a[0].price')` is the path a[0].price. */
export function p(dotted: string): Shape {
  const segments = dotted.split('.').map((s) => {
    const m = /^(.+?)(?:\[(\d+)\])?(\?)?$/.exec(s)!;
    const segment: Record<string, unknown> = m[2] !== undefined ? { name: m[1], index: Number(m[2]) } : { name: m[1] };
    if (m[3] !== undefined) segment.dynamic = true;
    return segment;
  });
  return { kind: 'path', segments };
}

export const bin = (op: string, left: Shape, right: Shape): Shape => ({ kind: 'binary', op, left, right });
export const neg = (operand: Shape): Shape => ({ kind: 'unary', op: '-', operand });
export const plus = (operand: Shape): Shape => ({ kind: 'unary', op: '+', operand });
export const lnot = (operand: Shape): Shape => ({ kind: 'unary', op: 'not', operand });
export const call = (name: string, ...args: Shape[]): Shape => ({ kind: 'call', name, args });
export const inList = (operand: Shape, values: Shape[], negated = false): Shape => ({ kind: 'inList', operand, values, negated });
export const inRange = (operand: Shape, low: Shape, high: Shape, brackets: '[]' | '[)' | '(]' | '()', negated = false): Shape => ({
  kind: 'inRange',
  operand,
  low,
  high,
  lowInclusive: brackets[0] === '[',
  highInclusive: brackets[1] === ']',
  negated,
});
export const between = (operand: Shape, low: Shape, high: Shape, negated = false): Shape => ({ kind: 'between', operand, low, high, negated });
export const like = (operand: Shape, pattern: Shape, negated = false, escape?: string): Shape => ({
  kind: 'like',
  operand,
  pattern,
  ...(escape !== undefined ? { escape } : {}),
  negated,
});
export const regexp = (operand: Shape, pattern: Shape, negated = false): Shape => ({ kind: 'regexp', operand, pattern, negated });
export const isNull = (operand: Shape, negated = false): Shape => ({ kind: 'isNull', operand, negated });

// ---------------------------------------------------------------------------------------------
// Patterns
// ---------------------------------------------------------------------------------------------

/** `F('a=A', pred...)` is the filter `a=A(pred, ...)`; `F('A')` an untagged one. */
export function F(spec: string, ...predicates: Shape[]): Shape {
  const eq = spec.indexOf('=');
  return eq < 0
    ? { kind: 'filter', eventType: spec, predicates }
    : { kind: 'filter', tag: spec.slice(0, eq), eventType: spec.slice(eq + 1), predicates };
}

/** Followed-by with plain `->` arrows. */
export const fb = (...children: Shape[]): Shape => ({ kind: 'followedBy', children, limits: children.slice(1).map(() => null) });
/** Followed-by with explicit limits (`null` for `->`, n for `-[n]>`). */
export const fbl = (children: Shape[], limits: Array<number | null>): Shape => ({ kind: 'followedBy', children, limits });
export const and = (...children: Shape[]): Shape => ({ kind: 'and', children });
export const or = (...children: Shape[]): Shape => ({ kind: 'or', children });
export const not = (child: Shape): Shape => ({ kind: 'not', child });
export const every = (child: Shape): Shape => ({ kind: 'every', child });
export const everyDistinct = (keys: Shape[], child: Shape, expiryMs?: number): Shape => ({
  kind: 'everyDistinct',
  keys,
  ...(expiryMs !== undefined ? { expiry: { ms: expiryMs } } : {}),
  child,
});

/** Repeat: `rep([3], X)` is `[3] X`, `rep([2, 5], X)`, `rep([undefined, 5], X)` is `[:5] X`, `rep([2, undefined], X)` is `[2:] X`, `rep([], X, Y)` is `X until Y`. */
export function rep(bounds: [number?, number?] | [], child: Shape, until?: Shape): Shape {
  const exact = bounds.length === 1;
  const low = bounds[0];
  const high = exact ? bounds[0] : bounds[1];
  return {
    kind: 'repeat',
    ...(low !== undefined ? { low } : {}),
    ...(high !== undefined ? { high } : {}),
    exact,
    child,
    ...(until ? { until } : {}),
  };
}

/** A parsed time period: fixed milliseconds, plus calendar years and months when the period has any. */
export type Calendar = { years: number; months: number };
const period = (ms: number, calendar?: Calendar) => ({ ms, ...(calendar ? { calendar } : {}) });

export const within = (ms: number, child: Shape, calendar?: Calendar): Shape => ({ kind: 'guard', guard: { kind: 'within', duration: period(ms, calendar) }, child });
export const withinMax = (ms: number, max: number, child: Shape): Shape => ({
  kind: 'guard',
  guard: { kind: 'withinMax', duration: { ms }, max },
  child,
});
export const whileGuard = (condition: Shape, child: Shape): Shape => ({ kind: 'guard', guard: { kind: 'while', condition }, child });
export const interval = (ms: number, calendar?: Calendar): Shape => ({ kind: 'interval', duration: period(ms, calendar) });

export type Cron = Array<Record<string, unknown>>;
export const any: Cron = [{ kind: 'any' }];
export const val = (...values: number[]): Cron => values.map((value) => ({ kind: 'value', value }));
export const range = (low: number, high: number): Cron => [{ kind: 'range', low, high }];
export const step = (n: number): Cron => [{ kind: 'step', step: n }];

/** `timer:at(minutes, hours, days of month, months, days of week [, seconds])` with each field's items. */
export function at(minutes: Cron, hours: Cron, daysOfMonth: Cron, months: Cron, daysOfWeek: Cron, seconds?: Cron): Shape {
  return {
    kind: 'at',
    minutes: { items: minutes },
    hours: { items: hours },
    daysOfMonth: { items: daysOfMonth },
    months: { items: months },
    daysOfWeek: { items: daysOfWeek },
    ...(seconds ? { seconds: { items: seconds } } : {}),
  };
}

// ---------------------------------------------------------------------------------------------
// Units
// ---------------------------------------------------------------------------------------------

export const SEC = 1000;
export const MIN = 60 * SEC;
export const HOUR = 60 * MIN;
export const DAY = 24 * HOUR;
