/** Pattern examples (pattern.spec.ts; also checked for a single parse by parser.spec.ts). */
import {
  and,
  bin,
  every,
  everyDistinct,
  F,
  fb,
  fbl,
  HOUR,
  inList,
  interval,
  lit,
  MIN,
  not,
  or,
  p,
  rep,
  SEC,
  type Shape,
  whileGuard,
  within,
  withinMax,
  at,
  any,
  step,
} from './ast-shorthand';

/** [behaviour, text, expected AST without spans] */
export type Case = [string, string, Shape];

export const filterCases: Case[] = [
  ['an event type alone is a filter', 'A', F('A')],
  ['tag=type binds the event to a tag', 'a=A', F('a=A')],
  ['spaces around = are allowed', 'a = A', F('a=A')],
  ['a filter with one predicate', 'A(x > 1)', F('A', bin('>', p('x'), lit(1)))],
  ['commas separate predicates (AND)', 'a=A(x > 1, y = 2)', F('a=A', bin('>', p('x'), lit(1)), bin('=', p('y'), lit(2)))],
  ['empty parentheses: no predicates', 'A()', F('A')],
  ['a predicate may refer to another tag', 'b=B(corr = a.corr)', F('b=B', bin('=', p('corr'), p('a.corr')))],
  ['a predicate may use an indexed tag', 'c=C(price > a[0].price)', F('c=C', bin('>', p('price'), p('a[0].price')))],
  ['an event type may be dotted', 'e=com.acme.Login', F('e=com.acme.Login')],
  ['event types and tags keep their case', 'Login=UserLogin', F('Login=UserLogin')],
  ['a backtick-quoted event type', 'v=`page-view`', F('v=page-view')],
  ['time units and statement words are valid event types and tags', 'hour=select(from = 1)', F('hour=select', bin('=', p('from'), lit(1)))],
  ['a predicate with in', "a=A(country in ('US', 'CA'))", F('a=A', inList(p('country'), [lit('US'), lit('CA')]))],
];

export const precedenceCases: Case[] = [
  ['guard binds tighter than followed-by, every tighter than followed-by', 'every a=A -> b=B where timer:within(1 sec)', fb(every(F('a=A')), within(SEC, F('b=B')))],
  ['and binds tighter than or, or tighter than followed-by', 'A and B or C -> D', fb(or(and(F('A'), F('B')), F('C')), F('D'))],
  ['every binds tighter than until', 'every A until B', rep([], every(F('A')), F('B'))],
  ['[n] repeats exactly n times', '[3] a=A', rep([3], F('a=A'))],
  ['not binds tighter than and', 'not A and B', and(not(F('A')), F('B'))],
  ['followed-by is n-ary', 'A -> B -> C', fb(F('A'), F('B'), F('C'))],
  ['and is n-ary', 'A and B and C', and(F('A'), F('B'), F('C'))],
  ['or is n-ary', 'A or B or C', or(F('A'), F('B'), F('C'))],
  ['parentheses keep a group as one child', '(A -> B) -> C', fb(fb(F('A'), F('B')), F('C'))],
  ['a parenthesised right operand stays nested', 'A -> (B -> C)', fb(F('A'), fb(F('B'), F('C')))],
  ['parenthesised and inside and', 'A and (B and C)', and(F('A'), and(F('B'), F('C')))],
  ['or inside and needs parentheses', 'A and (B or C)', and(F('A'), or(F('B'), F('C')))],
  ['every applies to a parenthesised pattern', 'every (a=A -> b=B)', every(fb(F('a=A'), F('b=B')))],
  ['every on the right of followed-by', 'a=A -> every b=B', fb(F('a=A'), every(F('b=B')))],
  ['every on both sides', 'every a=A -> every b=B', fb(every(F('a=A')), every(F('b=B')))],
  ['not inside a parenthesised and', 'every a=A -> (b=B and not A)', fb(every(F('a=A')), and(F('b=B'), not(F('A'))))],
  ['a guard applies to a parenthesised group', 'every a=A -> (b=B -> c=C) where timer:within(1 hour)', fb(every(F('a=A')), within(HOUR, fb(F('b=B'), F('c=C'))))],
  ['a guard on an atom under every', 'every A where timer:within(10 sec)', every(within(10 * SEC, F('A')))],
  ['a guard on a whole parenthesised pattern', '(A -> B) where timer:within(5 min)', within(5 * MIN, fb(F('A'), F('B')))],
  ['an observer is an atom', 'timer:interval(5 min) and not A', and(interval(5 * MIN), not(F('A')))],
  ['every on an observer', 'every timer:interval(10 sec)', every(interval(10 * SEC))],
  ['followed-by of ands and ors', 'A -> B and C -> D or E', fb(F('A'), and(F('B'), F('C')), or(F('D'), F('E')))],
  ['keywords are case-insensitive (EVERY)', 'EVERY a=A', every(F('a=A'))],
  ['keywords are case-insensitive (Every, AND, Or, NOT, Until, WHERE)', 'Every (A AND B Or NOT C) Until D WHERE timer:within(1 sec)', rep([], every(or(and(F('A'), F('B')), not(F('C')))), within(SEC, F('D')))],
  ['observer and guard names are case-insensitive', 'Timer:Interval(1 sec) where TIMER:WITHIN(2 sec)', within(2 * SEC, interval(SEC))],
  ['line breaks and comments between operators', 'every a=A // first\n  -> /* then */ b=B', fb(every(F('a=A')), F('b=B'))],
];

export const followedByCases: Case[] = [
  ['-[n]> limits the right side to n instances', 'every a=A -[1000]> b=B', fbl([every(F('a=A')), F('b=B')], [1000])],
  ['limits are per arrow', 'A -[2]> B -> C -[5]> D', fbl([F('A'), F('B'), F('C'), F('D')], [2, null, 5])],
  ['-[n]> may have spaces inside', 'A -[ 3 ] > B', fbl([F('A'), F('B')], [3])],
];

export const repeatCases: Case[] = [
  ['[lo:hi] X', '[2:5] A', rep([2, 5], F('A'))],
  ['[:hi] X has no lower bound', '[:5] A', rep([undefined, 5], F('A'))],
  ['[lo:] X has no upper bound', '[2:] A', rep([2, undefined], F('A'))],
  ['[0:hi] X allows zero', '[0:3] A', rep([0, 3], F('A'))],
  ['[n] X until Y', '[3] A until B', rep([3], F('A'), F('B'))],
  ['[lo:hi] X until Y', '[1:3] a=A until b=B', rep([1, 3], F('a=A'), F('b=B'))],
  ['[lo:] X until Y', '[2:] A until B', rep([2, undefined], F('A'), F('B'))],
  ['[:hi] X until Y', '[:4] A until B', rep([undefined, 4], F('A'), F('B'))],
  ['X until Y', 'A until B', rep([], F('A'), F('B'))],
  ['until binds tighter than and', 'A until B and C', and(rep([], F('A'), F('B')), F('C'))],
  ['until takes a unary operand on the right', 'A until not B', rep([], F('A'), not(F('B')))],
  ['until with an observer', 'b=B until timer:interval(10 sec)', rep([], F('b=B'), interval(10 * SEC))],
  ['repeat of a parenthesised pattern', '[2] (A or B)', rep([2], or(F('A'), F('B')))],
  ['repeat under every (Esper: a range may follow every)', 'every [2] A', every(rep([2], F('A')))],
  ['every under repeat', '[2] every A', rep([2], every(F('A')))],
  ['repeat of a guarded atom', '[2] A where timer:within(1 sec)', rep([2], within(SEC, F('A')))],
  ['repeat on the right of followed-by', 'a=A -> [2] b=B', fb(F('a=A'), rep([2], F('b=B')))],
];

export const unaryCases: Case[] = [
  ['not X', 'not A', not(F('A'))],
  ['every X', 'every A', every(F('A'))],
  ['not of a parenthesised pattern', 'not (A or B)', not(or(F('A'), F('B')))],
  ['every of every needs parentheses', 'every (every A)', every(every(F('A')))],
  ['every-distinct with one key', 'every-distinct(a.x) a=A', everyDistinct([p('a.x')], F('a=A'))],
  ['every-distinct with several keys', 'every-distinct(a.x, a.y) a=A', everyDistinct([p('a.x'), p('a.y')], F('a=A'))],
  ['every-distinct: a last time period is the expiry', 'every-distinct(a.x, 10 sec) a=A', everyDistinct([p('a.x')], F('a=A'), 10 * SEC)],
  ['every-distinct: a last bare number is a key, not an expiry', 'every-distinct(a.x, 10) a=A', everyDistinct([p('a.x'), lit(10)], F('a=A'))],
  ['every-distinct: an expiry with several units', 'every-distinct(a.x, 1 minute 30 seconds) a=A', everyDistinct([p('a.x')], F('a=A'), 90 * SEC)],
  ['every-distinct keys are expressions', 'every-distinct(a.x + 1, lower(a.y)) a=A', everyDistinct([bin('+', p('a.x'), lit(1)), { kind: 'call', name: 'lower', args: [p('a.y')] }], F('a=A'))],
  ['EVERY-DISTINCT is case-insensitive', 'Every-Distinct(a.x) a=A', everyDistinct([p('a.x')], F('a=A'))],
  ['every-distinct of a parenthesised pattern', 'every-distinct(a.x) (a=A -> b=B)', everyDistinct([p('a.x')], fb(F('a=A'), F('b=B')))],
  ['every-distinct binds tighter than followed-by', 'every-distinct(a.x) a=A -> B', fb(everyDistinct([p('a.x')], F('a=A')), F('B'))],
];

export const guardCases: Case[] = [
  ['timer:within(d)', 'A where timer:within(30 sec)', within(30 * SEC, F('A'))],
  ['timer:within with a bare number of seconds', 'A where timer:within(10)', within(10 * SEC, F('A'))],
  ['timer:withinmax(d, n)', 'A where timer:withinmax(2 sec, 5)', withinMax(2 * SEC, 5, F('A'))],
  ['while (expr)', 'a=A while (a.x > 0)', whileGuard(bin('>', p('a.x'), lit(0)), F('a=A'))],
  ['while on a parenthesised pattern', 'every (a=A -> b=B) while (b.ok = true)', every(whileGuard(bin('=', p('b.ok'), lit(true)), fb(F('a=A'), F('b=B'))))],
  ['a guard on a parenthesised guard', '(A where timer:within(1 sec)) where timer:within(2 sec)', within(2 * SEC, within(SEC, F('A')))],
  ['timer:withinmax name is case-insensitive', 'A where timer:withinMax(1 min, 3)', withinMax(MIN, 3, F('A'))],
];

/** A period computed from an expression as it starts: `expr` times `unitMs`. */
const computed = (expr: Shape, unitMs: number): Shape => ({ ms: 0, computed: { expr, unitMs } });

export const observerCases: Case[] = [
  ['timer:interval of a tag\'s property: seconds, computed as it starts', 'a=A -> timer:interval(a.d)', fb(F('a=A'), { kind: 'interval', duration: computed(p('a.d'), SEC) })],
  ['an expression with a unit', 'a=A -> timer:interval((a.d + 1) min)', fb(F('a=A'), { kind: 'interval', duration: computed(bin('+', p('a.d'), lit(1)), MIN) })],
  ['a number with a unit stays a plain period', 'timer:interval(5 min)', interval(5 * MIN)],
  ['timer:within of a tag\'s property with a unit', 'a=A -> (b=B where timer:within(a.ttl sec))', fb(F('a=A'), { kind: 'guard', guard: { kind: 'within', duration: computed(p('a.ttl'), SEC) }, child: F('b=B') })],
  ['timer:interval(d)', 'timer:interval(10 sec)', interval(10 * SEC)],
  ['timer:interval with a bare number of seconds', 'timer:interval(2.5)', interval(2500)],
  ['timer:at with five stars', 'timer:at(*, *, *, *, *)', at(any, any, any, any, any)],
  ['timer:at followed by an event', 'timer:at(*/5, *, *, *, *) -> A', fb(at(step(5), any, any, any, any), F('A'))],
  ['timer:schedule with an ISO-8601 schedule', "timer:schedule(iso: 'R3/PT2S')", { kind: 'schedule', iso: lit('R3/PT2S') }],
  ['timer:schedule names in any case', "every timer:schedule(ISO: 'R/PT1M')", every({ kind: 'schedule', iso: lit('R/PT1M') })],
  [
    'timer:schedule with a date, a period and a count',
    "timer:schedule(date: '2025-01-01T00:00:00Z', period: 1 day 2 hours, repetitions: 3)",
    { kind: 'schedule', date: lit('2025-01-01T00:00:00Z'), period: { ms: 26 * HOUR }, repetitions: lit(3) },
  ],
  ['timer:schedule with a calendar period', 'timer:schedule(period: 1 month)', { kind: 'schedule', period: { ms: 0, calendar: { years: 0, months: 1 } } }],
  [
    'timer:schedule reading the tags before it',
    'a=A -> timer:schedule(date: a.start, period: a.gap sec, repetitions: a.n)',
    fb(F('a=A'), { kind: 'schedule', date: p('a.start'), period: computed(p('a.gap'), SEC), repetitions: p('a.n') }),
  ],
];

export const patternCases: Case[] = [
  ...filterCases,
  ...precedenceCases,
  ...followedByCases,
  ...repeatCases,
  ...unaryCases,
  ...guardCases,
  ...observerCases,
];
