/**
 * Loading and compiling rules for the CLI: every problem of every file is collected, then printed in file
 * order with `formatDiagnostic` (file:line:column: message, the line, a caret, what was expected).
 */
import { loadRuleFiles } from '../adapters/files/rule-files';
import { compileRule, type CompiledRule } from '../core/engine';
import { formatDiagnostic, RuleError, type Diagnostic } from '../core/language/diagnostics';

export interface PreparedRules {
  /** Every valid rule, compiled (disabled ones too: they are checked, not run). */
  compiled: CompiledRule[];
  /** Errors and warnings of every file, in file order then by position. */
  diagnostics: Diagnostic[];
  errorCount: number;
  files: string[];
  sources: Map<string, string>;
}

export async function prepareRules(paths: string[]): Promise<PreparedRules> {
  const loaded = await loadRuleFiles(paths);
  const compiled: CompiledRule[] = [];
  const diagnostics: Diagnostic[] = [...loaded.diagnostics];
  for (const def of loaded.rules) {
    const inFile = (d: Diagnostic): Diagnostic => ({ ...d, file: d.file ?? def.origin?.file });
    try {
      const rule = compileRule(def);
      compiled.push(rule);
      diagnostics.push(...rule.info.warnings.map(inFile));
    } catch (e) {
      if (!(e instanceof RuleError)) throw e;
      diagnostics.push(...e.diagnostics.map(inFile));
    }
  }
  const order = new Map(loaded.files.map((f, i) => [f, i]));
  const rank = (d: Diagnostic) => order.get(d.file ?? '') ?? -1;
  diagnostics.sort((a, b) => rank(a) - rank(b) || a.line - b.line || a.column - b.column);
  return {
    compiled,
    diagnostics,
    errorCount: diagnostics.filter((d) => d.severity === 'error').length,
    files: loaded.files,
    sources: loaded.sources,
  };
}

/** Every diagnostic, formatted for a terminal, one block per problem. */
export function formatDiagnostics(prepared: PreparedRules): string {
  return prepared.diagnostics
    .map((d) => formatDiagnostic(d, d.file ? prepared.sources.get(d.file) : undefined) + '\n')
    .join('');
}
