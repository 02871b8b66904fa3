/**
 * Hand-written cases for the expression features taken from Esper's language one at a time (bitwise
 * operators, ...), for esper-differential.spec.ts: each case runs on Esper 8.9 and on Cepheus over its
 * suite's events, with the suite's declared field types on Esper's side.
 *
 * `outcome` says what the case is there to show, so that no comparison passes vacuously:
 * - 'same' (the default): both accept the rule and give the same matches;
 * - 'refused': both refuse it at compile time (Cepheus with a `line:column` error);
 * - 'declaredTypes': Esper refuses it only because of a field's declared type (`i & 1` with a long `i`: an
 *   int and a long), which Cepheus' JSON events do not have. Cepheus accepts it; README says so.
 */
export interface FeatureCase {
  /** The condition of `every a=A(expr)`, unless `pattern` is given. */
  expr?: string;
  pattern?: string;
  outcome?: 'same' | 'refused' | 'declaredTypes';
}

export interface FeatureSuite {
  name: string;
  fieldTypes: Record<string, 'int' | 'long' | 'double' | 'string' | 'boolean'>;
  /** The events, all of type A (ids A1, A2, ... one second apart). */
  events: Array<Record<string, unknown>>;
  cases: FeatureCase[];
}

const refused = (expr: string): FeatureCase => ({ expr, outcome: 'refused' });
const declaredTypes = (expr: string): FeatureCase => ({ expr, outcome: 'declaredTypes' });

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
    // Refused by Esper only for the declared type of a field, which JSON events do not have.
    declaredTypes('(i & 1) = 1'),
    declaredTypes('(k & 1L) = 1L'),
    declaredTypes('i & 3L = 1L'),
  ],
};

export const featureSuites: FeatureSuite[] = [bitwiseSuite];
