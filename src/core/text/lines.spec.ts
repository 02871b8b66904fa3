import { LineIndex, lineOf } from './lines';

// The same three lines with each kind of line break: \n, \r\n, and a lone \r (old Mac files).
const BREAKS: Array<[string, string]> = [
  ['\\n', 'ab\ncd\nef'],
  ['\\r\\n', 'ab\r\ncd\r\nef'],
  ['a lone \\r', 'ab\rcd\ref'],
];

describe('LineIndex', () => {
  it.each(BREAKS)('turns offsets into 1-based lines and columns, lines ending with %s', (_name, text) => {
    const index = new LineIndex(text);
    const at = (s: string) => index.pos(text.indexOf(s));
    expect([at('a'), at('c'), at('d'), at('f')]).toEqual([
      { line: 1, column: 1 },
      { line: 2, column: 1 },
      { line: 2, column: 2 },
      { line: 3, column: 2 },
    ]);
    expect(index.offset(2, 2)).toBe(text.indexOf('d'));
    // A location is cut at the end of its line, before the line break.
    expect(index.loc(text.indexOf('c'), 100)).toEqual({ line: 2, column: 1, length: 2 });
  });
});

describe('lineOf', () => {
  it.each(BREAKS)('returns each line without its break, lines ending with %s', (_name, text) => {
    expect([1, 2, 3, 4, 0].map((n) => lineOf(text, n))).toEqual(['ab', 'cd', 'ef', undefined, undefined]);
  });

  it('returns the empty last line after a final line break', () => {
    expect(lineOf('ab\n', 2)).toBe('');
  });
});
