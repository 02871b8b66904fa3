import { LineIndex, lineOf } from '../text/lines';
import type { Span } from './ast';

/** One problem found in a rule: where it is, what is wrong, and what would have been accepted. */
export interface Diagnostic {
  severity: 'error' | 'warning';
  message: string;
  /** 1-based line and column in `file` (or in the text that was parsed when there is no file). */
  line: number;
  column: number;
  /** Characters to underline; 1 when unknown. */
  length: number;
  file?: string;
  /** For syntax errors: the tokens that would have been accepted at that point. */
  expected?: string[];
}

/** Thrown by the parser and compiler; carries every diagnostic found (at least one error). */
export class RuleError extends Error {
  constructor(readonly diagnostics: Diagnostic[]) {
    super(diagnostics.map((d) => `${d.line}:${d.column}: ${d.message}`).join('\n'));
    this.name = 'RuleError';
  }
}

export function diagnosticAt(span: Span, message: string, severity: Diagnostic['severity'] = 'error'): Diagnostic {
  return { severity, message, line: span.line, column: span.column, length: Math.max(1, span.length) };
}

/**
 * Moves a diagnostic found in an embedded text (a pattern inside a YAML file) to the coordinates of the
 * enclosing file: `origin` is where the embedded text's first character sits in the file. When the text is
 * not a verbatim copy (`origin.segments`, see TextOrigin), `text` is needed to follow the segments.
 */
export function relocate(
  d: Diagnostic,
  origin: { line: number; column: number; segments?: ReadonlyArray<readonly [number, number, number]> },
  file?: string,
  text?: string,
): Diagnostic {
  if (origin.segments && origin.segments.length > 0 && text !== undefined) {
    // The text was decoded (escapes, folded lines): find the diagnostic's offset in it, then its segment.
    const offset = new LineIndex(text).offset(d.line, d.column);
    let seg = origin.segments[0];
    for (const s of origin.segments) {
      if (s[0] > offset) break;
      seg = s;
    }
    return { ...d, line: seg[1], column: seg[2] + offset - seg[0], file: file ?? d.file };
  }
  const column = d.line === 1 ? d.column + origin.column - 1 : d.column;
  return { ...d, line: d.line + origin.line - 1, column, file: file ?? d.file };
}

/**
 * `file:line:column: message`, the offending source line (cut to EXCERPT_WIDTH around the column), a caret
 * under the offending text, and what was expected. `source` is the full text of the file the coordinates
 * refer to.
 */
export function formatDiagnostic(d: Diagnostic, source?: string): string {
  const where = `${d.file ?? '<input>'}:${d.line}:${d.column}`;
  const kind = d.severity === 'warning' ? 'warning: ' : '';
  const lines = [`${where}: ${kind}${d.message}`];
  const excerpt = source === undefined ? undefined : excerptOf(d, source);
  if (excerpt) lines.push(...excerpt.map((l) => `  ${l}`));
  if (d.expected && d.expected.length > 0) {
    lines.push(`  expected one of: ${d.expected.join(', ')}`);
  }
  return lines.join('\n');
}

/**
 * Characters of the offending line an excerpt shows at most: a generated or minified rule file can hold one
 * line of megabytes, and the CLI, the service's logs and the API would print it whole for every problem.
 */
export const EXCERPT_WIDTH = 160;

/**
 * The offending source line (tabs as spaces) and a caret line under the offending text; for a place past the
 * last line that is not blank (an error found at the end of the text), that last line with the caret after
 * it; undefined for a blank line. A line longer than `maxWidth` is cut to a window around the column, marked
 * with "…".
 */
export function excerptOf(
  d: Pick<Diagnostic, 'line' | 'column' | 'length'>,
  source: string,
  maxWidth = EXCERPT_WIDTH,
): [string, string] | undefined {
  let text = lineOf(source, d.line);
  let column = d.column;
  if (text === undefined || text.trim() === '') {
    const content = source.trimEnd();
    const last = new LineIndex(content).pos(content.length).line;
    if (content === '' || d.line <= last) return undefined;
    text = lineOf(source, last)!.trimEnd();
    column = text.length + 1;
  }
  const at = Math.max(0, column - 1);
  let from = 0;
  let to = text.length;
  if (to > maxWidth) {
    from = Math.max(0, Math.min(at - Math.floor(maxWidth / 3), to - maxWidth));
    to = from + maxWidth;
    // Columns count UTF-16 code units: never cut a character made of two.
    if (isLowSurrogate(text.charCodeAt(from))) from++;
    if (isLowSurrogate(text.charCodeAt(to))) to--;
  }
  const head = from > 0 ? '…' : '';
  const tail = to < text.length ? '…' : '';
  const width = Math.max(1, Math.min(d.length, to - at));
  const shown = text.slice(from, to).replace(/\t/g, ' ');
  return [`${head}${shown}${tail}`, `${' '.repeat(head.length + Math.max(0, at - from))}${'^'.repeat(width)}`];
}

function isLowSurrogate(code: number): boolean {
  return code >= 0xdc00 && code <= 0xdfff;
}
