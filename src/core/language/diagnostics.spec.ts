import { EXCERPT_WIDTH, excerptOf, formatDiagnostic } from './diagnostics';

describe('excerptOf', () => {
  it.each([
    ['a caret under the offending text', { line: 2, column: 5, length: 3 }, 'id: x\nfoo bar baz', Infinity, ['foo bar baz', '    ^^^']],
    ['a line of a text whose lines end with a lone \\r', { line: 2, column: 5, length: 3 }, 'id: x\rfoo bar baz\rid: y', Infinity, ['foo bar baz', '    ^^^']],
        ['tabs shown as spaces, the caret clipped to the line', { line: 1, column: 3, length: 99 }, 'a\tbc', Infinity, ['a bc', '  ^^']],
    // An error found at the end of the text (a quote never closed): the last line, the caret after it.
    ['a line past the end of the text', { line: 3, column: 1, length: 1 }, 'one line', Infinity, ['one line', '        ^']],
    ['the empty line after the last line break', { line: 3, column: 1, length: 1 }, 'id: x\nkey: "a\n', Infinity, ['key: "a', '       ^']],
    ['a place past blank lines at the end', { line: 4, column: 1, length: 1 }, 'id: x\n  \n\n', Infinity, ['id: x', '     ^']],
    ['nothing for a text of blanks', { line: 2, column: 1, length: 1 }, ' \n', Infinity, undefined],
    ['a long line cut to a window around the column', { line: 1, column: 51, length: 2 }, 'x'.repeat(50) + 'ERR' + 'y'.repeat(50), 20, ['…' + 'x'.repeat(6) + 'ERR' + 'y'.repeat(11) + '…', ' '.repeat(7) + '^^']],
    ['a long line near its start keeps the start', { line: 1, column: 2, length: 1 }, 'a' + 'b'.repeat(100), 10, ['a' + 'b'.repeat(9) + '…', ' ^']],
    ['a blank line gives no excerpt', { line: 2, column: 1, length: 1 }, 'id: x\n   \nid: y', Infinity, undefined],
    // Columns count UTF-16 code units: each 😀 is two.
    ['a window never cuts a two-unit character at its start', { line: 1, column: 21, length: 1 }, '😀'.repeat(10) + 'X' + 'y'.repeat(30), 9, ['…😀Xyyyyy…', '   ^']],
    ['a window never cuts a two-unit character at its end', { line: 1, column: 1, length: 1 }, 'a' + '😀'.repeat(10), 4, ['a😀…', '^']],
    ['a long line near its end keeps the end', { line: 1, column: 100, length: 5 }, 'c'.repeat(99) + 'Z', 10, ['…' + 'c'.repeat(9) + 'Z', ' '.repeat(10) + '^']],
  ])('%s', (_name, d, source, width, expected) => {
    expect(excerptOf(d, source, width)).toEqual(expected);
  });

  it('formatDiagnostic prints a short line whole', () => {
    const d = { severity: 'error' as const, message: 'bad', line: 1, column: 3, length: 2, file: 'f.cep' };
    expect(formatDiagnostic(d, 'a bad line')).toBe('f.cep:1:3: bad\n  a bad line\n    ^^');
  });

  it('formatDiagnostic cuts a long line to EXCERPT_WIDTH characters around the column, the caret still under the offending text', () => {
    const line = 'pattern: ' + 'a=A -> '.repeat(4000) + 'b=B(x >> 1)' + ' -> c=C'.repeat(4000);
    const d = { severity: 'error' as const, message: "unexpected '>'", line: 2, column: line.indexOf('>>') + 2, length: 1, file: 'big.yaml' };
    const [header, shown, caret] = formatDiagnostic(d, `id: big\n${line}\n`).split('\n');
    expect(header).toBe(`big.yaml:2:${d.column}: unexpected '>'`);
    expect(shown).toMatch(/^  ….*…$/);
    expect(shown.length).toBe(2 + EXCERPT_WIDTH + 2);
    expect(caret).toMatch(/^ +\^$/);
    // The caret is under the second '>'.
    expect(shown.slice(caret.length - 5, caret.length + 3)).toBe('(x >> 1)');
  });
});
