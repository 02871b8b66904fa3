import fc from 'fast-check';
import { findJsonSyntaxError } from './json-syntax';

describe('findJsonSyntaxError', () => {
  it.each([
    // The finding: Node 20 says "Unexpected token '}'" with no position; it is on line 2.
    ['a missing value', '{"id":"x",\n "pattern": }', 23, "unexpected '}'; expected a value (object, array, string, number, true, false or null)"],
    ['a doubled comma', '{\n  "a": 1,,\n}', 11, 'unexpected \',\'; expected a key in double quotes'],
    ['a trailing comma in an object', '{"a": 1,\n}', 9, 'unexpected \'}\'; JSON allows no comma before a closing bracket'],
    ['a trailing comma in an array', '[1, 2, ]', 7, "unexpected ']'; JSON allows no comma before a closing bracket"],
    ['a missing colon', '{"a" 1}', 5, "unexpected '1'; expected ':' after the key"],
    // JSON's whitespace is four characters: a no-break space is not one, and it is named by its code point.
    ['a character that would not be visible', '  \u00a0 {}', 2, 'unexpected U+00A0; expected a value (object, array, string, number, true, false or null)'],
    ['a missing comma', '{"a": 1 "b": 2}', 8, 'unexpected \'"\'; expected \',\' or \'}\''],
    ['a word that is no literal, whole', '{"a": undefined}', 6, "unexpected 'undefined'; expected a value (object, array, string, number, true, false or null)"],
    ['single quotes', "{'a': 1}", 1, 'unexpected "\'"; JSON strings and keys are in double quotes'],
    ['a second value', '{} {}', 3, "unexpected '{'; expected the end of the text: the body holds one JSON value"],
    ['a leading zero', '[01]', 2, "invalid number: unexpected '1' after '0'"],
    ['a lone minus', '[-x]', 2, "invalid number: expected a digit after '-'"],
    ['a line break in a string', '{"a": "one\ntwo"}', 10, 'a line break inside a string: close the string, or escape it (\\n, \\t, \\u0000)'],
    ['a bad escape', '["a\\x"]', 3, 'invalid escape \'\\x\'; expected one of \\" \\\\ \\/ \\b \\f \\n \\r \\t \\uXXXX'],
    ['a short \\u escape', '["\\u12"]', 2, 'invalid escape: \\u needs four hex digits'],
    ['a string not closed', '{"a": "b', 6, 'this string is not closed: the text ends inside it'],
    ['cut short: just after the last character, not after trailing blanks', '{"a": [1,\n\n', 9, 'the text ends too early; expected a value (object, array, string, number, true, false or null)'],
    ['cut short in an empty array', '[', 1, "the text ends too early; expected a value or ']'"],
    ['an emoji: two UTF-16 units', '["😀" 😀]', 6, "unexpected '😀'; expected ',' or ']'"],
  ])('%s', (_name, text, offset, message) => {
    expect(() => JSON.parse(text)).toThrow();
    expect(findJsonSyntaxError(text)).toMatchObject({ offset, message });
  });

  it('the offending word or character is the length of the caret', () => {
    expect(findJsonSyntaxError('{"a": undefined}')?.length).toBe(9);
    expect(findJsonSyntaxError('["😀" 😀]')?.length).toBe(2);
    expect(findJsonSyntaxError('[1,,]')?.length).toBe(1);
  });

  it('finds no error in valid JSON, deeply nested included', () => {
    for (const text of ['{}', '[]', ' 0 ', '-0.5e+10', '"\\u00e9\\n"', 'null', '{"a":[true,false,null,{"b":"c"}]}', `${'['.repeat(100_000)}${']'.repeat(100_000)}`]) {
      expect([text.slice(0, 20), findJsonSyntaxError(text)]).toEqual([text.slice(0, 20), undefined]);
    }
  });

  it('agrees with JSON.parse on what is JSON: valid JSON, and valid JSON with one character changed, dropped or added', () => {
    const alphabet = fc.constantFrom(...'{}[]:,"\\ \n\t-+.0123456789eEtrufalsn\'ux/'.split(''));
    const mutated = fc
      .tuple(fc.json(), fc.nat(), fc.integer({ min: 0, max: 2 }), alphabet)
      .map(([text, at, how, c]) => {
        const i = text.length === 0 ? 0 : at % text.length;
        return how === 0 ? text.slice(0, i) + c + text.slice(i + 1) : how === 1 ? text.slice(0, i) + text.slice(i + 1) : text.slice(0, i) + c + text.slice(i);
      });
    const noise = fc.array(alphabet, { maxLength: 12 }).map((cs) => cs.join(''));
    fc.assert(
      fc.property(fc.oneof(fc.json(), mutated, noise), (text) => {
        let valid = true;
        try {
          JSON.parse(text);
        } catch {
          valid = false;
        }
        const found = findJsonSyntaxError(text);
        expect(found === undefined).toBe(valid);
        if (found) {
          expect(found.offset).toBeGreaterThanOrEqual(0);
          expect(found.offset).toBeLessThanOrEqual(text.length);
        }
      }),
      { numRuns: 5000 },
    );
  });
});
