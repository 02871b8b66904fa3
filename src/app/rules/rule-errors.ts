/**
 * Errors of the rule services, mapped to HTTP statuses by the HTTP layer (404, 409, 422).
 */
import { EXCERPT_WIDTH, excerptOf, type Diagnostic } from '../../core/language/diagnostics';

/**
 * A rule problem as the API reports it: 1-based line and column in the text that was sent, and (when the
 * text is at hand) that line with a caret under the offending text; on a blank line, an empty line and the caret.
 */
export interface RuleProblem {
  line: number;
  column: number;
  message: string;
  excerpt?: string;
}

export function toProblem(d: Diagnostic, source?: string): RuleProblem {
  // A syntax error says what would have been accepted; a "did you mean" already names the likely fix.
  const withExpected = d.expected && d.expected.length > 0 && !/\bexpected\b|did you mean/.test(d.message);
  const message = withExpected ? `${d.message}; expected one of: ${d.expected!.join(', ')}` : d.message;
  // A problem on a blank line (an empty body) shows an empty line and the caret: every problem has an excerpt.
  const excerpt = source === undefined ? undefined : (excerptOf(d, source) ?? ['', `${' '.repeat(Math.min(d.column - 1, EXCERPT_WIDTH))}^`]);
  return { line: d.line, column: d.column, message, ...(excerpt ? { excerpt: excerpt.join('\n') } : {}) };
}

/** The rule text is invalid: syntax, schema or compile errors (422). `source`: the text sent. */
export class RuleInvalidError extends Error {
  readonly problems: RuleProblem[];
  constructor(
    readonly diagnostics: Diagnostic[],
    source?: string,
  ) {
    super(diagnostics.map((d) => `${d.line}:${d.column}: ${d.message}`).join('; '));
    this.name = 'RuleInvalidError';
    this.problems = diagnostics.map((d) => toProblem(d, source));
  }
}

/** No rule (or no such version) with this id (404). */
export class RuleNotFoundError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'RuleNotFoundError';
  }
}

/** The id is taken, owned by a rule file, or changed meanwhile (409). */
export class RuleConflictError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'RuleConflictError';
  }
}
