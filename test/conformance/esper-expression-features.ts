/**
 * Hand-written cases for the expression features taken from Esper's language one at a time (bitwise
 * operators, cast, ...), for esper-differential.spec.ts: each case runs on Esper 8.9 and on Cepheus over its
 * suite's events (or its own), with the suite's declared field types on Esper's side.
 *
 * `outcome` says what the case is there to show, so that no comparison passes vacuously:
 * - 'same' (the default): both accept the rule and give the same matches;
 * - 'refused': both refuse it at compile time (Cepheus with a `line:column` error);
 * - 'onlyEsperRefuses': Esper refuses it at compile time and Cepheus accepts it, for the reason in `why`
 *   (most often a field's declared type, which JSON events do not have: `i & 1` with a long `i` mixes an int
 *   and a long). README lists these differences;
 * - 'onlyCepheusRefuses': what Cepheus refuses although Esper accepts it (README says why);
 * - 'esperThrows': Esper accepts the rule but throws while processing an event (`cast('abc', int)` at run
 *   time), where Cepheus gives null;
 * - 'differs': both accept it and the matches differ, for the documented reason in `why`.
 */
export interface FeatureCase {
  /** The condition of `every a=A(expr)`, unless `pattern` is given. */
  expr?: string;
  pattern?: string;
  /** Events instead of the suite's. */
  events?: Array<Record<string, unknown>>;
  outcome?: 'same' | 'refused' | 'onlyEsperRefuses' | 'onlyCepheusRefuses' | 'esperThrows' | 'differs';
  why?: string;
}

export interface FeatureSuite {
  name: string;
  fieldTypes: Record<string, 'int' | 'long' | 'double' | 'string' | 'boolean'>;
  /** The events, all of type A (ids A1, A2, ... one second apart). */
  events: Array<Record<string, unknown>>;
  cases: FeatureCase[];
}

const refused = (expr: string): FeatureCase => ({ expr, outcome: 'refused' });
const onlyEsperRefuses = (expr: string, why: string): FeatureCase => ({ expr, outcome: 'onlyEsperRefuses', why });
const DECLARED_TYPE = "a field's declared type, which JSON events do not have";

export const bitwiseSuite: FeatureSuite = {
  name: 'bitwise operators & | ^',
  fieldTypes: { i: 'long', j: 'long', k: 'int', p: 'boolean', q: 'boolean' },
  events: [
    { i: 1, j: 3, k: 1, p: true, q: false },
    { i: 2, j: 3, k: 2, p: false, q: false },
    { i: null, j: 3, k: null, p: null, q: true },
    { i: -1, j: -8, k: -1, p: true, q: true },
    { i: 3000000000, j: 4294967295, k: 7, p: false, q: true },
    { i: -3000000000, j: null, k: 12, p: true, q: null },
    { i: 12, j: 10, k: 0, p: null, q: null },
  ],
  cases: [
    // On longs, as Java's operators; null on a null operand.
    { expr: '(i & j) = 1L' },
    { expr: '(i | j) = 3L' },
    { expr: '(i ^ j) = 6L' },
    { expr: '(i & j) = 8L' },
    { expr: '(i | j) = 14L' },
    { expr: '(i ^ j) = 7L' },
    { expr: '(i | j) = -1L' },
    { expr: '(i & j) < 0L' },
    { expr: '(i & j) > 1000L' },
    { expr: '(i & j) = 3000000000L' },
    { expr: '(i ^ j) = 1294967295L' },
    { expr: '(i & 4294967295L) = 1294967296L' },
    { expr: '(i | 1L) = -2999999999L' },
    { expr: '(i ^ -1L) = -13L' },
    { expr: '(i & j) is null' },
    { expr: '(i | j) is not null' },
    { expr: '(i & j) = i' },
    { expr: '(i & j) > j' },
    // On ints (a declared int field with int literals).
    { expr: '(k & 1) = 1' },
    { expr: '(k | 8) = 15' },
    { expr: '(k ^ 5) = 9' },
    { expr: '(k & -1) = k' },
    // Inside arithmetic, functions, case; arithmetic of longs stays long.
    { expr: '((i + 1L) & 3L) = 2L' },
    { expr: '((i - j) | 0L) = -2L' },
    { expr: '((i % 4L) ^ 1L) = 0L' },
    { expr: '(coalesce(i, j) & 2L) = 2L' },
    { expr: '(max(i, j) & 1L) = 1L' },
    { expr: '((case when p then i else j end) & 1L) = 1L' },
    { expr: '((i & j) + 1L) = 2L' },
    // On booleans: and, or, xor without shortcuts, so null with any null.
    { expr: 'p & q' },
    { expr: 'p | q' },
    { expr: 'p ^ q' },
    { expr: '(p & q) is null' },
    { expr: '(p | q) is null' },
    { expr: '(p & false) is null' },
    { expr: '(p | true) is null' },
    { expr: '(p ^ q) = false' },
    { expr: 'not (p & q)' },
    { expr: 'not (p ^ q)' },
    // Precedence: looser than comparisons and `not`, tighter than `and` and `or`.
    { expr: 'p = true & q = false' },
    { expr: 'i > 1L & q' },
    { expr: 'i = 1L | j = 3L' },
    { expr: 'p | q = false' },
    { expr: 'not p & q' },
    { expr: 'not q | p' },
    { expr: 'p | q and q' },
    { expr: 'q and p | q' },
    { expr: 'p ^ q or i = 12L' },
    { expr: '(i & 1L) = 1L or p ^ q' },
    { expr: 'p | (q & p)' },
    // Between tags.
    { pattern: 'every a=A -> b=A((a.i & i) > 0L)' },
    { pattern: 'every a=A -> b=A(a.p ^ p)' },
    // What Esper refuses at compile time, and so do we.
    refused('(1 & 1L) = 1L'),
    refused('(i & 1.0) = 1L'),
    refused('(i & 2f) = 2L'),
    refused('(i & 1.5) = 1L'),
    refused("(i & 'a') = 1L"),
    refused('(i & null) is null'),
    refused('(null | p) is null'),
    refused('((i / 2L) & 1L) = 1L'),
    refused('((i + 0.5) & 1L) = 1L'),
    refused('(i > 1L) & 1L'),
    refused('p & 1L'),
    refused('(true | 1) = 1'),
    refused('i & 1L'),
    refused('i & j & 1L'),
    refused('p & q | p'),
    refused('p ^ q ^ p'),
    refused('(i & j | 1L) = 1L'),
    // Refused by Esper only for the declared type of a field.
    onlyEsperRefuses('(i & 1) = 1', DECLARED_TYPE),
    onlyEsperRefuses('(k & 1L) = 1L', DECLARED_TYPE),
    onlyEsperRefuses('i & 3L = 1L', DECLARED_TYPE),
  ],
};

export const castSuite: FeatureSuite = {
  name: 'cast',
  // l: longs; d: doubles that are not integral (an integral one prints as a long here, see below); s, t, u:
  // strings that parse as an int, a double and a boolean (Esper throws on one that does not).
  fieldTypes: { l: 'long', d: 'double', s: 'string', t: 'string', u: 'string', b: 'boolean' },
  events: [
    { l: 1, d: 1.5, s: '12', t: '1.5', u: 'true', b: true },
    { l: -7, d: -2.7, s: ' 7 ', t: '1e3', u: ' TRUE', b: false },
    { l: 3000000000, d: 1e20, s: null, t: '.5', u: 'False', b: null },
    { l: null, d: null, s: '+5', t: null, u: null, b: true },
    { l: 70000, d: 40000.7, s: '-0', t: '1.5d', u: 'false', b: false },
    { l: 200, d: 0.001, s: '007', t: 'NaN', u: 'true', b: true },
    { l: 0, d: 1.5e-4, s: '2147483647', t: ' -2 ', u: 'TRUE', b: null },
    { l: -3000000000, d: 12345678.5, s: '-128', t: '0x1p3', u: 'FALSE', b: false },
  ],
  cases: [
    // Numbers to integer types: longs wrap, doubles truncate and saturate.
    { expr: 'cast(l, int) = 1' },
    { expr: 'cast(l as int) = -7' },
    { expr: 'cast(l, int) = -1294967296' },
    { expr: 'cast(l, int) = 1294967296' },
    { expr: 'cast(l, short) = 4464' },
    { expr: 'cast(l, byte) = -56' },
    { expr: 'cast(l, long) = 3000000000L' },
    { expr: 'cast(d, int) = 1' },
    { expr: 'cast(d, int) = -2' },
    { expr: 'cast(d, int) = 2147483647' },
    { expr: 'cast(d, int) = 40000' },
    { expr: 'cast(d, int) = 0' },
    { expr: 'cast(d, long) = 9223372036854775807L' },
    { expr: 'cast(d, long) = 12345678L' },
    { expr: 'cast(d, short) = -25536' },
    { expr: 'cast(d, short) = -1' },
    { expr: 'cast(d, byte) = -1' },
    { expr: 'cast(d, byte) = 78' },
    { expr: 'cast(l, int) is null' },
    // To double and float.
    { expr: 'cast(l, double) = 1.0' },
    { expr: 'cast(l, double) / 2 = 0.5' },
    { expr: 'cast(l, float) = 200.0f' },
    { expr: 'cast(d as double) = 1.5' },
    { expr: 'cast(d, float) = 1.5f' },
    { expr: 'cast(d, float) = 0.001f' },
    { expr: 'cast(d, double) = 0.001f' },
    // Strings to numbers, parsed as Java parses them.
    { expr: 'cast(s, int) = 12' },
    { expr: 'cast(s, int) = 7' },
    { expr: 'cast(s, int) = 5' },
    { expr: 'cast(s, int) = 0' },
    { expr: 'cast(s, int) = 2147483647' },
    { expr: 'cast(s, int) is null' },
    { expr: 'cast(s, long) = 7L' },
    { expr: 'cast(s, short) = 7', events: [{ s: '7' }, { s: '-32768' }, { s: ' 32767' }] },
    { expr: 'cast(s, short) = -32768', events: [{ s: '7' }, { s: '-32768' }, { s: ' 32767' }] },
    { expr: 'cast(s, byte) = -128', events: [{ s: '-128' }, { s: '127' }, { s: null }] },
    { expr: 'cast(s, byte) = 127', events: [{ s: '-128' }, { s: '127' }, { s: null }] },
    { expr: 'cast(s, double) = 12.0' },
    { expr: 'cast(s, int) + 1 = 13' },
    { expr: 'cast(t, double) = 1.5' },
    { expr: 'cast(t, double) = 1000.0' },
    { expr: 'cast(t, double) = 0.5' },
    { expr: 'cast(t, double) = -2.0' },
    { expr: 'cast(t, double) = 8.0' },
    // NaN as text: Esper compares a NaN with Double.equals and compareTo (README), which we do not copy.
    { expr: "cast(cast(t, double), string) = 'NaN'" },
    { expr: 'cast(t, double) > 1 and cast(t, double) < 9999' },
    { expr: 'cast(t, float) = 1.5f' },
    // Strings to booleans.
    { expr: 'cast(u, boolean)' },
    { expr: 'cast(u, boolean) = false' },
    { expr: 'cast(u, bool)' },
    { expr: 'cast(u as java.lang.Boolean) is null' },
    { expr: 'cast(b, boolean)' },
    { expr: 'cast(l, boolean) is null' },
    { expr: 'cast(d, boolean) is null' },
    // To string.
    { expr: "cast(l, string) = '3000000000'" },
    { expr: "cast(l, string) = '-7'" },
    { expr: "cast(d, string) = '1.5'" },
    { expr: "cast(d, string) = '1.0E20'" },
    { expr: "cast(d, string) = '40000.7'" },
    { expr: "cast(d, string) = '0.001'" },
    { expr: "cast(d, string) = '1.5E-4'" },
    { expr: "cast(d, string) = '1.23456785E7'" },
    { expr: "cast(d, string) = '-2.7'" },
    { expr: "cast(s as string) = ' 7 '" },
    { expr: "cast(b, string) = 'false'" },
    { expr: "cast(d, string) || '!' = '1.5!'" },
    { expr: "cast(cast(s, int), string) = '7'" },
    // A number of a known type prints as Java prints that type.
    { expr: "cast(cast(l, double), string) = '1.0'" },
    { expr: "cast(cast(l, double), string) = '3.0E9'" },
    { expr: "cast(l / 2, string) = '-3.5'" },
    { expr: "cast(l / 2, string) = '100.0'" },
    { expr: "cast(cast(d, float), string) = '1.5'" },
    { expr: "cast(cast(d, float), string) = '0.001'" },
    { expr: "cast(cast(l, float), string) = '70000.0'" },
    { expr: "cast(cast(d, long) + 1L, string) = '2'" },
    { expr: "cast(1.0 + 0, string) = '1.0' and l = 1L" },
    { expr: "cast(1 + 1, string) = '2' and l = 1L" },
    { expr: "cast(cast(1.5, double), string) = '1.5' and l = 1L" },
    { expr: "cast(cast(d, long), string) = '9223372036854775807'" },
    { expr: 'cast(cast(d, long), int) = -1' },
    { expr: 'cast(cast(l, double), int) < -2147483647' },
    { expr: 'cast(cast(l, double), short) = -1' },
    { expr: 'cast(cast(l, float), int) = 2147483647' },
    { expr: "cast(l > 0, string) = 'true'" },
    // Type names as Esper spells them.
    { expr: 'cast(l, Integer) = 1' },
    { expr: 'cast(l, INTEGER) = 1' },
    { expr: 'cast(l, LONG) = 1L' },
    { expr: 'cast(l, Short) = 1' },
    { expr: 'cast(l, Double) = 1.0' },
    { expr: 'cast(l, `int`) = 1' },
    { expr: 'cast(l, java.lang.Integer) = 1' },
    { expr: 'cast(l, java.lang.Long) = 1L' },
    { expr: 'cast(l, java.lang.Byte) = 1' },
    { expr: 'cast(l, java.lang.Float) = 1.0f' },
    { expr: "cast(l, STRING) = '1'" },
    { expr: "cast(l, java.lang.String) = '1'" },
    // Constants, and with other operators.
    { expr: 'cast(null, int) is null' },
    { expr: "cast('12', int) = 12 and l = 1L" },
    { expr: "cast(' 7', int) = 7 and l = 1L" },
    { expr: 'cast(1.9, int) = 1 and l = 1L' },
    { expr: 'cast(-1.9, int) = -1 and l = 1L' },
    { expr: 'cast(0.0 / 0, int) = 0 and l = 1L' },
    { expr: 'cast(1.0 / 0, int) = 2147483647 and l = 1L' },
    { expr: '(cast(l, int) & 1) = 1' },
    { expr: '(cast(l, short) & cast(l, short)) = 8' },
    { expr: '((cast(l, short) + cast(l, short)) & 1) = 0' },
    { pattern: 'every a=A -> b=A(cast(a.d, long) > cast(l, long))' },
    { pattern: "every a=A -> b=A(cast(a.l, string) = cast(s, string))" },
    // Refused by both.
    refused('cast(l, foo) = 1'),
    refused('cast(l, java.lang.long) = 1L'),
    refused("cast('x', int) = 1"),
    refused("cast('yes', boolean)"),
    refused("cast(l, int) = 'a'"),
    refused('cast(l, string) = 1'),
    refused('(cast(l, short) & 1) = 1'),
    refused('(cast(l, int) & 1L) = 1L'),
    refused('(cast(d, double) & 1L) = 1L'),
    refused('cast(l) = 1'),
    refused('cast(l, int, long) = 1'),
    refused("cast(l, 'int') = 1"),
    refused("cast(l, int, dateformat:'yyyy') = 1"),
    refused('cast(l, int)'),
    // Esper 8.9 generates code its Java compiler refuses (`1.toString()`), and so we refuse it too.
    refused("cast(1.0, string) = '1.0'"),
    refused("cast(-1, string) = '-1'"),
    refused("cast(true, string) = 'true'"),
    // Refused by Esper only.

    onlyEsperRefuses('cast(b, int) = 1', DECLARED_TYPE),
    onlyEsperRefuses('cast(l, int) = 1L', "Esper's filter index refuses an int compared with a long constant (strict filter type coercion)"),
    onlyEsperRefuses('cast(l, int) > 1.5', "Esper's filter index refuses an int compared with a double constant (strict filter type coercion)"),
    // Refused here only: numbers are doubles, so BigDecimal's and BigInteger's exact arithmetic cannot be kept.
    { expr: 'cast(l, BigDecimal) = 1', outcome: 'onlyCepheusRefuses' },
    { expr: 'cast(l, java.math.BigInteger) = 1', outcome: 'onlyCepheusRefuses' },
    // Esper throws on a string that does not parse; Cepheus gives null.
    { expr: 'cast(s, short) is null', events: [{ s: '32768' }], outcome: 'esperThrows' },
    { expr: 'cast(s, int) is null', events: [{ s: 'abc' }], outcome: 'esperThrows' },
    { expr: 'cast(s, int) is null', events: [{ s: '1.5' }], outcome: 'esperThrows' },
    { expr: 'cast(s, double) is null', events: [{ s: '0x10' }], outcome: 'esperThrows' },
    { expr: 'cast(s, boolean) is null', events: [{ s: 'yes' }], outcome: 'esperThrows' },
    // A double field holding an integral value: Esper knows it is a double, JSON does not.
    { expr: "cast(d, string) = '2.0'", events: [{ d: 2.0 }], outcome: 'differs', why: "Esper prints a double 2.0 as '2.0'; here an integral number prints as a long" },
    { expr: 'cast(d, int) = 2147483647', events: [{ d: 3000000000 }], outcome: 'differs', why: 'Esper saturates a double 3.0E9 to an int; here an integral number wraps as a long' },
    // Esper's filter index converts an int constant to the short or byte it is compared with (70000 to 4464).
    { expr: 'cast(l, short) = 70000', outcome: 'differs', why: "Esper's filter index narrows the constant to a short" },
    { expr: 'cast(l, byte) > 200', outcome: 'differs', why: "Esper's filter index narrows the constant to a byte (-56)" },
  ],
};

export const quantifiedSuite: FeatureSuite = {
  name: 'any, some and all',
  fieldTypes: { x: 'double', y: 'double', z: 'double', w: 'double', s: 'string', t: 'string', u: 'string' },
  events: [
    { x: 5, y: 10, z: null, w: 5, s: 'b', t: 'a', u: 'b' },
    { x: null, y: 10, z: 5, w: 1, s: null, t: 'b', u: 'c' },
    { x: 5, y: 5, z: null, w: null, s: 'a', t: 'a', u: null },
    { x: 7, y: 3, z: 2, w: 7, s: 'c', t: 'b', u: 'a' },
    { x: 2.5, y: 1, z: 3, w: 2.5, s: 'd', t: 'd', u: 'd' },
    { x: 0, y: 0, z: 0, w: 0, s: '', t: '', u: '' },
  ],
  cases: [
    // = any, != any: null when x is null, or when nothing decided and a value was null.
    { expr: 'x = any (y, z)' },
    { expr: '(x = any (y, z)) is null' },
    { expr: '(x = any (z, y)) is null' },
    { expr: 'x = any (y, z, w)' },
    { expr: 'x = some (w)' },
    { expr: 'x = any (y, 5.0)' },
    { expr: 'x = any (2.5)' },
    { expr: 'x != any (y, z)' },
    { expr: '(x != any (y, z)) is null' },
    { expr: 'x <> any (y, w)' },
    // = all, != all.
    { expr: 'x = all (y, z)' },
    { expr: '(x = all (y, z)) is null' },
    { expr: '(x = all (y, z)) = false' },
    { expr: 'x = all (w, w)' },
    { expr: 'x != all (y, z)' },
    { expr: '(x != all (y, z)) is null' },
    { expr: 'x = all (y, 5.0)' },
    { expr: 'x != all (y, 5.0)' },
    // is and is not are = and != here.
    { expr: 'x is any (y, z)' },
    { expr: '(x is any (y, z)) is null' },
    { expr: 'x is not any (y, z)' },
    { expr: 'x is not all (y, z)' },
    // Empty lists.
    { expr: '(x = any ()) is null' },
    { expr: '(x = all ()) is null' },
    { expr: 'x > all ()' },
    { expr: 'x > any ()' },
    // < <= > >= with any and all: in list order; all stops at a null value, any skips it.
    { expr: 'x > any (y, z)' },
    { expr: '(x > any (y, z)) is null' },
    { expr: '(x > any (z, y)) is null' },
    { expr: 'x > all (z, y)' },
    { expr: '(x > all (z, y)) is null' },
    { expr: '(x > all (y, z)) is null' },
    { expr: '(x < all (y, z)) = false' },
    { expr: '(x < all (y, z)) is null' },
    { expr: 'x < any (y, z)' },
    { expr: 'x <= any (y, z)' },
    { expr: 'x >= all (w, z)' },
    { expr: 'x >= some (w)' },
    { expr: 'x < all (y, w)' },
    // Constants on the right: Esper throws when x is null there (below), so these events have an x.
    { expr: 'x > any (2.0, y)', events: [{ x: 5, y: 10 }, { x: 1, y: 0 }, { x: 1, y: null }, { x: 3, y: 4 }] },
    { expr: 'x > all (y, 2.0)', events: [{ x: 5, y: 10 }, { x: 3, y: 0 }, { x: 3, y: null }, { x: 1, y: 0 }] },
    { expr: 'x < all (y, 6.0)', events: [{ x: 5, y: 10 }, { x: 3, y: 0 }, { x: 3, y: null }, { x: 1, y: 7 }] },
    // Strings and booleans compared with = and !=.
    { expr: 's = any (t, u)' },
    { expr: 's = all (t, u)' },
    { expr: '(s = any (t, u)) is null' },
    { expr: 's != all (t, u)' },
    { expr: "s = any ('a', 'b')" },
    { expr: "s = any ('a', null)" },
    { expr: 'true = any (x > 1, false)' },
    { expr: '(x > 1) = any (true)' },
    // With other operators, and between tags.
    { expr: 'not x = any (y, w)' },
    { expr: 'x = any (y, w) and x > 1' },
    { expr: 'x + 0 = any (y, w)' },
    { pattern: 'every a=A -> b=A(x > all (a.x, a.y))' },
    { pattern: 'every a=A -> b=A(s = any (a.s, a.t))' },
    // Refused by both.
    refused("x = any (1, 'a')"),
    refused("x > any (1, 'a')"),
    refused('(x > 1) > any (true)'),
    refused('x = any (null)'),
    refused('x = any 5'),
    refused('x = any (y + 1, 6) = true'),
    // Esper 8.9 gets < > on strings wrong: `any` never matches and `all` does not compile. We refuse string
    // literals there; strings read from events compare.
    { expr: "s < any ('b', 'c')", outcome: 'onlyCepheusRefuses' },
    onlyEsperRefuses('s < all (t, u)', 'Esper 8.9 fails to compile < all on strings'),
    { expr: 's < any (t, u)', events: [{ s: 'a', t: 'b', u: 'c' }, { s: 'c', t: 'b', u: 'a' }], outcome: 'differs', why: 'Esper 8.9 gives false for < any on strings' },
    // Esper throws while running: a null x with a constant on the right of < any/all (a NullPointerException),
    // and an int constant with a double field (a ClassCastException).
    { expr: 'x >= some (y, 7.0)', outcome: 'esperThrows' },
    { expr: 'x < all (6.0)', outcome: 'esperThrows' },
    { expr: 'x = any (5)', outcome: 'esperThrows' },
    { expr: 'x = any (y, 5)', outcome: 'esperThrows' },
  ],
};

export const instanceofSuite: FeatureSuite = {
  name: 'instanceof',
  fieldTypes: { l: 'long', d: 'double', s: 'string', b: 'boolean', k: 'int' },
  events: [
    { l: 1, d: 1.5, s: 'a', b: true, k: 1 },
    { l: null, d: null, s: null, b: null, k: null },
    { l: -3000000000, d: -0.25, s: '', b: false, k: 7 },
  ],
  cases: [
    { expr: 'instanceof(l, long)' },
    { expr: 'instanceof(l, Long)' },
    { expr: 'instanceof(l, LONG)' },
    { expr: 'instanceof(l, java.lang.Long)' },
    { expr: 'instanceof(l, double, long)' },
    { expr: 'instanceof(l, int)' },
    { expr: 'instanceof(l, java.lang.Integer)' },
    { expr: 'instanceof(l, short, byte, float)' },
    { expr: 'instanceof(l, string)' },
    { expr: 'instanceof(d, double)' },
    { expr: 'instanceof(d, DOUBLE)' },
    { expr: 'instanceof(d, long)' },
    { expr: 'instanceof(s, string)' },
    { expr: 'instanceof(s, String)' },
    { expr: 'instanceof(s, java.lang.String)' },
    { expr: 'instanceof(s, java.lang.CharSequence)' },
    { expr: 'instanceof(s, java.lang.Character)' },
    { expr: 'instanceof(b, boolean)' },
    { expr: 'instanceof(b, Boolean)' },
    { expr: 'instanceof(l, java.lang.Number)' },
    { expr: 'instanceof(d, java.lang.Number)' },
    { expr: 'instanceof(s, java.lang.Number)' },
    { expr: 'instanceof(l, java.lang.Comparable)' },
    { expr: 'instanceof(b, java.io.Serializable)' },
    { expr: 'instanceof(l, java.lang.Object)' },
    { expr: 'instanceof(l, java.math.BigDecimal)' },
    { expr: 'not instanceof(l, long)' },
    { expr: 'instanceof(l, long) is null' },
    // Computed values have Esper's types.
    { expr: 'instanceof(l + 1, long)' },
    { expr: 'instanceof(l / 2, double)' },
    { expr: 'instanceof(cast(l, int), int)' },
    { expr: 'instanceof(cast(l, short), short)' },
    { expr: 'instanceof(cast(d, float), float)' },
    { expr: 'instanceof(cast(s, string), string)' },
    { expr: 'instanceof(1, int) and l = 1L' },
    { expr: 'instanceof(1, long) and l = 1L' },
    { expr: 'instanceof(1L, long) and l = 1L' },
    { expr: 'instanceof(1.5, double) and l = 1L' },
    { expr: 'instanceof(null, long) = false and l = 1L' },
    { pattern: 'every a=A -> b=A(instanceof(a.l, long))' },
    refused('instanceof(l, foo)'),
    refused('instanceof(l, Number)'),
    refused('instanceof(l, integer)'),
    refused('instanceof(l, bool)'),
    refused('instanceof(l, Character)'),
    refused('instanceof(l, java.lang.long)'),
    refused('instanceof(l)'),
    refused("instanceof(l, 'long')"),
    { expr: 'instanceof(l, java.util.Map)', outcome: 'onlyCepheusRefuses' },
    // Fields have no declared type here: an int field's value is a Long, a double field's 2.0 a Long.
    { expr: 'instanceof(k, int)', outcome: 'differs', why: 'an int field is an Integer in Esper; here its integral value is a Long' },
    { expr: 'instanceof(d, double)', events: [{ d: 2.0 }], outcome: 'differs', why: 'a double field holding 2.0 is a Double in Esper; here a Long' },
  ],
};

export const dynamicPropertySuite: FeatureSuite = {
  name: 'dynamic properties x?, exists, typeof',
  fieldTypes: { l: 'long', d: 'double', s: 'string', b: 'boolean' },
  events: [
    { l: 1, d: 1.5, s: 'a', b: true },
    { l: null, d: null, s: null, b: null },
    { l: -3000000000, d: 2, s: '', b: false },
    { s: 'only s' },
    {},
  ],
  cases: [
    // exists: whether the property is there, holding null or not; never null.
    { expr: 'exists(l?)' },
    { expr: 'exists(s?)' },
    { expr: 'exists(l)', outcome: 'differs', why: "a field's declared type: a declared property always exists in Esper; here a property that is not in the event does not" },
    { expr: 'exists(zz?)' },
    { expr: 'not exists(l?)' },
    { expr: 'exists(l?) and l? is null' },
    { expr: 'exists(s?) = false' },
    { pattern: 'every a=A -> b=A(exists(a.l?) and not exists(l?))' },
    // Equality on Object is Java's equals: classes must match (a JSON integral is a Long, any other number a Double).
    { expr: "s? = 'a'" },
    { expr: "s? != 'a'" },
    { expr: "s? is 'a'" },
    { expr: "s? is not 'a'" },
    { expr: 'l? = 1L' },
    { expr: 'l? = 1' },
    { expr: 'l? != 1' },
    { expr: 'd? = 1.5' },
    { expr: 'd? = 1.5f' },
    { expr: 'l? is null' },
    { expr: 'l? is not null' },
    { expr: 'b? = true' },
    { expr: 'l? = d?' },
    { pattern: 'every a=A -> b=A(s? = a.s)' },
    // typeof: the simple class name; a tag gives its event type.
    { expr: "(typeof(s?) = 'String') = true" },
    { expr: "(typeof(l?) = 'Long') = true" },
    { expr: "(typeof(d?) = 'Double') = true", events: [{ d: 1.5 }, { d: -0.25 }, { d: null }] },
    { expr: "(typeof(d?) = 'Double') = true", outcome: 'differs', why: 'a double field holding 2 is a Double in Esper; here an integral value is a Long' },
    { expr: "(typeof(b?) = 'Boolean') = true" },
    { expr: "(typeof(l?) is null) = true" },
    { expr: "(typeof(zz?) is null) = true" },
    { expr: "(typeof(1) = 'Integer') = true and l = 1L" },
    { expr: "(typeof(l / 2) = 'Double') = true" },
    { expr: "(typeof(cast(l, int)) = 'Integer') = true" },
    { pattern: "every a=A -> b=A(typeof(a.s) = 'String')" },
    { pattern: "every a=A -> b=A(typeof(a) = 'A')" },
    // instanceof and cast take Object.
    { expr: 'instanceof(l?, long)' },
    { expr: 'instanceof(d?, double)', events: [{ d: 1.5 }, { d: null }] },
    { expr: 'cast(l?, double) > 0' },
    { expr: "cast(s?, string) = 'a'" },
    // Everything else refuses Object, as Esper does.
    refused('l? > 0'),
    refused('l? + 1 = 2'),
    refused('-l? = -1'),
    refused('l? between 0 and 2'),
    refused('l? in (1L, 2L)'),
    refused("s? like 'a%'"),
    refused("s? regexp 'a'"),
    refused('coalesce(l?, 0L) = 0L'),
    refused('l?'),
    refused('exists(1)'),
    refused('exists(l + 1)'),
    // Esper's filter index evaluates `typeof(x) = 'String'` against the wrong value: never true, and `!=` always.
    { expr: "typeof(s) = 'String'", outcome: 'differs', why: "Esper's filter index, which compares typeof(s) with another value (`(typeof(s) = 'String') = true` agrees)" },
    { expr: "typeof(s?) != 'zz'", outcome: 'differs', why: "Esper's filter index (see the case above)" },
  ],
};

export const featureSuites: FeatureSuite[] = [bitwiseSuite, castSuite, quantifiedSuite, instanceofSuite, dynamicPropertySuite];
