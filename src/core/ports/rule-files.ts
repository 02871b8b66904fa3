import type { Diagnostic } from '../language/diagnostics';
import type { RuleDefinition } from '../rules/rule';

/** Rule files read from disk (implemented by src/adapters/files/rule-files.ts). */
export interface LoadedRuleFileSet {
  /** Valid rules of every file, in file order. */
  rules: RuleDefinition[];
  /** Errors and warnings with `file` set. */
  diagnostics: Diagnostic[];
  /** Each file's text, to show the lines diagnostics point at. */
  sources: Map<string, string>;
  files: string[];
}

export interface RuleFileReader {
  /** Reads a rule file, or every rule file of a directory. Problems are diagnostics, never exceptions. */
  load(path: string): Promise<LoadedRuleFileSet>;
}
