/**
 * Lines of rule text. A line ends with `\n`, `\r\n` or a lone `\r` (files saved with old Mac line endings):
 * YAML 1.2 and Esper's lexer read all three as line breaks, and so do editors. Offsets and columns count
 * UTF-16 code units.
 */

/** Any line break, `\r\n` first. */
export const LINE_BREAK = /\r\n|\r|\n/;

/** Offset of the line break that ends the line holding `from` (the text's length on the last line). */
export function lineEnd(text: string, from: number): number {
  for (let i = from; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 10 || c === 13) return i;
  }
  return text.length;
}

/** The text of 1-based line `n`, without its line break; undefined past the last line. */
export function lineOf(text: string, n: number): string | undefined {
  let start = 0;
  for (let line = 1; line < n; line++) {
    const end = lineEnd(text, start);
    if (end >= text.length) return undefined;
    start = end + (text.charCodeAt(end) === 13 && text.charCodeAt(end + 1) === 10 ? 2 : 1);
  }
  return n < 1 ? undefined : text.slice(start, lineEnd(text, start));
}

/** Offsets → 1-based line/column for one text, and back. */
export class LineIndex {
  private readonly starts: number[] = [0];

  constructor(readonly text: string) {
    for (let i = 0; i < text.length; i++) {
      const c = text.charCodeAt(i);
      if (c === 10 || (c === 13 && text.charCodeAt(i + 1) !== 10)) this.starts.push(i + 1);
    }
  }

  pos(offset: number): { line: number; column: number } {
    const o = Math.max(0, Math.min(offset, this.text.length));
    let lo = 0;
    let hi = this.starts.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (this.starts[mid] <= o) lo = mid;
      else hi = mid - 1;
    }
    return { line: lo + 1, column: o - this.starts[lo] + 1 };
  }

  /** The offset of a 1-based line (clamped to the text's lines) and column. */
  offset(line: number, column: number): number {
    return this.starts[Math.max(0, Math.min(line, this.starts.length) - 1)] + column - 1;
  }

  /** A location covering [start, end), underlining at most to the end of the first line. */
  loc(start: number, end: number = start + 1): { line: number; column: number; length: number } {
    const { line, column } = this.pos(start);
    const stop = Math.min(end, lineEnd(this.text, start));
    return { line, column, length: Math.max(1, stop - start) };
  }
}
