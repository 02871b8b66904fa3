/** Types for scripts/java-regex-oracle/index.js (plain CommonJS, usable from TS tests). */

export interface JavaRegexCase {
  pattern: string;
  inputs: string[];
}

/** `matches[i]` is null where Java could not decide that input: its backtracking overflowed the stack or ran out of time. */
export type JavaRegexResult = { matches: Array<boolean | null>; error?: undefined } | { error: string; matches?: undefined };

/** Runs the cases through java.util.regex (Pattern.compile, matcher(input).matches()) in one JVM. */
export function runJavaRegex(cases: JavaRegexCase[], opts?: { timeoutMs?: number }): JavaRegexResult[];
