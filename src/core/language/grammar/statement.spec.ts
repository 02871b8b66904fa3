/**
 * statement.ne: .cep files: annotations, partition by, select lists, from pattern [...], several statements,
 * comments; the exact pattern text and the spans the rule loader relies on.
 */
import { relocate } from '../diagnostics';
import { parseCepFile, parsePattern } from '../parser';
import { stripSpans } from '../testing/ast-shorthand';
import { statementCases } from '../testing/statement.cases';
import { RuleError } from '../diagnostics';

describe('.cep statements', () => {
  it.each(statementCases)('%s', (_behaviour, text, expected) => {
    const statements = parseCepFile(text).map((s) => {
      const { patternSpan: _ps, ...rest } = s;
      return stripSpans(rest);
    });
    expect(statements).toEqual(expected);
  });

  describe('spans', () => {
    const text = "@name('x')\npartition by user_id\nselect a.v as value\nfrom pattern [\n  every a=A ]";
    const [s] = parseCepFile(text);

    it('a statement spans from its first annotation to the closing bracket', () => {
      expect(s.span).toEqual({ offset: 0, line: 1, column: 1, length: text.length });
    });

    it('a statement without annotations starts at partition or select', () => {
      expect(parseCepFile('  partition by x select * from pattern [A]')[0].span).toEqual({ offset: 2, line: 1, column: 3, length: 40 });
      expect(parseCepFile('\nselect * from pattern [A] ;')[0].span).toEqual({ offset: 1, line: 2, column: 1, length: 25 });
    });

    it('annotations span from @ to their closing parenthesis', () => {
      expect(s.annotations[0].span).toEqual({ offset: 0, line: 1, column: 1, length: 10 });
      expect(parseCepFile('@enabled select * from pattern [A]')[0].annotations[0].span).toEqual({ offset: 0, line: 1, column: 1, length: 8 });
    });

    it('partition by spans its field', () => {
      expect(s.partitionBy?.span).toEqual({ offset: 24, line: 2, column: 14, length: 7 });
    });

    it('a select item spans its expression and alias', () => {
      expect(s.select[0].span).toEqual({ offset: 39, line: 3, column: 8, length: 12 });
      expect(s.select[0].expr.span).toEqual({ offset: 39, line: 3, column: 8, length: 3 });
    });

    it('patternSpan starts right after [ and covers patternText exactly', () => {
      expect(s.patternSpan).toEqual({ offset: 66, line: 4, column: 15, length: 13 });
      expect(s.patternText).toBe('\n  every a=A ');
      expect(text.slice(s.patternSpan.offset, s.patternSpan.offset + s.patternSpan.length)).toBe(s.patternText);
    });

    it('pattern node spans are positions in the file', () => {
      expect(s.pattern.span).toEqual({ offset: 69, line: 5, column: 3, length: 9 });
    });
  });

  it('errors in a re-parsed patternText map back to the file with relocate(diagnostic, patternSpan)', () => {
    const text = "@name('x')\nselect * from pattern [every a=A -> b=B(x = ) ]";
    let fileError: RuleError | undefined;
    try {
      parseCepFile(text);
    } catch (e) {
      fileError = e as RuleError;
    }
    const [s] = parseCepFile("@name('x')\nselect * from pattern [every a=A -> b=B(x = 1) ]");
    const patternText = text.slice(s.patternSpan.offset, text.lastIndexOf(']'));
    let patternError: RuleError | undefined;
    try {
      parsePattern(patternText);
    } catch (e) {
      patternError = e as RuleError;
    }
    expect(fileError).toBeInstanceOf(RuleError);
    expect(patternError).toBeInstanceOf(RuleError);
    const relocated = relocate(patternError!.diagnostics[0], { line: s.patternSpan.line, column: s.patternSpan.column });
    expect(relocated).toEqual(fileError!.diagnostics[0]);
  });
});
