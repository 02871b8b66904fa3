/**
 * Where JSON text first breaks the grammar (RFC 8259, what JSON.parse accepts), and why. JSON.parse says
 * where only for some errors ("... at position n"); Node 20's "Unexpected token" messages say nothing of it.
 * Called only once JSON.parse failed, so it need not be fast; it keeps no stack of its own calls, so any
 * nesting is fine.
 */
import { showCharacter } from '../../core/language/grammar/lexer';

export interface JsonSyntaxProblem {
  /** UTF-16 offset of the offending text; at the end of the text's last non-blank character for a text cut short. */
  offset: number;
  /** UTF-16 code units of the offending text (1 at least). */
  length: number;
  /** E.g. `unexpected '}'; expected a value`. */
  message: string;
}

type Expect = 'value' | 'value-or-close' | 'key' | 'key-or-close' | 'colon' | 'comma-or-close' | 'end';

const EXPECTED: Record<Expect, (closer: string) => string> = {
  value: () => 'expected a value (object, array, string, number, true, false or null)',
  'value-or-close': () => "expected a value or ']'",
  key: () => 'expected a key in double quotes',
  'key-or-close': () => "expected a key in double quotes or '}'",
  colon: () => "expected ':' after the key",
  'comma-or-close': (closer) => `expected ',' or '${closer}'`,
  end: () => 'expected the end of the text: the body holds one JSON value',
};

const WHITESPACE = new Set([0x20, 0x09, 0x0a, 0x0d]);
const NUMBER_START = /[-0-9]/;
const NUMBER = /-?(?:0|[1-9][0-9]*)(?:\.[0-9]+)?(?:[eE][+-]?[0-9]+)?/y;
const WORD = /[A-Za-z0-9_$]+/y;

/** The first syntax error of `text`, or undefined when it is one valid JSON value. */
export function findJsonSyntaxError(text: string): JsonSyntaxProblem | undefined {
  /** Closers of the open objects and arrays, innermost last. */
  const open: Array<'}' | ']'> = [];
  let expect: Expect = 'value';
  let i = 0;
  const closer = () => open[open.length - 1] ?? '';
  const afterValue = (): Expect => (open.length === 0 ? 'end' : 'comma-or-close');

  for (;;) {
    while (i < text.length && WHITESPACE.has(text.charCodeAt(i))) i++;
    if (i >= text.length) {
      if (expect === 'end') return undefined;
      return { offset: endOfContent(text), length: 1, message: `the text ends too early; ${EXPECTED[expect](closer())}` };
    }
    const c = text[i];
    const unexpected = (hint?: string) => unexpectedAt(text, i, hint ?? EXPECTED[expect](closer()));
    // The closing bracket of the innermost object or array, where one may come.
    if (c === closer() && (expect === 'comma-or-close' || expect === (c === '}' ? 'key-or-close' : 'value-or-close'))) {
      i++;
      open.pop();
      expect = afterValue();
      continue;
    }
    switch (expect) {
      case 'end':
        return unexpected();
      case 'colon':
        if (c !== ':') return unexpected();
        i++;
        expect = 'value';
        continue;
      case 'comma-or-close':
        if (c !== ',') return unexpected();
        i++;
        expect = closer() === '}' ? 'key' : 'value';
        continue;
      case 'key':
      case 'key-or-close':
        if (c !== '"') return unexpected(c === "'" ? 'JSON strings and keys are in double quotes' : undefined);
        {
          const end = stringEnd(text, i);
          if (typeof end !== 'number') return end;
          i = end;
        }
        expect = 'colon';
        continue;
      case 'value':
      case 'value-or-close':
        if (c === '{' || c === '[') {
          i++;
          open.push(c === '{' ? '}' : ']');
          expect = c === '{' ? 'key-or-close' : 'value-or-close';
          continue;
        }
        if (c === '"') {
          const end = stringEnd(text, i);
          if (typeof end !== 'number') return end;
          i = end;
        } else if (NUMBER_START.test(c)) {
          NUMBER.lastIndex = i;
          const m = NUMBER.exec(text);
          if (!m) return { offset: i + 1, length: 1, message: "invalid number: expected a digit after '-'" };
          i += m[0].length;
          // A number runs into what follows ("01", "1.", "1e", "1x"): JSON.parse refuses it there.
          if (i < text.length && /[0-9.eE+\-A-Za-z_$]/.test(text[i])) {
            return { offset: i, length: 1, message: `invalid number: unexpected ${quote(text[i])} after ${quote(m[0])}` };
          }
        } else {
          WORD.lastIndex = i;
          const word = WORD.exec(text)?.[0];
          if (word !== 'true' && word !== 'false' && word !== 'null') return unexpected(c === "'" ? 'JSON strings are in double quotes' : undefined);
          i += word.length;
        }
        expect = afterValue();
        continue;
    }
  }
}

function unexpectedAt(text: string, i: number, expected: string): JsonSyntaxProblem {
  const token = tokenAt(text, i);
  const trailing = (token === '}' || token === ']') && text[lastNonBlank(text, i)] === ',';
  // One character is shown as the rule lexer shows it: by its code point when it would not be visible.
  const shown = [...token].length === 1 && token !== "'" ? showCharacter(token) : quote(token);
  return { offset: i, length: token.length, message: `unexpected ${shown}; ${trailing ? 'JSON allows no comma before a closing bracket' : expected}` };
}

/** The offset just after the string that opens at `start`, or the problem inside it. */
function stringEnd(text: string, start: number): number | JsonSyntaxProblem {
  let i = start + 1;
  while (i < text.length) {
    const code = text.charCodeAt(i);
    if (code === 0x22) return i + 1;
    if (code < 0x20) {
      const what = code === 0x0a || code === 0x0d ? 'a line break' : 'a control character';
      return { offset: i, length: 1, message: `${what} inside a string: close the string, or escape it (\\n, \\t, \\u0000)` };
    }
    if (code === 0x5c) {
      const e = text[i + 1];
      if (e === 'u') {
        if (!/^[0-9a-fA-F]{4}$/.test(text.slice(i + 2, i + 6))) return { offset: i, length: 2, message: 'invalid escape: \\u needs four hex digits' };
        i += 6;
        continue;
      }
      if (e === undefined || !'"\\/bfnrt'.includes(e)) {
        return { offset: i, length: e === undefined ? 1 : 2, message: `invalid escape ${quote(`\\${e ?? ''}`)}; expected one of \\" \\\\ \\/ \\b \\f \\n \\r \\t \\uXXXX` };
      }
      i += 2;
      continue;
    }
    i++;
  }
  return { offset: start, length: 1, message: 'this string is not closed: the text ends inside it' };
}

/** The offending token: a word ("undefined", "NaN") whole, else one character (two UTF-16 units for a pair). */
function tokenAt(text: string, i: number): string {
  WORD.lastIndex = i;
  const word = WORD.exec(text)?.[0];
  if (word) return word.length > 40 ? word.slice(0, 40) : word;
  return String.fromCodePoint(text.codePointAt(i)!);
}

/** Index of the last non-blank character before `i`, or -1. */
function lastNonBlank(text: string, i: number): number {
  let j = i - 1;
  while (j >= 0 && WHITESPACE.has(text.charCodeAt(j))) j--;
  return j;
}

/** Just after the last non-blank character: where a text cut short ends, on a line that shows something. */
function endOfContent(text: string): number {
  return lastNonBlank(text, text.length) + 1;
}

function quote(token: string): string {
  return token.includes("'") ? `"${token}"` : `'${token}'`;
}
