/**
 * `cepheus check`: validates and compiles rules, prints every problem (errors and warnings) to stderr as
 * `file:line:column: message` with the line and a caret, and a one-line summary to stdout.
 */
import type { Io } from './replay';
import { EXIT_INVALID, EXIT_OK } from './replay';
import { formatDiagnostics, prepareRules } from './rules';

export async function check(paths: string[], io: Io): Promise<number> {
  const prepared = await prepareRules(paths);
  io.stderr.write(formatDiagnostics(prepared));
  const warnings = prepared.diagnostics.length - prepared.errorCount;
  const rules = prepared.compiled.length;
  const plural = (n: number, word: string) => `${n} ${word}${n === 1 ? '' : 's'}`;
  io.stdout.write(
    `${prepared.errorCount === 0 ? 'ok' : 'invalid'}: ${plural(rules, 'valid rule')} in ${plural(prepared.files.length, 'file')}, ` +
      `${plural(prepared.errorCount, 'error')}, ${plural(warnings, 'warning')}\n`,
  );
  return prepared.errorCount === 0 ? EXIT_OK : EXIT_INVALID;
}
