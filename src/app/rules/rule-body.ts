/**
 * One rule sent over REST (YAML, JSON or .cep text) → its validated, compiled definition, or diagnostics in
 * the coordinates of the text that was sent. The same parser, schema and compiler as rule files.
 */
import { compileRule, type CompiledRule } from '../../core/engine';
import { RuleError, type Diagnostic } from '../../core/language/diagnostics';
import type { RuleDefinition } from '../../core/rules/rule';
import { parseRuleTextWithLocations } from '../../core/rules/rule-text';
import { LineIndex } from '../../core/text/lines';
import type { StoredRuleFormat } from '../../core/ports/rule-store';
import { findJsonSyntaxError } from './json-syntax';
import { RuleInvalidError } from './rule-errors';

/** Name given to request bodies in rule origins. */
export const REQUEST_FILE = '<request>';

export interface CompiledBody {
  definition: RuleDefinition;
  compiled: CompiledRule;
  warnings: Diagnostic[];
  /** Where the id is written (to report an id that differs from the path). */
  idLoc: { line: number; column: number; length: number };
}

const error = (line: number, column: number, message: string, length = 1): Diagnostic => ({
  severity: 'error',
  message,
  line,
  column,
  length,
});

/**
 * Parses, validates and compiles exactly one rule. Throws RuleInvalidError with every error found.
 */
export function compileRuleBody(text: string, format: StoredRuleFormat): CompiledBody {
  // Every error shows its line of `text` with a caret (RuleProblem.excerpt).
  const invalid = (diagnostics: Diagnostic[]) => new RuleInvalidError(diagnostics, text);
  if (text.trim() === '') throw invalid([error(1, 1, 'the request body is empty: send one rule')]);
  if (format === 'json') {
    const json = parseJson(text);
    if (!json.ok) throw invalid([json.error]);
    const value = json.value;
    if (typeof value !== 'object' || value === null || Array.isArray(value)) {
      throw invalid([error(1, 1, 'expected a JSON object with the rule keys (id, pattern, ...)')]);
    }
  }
  // JSON is YAML: the YAML reader keeps exact positions for JSON text too.
  const parsed = parseRuleTextWithLocations(text, REQUEST_FILE, format === 'cep' ? 'cep' : 'yaml');
  const errors = parsed.diagnostics.filter((d) => d.severity === 'error');
  if (errors.length > 0) throw invalid(errors.map(strip));
  if (parsed.rules.length === 0) throw invalid([error(1, 1, 'no rule found in the request body')]);
  if (parsed.rules.length > 1) {
    const second = parsed.rules[1].idLoc;
    throw invalid([
      error(second.line, second.column, `one rule per request: found ${parsed.rules.length} rules`, second.length),
    ]);
  }
  const { rule: definition, idLoc } = parsed.rules[0];
  let compiled: CompiledRule;
  try {
    compiled = compileRule(definition);
  } catch (e) {
    if (e instanceof RuleError) throw invalid(e.diagnostics.filter((d) => d.severity === 'error').map(strip));
    throw e;
  }
  const warnings = [...parsed.diagnostics.filter((d) => d.severity === 'warning'), ...compiled.info.warnings].map(strip);
  return { definition, compiled, warnings, idLoc };
}

function strip(d: Diagnostic): Diagnostic {
  const { file: _file, ...rest } = d;
  return rest;
}

/** The value of JSON text, or its syntax error with line and column (parsed once). */
export function parseJson(text: string): { ok: true; value: unknown } | { ok: false; error: Diagnostic } {
  try {
    return { ok: true, value: JSON.parse(text) };
  } catch (e) {
    // JSON.parse seldom says where (Node 20's "Unexpected token" messages do not): the scanner finds the place.
    // Should the two ever disagree on what is JSON, JSON.parse's word stands, at the start of the text.
    const found = findJsonSyntaxError(text) ?? { offset: 0, length: 1, message: (e as Error).message };
    const { line, column } = new LineIndex(text).pos(found.offset);
    return { ok: false, error: error(line, column, `JSON syntax error: ${found.message}`, found.length) };
  }
}
