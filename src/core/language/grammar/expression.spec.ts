/**
 * expression.ne: literals, paths, calls, operators and their precedence, predicates (in, between, like, regexp,
 * is null), comments; and the spans of expression nodes.
 */
import { parseExpression } from '../parser';
import { stripSpans } from '../testing/ast-shorthand';
import { callCases, caseCases, castCases, commentCases, instanceofCases, quantifiedCases, literalCases, operatorCases, pathCases, predicateCases } from '../testing/expression.cases';

describe('expression grammar', () => {
  describe.each([
    ['literals', literalCases],
    ['property paths', pathCases],
    ['function calls', callCases],
    ['operators and precedence', operatorCases],
    ['predicates', predicateCases],
    ['case expressions', caseCases],
    ['cast', castCases],
    ['instanceof', instanceofCases],
    ['any, some and all', quantifiedCases],
    ['comments', commentCases],
  ] as const)('%s', (_group, cases) => {
    it.each(cases)('%s: %s', (_behaviour, text, expected) => {
      expect(stripSpans(parseExpression(text))).toEqual(expected);
    });
  });

  describe('spans', () => {
    it('a binary node spans from its left operand to its right operand', () => {
      const e = parseExpression('a.x + 10');
      expect(e.span).toEqual({ offset: 0, line: 1, column: 1, length: 8 });
      if (e.kind !== 'binary') throw new Error('expected binary');
      expect(e.left.span).toEqual({ offset: 0, line: 1, column: 1, length: 3 });
      expect(e.right.span).toEqual({ offset: 6, line: 1, column: 7, length: 2 });
    });

    it('a parenthesised expression spans its parentheses', () => {
      const e = parseExpression('(a + b) * c');
      if (e.kind !== 'binary') throw new Error('expected binary');
      expect(e.left.span).toEqual({ offset: 0, line: 1, column: 1, length: 7 });
      expect(e.span).toEqual({ offset: 0, line: 1, column: 1, length: 11 });
    });

    it('a string literal spans its quotes', () => {
      const e = parseExpression("name like 'a''b'");
      if (e.kind !== 'like') throw new Error('expected like');
      expect(e.pattern.span).toEqual({ offset: 10, line: 1, column: 11, length: 6 });
      expect(e.span.length).toBe(16);
    });

    it('a path with an index spans up to the closing bracket', () => {
      expect(parseExpression('items[12]').span).toEqual({ offset: 0, line: 1, column: 1, length: 9 });
    });

    it('predicates span from the operand to their last token', () => {
      expect(parseExpression('x not in (1, 2)').span.length).toBe(15);
      expect(parseExpression('x in [1:5)').span.length).toBe(10);
      expect(parseExpression('x between 1 and 5').span.length).toBe(17);
      expect(parseExpression("x like 'a' escape '!'").span.length).toBe(21);
      expect(parseExpression('x is not null').span.length).toBe(13);
      expect(parseExpression('lower(x)').span.length).toBe(8);
      expect(parseExpression('not -x').span.length).toBe(6);
    });

    it('lines and columns count from 1 across line breaks', () => {
      const e = parseExpression('a and\n  b');
      if (e.kind !== 'binary') throw new Error('expected binary');
      expect(e.right.span).toEqual({ offset: 8, line: 2, column: 3, length: 1 });
      expect(e.span).toEqual({ offset: 0, line: 1, column: 1, length: 9 });
    });
  });
});
