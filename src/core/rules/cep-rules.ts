/**
 * Rules written in the EPL-style `.cep` form:
 *
 * ```
 * @name('impossible-travel') @severity('critical') @source('user-events')
 * partition by user_id
 * select login.user_id as user, purchase.country as to_country
 * from pattern [every login=login -> purchase=purchase(country != login.country) where timer:within(5 min)]
 * ```
 *
 * The statement is parsed by the language parser; this module maps it onto the rule schema's keys and hands
 * it to the same validation as YAML:
 *
 * | .cep                               | schema key        |
 * |------------------------------------|-------------------|
 * | `@name('id')`                      | id                |
 * | `@description('...')`              | description       |
 * | `@severity('critical')`            | severity          |
 * | `@source('topic')`                 | source            |
 * | `@keyedBy('field')`                | keyedBy           |
 * | `@label('k', 'v')` (repeatable)    | labels.k = v      |
 * | `@enabled(false)` (`@enabled` = true) | enabled        |
 * | `@typeField('f')`, `@timeField('f')` | event.typeField, event.timeField |
 * | `partition by field`               | partitionBy       |
 * | `select expr as name, ...`         | emit.name = expr (its source text); `select *` = no emit |
 * | `from pattern [ ... ]`             | pattern (the text between the brackets, trimmed) |
 *
 * Annotation names are case-insensitive. Several statements may share a file.
 */
import type { Annotation, CepStatement, LiteralValue, Span } from '../language/ast';
import { RuleError, type Diagnostic } from '../language/diagnostics';
import { MAX_INPUT_BYTES, parseCepFile } from '../language/parser';
import { LineIndex } from '../text/lines';
import { formatBytes } from '../text/sizes';
import { didYouMean, utf8Length, type Loc, type RawEntry, type RawNode, type RawRule } from './schema';

interface AnnotationSpec {
  /** As written in documentation and messages. */
  display: string;
  /** The schema key it sets; `event.x` for the event shape, `labels` for @label. */
  key: string;
  /** Accepted argument counts. */
  arity: readonly number[];
  usage: string;
}

const ANNOTATIONS: Record<string, AnnotationSpec> = {
  name: { display: '@name', key: 'id', arity: [1], usage: "@name('rule-id')" },
  description: { display: '@description', key: 'description', arity: [1], usage: "@description('text')" },
  severity: { display: '@severity', key: 'severity', arity: [1], usage: "@severity('info' | 'warning' | 'critical')" },
  source: { display: '@source', key: 'source', arity: [1], usage: "@source('topic')" },
  keyedby: { display: '@keyedBy', key: 'keyedBy', arity: [1], usage: "@keyedBy('field')" },
  label: { display: '@label', key: 'labels', arity: [2], usage: "@label('name', 'value')" },
  enabled: { display: '@enabled', key: 'enabled', arity: [0, 1], usage: '@enabled(true | false)' },
  typefield: { display: '@typeField', key: 'event.typeField', arity: [1], usage: "@typeField('field')" },
  timefield: { display: '@timeField', key: 'event.timeField', arity: [1], usage: "@timeField('field')" },
};

export const CEP_ANNOTATIONS: readonly string[] = Object.values(ANNOTATIONS).map((a) => a.display);

/** Parses a `.cep` file into raw rules; syntax errors and annotation problems become diagnostics. */
export function readCepRules(text: string, file: string): { rules: RawRule[]; diagnostics: Diagnostic[] } {
  const diagnostics: Diagnostic[] = [];
  let statements: CepStatement[];
  try {
    statements = parseStatements(text);
  } catch (e) {
    if (e instanceof RuleError) {
      return { rules: [], diagnostics: e.diagnostics.map((d) => ({ ...d, file: d.file ?? file })) };
    }
    throw e;
  }
  const index = new LineIndex(text);
  const rules = statements.map((s) => statementToRaw(s, text, file, index, diagnostics));
  return { rules, diagnostics };
}

function parseStatements(text: string): CepStatement[] {
  const bytes = utf8Length(text);
  if (bytes > MAX_INPUT_BYTES) {
    // The parser reads a file in one piece and takes at most this much.
    throw new RuleError([
      {
        severity: 'error',
        message: `a .cep file may hold at most ${formatBytes(MAX_INPUT_BYTES)}, this one has ${bytes} bytes: split it into several files`,
        line: 1,
        column: 1,
        length: 1,
      },
    ]);
  }
  return parseCepFile(text);
}

function spanLoc(span: Span): Loc {
  return { line: span.line, column: span.column, length: Math.max(1, span.length) };
}

function statementToRaw(
  statement: CepStatement,
  text: string,
  file: string,
  index: LineIndex,
  diagnostics: Diagnostic[],
): RawRule {
  let hasFormErrors = false;
  const error = (loc: Loc, message: string, expected?: readonly string[]) => {
    hasFormErrors = true;
    diagnostics.push({
      severity: 'error',
      message,
      line: loc.line,
      column: loc.column,
      length: loc.length,
      file,
      ...(expected ? { expected: [...expected] } : {}),
    });
  };
  const entries: RawEntry[] = [];
  const labels: RawEntry[] = [];
  const event: RawEntry[] = [];
  let labelsLoc: Loc | undefined;
  let eventLoc: Loc | undefined;

  for (const annotation of statement.annotations) {
    // Own keys only: @constructor or @__proto__ would otherwise find Object.prototype's (a TypeError).
    const lower = annotation.name.toLowerCase();
    const spec = Object.hasOwn(ANNOTATIONS, lower) ? ANNOTATIONS[lower] : undefined;
    const loc = spanLoc(annotation.span);
    const nameLoc: Loc = { ...loc, length: Math.min(loc.length, annotation.name.length + 1) };
    if (!spec) {
      const guess = didYouMean(annotation.name, CEP_ANNOTATIONS.map((a) => a.slice(1)));
      error(
        nameLoc,
        `unknown annotation @${annotation.name}` + (guess ? `; did you mean @${guess}?` : ''),
        CEP_ANNOTATIONS,
      );
      continue;
    }
    if (!spec.arity.includes(annotation.args.length)) {
      const count = spec.arity.map(String).join(' or ');
      error(loc, `${spec.display} takes ${count} argument${count === '1' ? '' : 's'}, found ${annotation.args.length}`, [
        spec.usage,
      ]);
      continue;
    }
    const args = argumentLocs(annotation, text, index);
    const arg = (i: number): RawNode => ({ kind: 'scalar', value: annotation.args[i], loc: args[i] ?? loc });
    if (spec.key === 'labels') {
      labelsLoc ??= nameLoc;
      const key = annotation.args[0];
      if (typeof key !== 'string') {
        error(args[0] ?? loc, `the label name in @label must be a string, found ${describe(key)}`, [spec.usage]);
        continue;
      }
      labels.push({ key, keyLoc: args[0] ?? loc, value: arg(1) });
    } else if (spec.key.startsWith('event.')) {
      eventLoc ??= nameLoc;
      event.push({ key: spec.key.slice('event.'.length), keyLoc: nameLoc, value: arg(0) });
    } else if (spec.key === 'enabled' && annotation.args.length === 0) {
      entries.push({ key: spec.key, keyLoc: nameLoc, value: { kind: 'scalar', value: true, loc } });
    } else {
      entries.push({ key: spec.key, keyLoc: nameLoc, value: arg(0) });
    }
  }
  if (labelsLoc) entries.push({ key: 'labels', keyLoc: labelsLoc, value: { kind: 'map', entries: labels, loc: labelsLoc } });
  if (eventLoc) entries.push({ key: 'event', keyLoc: eventLoc, value: { kind: 'map', entries: event, loc: eventLoc } });

  if (statement.partitionBy) {
    const loc = spanLoc(statement.partitionBy.span);
    entries.push({ key: 'partitionBy', keyLoc: loc, value: { kind: 'scalar', value: statement.partitionBy.field, loc } });
  }

  if (statement.select.length > 0) {
    const fields: RawEntry[] = [];
    for (const item of statement.select) {
      const exprStart = item.expr.span.offset;
      const exprText = text.slice(exprStart, exprStart + item.expr.span.length);
      if (item.alias === exprText && !/^[A-Za-z_][A-Za-z0-9_]*$/.test(item.alias)) {
        // Esper names an unaliased column by its text; an output field needs a plain name.
        error(spanLoc(item.expr.span), `select item '${exprText}' needs a name: write '${exprText} as name'`);
        continue;
      }
      const itemEnd = item.span.offset + item.span.length;
      const aliasAt = text.lastIndexOf(item.alias, itemEnd - 1);
      const keyLoc =
        aliasAt >= item.span.offset && aliasAt >= exprStart + item.expr.span.length
          ? index.loc(aliasAt, aliasAt + item.alias.length)
          : spanLoc(item.span);
      const loc = spanLoc(item.expr.span);
      fields.push({
        key: item.alias,
        keyLoc,
        value: {
          kind: 'scalar',
          value: exprText,
          loc,
          embedded: { text: exprText, origin: { line: item.expr.span.line, column: item.expr.span.column } },
        },
      });
    }
    const loc = spanLoc(statement.select[0].span);
    entries.push({ key: 'emit', keyLoc: loc, value: { kind: 'map', entries: fields, loc } });
  }

  // The pattern: the text between the brackets, without the whitespace around it.
  const ps = statement.patternSpan;
  let start = ps.offset;
  let end = ps.offset + statement.patternText.length;
  while (start < end && /\s/.test(text[start])) start++;
  while (end > start && /\s/.test(text[end - 1])) end--;
  const patternLoc = spanLoc(ps);
  entries.push({
    key: 'pattern',
    keyLoc: patternLoc,
    value: {
      kind: 'scalar',
      value: statement.patternText,
      loc: patternLoc,
      embedded: { text: text.slice(start, end), origin: index.pos(start) },
    },
  });

  const first = Math.min(statement.span.offset, ...statement.annotations.map((a) => a.span.offset));
  const last = statement.span.offset + statement.span.length;
  return {
    form: 'cep',
    entries,
    loc: index.loc(first, first + 1),
    bytes: utf8Length(text.slice(first, last)),
    hasFormErrors,
  };
}

function describe(value: LiteralValue | undefined): string {
  return value === null || value === undefined ? 'null' : typeof value === 'string' ? 'a string' : `a ${typeof value}`;
}

/**
 * Where each argument of an annotation is written (the AST keeps only the values). Scans the annotation's
 * own text: `@name ( 'a' , "b\"c" , 12 )`.
 */
export function argumentLocs(annotation: Annotation, text: string, index: LineIndex): Loc[] {
  const end = annotation.span.offset + annotation.span.length;
  let i = text.indexOf('(', annotation.span.offset);
  if (i < 0 || i >= end) return [];
  i++;
  const locs: Loc[] = [];
  while (i < end) {
    while (i < end && /\s/.test(text[i])) i++;
    if (i >= end || text[i] === ')') break;
    const start = i;
    const quote = text[i];
    if (quote === "'" || quote === '"') {
      i++;
      while (i < end && text[i] !== quote) i += text[i] === '\\' ? 2 : 1;
      i++;
    } else {
      while (i < end && text[i] !== ',' && text[i] !== ')') i++;
    }
    let stop = i;
    while (stop > start && /\s/.test(text[stop - 1])) stop--;
    locs.push(index.loc(start, stop));
    while (i < end && /\s/.test(text[i])) i++;
    if (text[i] === ',') i++;
  }
  return locs;
}
