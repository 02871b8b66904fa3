/**
 * lexer.ts: token types and values (case-insensitive keywords, soft keywords, time units, strings, quoted
 * identifiers, numbers, operators), skipped whitespace and comments, positions, lexical errors.
 */
import { describeTokenType, tokenize } from './lexer';

const lex = (text: string) => tokenize(text).tokens.map((t) => [t.type, t.value]);

describe('lexer', () => {
  const cases: Array<[string, string, Array<[string, string]>]> = [
    ['keywords are case-insensitive and keep their text as value', 'every EVERY Every eVeRy', [['kw_every', 'every'], ['kw_every', 'EVERY'], ['kw_every', 'Every'], ['kw_every', 'eVeRy']]],
    ['identifiers keep their case', 'userId USERID', [['ident', 'userId'], ['ident', 'USERID']]],
    ['a keyword prefix does not make a keyword', 'everything notes android', [['ident', 'everything'], ['ident', 'notes'], ['ident', 'android']]],
    ['every-distinct is one token, in any case', 'every-distinct EVERY-DISTINCT', [['everyDistinct', 'every-distinct'], ['everyDistinct', 'EVERY-DISTINCT']]],
    ['every followed by minus is not every-distinct', 'every-distinctive', [['kw_every', 'every'], ['punct', '-'], ['ident', 'distinctive']]],
    ['statement words have their own types', 'select FROM As partition BY pattern', [['kw_select', 'select'], ['kw_from', 'FROM'], ['kw_as', 'As'], ['kw_partition', 'partition'], ['kw_by', 'BY'], ['kw_pattern', 'pattern']]],
    ['time units share one type', 'sec SECONDS min msec usec years', [['timeunit', 'sec'], ['timeunit', 'SECONDS'], ['timeunit', 'min'], ['timeunit', 'msec'], ['timeunit', 'usec'], ['timeunit', 'years']]],
    ['a backtick-quoted identifier is an identifier without the backticks', '`every` `page-view`', [['ident', 'every'], ['ident', 'page-view']]],
    ['numbers: integers, decimals, exponents', '0 42 1.5 2e3 1.5E-2', [['number', '0'], ['number', '42'], ['number', '1.5'], ['number', '2e3'], ['number', '1.5E-2']]],
    ['a number directly followed by a unit', '10sec', [['number', '10'], ['timeunit', 'sec']]],
    ['strings in single and double quotes are unescaped', `'a\\'b' "c\\"d" 'e''f' "g""h"`, [['string', "a'b"], ['string', 'c"d'], ['string', "e'f"], ['string', 'g"h']]],
    ['strings may span lines', "'a\nb'", [['string', 'a\nb']]],
    ['multi-character operators', '-> -[ != <> <= >=', [['arrow', '->'], ['followMax', '-['], ['ne', '!='], ['ne', '<>'], ['le', '<='], ['ge', '>=']]],
    ['single-character operators', '( ) [ ] , : . ; = < > + - * / %', '()[],:.;=<>+-*/%'.split('').map((c): [string, string] => ['punct', c])],
    ['*/ is a star and a slash, not the end of a comment', '*/5', [['punct', '*'], ['punct', '/'], ['number', '5']]],
    ['annotations are one token', "@name('x')", [['annotation', '@name'], ['punct', '('], ['string', 'x'], ['punct', ')']]],
    ['whitespace and comments are skipped', 'a // line\n/* block\n */ b', [['ident', 'a'], ['ident', 'b']]],
    ['a line comment ends at a lone \\r, as in Esper', 'a // line\rb', [['ident', 'a'], ['ident', 'b']]],
    ['a quoted identifier does not span a lone \\r', '`a`\r`b`', [['ident', 'a'], ['ident', 'b']]],
    ['-- is two minus signs, not a comment (Esper has no -- comments)', 'a--b', [['ident', 'a'], ['punct', '-'], ['punct', '-'], ['ident', 'b']]],
  ];

  it.each(cases)('%s', (_behaviour, text, expected) => {
    expect(lex(text)).toEqual(expected);
    expect(tokenize(text).error).toBeUndefined();
  });

  it('tokens carry 0-based offsets and 1-based lines and columns', () => {
    const { tokens } = tokenize("a\n  /* c\n */ 'x\ny' b");
    expect(tokens.map((t) => [t.text, t.offset, t.line, t.col])).toEqual([
      ['a', 0, 1, 1],
      ["'x\ny'", 13, 3, 5],
      ['b', 19, 4, 4],
    ]);
  });

  it('counts a lone \\r as a line break in positions, as \\n and \\r\\n', () => {
    const { tokens, error } = tokenize("a\r  /* c\r */ 'x\ry' b\r\nc\r#");
    expect(tokens.map((t) => [t.text, t.line, t.col])).toEqual([
      ['a', 1, 1],
      ["'x\ry'", 3, 5],
      ['b', 4, 4],
      ['c', 5, 1],
    ]);
    expect(error?.token).toMatchObject({ line: 6, col: 1 });
  });

  it('stops at the first lexical error and returns the tokens before it', () => {
    const { tokens, error } = tokenize('a b # c');
    expect(tokens.map((t) => t.text)).toEqual(['a', 'b']);
    expect(error).toMatchObject({ message: "unexpected character '#'", token: { offset: 4, line: 1, col: 5, text: '#' } });
  });

  it.each([
    ['a visible character, quoted', 'a # b', "'#'", 1],
    ['an emoji, quoted whole (two UTF-16 units)', 'a 😀 b', "'😀'", 2],
    ['a zero-width space, as its code point', 'a\u200b b', 'U+200B', 1],
    ['a line separator, as its code point', 'a\u2028b', 'U+2028', 1],
    ['a control character, as its code point', 'a\x01b', 'U+0001', 1],
    ['an ideographic space, as its code point', 'a\u3000b', 'U+3000', 1],
    ['a combining mark, as its code point', 'a \u0301', 'U+0301', 1],
  ])('names an unexpected character: %s', (_name, text, shown, length) => {
    const { error } = tokenize(text);
    expect(error?.message).toBe(`unexpected character ${shown}`);
    expect(error?.token.text).toHaveLength(length);
  });

  it('names token types for "expected" lists', () => {
    expect(['ident', 'number', 'string', 'timeunit', 'annotation', 'everyDistinct', 'kw_every', 'kw_in'].map(describeTokenType)).toEqual([
      'identifier',
      'number',
      'string',
      'time unit',
      'annotation',
      "'every-distinct'",
      "'every'",
      "'in'",
    ]);
  });
});
