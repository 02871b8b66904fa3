/**
 * One rule file's text → validated rule definitions, whichever form it is written in.
 */
import type { Diagnostic } from '../language/diagnostics';
import { formatBytes } from '../text/sizes';
import type { RuleDefinition } from './rule';
import { readCepRules } from './cep-rules';
import { readYamlRules } from './yaml-rules';
import { rejectDuplicateIds, RULE_LIMITS, utf8Length, validateRawRule, type Loc, type ValidatedRule } from './schema';

export type RuleFormat = 'yaml' | 'cep';

export interface ParsedRuleText {
  /** The valid rules, in file order. A rule with any error is left out. */
  rules: RuleDefinition[];
  /** Errors and warnings, in file coordinates, each with `file` set. */
  diagnostics: Diagnostic[];
}

/** Like {@link parseRuleText}, keeping where each rule's id is written (to report duplicates across files). */
export function parseRuleTextWithLocations(
  text: string,
  file: string,
  format: RuleFormat,
): { rules: ValidatedRule[]; diagnostics: Diagnostic[] } {
  const bytes = utf8Length(text);
  if (bytes > RULE_LIMITS.fileBytes) return { rules: [], diagnostics: [fileTooLarge(bytes, file)] };
  const read = format === 'yaml' ? readYamlRules(text, file) : readCepRules(text, file);
  const diagnostics = [...read.diagnostics];
  // Empty, only comments, or a comment that took the whole file: valid, but rarely what was meant.
  if (read.rules.length === 0 && !diagnostics.some((d) => d.severity === 'error')) {
    diagnostics.push(fileDiagnostic(file, 'this file defines no rule', 'warning'));
  }
  const valid: ValidatedRule[] = [];
  for (const raw of read.rules) {
    const { result, diagnostics: found } = validateRawRule(raw, file);
    diagnostics.push(...found);
    if (result) valid.push(result);
  }
  const { unique, diagnostics: duplicates } = rejectDuplicateIds(valid, file);
  diagnostics.push(...duplicates);
  diagnostics.sort(byPosition);
  return { rules: unique, diagnostics };
}

/** A problem with a file (or directory) as a whole, reported at its start. */
export function fileDiagnostic(file: string, message: string, severity: Diagnostic['severity'] = 'error'): Diagnostic {
  return { severity, message, line: 1, column: 1, length: 1, file };
}

/** A file of `bytes` bytes is over RULE_LIMITS.fileBytes (also checked before reading one from disk). */
export function fileTooLarge(bytes: number, file: string): Diagnostic {
  return fileDiagnostic(file, `rule file is too large: ${bytes} bytes, at most ${formatBytes(RULE_LIMITS.fileBytes)}`);
}

/** Parses and validates every rule of one file. No I/O: `file` only names the file in diagnostics and origins. */
export function parseRuleText(text: string, file: string, format: RuleFormat): ParsedRuleText {
  const { rules, diagnostics } = parseRuleTextWithLocations(text, file, format);
  return { rules: rules.map((r) => r.rule), diagnostics };
}

/** The format a file name implies, or undefined for files that do not hold rules. */
export function ruleFormatOf(fileName: string): RuleFormat | undefined {
  const lower = fileName.toLowerCase();
  if (lower.endsWith('.yaml') || lower.endsWith('.yml')) return 'yaml';
  if (lower.endsWith('.cep')) return 'cep';
  return undefined;
}

/**
 * Whether a directory entry is a rule file: a rule file name that is not hidden. Editors leave hidden files
 * next to the ones being edited (Emacs' `.#name.yaml` lock, a symbolic link to nowhere), and Kubernetes
 * keeps a ConfigMap's real files under `..data`.
 */
export function isRuleFileName(name: string): boolean {
  return !name.startsWith('.') && ruleFormatOf(name) !== undefined;
}

export function byPosition(a: Loc, b: Loc): number {
  return a.line - b.line || a.column - b.column;
}
