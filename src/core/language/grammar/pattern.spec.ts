/**
 * pattern.ne: filters, operator precedence (guard > unary > repeat > and > or > followed-by), n-ary flattening,
 * repeat ranges, unary operators, guards and observers; and the spans of pattern nodes.
 */
import type { PatternNode } from '../ast';
import { parsePattern } from '../parser';
import { stripSpans } from '../testing/ast-shorthand';
import {
  filterCases,
  followedByCases,
  guardCases,
  observerCases,
  precedenceCases,
  repeatCases,
  unaryCases,
} from '../testing/pattern.cases';

describe('pattern grammar', () => {
  describe.each([
    ['filters', filterCases],
    ['precedence', precedenceCases],
    ['followed-by', followedByCases],
    ['repeat and until', repeatCases],
    ['unary operators', unaryCases],
    ['guards', guardCases],
    ['observers', observerCases],
  ] as const)('%s', (_group, cases) => {
    it.each(cases)('%s: %s', (_behaviour, text, expected) => {
      expect(stripSpans(parsePattern(text))).toEqual(expected);
    });
  });

  describe('spans', () => {
    const text = 'every a=A -> b=B where timer:within(1 sec)';
    const root = parsePattern(text) as Extract<PatternNode, { kind: 'followedBy' }>;
    const first = root.children[0] as Extract<PatternNode, { kind: 'every' }>;
    const second = root.children[1] as Extract<PatternNode, { kind: 'guard' }>;

    it('the root spans the whole pattern', () => {
      expect(root.span).toEqual({ offset: 0, line: 1, column: 1, length: text.length });
    });

    it('a unary operator spans from its keyword to the end of its operand', () => {
      expect(first.span).toEqual({ offset: 0, line: 1, column: 1, length: 9 });
    });

    it('a filter spans tag to type, and its tag has a span of its own', () => {
      const filter = first.child as Extract<PatternNode, { kind: 'filter' }>;
      expect(filter.span).toEqual({ offset: 6, line: 1, column: 7, length: 3 });
      expect(filter.tagSpan).toEqual({ offset: 6, line: 1, column: 7, length: 1 });
    });

    it('a guarded pattern spans its child and the guard; the guard spans from where to )', () => {
      expect(second.span).toEqual({ offset: 13, line: 1, column: 14, length: 29 });
      expect(second.guard.span).toEqual({ offset: 17, line: 1, column: 18, length: 25 });
      if (second.guard.kind !== 'within') throw new Error('expected within');
      expect(second.guard.duration.span).toEqual({ offset: 36, line: 1, column: 37, length: 5 });
    });

    it('a filter with predicates spans up to its closing parenthesis', () => {
      expect(parsePattern('a=A(x > 1, y)').span).toEqual({ offset: 0, line: 1, column: 1, length: 13 });
    });

    it('a parenthesised pattern spans its parentheses', () => {
      const node = parsePattern('every (A -> B)') as Extract<PatternNode, { kind: 'every' }>;
      expect(node.child.span).toEqual({ offset: 6, line: 1, column: 7, length: 8 });
    });

    it('a repeat spans from its range to its until operand', () => {
      expect(parsePattern('[2:3] A until B').span).toEqual({ offset: 0, line: 1, column: 1, length: 15 });
      expect(parsePattern('A until B').span).toEqual({ offset: 0, line: 1, column: 1, length: 9 });
    });

    it('an observer spans from its namespace to )', () => {
      expect(parsePattern('timer:interval(5 sec)').span).toEqual({ offset: 0, line: 1, column: 1, length: 21 });
    });

    it('nodes on later lines have their own line and column', () => {
      const node = parsePattern('every a=A\n    -> b=B') as Extract<PatternNode, { kind: 'followedBy' }>;
      expect(node.children[1].span).toEqual({ offset: 17, line: 2, column: 8, length: 3 });
      expect(node.span).toEqual({ offset: 0, line: 1, column: 1, length: 20 });
    });
  });

  it('long followed-by chains are flat and parse in linear time', () => {
    const n = 3000;
    const started = Date.now();
    const node = parsePattern(Array.from({ length: n }, (_, i) => `e${i}=E(x = ${i})`).join(' -> '));
    expect(Date.now() - started).toBeLessThan(2000);
    if (node.kind !== 'followedBy') throw new Error('expected followed-by');
    expect(node.children).toHaveLength(n);
    expect(node.limits).toHaveLength(n - 1);
    expect(node.children[n - 1]).toMatchObject({ kind: 'filter', tag: `e${n - 1}` });
  });
});
