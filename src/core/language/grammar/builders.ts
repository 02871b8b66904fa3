/**
 * Postprocessors of the nearley grammar (grammar/*.ne): they turn the matched tokens and sub-results into the
 * AST of ../ast.ts, with spans, and reject what the grammar lets through but the language does not (unknown
 * `ns:name`, out-of-range `timer:at` fields, unordered time periods, ...) by throwing a RuleError that points at
 * the offending text.
 *
 * Throwing from a postprocessor is safe: nearley runs one when its rule has read all of its tokens, so any earlier
 * syntax error has already been reported, and the constructs that validate (guards, observers, time periods,
 * repeat ranges, arrows, every-distinct, like escapes, indexes) have no other reading of their tokens in this
 * unambiguous grammar, so an invalid one makes the whole input invalid.
 *
 * Every function takes nearley's `d` (the values of the rule's symbols) and runs in constant time; the n-ary
 * operators record their operands in a persistent list that {@link finalizePattern} turns into arrays once.
 */
import type {
  AndPattern,
  Annotation,
  AtPattern,
  CaseExpr,
  CepStatement,
  CronField,
  CronItem,
  Duration,
  EveryDistinctPattern,
  Expr,
  FilterPattern,
  FollowedByPattern,
  Guard,
  GuardPattern,
  LiteralValue,
  NumberType,
  OrPattern,
  PathExpr,
  PathSegment,
  PatternNode,
  RepeatPattern,
  SchedulePattern,
  SelectItem,
  Span,
} from '../ast';
import { impliedNumberType, INT_MAX_VALUE } from '../ast';
import { diagnosticAt, RuleError } from '../diagnostics';
import { TIME_UNITS, periodSeconds, rawString, wholeMilliseconds, type Token } from './lexer';

// ---------------------------------------------------------------------------------------------
// Spans and errors
// ---------------------------------------------------------------------------------------------

type Spanned = Token | { span: Span } | Span;

export function tokenSpan(t: Token): Span {
  return { offset: t.offset, line: t.line, column: t.col, length: t.text.length };
}

function spanOfOne(x: Spanned): Span {
  if ('span' in x) return x.span;
  if ('text' in x) return tokenSpan(x);
  return x;
}

/** The span from the start of `first` to the end of `last`. */
export function span(first: Spanned, last: Spanned = first): Span {
  const a = spanOfOne(first);
  const b = spanOfOne(last);
  return { offset: a.offset, line: a.line, column: a.column, length: b.offset + b.length - a.offset };
}

export function fail(at: Spanned, message: string): never {
  throw new RuleError([diagnosticAt(spanOfOne(at), message)]);
}

/** A name (identifier, quoted identifier, time unit or statement word used as a name) and where it is. */
export interface Name {
  value: string;
  span: Span;
}

export function name(d: [Token]): Name {
  return { value: d[0].value, span: tokenSpan(d[0]) };
}

/** `a.b.c` as one name (event types may be dotted, like Esper's class identifiers). */
export function dottedName(d: [Name, Array<[Token, Name]>]): Name {
  const [head, tail] = d;
  if (tail.length === 0) return head;
  const last = tail[tail.length - 1][1];
  return { value: [head, ...tail.map((t) => t[1])].map((n) => n.value).join('.'), span: span(head, last) };
}

/** A non-negative integer literal (repeat bounds, array indexes, `-[n]>`, cron values). */
export function integer(t: Token, what: string): number {
  if (!/^[0-9]+$/.test(t.text)) fail(t, `${what} must be a non-negative integer, got '${t.text}'`);
  const n = Number(t.text);
  if (!Number.isSafeInteger(n)) fail(t, `${what} is too large: ${t.text}`);
  return n;
}

/** A parenthesised expression or pattern: the same node, its span widened to include the parentheses. */
export function parenthesized<T extends { span: Span }>(d: [Token, T, Token]): T {
  return { ...d[1], span: span(d[0], d[2]) };
}

// ---------------------------------------------------------------------------------------------
// Expressions
// ---------------------------------------------------------------------------------------------

export function numberLiteral(d: [Token]): Expr {
  const value = numberValue(d[0].text);
  const type = numberTypeOf(d[0].text, value);
  return { kind: 'literal', value, ...(type !== impliedNumberType(value) ? { numberType: type } : {}), span: tokenSpan(d[0]) };
}

/** Esper's type of a number token of value `value`, as Java reads the literal (an integer beyond int's range is a long). */
function numberTypeOf(text: string, value: number): NumberType {
  const integer = value > INT_MAX_VALUE ? 'long' : 'int';
  if (/^0[xX]/.test(text)) return /[lL]$/.test(text) ? 'long' : integer;
  if (/[lL]$/.test(text)) return 'long';
  if (/[fF]$/.test(text)) return 'float';
  if (/[dD.eE]/.test(text)) return 'double';
  return integer;
}

/** The value of a number token: every number is a double (a type suffix `10L`, `1.5d` changes nothing but the type). */
export function numberValue(text: string): number {
  const hex = /^0[xX]/.test(text);
  const value = Number(hex ? text.replace(/[lL]$/, '') : text.replace(/[lLfFdD]$/, ''));
  // A float literal is Java's float nearest the number (0.1f is 0.100000001490116…), as Esper reads it.
  return !hex && /[fF]$/.test(text) ? Math.fround(value) : value;
}

export function stringLiteral(d: [Token]): Expr {
  const raw = d[0].text.includes('\\') ? { raw: rawString(d[0].text) } : {};
  return { kind: 'literal', value: d[0].value, ...raw, span: tokenSpan(d[0]) };
}

export function keywordLiteral(d: [Token]): Expr {
  const word = d[0].type;
  const value = word === 'kw_true' ? true : word === 'kw_false' ? false : null;
  return { kind: 'literal', value, span: tokenSpan(d[0]) };
}

interface SegmentResult {
  segment: PathSegment;
  span: Span;
}

export function pathSegment(d: [Name, [Token, Token, Token] | null, Token | null]): SegmentResult {
  const [n, index, question] = d;
  const segment: PathSegment = index ? { name: n.value, index: integer(index[1], 'an array index') } : { name: n.value };
  if (question) segment.dynamic = true;
  const end = question ?? (index ? index[2] : null);
  return { segment, span: end ? span(n, end) : n.span };
}

export function path(d: [SegmentResult, Array<[Token, SegmentResult]>]): PathExpr {
  const [head, tail] = d;
  const last = tail.length > 0 ? tail[tail.length - 1][1] : head;
  return { kind: 'path', segments: [head.segment, ...tail.map((t) => t[1].segment)], span: span(head, last) };
}

export function call(d: [Name, Token, ListChain<Expr> | null, Token]): Expr {
  const name = d[0].value.toLowerCase();
  const args = items(d[2]);
  if (name === 'cast') return castCall(args, span(d[0], d[3]));
  if (name === 'instanceof') return instanceofCall(args, span(d[0], d[3]));
  return { kind: 'call', name, args, span: span(d[0], d[3]) };
}

/** A type's name written as a path argument (`long`, `java.lang.Number`), or undefined for another argument. */
function typeName(arg: Expr): { name: string; span: Span } | undefined {
  if (arg.kind !== 'path' || arg.segments.some((s) => s.index !== undefined)) return undefined;
  return { name: arg.segments.map((s) => s.name).join('.'), span: arg.span };
}

/** `instanceof(x, type, …)`, read as a call. */
function instanceofCall(args: Expr[], whole: Span): Expr {
  if (args.length < 2) fail(whole, 'instanceof takes a value and one or more types, as in instanceof(x, long, double)');
  const types = args.slice(1).map((a) => typeName(a) ?? fail(a, 'the types of instanceof are type names, such as long, string or java.lang.Number'));
  return { kind: 'instanceof', operand: args[0], types, span: whole };
}

/** `cast(x, type)`, read as a call: the second argument must be a type's name (`int`, `java.lang.Long`). */
function castCall(args: Expr[], whole: Span): Expr {
  const [operand, type] = args;
  if (args.length !== 2) fail(whole, `cast takes a value and a type, as in cast(x, int) or cast(x as int); got ${args.length} argument${args.length === 1 ? '' : 's'}`);
  const t = typeName(type) ?? fail(type, 'the second argument of cast must be a type, such as int, long, double or string');
  return { kind: 'cast', operand, type: t.name, typeSpan: t.span, span: whole };
}

/** `cast(x as type)`. */
export function castAs(d: [Token, Token, Expr, Token, Name, Token]): Expr {
  return { kind: 'cast', operand: d[2], type: d[4].value, typeSpan: d[4].span, span: span(d[0], d[5]) };
}

type CaseWhen = CaseExpr['whens'][number];

export function caseWhen(d: [Token, Expr, Token, Expr]): CaseWhen {
  return { when: d[1], then: d[3] };
}

export function caseElse(d: [Token, Expr]): Expr {
  return d[1];
}

/** `case when c then r … [else r] end`. */
export function caseSearched(d: [Token, ListChain<CaseWhen>, Expr | null, Token]): Expr {
  const [start, whens, otherwise, end] = d;
  return { kind: 'case', whens: items(whens), ...(otherwise ? { otherwise } : {}), span: span(start, end) };
}

/** `case x when v then r … [else r] end`. */
export function caseSimple(d: [Token, Expr, ListChain<CaseWhen>, Expr | null, Token]): Expr {
  const [start, operand, whens, otherwise, end] = d;
  return { kind: 'case', operand, whens: items(whens), ...(otherwise ? { otherwise } : {}), span: span(start, end) };
}

/**
 * A list as the parser builds it, one item at a time, newest first and sharing the earlier items. The list's
 * rule completes after every item; copying an array each time made a long list (an `in` list of thousands
 * of values) quadratic. The rule around the list, which completes once, turns it into an array (items).
 */
export interface ListChain<T> {
  readonly item: T;
  readonly before: ListChain<T> | null;
  readonly length: number;
}

/** `list -> item`. */
export function listStart<T>(d: [T]): ListChain<T> {
  return { item: d[0], before: null, length: 1 };
}

/** `list -> list "," item`. */
export function listAdd<T>(d: [ListChain<T>, Token, T]): ListChain<T> {
  return { item: d[2], before: d[0], length: d[0].length + 1 };
}

/** `list -> list item` over an empty start (null). */
export function listAppend<T>(d: [ListChain<T> | null, T]): ListChain<T> {
  return { item: d[1], before: d[0], length: (d[0]?.length ?? 0) + 1 };
}

/** The items of a list in order (empty for null: an optional list that is absent). */
export function items<T>(chain: ListChain<T> | null | undefined): T[] {
  if (!chain) return [];
  const out = new Array<T>(chain.length);
  let i = chain.length - 1;
  for (let c: ListChain<T> | null = chain; c !== null; c = c.before) out[i--] = c.item;
  return out;
}

export function unary(d: [Token, Expr]): Expr {
  const op = d[0].type === 'kw_not' ? 'not' : (d[0].text as '-' | '+');
  return { kind: 'unary', op, operand: d[1], span: span(d[0], d[1]) };
}

export function binary(d: [Expr, Token, Expr]): Expr {
  const text = d[1].type === 'kw_and' ? 'and' : d[1].type === 'kw_or' ? 'or' : d[1].text;
  const op = (text === '<>' ? '!=' : text) as Extract<Expr, { kind: 'binary' }>['op'];
  return { kind: 'binary', op, left: d[0], right: d[2], span: span(d[0], d[2]) };
}

export function inList(d: [Expr, Token | null, Token, Token, ListChain<Expr>, Token]): Expr {
  return { kind: 'inList', operand: d[0], values: items(d[4]), negated: d[1] !== null, span: span(d[0], d[5]) };
}

export function inRange(d: [Expr, Token | null, Token, [Token], Expr, Token, Expr, [Token]]): Expr {
  const open = d[3][0];
  const close = d[7][0];
  return {
    kind: 'inRange',
    operand: d[0],
    low: d[4],
    high: d[6],
    lowInclusive: open.text === '[',
    highInclusive: close.text === ']',
    negated: d[1] !== null,
    span: span(d[0], close),
  };
}

export function between(d: [Expr, Token | null, Token, Expr, Token, Expr]): Expr {
  return { kind: 'between', operand: d[0], low: d[3], high: d[5], negated: d[1] !== null, span: span(d[0], d[5]) };
}

export function like(d: [Expr, Token | null, Token, Expr, [Token, Token] | null]): Expr {
  const [operand, not, , pattern, escape] = d;
  // One UTF-16 unit, as Esper's (Java's) char: the one place this is checked.
  if (escape && escape[1].value.length !== 1) {
    fail(escape[1], `the escape of 'like' must be a single character, got '${escape[1].value}'`);
  }
  return {
    kind: 'like',
    operand,
    pattern,
    ...(escape ? { escape: escape[1].value } : {}),
    negated: not !== null,
    span: span(operand, escape ? escape[1] : pattern),
  };
}

export function regexp(d: [Expr, Token | null, Token, Expr]): Expr {
  return { kind: 'regexp', operand: d[0], pattern: d[3], negated: d[1] !== null, span: span(d[0], d[3]) };
}

/** `x op any|some|all (values)`. */
export function quantified(d: [Expr, Token, Token, Token, ListChain<Expr> | null, Token]): Expr {
  const [operand, opToken, quantifier, , values, close] = d;
  const op = (opToken.text === '<>' ? '!=' : opToken.text) as Extract<Expr, { kind: 'quantified' }>['op'];
  return { kind: 'quantified', op, quantifier: quantifier.type === 'kw_all' ? 'all' : 'any', operand, values: items(values), span: span(operand, close) };
}

/** `x is [not] any|some|all (values)`: Esper reads `is` as `=` there. */
export function quantifiedIs(d: [Expr, Token, Token | null, Token, Token, ListChain<Expr> | null, Token]): Expr {
  const [operand, is, not, quantifier, open, values, close] = d;
  return quantified([operand, { ...(not ?? is), text: not ? '!=' : '=' }, quantifier, open, values, close]);
}

/** `x is [not] y`: `is [not] null` is the null test, any other right side Esper's null-safe equality. */
export function isExpr(d: [Expr, Token, Token | null, Expr]): Expr {
  const [left, , not, right] = d;
  if (right.kind === 'literal' && right.value === null) return { kind: 'isNull', operand: left, negated: not !== null, span: span(left, right) };
  return { kind: 'binary', op: not !== null ? 'isNot' : 'is', left, right, span: span(left, right) };
}

// ---------------------------------------------------------------------------------------------
// Time periods and the arguments of guards and observers
// ---------------------------------------------------------------------------------------------

interface DurationPart {
  value: number;
  /** Where the number is written. */
  at: Spanned;
  unit: Token;
}

export function durationPart(d: [Token, Token]): DurationPart {
  return { value: numberValue(d[0].text), at: d[0], unit: d[1] };
}

/** Past this, dates leave the range a time can hold (and no rule means it). */
const MAX_CALENDAR_MONTHS = 12 * 10_000;
/** The longest fixed period (10 000 years, as for calendar periods): beyond it a timer would overflow. */
const MAX_PERIOD_MS = 10_000 * 366 * 24 * 3600 * 1000;

function checkedMs(ms: number, at: Spanned): number {
  if (!(ms <= MAX_PERIOD_MS)) fail(at, `a time period of more than ${MAX_CALENDAR_MONTHS / 12} years`);
  return ms;
}

/**
 * `2 minutes 5 seconds`: components in descending order, each unit at most once. A period of one part goes
 * through durationOfOnePart instead (`expr unit`), so this reading of it is rejected: one parse per input.
 */
export function duration(d: [DurationPart[]], _location?: number, reject?: object): Duration | object {
  if (d[0].length === 1 && reject) return reject;
  return periodOf(d[0]);
}

/** Periods with a part that is not a whole number (`1.5 sec`): timer:schedule refuses them (Esper would truncate). */
const FRACTIONAL_PERIODS = new WeakSet<Duration>();

function periodOf(parts: DurationPart[]): Duration {
  let years = 0;
  let months = 0;
  let previous: { rank: number; canonical: string } | undefined;
  for (const part of parts) {
    const unit = TIME_UNITS.get(part.unit.text.toLowerCase());
    if (!unit) fail(part.unit, `unknown time unit '${part.unit.text}'`);
    if (previous && unit.rank === previous.rank) {
      fail(part.unit, `the time period gives '${unit.canonical}' twice`);
    }
    if (previous && unit.rank < previous.rank) {
      fail(part.unit, `the parts of a time period go from the largest unit to the smallest: '${unit.canonical}' cannot follow '${previous.canonical}'`);
    }
    previous = unit;
  }
  // With years or months the period is added on the calendar (Jan 31 + 1 month is the end of February), and
  // Esper then takes every part as a whole number (1.5 months is 1 month, 1 month 1.5 sec is 1 month 1 sec).
  const calendar = parts.some((p) => ['year', 'month'].includes(TIME_UNITS.get(p.unit.text.toLowerCase())!.canonical));
  // Esper sums the parts in seconds, then rounds once.
  let seconds = 0;
  for (const part of parts) {
    const unit = TIME_UNITS.get(part.unit.text.toLowerCase())!;
    const n = calendar ? Math.trunc(part.value) : part.value;
    if (unit.canonical === 'year') years = n;
    else if (unit.canonical === 'month') months = n;
    else seconds += periodSeconds(n, unit.ms);
  }
  const where = span(parts[0].at, parts[parts.length - 1].unit);
  if (years * 12 + months > MAX_CALENDAR_MONTHS) fail(where, `a time period of more than ${MAX_CALENDAR_MONTHS / 12} years`);
  const period: Duration = {
    ms: checkedMs(wholeMilliseconds(seconds), where),
    ...(calendar ? { calendar: { years, months } } : {}),
    span: where,
  };
  if (parts.some((p) => !Number.isInteger(p.value))) FRACTIONAL_PERIODS.add(period);
  return period;
}

interface CronItemArg {
  item: CronItem;
  /** The numbers of the item and where each is written, for the range checks of its field. */
  numbers: Array<{ value: number; at: Spanned }>;
  span: Span;
}

/** One argument of a guard or observer: an expression, a time period or a `timer:at` schedule element. */
export type TimeArg =
  | { kind: 'expr'; expr: Expr; span: Span }
  | { kind: 'duration'; duration: Duration; span: Span }
  | { kind: 'cron'; items: CronItemArg[]; list: boolean; span: Span }
  | { kind: 'named'; name: Name; value: TimeArg; span: Span };

/** `name: value`, a named parameter (timer:schedule's). */
export function namedArg(d: [Name, Token, TimeArg]): TimeArg {
  return { kind: 'named', name: d[0], value: d[2], span: span(d[0], d[2]) };
}

export function exprArg(d: [Expr]): TimeArg {
  return { kind: 'expr', expr: d[0], span: d[0].span };
}

export function durationArg(d: [Duration]): TimeArg {
  return { kind: 'duration', duration: d[0], span: d[0].span };
}

/**
 * `expr unit`, a time period of one part: `5 min` (a number: a plain period) or `a.ttl sec` (any other
 * expression: computed when its guard or observer starts).
 */
export function durationOfOnePart(d: [Expr, Token]): TimeArg {
  const [expr, unitToken] = d;
  if (expr.kind === 'literal' && typeof expr.value === 'number') {
    const duration = periodOf([{ value: expr.value, at: expr, unit: unitToken }]);
    return { kind: 'duration', duration, span: duration.span };
  }
  const unit = TIME_UNITS.get(unitToken.text.toLowerCase());
  if (!unit) fail(unitToken, `unknown time unit '${unitToken.text}'`);
  if (unit.canonical === 'year' || unit.canonical === 'month') {
    fail(unitToken, `a computed time period cannot count ${unit.canonical}s, which have no fixed length: use days`);
  }
  const whole = span(expr, unitToken);
  return { kind: 'duration', duration: { ms: 0, computed: { expr, unitMs: unit.ms }, span: whole }, span: whole };
}

export function cronArg(d: [CronItemArg]): TimeArg {
  return { kind: 'cron', items: [d[0]], list: false, span: d[0].span };
}

export function cronList(d: [Token, ListChain<CronItemArg>, Token]): TimeArg {
  return { kind: 'cron', items: items(d[1]), list: true, span: span(d[0], d[2]) };
}

export function cronStar(d: [Token]): CronItemArg {
  return { item: { kind: 'any' }, numbers: [], span: tokenSpan(d[0]) };
}

export function cronValue(d: [Token]): CronItemArg {
  const value = integer(d[0], 'a timer:at value');
  return { item: { kind: 'value', value }, numbers: [{ value, at: d[0] }], span: tokenSpan(d[0]) };
}

export function cronRange(d: [Token, Token, Token]): CronItemArg {
  const low = integer(d[0], 'a timer:at range bound');
  const high = integer(d[2], 'a timer:at range bound');
  return {
    item: { kind: 'range', low, high },
    numbers: [
      { value: low, at: d[0] },
      { value: high, at: d[2] },
    ],
    span: span(d[0], d[2]),
  };
}

export function cronStep(d: [Token, Token, Token]): CronItemArg {
  const step = integer(d[2], 'a timer:at step');
  if (step < 1) fail(d[2], 'a timer:at step must be at least 1');
  return { item: { kind: 'step', step }, numbers: [], span: span(d[0], d[2]) };
}

/** A time period argument: `5 min`, or a bare number of seconds. */
function durationOf(arg: TimeArg | undefined, at: Spanned, what: string): Duration {
  if (!arg) fail(at, `${what} needs a time period, such as 10 sec`);
  if (arg.kind === 'duration') return arg.duration;
  if (arg.kind === 'expr' && arg.expr.kind === 'literal' && typeof arg.expr.value === 'number') {
    return { ms: checkedMs(wholeMilliseconds(arg.expr.value), arg.span), span: arg.span };
  }
  // Any other expression is a number of seconds computed as the guard or observer starts (the pattern compiler
  // checks its type and the tags it reads).
  if (arg.kind === 'expr' && arg.expr.kind !== 'literal') return { ms: 0, computed: { expr: arg.expr, unitMs: 1000 }, span: arg.span };
  return fail(arg, `${what} needs a time period, such as 10 sec or 1 minute 30 seconds`);
}

function positiveIntegerOf(arg: TimeArg | undefined, at: Spanned, what: string): number {
  if (!arg) fail(at, `${what} is missing`);
  if (arg.kind === 'expr' && arg.expr.kind === 'literal' && typeof arg.expr.value === 'number') {
    const value = arg.expr.value;
    if (Number.isSafeInteger(value) && value >= 1) return value;
  }
  return fail(arg, `${what} must be a positive integer`);
}

function arity(args: TimeArg[], min: number, max: number, qualified: string, close: Token, usage: string): void {
  if (args.length < min || args.length > max) {
    const at = args.length > max ? args[max] : close;
    const count = min === max ? `${min}` : max === min + 1 ? `${min} or ${max}` : `${min} to ${max}`;
    fail(at, `${qualified} takes ${count} parameter${max === 1 ? '' : 's'}: ${usage}`);
  }
}

const CRON_FIELDS: Array<{ key: keyof Omit<AtPattern, 'kind' | 'span'>; label: string; min: number; max: number }> = [
  { key: 'minutes', label: 'minutes', min: 0, max: 59 },
  { key: 'hours', label: 'hours', min: 0, max: 23 },
  { key: 'daysOfMonth', label: 'days of month', min: 1, max: 31 },
  { key: 'months', label: 'months', min: 1, max: 12 },
  { key: 'daysOfWeek', label: 'days of week', min: 0, max: 6 },
  { key: 'seconds', label: 'seconds', min: 0, max: 59 },
];

function cronField(arg: TimeArg, field: (typeof CRON_FIELDS)[number]): CronField {
  if (arg.kind === 'duration') fail(arg, `timer:at ${field.label} cannot be a time period`);
  let items: CronItemArg[];
  if (arg.kind === 'cron') {
    items = arg.items;
  } else if (arg.kind === 'expr' && arg.expr.kind === 'literal' && typeof arg.expr.value === 'number') {
    const value = arg.expr.value;
    if (!Number.isSafeInteger(value)) fail(arg, `timer:at ${field.label} must be whole numbers, got ${value}`);
    items = [{ item: { kind: 'value', value }, numbers: [{ value, at: arg }], span: arg.span }];
  } else {
    return fail(arg, `timer:at ${field.label}: expected a number, *, */n, lo:hi or a [list]`);
  }
  for (const it of items) {
    for (const n of it.numbers) {
      if (n.value < field.min || n.value > field.max) {
        fail(n.at, `timer:at ${field.label} must be between ${field.min} and ${field.max}, got ${n.value}`);
      }
    }
    if (it.item.kind === 'range' && it.item.low > it.item.high) {
      fail(it, `timer:at ${field.label} range ${it.item.low}:${it.item.high} is empty (low > high)`);
    }
    if (it.item.kind === 'step' && it.item.step > field.max) {
      fail(it, `timer:at ${field.label} step must be at most ${field.max}, got ${it.item.step}`);
    }
  }
  return { items: items.map((i) => i.item), span: arg.span };
}

const GUARDS = new Set(['timer:within', 'timer:withinmax']);
const OBSERVERS = new Set(['timer:interval', 'timer:at', 'timer:schedule']);

/** Only timer:schedule takes named parameters (`iso: ...`); anywhere else one is an error at its name. */
function noNamedArgs(args: TimeArg[], qualified: string): void {
  const named = args.find((a) => a.kind === 'named');
  if (named?.kind === 'named') fail(named.name, `${qualified} takes no named parameters`);
}

const SCHEDULE_PARAMETERS = ['iso', 'repetitions', 'date', 'period'] as const;

/**
 * `timer:schedule(...)`: Esper's named parameters, checked as Esper checks them (TimerScheduleObserverForge):
 * names in any case, each once, `iso` alone, otherwise `date` or `period`. Values are typed by the compiler.
 */
function scheduleObserver(args: TimeArg[], qualified: string, close: Token, whole: Span): SchedulePattern {
  const usage = `${qualified} takes named parameters: iso, or date, period and repetitions, as in ${qualified}(iso: 'R/PT10S')`;
  if (args.length === 0) fail(close, usage);
  const given = new Map<string, Extract<TimeArg, { kind: 'named' }>>();
  for (const arg of args) {
    if (arg.kind !== 'named') return fail(arg, usage);
    const key = arg.name.value.toLowerCase();
    if (!(SCHEDULE_PARAMETERS as readonly string[]).includes(key)) {
      fail(arg.name, `unknown parameter '${arg.name.value}' of ${qualified} (known: ${SCHEDULE_PARAMETERS.join(', ')})`);
    }
    if (given.has(key)) fail(arg.name, `the parameter '${key}' of ${qualified} is given twice`);
    given.set(key, arg);
  }
  const iso = given.get('iso');
  if (iso && given.size > 1) fail([...given.values()].find((a) => a !== iso)!.name, `the 'iso' parameter of ${qualified} excludes the others`);
  if (!iso && !given.has('date') && !given.has('period')) fail(args[0], `${qualified} needs a date or a period (or iso)`);
  const expression = (key: string): Expr | undefined => {
    const arg = given.get(key);
    if (!arg) return undefined;
    if (arg.value.kind !== 'expr') fail(arg.value, `the '${key}' parameter of ${qualified} is an expression, not a time period`);
    return arg.value.expr;
  };
  const periodArg = given.get('period');
  let period: Duration | undefined;
  if (periodArg) {
    const v = periodArg.value;
    if (v.kind !== 'duration') fail(v, `the 'period' parameter of ${qualified} needs a time period, such as 10 sec`);
    if (FRACTIONAL_PERIODS.has(v.duration)) {
      fail(v, `the parts of a ${qualified} period are whole numbers (Esper would truncate them): write 1500 msec, not 1.5 sec`);
    }
    period = v.duration;
  }
  const repetitions = expression('repetitions');
  if (repetitions && !period) fail(given.get('repetitions')!.name, `repetitions of ${qualified} need a period`);
  const out: SchedulePattern = { kind: 'schedule', span: whole };
  const isoExpr = expression('iso');
  const date = expression('date');
  if (isoExpr) out.iso = isoExpr;
  if (date) out.date = date;
  if (period) out.period = period;
  if (repetitions) out.repetitions = repetitions;
  return out;
}

// ---------------------------------------------------------------------------------------------
// Patterns
// ---------------------------------------------------------------------------------------------

export function filter(d: [Name | null, Name, [Token, ListChain<Expr> | null, Token] | null]): FilterPattern {
  const [tag, type, args] = d;
  const first = tag ?? type;
  return {
    kind: 'filter',
    ...(tag ? { tag: tag.value, tagSpan: tag.span } : {}),
    eventType: type.value,
    predicates: args ? items(args[1]) : [],
    span: span(first, args ? args[2] : type),
  };
}

export function observer(d: [Name, Token, Name, Token, ListChain<TimeArg> | null, Token]): PatternNode {
  const [ns, , nm, , argList, close] = d;
  const args = items(argList);
  const qualified = `${ns.value}:${nm.value}`;
  const key = qualified.toLowerCase();
  const whole = span(ns, close);
  if (!OBSERVERS.has(key)) {
    if (GUARDS.has(key)) fail(span(ns, nm), `'${qualified}' is a guard: write it after a pattern, as in 'A where ${qualified}(...)'`);
    fail(span(ns, nm), `unknown observer '${qualified}' (known: timer:interval, timer:at, timer:schedule)`);
  }
  if (key === 'timer:schedule') return scheduleObserver(args, qualified, close, whole);
  noNamedArgs(args, qualified);
  if (key === 'timer:interval') {
    arity(args, 1, 1, qualified, close, 'the time period');
    return { kind: 'interval', duration: durationOf(args[0], close, qualified), span: whole };
  }
  arity(args, 5, 6, qualified, close, 'minutes, hours, days of month, months, days of week [, seconds]');
  const at: Partial<AtPattern> = { kind: 'at' };
  args.forEach((arg, i) => {
    const field = CRON_FIELDS[i];
    (at as Record<string, unknown>)[field.key] = cronField(arg, field);
  });
  at.span = whole;
  return at as AtPattern;
}

function guardNode(child: PatternNode, guard: Guard): GuardPattern {
  return { kind: 'guard', guard, child, span: span(child, guard) };
}

export function whereGuard(d: [PatternNode, Token, Name, Token, Name, Token, ListChain<TimeArg> | null, Token]): GuardPattern {
  const [child, where, ns, , nm, , argList, close] = d;
  const args = items(argList);
  const qualified = `${ns.value}:${nm.value}`;
  const key = qualified.toLowerCase();
  const guardSpan = span(where, close);
  if (!GUARDS.has(key)) {
    if (OBSERVERS.has(key)) fail(span(ns, nm), `'${qualified}' is an observer, not a guard (guards: timer:within, timer:withinmax)`);
    fail(span(ns, nm), `unknown guard '${qualified}' (known: timer:within, timer:withinmax)`);
  }
  noNamedArgs(args, qualified);
  if (key === 'timer:within') {
    arity(args, 1, 1, qualified, close, 'the time period');
    return guardNode(child, { kind: 'within', duration: durationOf(args[0], close, qualified), span: guardSpan });
  }
  arity(args, 2, 2, qualified, close, 'the time period, the maximum number of matches');
  return guardNode(child, {
    kind: 'withinMax',
    duration: durationOf(args[0], close, qualified),
    max: positiveIntegerOf(args[1], close, `the maximum number of matches of ${qualified}`),
    span: guardSpan,
  });
}

export function whileGuard(d: [PatternNode, Token, Token, Expr, Token]): GuardPattern {
  return guardNode(d[0], { kind: 'while', condition: d[3], span: span(d[1], d[4]) });
}

/** A `[n]`, `[lo:hi]`, `[:hi]` or `[lo:]` repeat range. */
export interface RepeatRange {
  low?: number;
  high?: number;
  exact: boolean;
  span: Span;
}

export function exactRange(d: [Token, Token, Token]): RepeatRange {
  const n = integer(d[1], 'a repeat count');
  if (n < 1) fail(d[1], 'a repeat count must be at least 1');
  return { low: n, high: n, exact: true, span: span(d[0], d[2]) };
}

export function boundedRange(d: [Token, Token | null, Token, Token | null, Token]): RepeatRange {
  const [open, lowTok, , highTok, close] = d;
  const low = lowTok ? integer(lowTok, 'a repeat bound') : undefined;
  const high = highTok ? integer(highTok, 'a repeat bound') : undefined;
  if (low === undefined && high === undefined) fail(span(open, close), "a repeat range needs at least one bound, as in '[2:]' or '[:5]'");
  if (high !== undefined && high < 1) fail(highTok!, 'the upper bound of a repeat range must be at least 1');
  if (low !== undefined && high !== undefined && low > high) {
    fail(span(open, close), `the repeat range [${low}:${high}] is empty: its lower bound is above its upper bound`);
  }
  return {
    ...(low !== undefined ? { low } : {}),
    ...(high !== undefined ? { high } : {}),
    exact: false,
    span: span(open, close),
  };
}

function repeatNode(range: RepeatRange | null, child: PatternNode, until: PatternNode | null): RepeatPattern {
  return {
    kind: 'repeat',
    ...(range?.low !== undefined ? { low: range.low } : {}),
    ...(range?.high !== undefined ? { high: range.high } : {}),
    exact: range?.exact ?? false,
    child,
    ...(until ? { until } : {}),
    span: span(range ?? child, until ?? child),
  };
}

/** `[range] X`. */
export function repeat(d: [RepeatRange, PatternNode]): RepeatPattern {
  return repeatNode(d[0], d[1], null);
}

/** `X until Y`. */
export function until(d: [PatternNode, Token, PatternNode]): RepeatPattern {
  return repeatNode(null, d[0], d[2]);
}

/** `[range] X until Y`. */
export function repeatUntil(d: [RepeatRange, PatternNode, Token, PatternNode]): RepeatPattern {
  return repeatNode(d[0], d[1], d[3]);
}

/** The operand of a unary pattern operator: Esper allows a repeat range between the operator and its operand. */
function operand(range: RepeatRange | null, child: PatternNode): PatternNode {
  return range ? repeatNode(range, child, null) : child;
}

export function every(d: [Token, RepeatRange | null, PatternNode]): PatternNode {
  return { kind: 'every', child: operand(d[1], d[2]), span: span(d[0], d[2]) };
}

export function not(d: [Token, RepeatRange | null, PatternNode]): PatternNode {
  return { kind: 'not', child: operand(d[1], d[2]), span: span(d[0], d[2]) };
}

export function everyDistinct(d: [Token, Token, ListChain<TimeArg>, Token, RepeatRange | null, PatternNode]): EveryDistinctPattern {
  const [keyword, , argList, close, range, child] = d;
  const args = items(argList);
  const keys: Expr[] = [];
  let expiry: Duration | undefined;
  args.forEach((arg, i) => {
    if (arg.kind === 'expr') {
      keys.push(arg.expr);
    } else if (arg.kind === 'duration') {
      if (i !== args.length - 1) fail(arg, 'only the last parameter of every-distinct can be a time period (the expiry)');
      if (arg.duration.computed) fail(arg, 'the expiry of every-distinct must be a constant time period, such as 10 sec');
      expiry = arg.duration;
    }
  });
  if (keys.length === 0) fail(close, 'every-distinct needs at least one expression before the expiry');
  return {
    kind: 'everyDistinct',
    keys,
    ...(expiry ? { expiry } : {}),
    child: operand(range, child),
    span: span(keyword, child),
  };
}

/**
 * The n-ary operators (`->`, `and`, `or`) are built by left-recursive rules, one operand at a time. Copying the
 * child list at every step would make long chains quadratic, so each node records its operands as a persistent
 * linked list (shared by every partial parse that extends it, which nearley may produce several of) and the
 * arrays are filled in once, on the final tree, by {@link finalizePattern}.
 */
interface Link {
  prev: Link | null;
  child: PatternNode;
  /** The limit of the arrow before `child` (followed-by only). */
  limit: number | null;
}

interface Chain {
  last: Link;
  /** False once the node is closed by parentheses: `(A -> B) -> C` keeps `(A -> B)` as one child. */
  open: boolean;
}

const chains = new WeakMap<object, Chain>();

function extend(kind: 'followedBy' | 'and' | 'or', left: PatternNode, right: PatternNode, limit: number | null): Link {
  const chain = left.kind === kind ? chains.get(left) : undefined;
  const prev = chain?.open ? chain.last : { prev: null, child: left, limit: null };
  return { prev, child: right, limit };
}

export function followedBy(d: [PatternNode, { limit: number | null }, PatternNode]): FollowedByPattern {
  const [left, arrow, right] = d;
  const node: FollowedByPattern = { kind: 'followedBy', children: [], limits: [], span: span(left, right) };
  chains.set(node, { last: extend('followedBy', left, right, arrow.limit), open: true });
  return node;
}

export function arrow(): { limit: null } {
  return { limit: null };
}

export function limitedArrow(d: [Token, Token, Token, Token]): { limit: number } {
  const limit = integer(d[1], "the limit of '-[n]>'");
  if (limit < 1) fail(d[1], "the limit of '-[n]>' must be at least 1");
  return { limit };
}

function nary(kind: 'and' | 'or', d: [PatternNode, Token, PatternNode]): AndPattern | OrPattern {
  const [left, , right] = d;
  const node = { kind, children: [], span: span(left, right) } as AndPattern | OrPattern;
  chains.set(node, { last: extend(kind, left, right, null), open: true });
  return node;
}

export function andPattern(d: [PatternNode, Token, PatternNode]): PatternNode {
  return nary('and', d);
}

export function orPattern(d: [PatternNode, Token, PatternNode]): PatternNode {
  return nary('or', d);
}

/** `( pattern )`: the node with its span widened to the parentheses, closed to further flattening. */
export function parenthesizedPattern(d: [Token, PatternNode, Token]): PatternNode {
  const node = parenthesized(d);
  const chain = chains.get(d[1]);
  if (chain) chains.set(node, { last: chain.last, open: false });
  return node;
}

/** Fills in the operand lists of the n-ary nodes of a parsed pattern (iteratively: chains may be long). */
export function finalizePattern(root: PatternNode): PatternNode {
  const stack: PatternNode[] = [root];
  while (stack.length > 0) {
    const node = stack.pop()!;
    const chain = chains.get(node);
    if (chain && (node.kind === 'followedBy' || node.kind === 'and' || node.kind === 'or')) {
      const children: PatternNode[] = [];
      const limits: Array<number | null> = [];
      for (let link: Link | null = chain.last; link; link = link.prev) {
        children.push(link.child);
        if (link.prev) limits.push(link.limit);
      }
      node.children = children.reverse();
      if (node.kind === 'followedBy') node.limits = limits.reverse();
      chains.delete(node);
    }
    switch (node.kind) {
      case 'followedBy':
      case 'and':
      case 'or':
        stack.push(...node.children);
        break;
      case 'not':
      case 'every':
      case 'everyDistinct':
      case 'guard':
        stack.push(node.child);
        break;
      case 'repeat':
        stack.push(node.child);
        if (node.until) stack.push(node.until);
        break;
      default:
        break;
    }
  }
  return root;
}

// ---------------------------------------------------------------------------------------------
// `.cep` statements
// ---------------------------------------------------------------------------------------------

export function annotationArg(d: [Token] | [Token, Token]): { value: LiteralValue; span: Span } {
  if (d.length === 2) return { value: -numberValue(d[1].text), span: span(d[0], d[1]) };
  const t = d[0];
  switch (t.type) {
    case 'number':
      return { value: numberValue(t.text), span: tokenSpan(t) };
    case 'kw_true':
      return { value: true, span: tokenSpan(t) };
    case 'kw_false':
      return { value: false, span: tokenSpan(t) };
    case 'kw_null':
      return { value: null, span: tokenSpan(t) };
    default:
      return { value: t.value, span: tokenSpan(t) };
  }
}

export function annotation(d: [Token, [Token, ListChain<{ value: LiteralValue }> | null, Token] | null]): Annotation {
  const [at, args] = d;
  return {
    name: at.text.slice(1).toLowerCase(),
    args: args ? items(args[1]).map((a) => a.value) : [],
    span: span(at, args ? args[2] : at),
  };
}

interface PartitionClause {
  keyword: Token;
  field: string;
  span: Span;
}

export function partitionBy(d: [Token, Token, Name]): PartitionClause {
  return { keyword: d[0], field: d[2].value, span: d[2].span };
}

/** A select item; without `as alias` the alias is the expression's text, filled in by the parser (as Esper names it). */
export function selectItem(d: [Expr, [Token, Name] | null]): SelectItem {
  const [expr, alias] = d;
  return { expr, alias: alias ? alias[1].value : '', span: alias ? span(expr, alias[1]) : expr.span };
}

export function statement(
  d: [ListChain<Annotation> | null, PartitionClause | null, Token, ListChain<SelectItem> | Token, Token, Token, Token, PatternNode, Token],
): CepStatement {
  const [annotationList, partition, select, selectList, , , lbrack, pattern, rbrack] = d;
  const annotations = items(annotationList);
  const selected = 'item' in selectList ? items(selectList) : null;
  const first: Spanned = annotations.length > 0 ? annotations[0] : partition ? partition.keyword : select;
  // The pattern's text starts right after '[' (on the same line) and ends right before ']'.
  const patternStart = lbrack.offset + 1;
  const patternSpan: Span = { offset: patternStart, line: lbrack.line, column: lbrack.col + 1, length: rbrack.offset - patternStart };
  return {
    annotations,
    ...(partition ? { partitionBy: { field: partition.field, span: partition.span } } : {}),
    select: selected ?? [],
    pattern,
    patternText: '', // filled in by the parser, which has the source text
    patternSpan,
    span: span(first, rbrack),
  };
}
