/**
 * The dedicated closures for common filter shapes (a simple property read compared with a literal, with another
 * read, or with any expression; a read plus or minus a literal; filters called as predicates) must give exactly
 * what the generic closures give. `coalesce(x, null)` has the value of x but no fast path, so it is the reference.
 */
import fc from 'fast-check';
import { compileExpression, compilePredicate, LinearTest, linearTest } from '../../src/core/expr/compile';
import { parseExpression as parse } from '../../src/core/language/parser';
import type { EventRecord, ExprScope } from '../../src/core/expr/types';

const scope: ExprScope = {
  resolve: (name) => (name === 'a' ? { slot: 0, multi: false } : undefined),
  unavailable: () => undefined,
  tagsOnly: false,
};

const generic = (text: string) => text.replace(/\b(a\.)?(price|qty)\b/g, (m) => `coalesce(${m}, null)`);

const value = fc.oneof(
  fc.integer({ min: -3, max: 3 }),
  fc.constantFrom(0, -0, 0.5, NaN, Infinity, 1e-9),
  fc.constantFrom('a', 'b', '', '10'),
  fc.constantFrom(null, true, false, undefined),
  fc.constant({ x: 1 }),
  fc.constant([1]),
);
const record = fc.record({ price: value, qty: value }, { requiredKeys: [] });
const literal = fc.oneof(fc.constantFrom('0', '1', '2.5', '-1', "'a'", "'b'", 'null'));
const rel = fc.constantFrom('<', '<=', '>', '>=');
const arith = fc.constantFrom('+', '-', '*', '/', '%');
const read = fc.constantFrom('price', 'qty', 'a.price', 'a.qty');
const num = fc.constantFrom('0', '1', '2.5', '-1');

const expression = fc.oneof(
  fc.tuple(read, rel, literal).map(([x, op, k]) => `${x} ${op} ${k}`),
  fc.tuple(literal, rel, read).map(([k, op, x]) => `${k} ${op} ${x}`),
  fc.tuple(read, rel, read).map(([x, op, y]) => `${x} ${op} ${y}`),
  fc.tuple(read, rel, read, arith, num).map(([x, op, y, o, k]) => `${x} ${op} ${y} ${o} ${k}`),
  fc.tuple(read, arith, num, rel, read).map(([y, o, k, op, x]) => `${y} ${o} ${k} ${op} ${x}`),
  fc.tuple(num, arith, read, rel, read).map(([k, o, y, op, x]) => `${x} ${op} ${k} ${o} ${y}`),
);

function compiles(text: string): boolean {
  try {
    compileExpression(parse(text), scope);
    return true;
  } catch {
    return false;
  }
}

/** What a LinearTest says the predicate gives. */
function byDescription(t: LinearTest, e: EventRecord, b: unknown[]): boolean {
  const read = (tag: number, key: string): unknown => {
    const o = tag < 0 ? e : b[tag];
    return o !== null && typeof o === 'object' ? (o as Record<string, unknown>)[key] : undefined;
  };
  const cmp = (x: number | string, y: number | string) => ({ '<': x < y, '<=': x <= y, '>': x > y, '>=': x >= y })[t.op];
  const x = read(t.x.tag, t.x.key);
  const y = t.y === null ? null : read(t.y.tag, t.y.key);
  if (t.y === null) return typeof x === 'number' && cmp(x, t.d);
  if (typeof x === 'number' && typeof y === 'number') return cmp(x, y + t.d);
  return t.strings && typeof x === 'string' && typeof y === 'string' && cmp(x, y);
}

describe('compiled filter shapes', () => {
  it('give the same values and predicate results as the generic closures', () => {
    fc.assert(
      fc.property(fc.array(expression, { minLength: 1, maxLength: 2 }), record, record, (texts, event, a) => {
        fc.pre(texts.every(compiles));
        const e = event as EventRecord;
        const b = [a];
        for (const text of texts) {
          const fast = compileExpression(parse(text), scope).evaluate(e, b);
          expect(fast).toEqual(compileExpression(parse(generic(text)), scope).evaluate(e, b));
        }
        const test = compilePredicate(texts.map(parse), scope).test;
        const reference = compilePredicate(texts.map((t) => parse(generic(t))), scope).test;
        expect(test(e, b)).toBe(reference(e, b));
        const lin = linearTest(test);
        if (lin !== undefined) expect(byDescription(lin, e, b)).toBe(reference(e, b));
      }),
      { numRuns: 3000 },
    );
  });

  it('compare number reads with number arithmetic as before', () => {
    const p = compilePredicate([parse('price > a.price + 0.05')], scope).test;
    expect(p({ price: 10.06 }, [{ price: 10 }])).toBe(true);
    expect(p({ price: 10.05 }, [{ price: 10 }])).toBe(10.05 > 10 + 0.05);
    expect(p({ price: '11' }, [{ price: 10 }])).toBe(false);
    expect(p({ price: 11 }, [{}])).toBe(false);
    expect(p({ price: 11 }, [])).toBe(false);
  });
});
