import fc from 'fast-check';
import { compileLike, LikePatternError } from './like';

describe('like: SQL pattern matching as Esper does it', () => {
  const cases: Array<[pattern: string, escape: string | null, input: string, expected: boolean]> = [
    // no wildcard: equality, case-sensitive
    ['abc', '\\', 'abc', true],
    ['abc', '\\', 'ABC', false],
    ['abc', '\\', 'abcd', false],
    ['', '\\', '', true],
    ['', '\\', 'a', false],
    // % any run, including none
    ['%', '\\', '', true],
    ['%', '\\', 'anything', true],
    ['%%', '\\', 'x', true],
    ['abc%', '\\', 'abcdef', true],
    ['abc%', '\\', 'abc', true],
    ['abc%', '\\', 'xabc', false],
    ['%abc', '\\', 'xyzabc', true],
    ['%abc', '\\', 'abcx', false],
    ['%Jack%', '\\', 'Hi Jack!', true],
    ['%Jack%', '\\', 'Hi jack!', false],
    ['a%c', '\\', 'ac', true],
    ['a%c', '\\', 'abbbc', true],
    ['a%c', '\\', 'abbbd', false],
    ['ab%ba', '\\', 'aba', false], // prefix and suffix must not overlap
    ['ab%ba', '\\', 'abba', true],
    ['a%b%c', '\\', 'axxbyyc', true],
    ['a%b%c', '\\', 'axxcyyb', false],
    ['%a%b%', '\\', 'xxaxxbxx', true],
    ['%a%b%', '\\', 'xxbxxaxx', false],
    // _ exactly one character (a UTF-16 code unit, as a Java char)
    ['_', '\\', 'a', true],
    ['_', '\\', '', false],
    ['_', '\\', 'ab', false],
    ['a_c', '\\', 'abc', true],
    ['a_c', '\\', 'ac', false],
    ['__', '\\', '😀', true],
    ['%_', '\\', '', false],
    ['%_', '\\', 'x', true],
    ['_%_', '\\', 'x', false],
    ['_%_', '\\', 'xy', true],
    ['%a_c%', '\\', 'zzaxabcz', true],
    ['%a_c%', '\\', 'zzabxadz', false],
    ['%_b_%', '\\', 'abc', true],
    ['%_b_%', '\\', 'bc', false],
    ['a_%_z', '\\', 'abz', false],
    ['a_%_z', '\\', 'abcz', true],
    // escapes: backslash by default; escape '!' as in the Esper reference
    ['\\_', '\\', '_', true],
    ['\\_', '\\', 'x', false],
    ['\\%', '\\', '%', true],
    ['\\%', '\\', 'ab', false],
    ['100\\%', '\\', '100%', true],
    ['\\\\', '\\', '\\', true],
    ['!_', '!', '_', true],
    ['!_', '!', 'x', false],
    ['a!%%', '!', 'a%bc', true],
    ['a!%%', '!', 'abc', false],
    ['!!', '!', '!', true],
    ['!a', '!', 'a', true], // an escaped ordinary character is itself
    ['\\_', '!', '\\x', true], // with another escape character, a backslash is ordinary
    ['\\_', null, '\\x', true],
    ['\\_', '', '\\x', true], // an empty escape means none (as Esper)
    // regular-expression characters are ordinary in LIKE
    ['a.c', '\\', 'abc', false],
    ['a.c', '\\', 'a.c', true],
    ['(a|b)*', '\\', '(a|b)*', true],
    ['[a]', '\\', 'a', false],
    // newlines are ordinary characters
    ['a%b', '\\', 'a\nb', true],
    ['a_b', '\\', 'a\nb', true],
  ];

  it.each(cases)('%j (escape %j) on %j is %s', (pattern, escape, input, expected) => {
    expect(compileLike(pattern, escape)(input)).toBe(expected);
  });

  it('uses a backslash as the escape character by default', () => {
    expect(compileLike('a\\%')('a%')).toBe(true);
    expect(compileLike('a\\%')('ab')).toBe(false);
  });

  it('ignores an escape character at the end of the pattern, as Esper does', () => {
    expect(compileLike('abc\\')('abc')).toBe(true);
    expect(compileLike('abc!', '!')('abc!')).toBe(false);
    expect(compileLike('a%!', '!')('axyz')).toBe(true);
  });

  it('rejects an escape of more than one character', () => {
    expect(() => compileLike('a', '!!')).toThrow(/single character/);
  });
});

describe('like: matching never backtracks', () => {
  it('answers patterns with many % on a 50,000-character input quickly', () => {
    const as = 'a'.repeat(50_000);
    const started = Date.now();
    expect(compileLike('%a%a%a%a%a%a%a%a%b')(as)).toBe(false);
    expect(compileLike('%a_a%a_a%a_a%a_a%b')(as)).toBe(false);
    expect(compileLike('%a%a%a%a%a%a%a%a%')(as)).toBe(true);
    expect(compileLike('%_%_%_%_%_%_%_%_b')(as)).toBe(false);
    expect(compileLike('a%' + 'a_'.repeat(20) + '%a')(as)).toBe(true);
    expect(Date.now() - started).toBeLessThan(2000);
  });
});

describe('like: agrees with an equivalent regular expression', () => {
  /** The pattern as a JavaScript RegExp: % is [^]*, _ is [^] (any code unit), escape '!' quotes. */
  function oracle(pattern: string): RegExp {
    let re = '';
    for (let i = 0; i < pattern.length; i++) {
      const c = pattern[i];
      if (c === '!') re += pattern[++i].replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
      else if (c === '%') re += '[^]*';
      else if (c === '_') re += '[^]';
      else re += c.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
    }
    return new RegExp(`^${re}$`);
  }

  it('gives the same answer on generated patterns and inputs', () => {
    const patternArb = fc
      .array(fc.constantFrom('a', 'b', '%', '_', '!%', '!_', '!!', '.', '\n'), { maxLength: 8 })
      .map((parts) => parts.join(''));
    const inputArb = fc.string({ unit: fc.constantFrom('a', 'b', '%', '_', '!', '.', '\n'), maxLength: 12 });
    fc.assert(
      fc.property(patternArb, fc.array(inputArb, { minLength: 1, maxLength: 10 }), (pattern, inputs) => {
        const ours = compileLike(pattern, '!');
        const re = oracle(pattern);
        for (const s of inputs) expect(ours(s)).toBe(re.test(s));
      }),
      { numRuns: 3000 },
    );
  });
});
