/**
 * Abstract syntax of Cepheus' Esper-style pattern language.
 *
 * The parser (grammar/*.ne) produces these nodes; the compiler (core/engine) consumes them.
 * Every node carries the span of source text it came from so that semantic errors can point
 * at the exact place (file:line:column plus a caret).
 */

/** Where a node came from. `offset` is 0-based into the parsed text; line and column are 1-based. */
export interface Span {
  offset: number;
  line: number;
  column: number;
  length: number;
}

// ---------------------------------------------------------------------------------------------
// Expressions (filter predicates, guards, emit fields, every-distinct keys)
// ---------------------------------------------------------------------------------------------

export type LiteralValue = number | string | boolean | null;

/** One step of a property path: `items[0]` is `{ name: 'items', index: 0 }`. */
export interface PathSegment {
  name: string;
  /** Array index written as `[n]` right after the name (a non-negative integer literal). */
  index?: number;
  /** Written with `?` (Esper's dynamic property): the path's value has Java's type Object. */
  dynamic?: true;
}

export type Expr =
  | LiteralExpr
  | PathExpr
  | UnaryExpr
  | BinaryExpr
  | InListExpr
  | InRangeExpr
  | BetweenExpr
  | LikeExpr
  | RegexpExpr
  | IsNullExpr
  | CallExpr
  | CaseExpr
  | CastExpr
  | QuantifiedExpr
  | InstanceofExpr;

export interface LiteralExpr {
  kind: 'literal';
  value: LiteralValue;
  /** A string written with a backslash: its text between the quotes, which a `regexp` expression uses. */
  raw?: string;
  /**
   * Esper's type of a number literal when its value alone does not tell it: `10L` is a long, `1.0`, `1e3` and
   * `1d` are doubles, `2f` and `1.5f` floats. Absent, an integral value is an int (a long beyond int's range,
   * as `3000000000` is in Esper) and any other a double. Every number is still a double at run time; the type
   * only decides what Esper would refuse at compile time (`1 & 1L`, `x & 1.0`).
   */
  numberType?: NumberType;
  span: Span;
}

/** The numeric types of Esper's literals and casts (Java's boxed Byte, Short, Integer, Long, Float, Double). */
export type NumberType = 'byte' | 'short' | 'int' | 'long' | 'float' | 'double';

/** Java's Integer.MAX_VALUE: a larger integer literal is a long. */
export const INT_MAX_VALUE = 2 ** 31 - 1;

/** The type of a number literal without LiteralExpr.numberType (see there). */
export function impliedNumberType(value: number): NumberType {
  if (!Number.isInteger(value)) return 'double';
  return Math.abs(value) > INT_MAX_VALUE ? 'long' : 'int';
}

/**
 * A dotted path such as `price`, `geo.country`, `items[0].sku`, `a.country` or `a[0].price`.
 * Whether the first segment names a tag or a property of the current event is decided by the
 * compiler (tags in scope win), not by the parser: the syntax is the same.
 */
export interface PathExpr {
  kind: 'path';
  segments: PathSegment[];
  span: Span;
}

export interface UnaryExpr {
  kind: 'unary';
  op: 'not' | '-' | '+';
  operand: Expr;
  span: Span;
}

export type ArithmeticOp = '+' | '-' | '*' | '/' | '%';
/** `is` and `isNot` are Esper's null-safe equality (`a is b`, `a is not b`). */
export type ComparisonOp = '=' | '!=' | 'is' | 'isNot' | '<' | '<=' | '>' | '>=';
/** `||`: string concatenation. */
export type ConcatOp = '||';
export type LogicalOp = 'and' | 'or';
/** Esper's bitwise and, or and exclusive or: on integers (as Java longs) or on booleans. */
export type BitwiseOp = '&' | '|' | '^';

export interface BinaryExpr {
  kind: 'binary';
  /** `<>` is normalised to `!=`. */
  op: ArithmeticOp | ComparisonOp | LogicalOp | ConcatOp | BitwiseOp;
  left: Expr;
  right: Expr;
  span: Span;
}

/** `x in (v1, v2, ...)` / `x not in (...)`. */
export interface InListExpr {
  kind: 'inList';
  operand: Expr;
  values: Expr[];
  negated: boolean;
  span: Span;
}

/** `x in [lo:hi]`, `x in (lo:hi)`, `x in [lo:hi)`, `x in (lo:hi]`; a bracket is inclusive. */
export interface InRangeExpr {
  kind: 'inRange';
  operand: Expr;
  low: Expr;
  high: Expr;
  lowInclusive: boolean;
  highInclusive: boolean;
  negated: boolean;
  span: Span;
}

/** `x between lo and hi` (inclusive both ends), `x not between ...`. */
export interface BetweenExpr {
  kind: 'between';
  operand: Expr;
  low: Expr;
  high: Expr;
  negated: boolean;
  span: Span;
}

/** SQL LIKE with `%` and `_`; optional `escape 'c'`. */
export interface LikeExpr {
  kind: 'like';
  operand: Expr;
  pattern: Expr;
  escape?: string;
  negated: boolean;
  span: Span;
}

/** `x regexp 'pattern'`: the whole string must match (as Esper/Java `matches`). */
export interface RegexpExpr {
  kind: 'regexp';
  operand: Expr;
  pattern: Expr;
  negated: boolean;
  span: Span;
}

export interface IsNullExpr {
  kind: 'isNull';
  operand: Expr;
  negated: boolean;
  span: Span;
}

/** Function call; `name` is lower-cased (abs, lower, upper, coalesce, length, min, max). */
export interface CallExpr {
  kind: 'call';
  name: string;
  args: Expr[];
  span: Span;
}

/**
 * `case when c then r … [else r] end` (no operand: the first `when` condition that is true picks its result)
 * or `case x when v then r … [else r] end` (the first value equal to x, null matching null, as in Esper).
 * Without a match the result is the `else` expression, or null.
 */
export interface CaseExpr {
  kind: 'case';
  operand?: Expr;
  whens: Array<{ when: Expr; then: Expr }>;
  otherwise?: Expr;
  span: Span;
}

/** `instanceof(x, long, java.lang.Number, …)`: Esper's test of the Java class of a value. */
export interface InstanceofExpr {
  kind: 'instanceof';
  operand: Expr;
  /** The type names as written, and where. */
  types: Array<{ name: string; span: Span }>;
  span: Span;
}

/**
 * `x = any (a, b)`, `x != all (a, b)`, `x > some (a, b)`: Esper's comparison of a value with every value of a
 * list. `some` is read as `any`, `is` as `=` and `is not` as `!=`, as Esper reads them; `<>` as `!=`.
 */
export interface QuantifiedExpr {
  kind: 'quantified';
  op: '=' | '!=' | '<' | '<=' | '>' | '>=';
  quantifier: 'any' | 'all';
  operand: Expr;
  values: Expr[];
  span: Span;
}

/**
 * `cast(x, int)` or `cast(x as int)`: Esper's cast function. `type` is the type's name as written (`int`,
 * `Long`, `java.lang.String`); the compiler resolves it.
 */
export interface CastExpr {
  kind: 'cast';
  operand: Expr;
  type: string;
  typeSpan: Span;
  span: Span;
}

// ---------------------------------------------------------------------------------------------
// Time
// ---------------------------------------------------------------------------------------------

/** A time period such as `5 min`, `2 minutes 5 seconds`, `1.5 sec`; a bare number is seconds. */
export interface Duration {
  /** The fixed part (weeks and smaller units). */
  ms: number;
  /** Whole years and months, added on the calendar before `ms` (as Esper does); absent when none. */
  calendar?: { years: number; months: number };
  /**
   * A period computed as its guard or observer starts, from the tags bound before it (`timer:interval(a.delay)`,
   * `timer:within(a.ttl sec)`): `expr` times `unitMs` (1000 for a bare expression: seconds). `ms` is then 0.
   */
  computed?: { expr: Expr; unitMs: number };
  span: Span;
}

/**
 * One field of a `timer:at` schedule. `*` is `{kind:'any'}`; `*\/n` is a step over the whole
 * range; `lo:hi` a range (Esper writes ranges with a colon); `[a, b, lo:hi]` a list.
 */
export type CronItem =
  | { kind: 'any' }
  | { kind: 'value'; value: number }
  | { kind: 'range'; low: number; high: number }
  | { kind: 'step'; low?: number; high?: number; step: number };

export interface CronField {
  items: CronItem[];
  span: Span;
}

// ---------------------------------------------------------------------------------------------
// Patterns
// ---------------------------------------------------------------------------------------------

export type PatternNode =
  | FilterPattern
  | FollowedByPattern
  | AndPattern
  | OrPattern
  | NotPattern
  | EveryPattern
  | EveryDistinctPattern
  | RepeatPattern
  | GuardPattern
  | IntervalPattern
  | AtPattern
  | SchedulePattern;

/** `[tag=]type[(expr, ...)]`: the commas mean AND. */
export interface FilterPattern {
  kind: 'filter';
  tag?: string;
  tagSpan?: Span;
  eventType: string;
  predicates: Expr[];
  span: Span;
}

/**
 * `A -> B -> C`, flattened. `limits[i]` belongs to the arrow between children i and i+1:
 * `-[n]>` gives n (max concurrent sub-expression instances of the right side), `->` gives null.
 */
export interface FollowedByPattern {
  kind: 'followedBy';
  children: PatternNode[];
  limits: Array<number | null>;
  span: Span;
}

export interface AndPattern {
  kind: 'and';
  children: PatternNode[];
  span: Span;
}

export interface OrPattern {
  kind: 'or';
  children: PatternNode[];
  span: Span;
}

export interface NotPattern {
  kind: 'not';
  child: PatternNode;
  span: Span;
}

export interface EveryPattern {
  kind: 'every';
  child: PatternNode;
  span: Span;
}

/** `every-distinct(k1, k2 [, expiry]) child`. */
export interface EveryDistinctPattern {
  kind: 'everyDistinct';
  keys: Expr[];
  expiry?: Duration;
  child: PatternNode;
  span: Span;
}

/**
 * The repeat (match-until) operator:
 * `[n] X` → low = high = n; `[lo:hi] X` → both; `[:hi] X` → low undefined; `[lo:] X` → high
 * undefined; `X until Y` → neither bound. `until` holds Y when given.
 */
export interface RepeatPattern {
  kind: 'repeat';
  low?: number;
  high?: number;
  /** True when written with a single bound `[n]` (exactly n). */
  exact: boolean;
  child: PatternNode;
  until?: PatternNode;
  span: Span;
}

export type Guard =
  | { kind: 'within'; duration: Duration; span: Span }
  | { kind: 'withinMax'; duration: Duration; max: number; span: Span }
  | { kind: 'while'; condition: Expr; span: Span };

/** `X where timer:within(d)`, `X where timer:withinmax(d, n)`, `X while (expr)`. */
export interface GuardPattern {
  kind: 'guard';
  guard: Guard;
  child: PatternNode;
  span: Span;
}

/** `timer:interval(d)`. */
export interface IntervalPattern {
  kind: 'interval';
  duration: Duration;
  span: Span;
}

/** `timer:at(minutes, hours, days-of-month, months, days-of-week [, seconds])`. */
export interface AtPattern {
  kind: 'at';
  minutes: CronField;
  hours: CronField;
  daysOfMonth: CronField;
  months: CronField;
  daysOfWeek: CronField;
  seconds?: CronField;
  span: Span;
}

/**
 * `timer:schedule(iso: 'R3/2025-01-01T00:00:00Z/PT1H')`, or with `date`, `period` and `repetitions` (Esper's
 * named parameters; `iso` excludes the others, and `date` or `period` is required).
 */
export interface SchedulePattern {
  kind: 'schedule';
  iso?: Expr;
  date?: Expr;
  period?: Duration;
  repetitions?: Expr;
  span: Span;
}

// ---------------------------------------------------------------------------------------------
// The EPL-style statement of a `.cep` file
// ---------------------------------------------------------------------------------------------

export interface Annotation {
  /** Lower-cased annotation name: name, description, severity, source, label, enabled, ... */
  name: string;
  args: LiteralValue[];
  span: Span;
}

export interface SelectItem {
  expr: Expr;
  alias: string;
  span: Span;
}

/**
 * ```
 * @name('impossible-travel') @severity('critical') @source('user-events')
 * partition by user_id
 * select login.user_id as user, purchase.country as to_country
 * from pattern [every login=login -> purchase=purchase(country != login.country) where timer:within(5 min)]
 * ```
 * `select *` gives an empty `select` list.
 */
export interface CepStatement {
  annotations: Annotation[];
  partitionBy?: { field: string; span: Span };
  select: SelectItem[];
  pattern: PatternNode;
  /** The pattern's text exactly as written between the brackets, and where it starts. */
  patternText: string;
  patternSpan: Span;
  span: Span;
}
