/**
 * Reads rule files from disk: a file, or every `*.yaml`, `*.yml` and `*.cep` file of a directory (sorted by
 * name, not recursive; hidden files, whose names start with '.', and other files are skipped).
 */
import { constants } from 'node:fs';
import { open, readdir, realpath, stat } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import type { Diagnostic } from '../../core/language/diagnostics';
import type { RuleDefinition } from '../../core/rules/rule';
import { byPosition, fileDiagnostic, fileTooLarge, isRuleFileName, parseRuleTextWithLocations, ruleFormatOf } from '../../core/rules/rule-text';
import { rejectDuplicateIds, RULE_LIMITS, type Loc } from '../../core/rules/schema';
import { LineIndex } from '../../core/text/lines';
import { decodeUtf8Text, utf8Problem, type Utf8Failure } from '../../core/text/utf8';

export interface LoadedRuleFiles {
  /** Valid rules of every file, in file order then in order within each file. */
  rules: RuleDefinition[];
  /** Errors and warnings, each with `file` set, grouped by file in reading order and sorted by position. */
  diagnostics: Diagnostic[];
  /**
   * The text of each file read (as parsed: without a byte-order mark; for a file that is not UTF-8, with
   * U+FFFD for its bad bytes), to show the lines diagnostics point at.
   */
  sources: Map<string, string>;
  /** The files read, in order. */
  files: string[];
}

/**
 * Loads the rules at `paths` (files or directories, in the order given). Problems — unreadable paths, syntax
 * and schema errors, an id used again (reported at the later occurrence, across files too) — are
 * diagnostics, never exceptions.
 */
export async function loadRuleFiles(paths: string | readonly string[]): Promise<LoadedRuleFiles> {
  const out: LoadedRuleFiles = { rules: [], diagnostics: [], sources: new Map(), files: [] };
  const problem = (file: string, message: string) => out.diagnostics.push(fileDiagnostic(file, message));

  const files: string[] = [];
  for (const path of typeof paths === 'string' ? [paths] : paths) {
    files.push(...(await listRuleFiles(path, out.diagnostics)));
  }

  const seen = new Map<string, { file?: string; loc: Loc }>();
  // One file named twice (`rules ./rules/a.yaml`, a symbolic link) is read once, under its first name.
  const read = new Set<string>();
  for (const file of files) {
    const real = await realpath(file).catch(() => resolve(file));
    if (read.has(real)) continue;
    read.add(real);
    const format = ruleFormatOf(file);
    if (!format) {
      problem(file, 'not a rule file: expected a name ending in .yaml, .yml or .cep');
      continue;
    }
    const bytes = await readRuleFile(file);
    if ('problem' in bytes) {
      out.diagnostics.push(bytes.problem);
      continue;
    }
    const decoded = decodeUtf8Text(bytes);
    if (!decoded.ok) {
      out.files.push(file);
      out.diagnostics.push(notUtf8(decoded, file));
      // A UTF-16 text decoded as UTF-8 is noise: no line to show.
      if (!decoded.utf16) out.sources.set(file, decoded.lossy);
      continue;
    }
    const text = decoded.text;
    out.files.push(file);
    out.sources.set(file, text);
    const parsed = parseRuleTextWithLocations(text, file, format);
    const { unique, diagnostics } = rejectDuplicateIds(parsed.rules, file, seen);
    out.rules.push(...unique.map((r) => r.rule));
    out.diagnostics.push(...[...parsed.diagnostics, ...diagnostics].sort(byPosition));
  }
  return out;
}

/**
 * The bytes of a rule file, or why not. The size is checked before reading: a stray multi-GB `*.yaml` is
 * refused without being read (again on every reload).
 */
async function readRuleFile(file: string): Promise<Buffer | { problem: Diagnostic }> {
  const problem = (message: string) => ({ problem: fileDiagnostic(file, message) });
  let handle;
  try {
    // Non-blocking: opening a FIFO named *.yaml would otherwise wait for a writer.
    handle = await open(file, constants.O_RDONLY | constants.O_NONBLOCK);
    const info = await handle.stat();
    if (!info.isFile()) return problem('cannot read rules: not a regular file');
    if (info.size > RULE_LIMITS.fileBytes) return { problem: fileTooLarge(info.size, file) };
    return await handle.readFile();
  } catch (e) {
    return problem(`cannot read rules: ${errorText(e)}`);
  } finally {
    await handle?.close();
  }
}

/** The rule files a path names: itself, or the rule files of a directory sorted by name. */
async function listRuleFiles(path: string, diagnostics: Diagnostic[]): Promise<string[]> {
  try {
    const info = await stat(path);
    if (!info.isDirectory()) return [path];
    const names = (await readdir(path, { withFileTypes: true }))
      .filter((e) => (e.isFile() || e.isSymbolicLink()) && isRuleFileName(e.name))
      .map((e) => e.name)
      .sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
    // Valid, as for the service (rules may all come over REST, the chart's default ConfigMap is empty), but
    // worth saying: the path may be the wrong one.
    if (names.length === 0) diagnostics.push(fileDiagnostic(path, 'no rule files (*.yaml, *.yml, *.cep) in this directory', 'warning'));
    return names.map((n) => join(path, n));
  } catch (e) {
    diagnostics.push(fileDiagnostic(path, `cannot read rules: ${errorText(e)}`));
    return [];
  }
}

/** At the first byte that is not UTF-8; the file's lossy text shows it as U+FFFD. */
function notUtf8(decoded: Utf8Failure, file: string): Diagnostic {
  const { line, column } = decoded.utf16 ? { line: 1, column: 1 } : new LineIndex(decoded.lossy).pos(decoded.at);
  const message = decoded.utf16 ? `${utf8Problem(decoded)}: save the file as UTF-8` : utf8Problem(decoded);
  return { severity: 'error', message, line, column, length: 1, file };
}

function errorText(e: unknown): string {
  const err = e as NodeJS.ErrnoException;
  if (err?.code === 'ENOENT') return 'no such file or directory';
  if (err?.code === 'EACCES') return 'permission denied';
  return err?.message ?? String(e);
}
