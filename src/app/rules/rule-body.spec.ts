import { parseJson } from './rule-body';

describe('parseJson: JSON syntax errors with their line and column', () => {
  it.each([
    ['valid JSON has none', '{"a": 1}', undefined],
    ['a stray token: its line and column', '{\n  "a": 1,,\n}', { line: 2, column: 10 }],
    // Columns count UTF-16 code units, as the rule parser's do: each 😀 is two.
    ['cut short: the end of the text, after two-unit characters', '{"😀😀":', { line: 1, column: 9 }],
    ['cut short on a later line', '{\n "a": [1,', { line: 2, column: 10 }],
    ['a stray token after lone-\\r line breaks, counted as the rule parser counts lines', '{\r  "a": 1,,\r}', { line: 2, column: 10 }],
    // Node 20's "Unexpected token '}'" gives no position: this was reported at 1:1.
    ['a missing value on line 2', '{"id":"x",\n "pattern": }', { line: 2, column: 13, length: 1 }],
    ['a word that is no JSON, with its length', '{"id": "x", "enabled": yes}', { line: 1, column: 24, length: 3 }],
  ])('%s', (_name, text, at) => {
    const json = parseJson(text);
    const d = json.ok ? undefined : json.error;
    if (at === undefined) expect(d).toBeUndefined();
    else expect(d).toMatchObject({ severity: 'error', ...at, message: expect.stringMatching(/^JSON syntax error: /) });
  });
});
