import { isUtf8 } from 'node:buffer';
import fc from 'fast-check';
import { decodeUtf8Text, firstInvalidUtf8, utf8Problem } from './utf8';

const bytes = (...parts: Array<string | number[]>) => Buffer.concat(parts.map((p) => (typeof p === 'string' ? Buffer.from(p, 'utf8') : Buffer.from(p))));

describe('decodeUtf8Text', () => {
  it.each([
    ['plain UTF-8', bytes('id: é'), 'id: é'],
    ['UTF-8 after a byte-order mark, dropping the mark', bytes([0xef, 0xbb, 0xbf], 'id: x'), 'id: x'],
    ['an empty input', bytes(), ''],
  ])('decodes %s', (_name, input, text) => {
    expect(decodeUtf8Text(input)).toEqual({ ok: true, text });
  });

  it.each([
    // byte: in the input; at: the same place in the lossy text (é is one unit, the 4-byte 😀 two).
    ['a Latin-1 é, at that byte', bytes("city = 'Montr", [0xe9], "al'"), { utf16: false, byte: 13, at: 13 }],
    ['a bad byte after multi-byte characters, counted in UTF-16 units', bytes('é😀', [0x80]), { utf16: false, byte: 6, at: 3 }],
    ['a sequence cut short at the end', bytes('ab', [0xe2, 0x82]), { utf16: false, byte: 2, at: 2 }],
    ['an overlong encoding', bytes('a', [0xc0, 0xaf]), { utf16: false, byte: 1, at: 1 }],
    ['an encoded surrogate', bytes([0xed, 0xa0, 0x80]), { utf16: false, byte: 0, at: 0 }],
    ['a code point past U+10FFFF', bytes([0xf4, 0x90, 0x80, 0x80]), { utf16: false, byte: 0, at: 0 }],
    ['after a UTF-8 byte-order mark, counted without it', bytes([0xef, 0xbb, 0xbf], 'x', [0xff]), { utf16: false, byte: 4, at: 1 }],
    ['UTF-16 little-endian, by its byte-order mark', Buffer.from('\ufeffid: x', 'utf16le'), { utf16: true, byte: 0, at: 0 }],
    ['UTF-16 big-endian, by its byte-order mark', Buffer.from('\ufeffid: x', 'utf16le').swap16(), { utf16: true, byte: 0, at: 0 }],
  ])('refuses %s', (_name, input, expected) => {
    const decoded = decodeUtf8Text(input);
    expect(decoded).toMatchObject({ ok: false, ...expected });
    if (!decoded.ok && !decoded.utf16) expect(decoded.lossy[decoded.at]).toBe('\ufffd');
  });

  it.each([
    [false, 'not valid UTF-8'],
    [true, 'UTF-16 (it starts with a UTF-16 byte-order mark), not UTF-8'],
  ])('names the problem (utf16: %s) to follow "<the input> is"', (utf16, text) => {
    expect(utf8Problem({ utf16 })).toBe(text);
  });
});

describe('firstInvalidUtf8', () => {
  it('agrees with Node on any bytes: -1 exactly when they are UTF-8, else a prefix that is', () => {
    // Mostly bytes from the UTF-8 lead and continuation ranges, so that valid and almost valid inputs are common.
    const byte = fc.oneof(fc.integer({ min: 0, max: 0x7f }), fc.integer({ min: 0x80, max: 0xbf }), fc.integer({ min: 0xc0, max: 0xff }));
    fc.assert(
      fc.property(fc.array(byte, { maxLength: 12 }), (list) => {
        const input = Buffer.from(list);
        const at = firstInvalidUtf8(input);
        expect(at === -1).toBe(isUtf8(input));
        if (at >= 0) expect(isUtf8(input.subarray(0, at))).toBe(true);
      }),
      { numRuns: 5000 },
    );
  });
});
