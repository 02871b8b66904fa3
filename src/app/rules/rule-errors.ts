/**
 * Errors of the rule services, mapped to HTTP statuses by the HTTP layer (404, 409, 422).
 */
import type { Diagnostic } from '../../core/language/diagnostics';

/** A rule problem as the API reports it: 1-based line and column in the text that was sent. */
export interface RuleProblem {
  line: number;
  column: number;
  message: string;
}

export function toProblem(d: Diagnostic): RuleProblem {
  // A syntax error says what would have been accepted; a "did you mean" already names the likely fix.
  const withExpected = d.expected && d.expected.length > 0 && !/\bexpected\b|did you mean/.test(d.message);
  const message = withExpected ? `${d.message}; expected one of: ${d.expected!.join(', ')}` : d.message;
  return { line: d.line, column: d.column, message };
}

/** The rule text is invalid: syntax, schema or compile errors (422). */
export class RuleInvalidError extends Error {
  readonly problems: RuleProblem[];
  constructor(readonly diagnostics: Diagnostic[]) {
    super(diagnostics.map((d) => `${d.line}:${d.column}: ${d.message}`).join('; '));
    this.name = 'RuleInvalidError';
    this.problems = diagnostics.map(toProblem);
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
