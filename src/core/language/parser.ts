/**
 * The parser of Cepheus' Esper-style pattern language: patterns (YAML `pattern`), expressions (YAML `emit`
 * fields) and `.cep` files (EPL-style statements).
 *
 * The grammar is nearley (grammar/*.ne, compiled by scripts/build-grammar.js into grammar.generated.ts) over a moo
 * lexer (grammar/lexer.ts). Every accepted input has exactly one parse; more than one is a bug in the grammar and
 * is reported as an internal error, never silently resolved.
 *
 * All failures are RuleErrors whose diagnostics use 1-based line/column relative to the parsed text; syntax errors
 * list the token kinds that would have been accepted (`expected`).
 *
 * Limits, checked before parsing: 64 KiB of input, 64 levels of nesting (brackets plus runs of prefix operators),
 * 64 parts in a dotted name or path (`a.b.c`), so that nothing a user writes can exhaust the stack or make the
 * Earley parser quadratic on deep nesting or long paths. After parsing, a tree of at most MAX_TREE_DEPTH levels:
 * a chain of binary operators nests one level per operator, which the compiler's recursion must survive. Lists (`in (...)`, arguments, select items) are built
 * in linear time (builders.ts ListChain), so their length needs no limit of its own.
 */
import { Grammar, Parser } from 'nearley';
import { LINE_BREAK } from '../text/lines';
import type { CepStatement, Expr, PatternNode, Span } from './ast';
import { type Diagnostic, RuleError } from './diagnostics';
import compiledGrammar from './grammar.generated';
import { finalizePattern } from './grammar/builders';
import { describeTokenType, SOFT_KEYWORDS, type LexError, type Token, TokenStream, tokenize } from './grammar/lexer';

export const MAX_INPUT_BYTES = 64 * 1024;
export const MAX_NESTING = 64;
export const MAX_PATH_PARTS = 64;
/** The deepest a parsed tree may be: operator chains (`a + b + ...`) nest without brackets, and the compiler recurses. */
export const MAX_TREE_DEPTH = 1000;

type Start = 'PatternMain' | 'ExpressionMain' | 'FileMain';

/** Parses a pattern such as `every a=A -> b=B(x = a.x) where timer:within(5 min)`. */
export function parsePattern(text: string): PatternNode {
  return finalizePattern(parse(text, 'PatternMain') as PatternNode);
}

/** Parses an expression such as `a.amount * 2` or `coalesce(b.country, 'unknown')`. */
export function parseExpression(text: string): Expr {
  return parse(text, 'ExpressionMain') as Expr;
}

/**
 * Parses the statements of a `.cep` file, separated by `;` (the last `;` is optional). A file without statements
 * (empty, or only comments) gives an empty list. Spans, including those of each statement's pattern, are relative
 * to the whole text; `patternText`/`patternSpan` give the pattern's own text and where it starts.
 */
export function parseCepFile(text: string): CepStatement[] {
  const statements = parse(text, 'FileMain') as CepStatement[];
  for (const statement of statements) {
    finalizePattern(statement.pattern);
    const { offset, length } = statement.patternSpan;
    statement.patternText = text.slice(offset, offset + length);
    for (const item of statement.select) {
      if (item.alias === '') item.alias = text.slice(item.expr.span.offset, item.expr.span.offset + item.expr.span.length);
    }
  }
  return statements;
}

// ---------------------------------------------------------------------------------------------

const grammars = new Map<Start, Grammar>();

function grammarFor(start: Start): Grammar {
  let grammar = grammars.get(start);
  if (!grammar) {
    grammar = Grammar.fromCompiled(compiledGrammar as unknown as Parameters<typeof Grammar.fromCompiled>[0]);
    grammar.start = start;
    grammars.set(start, grammar);
  }
  return grammar;
}

/** The parts of nearley's parser that are not in its typings. */
interface NearleyInternals {
  table: Array<{ states: Array<{ rule: { symbols: unknown[] }; dot: number }> }>;
  current: number;
  reportError: (token: unknown) => string;
  reportLexerError: (error: unknown) => string;
}

function parse(text: string, start: Start): unknown {
  const results = runParser(text, start);
  if (results.length > 1) {
    throw new Error(`internal error: the pattern grammar is ambiguous (${results.length} parses of ${JSON.stringify(text.slice(0, 200))})`);
  }
  checkTreeDepth(results[0]);
  return results[0];
}

/**
 * Rejects a tree deeper than MAX_TREE_DEPTH nodes (walked with a stack of its own, not by recursion), at the
 * span of the first node found past that depth (in a chain `x = 1 or x = 2 or ...`, a part of it).
 */
function checkTreeDepth(root: unknown): void {
  const stack: Array<[unknown, number]> = [[root, 0]];
  while (stack.length > 0) {
    const [node, depth] = stack.pop()!;
    if (node === null || typeof node !== 'object') continue;
    if (Array.isArray(node)) {
      for (const child of node) stack.push([child, depth]);
      continue;
    }
    const { kind, span } = node as { kind?: unknown; span?: Span };
    const level = typeof kind === 'string' ? depth + 1 : depth;
    if (level > MAX_TREE_DEPTH && span !== undefined) {
      throw new RuleError([
        {
          severity: 'error',
          message: `expression is too deep: more than ${MAX_TREE_DEPTH} levels of operators (a long chain such as x = 1 or x = 2 or ...; write x in (1, 2, ...))`,
          line: span.line,
          column: span.column,
          length: Math.max(1, Math.min(span.length, 80)),
        },
      ]);
    }
    for (const [key, child] of Object.entries(node)) if (key !== 'span' && child !== null && typeof child === 'object') stack.push([child, level]);
  }
}

const ENTRY_POINTS = { pattern: 'PatternMain', expression: 'ExpressionMain', file: 'FileMain' } as const;

/**
 * @internal For tests: how many complete parses nearley finds for `text` (the public functions insist on exactly
 * one and throw an internal error otherwise). Syntax and semantic errors throw RuleError as usual.
 */
export function countParses(text: string, kind: keyof typeof ENTRY_POINTS): number {
  return runParser(text, ENTRY_POINTS[kind]).length;
}

/** Lexes, checks the limits and runs nearley; returns every complete parse (at least one) or throws RuleError. */
function runParser(text: string, start: Start): unknown[] {
  const bytes = Buffer.byteLength(text, 'utf8');
  if (bytes > MAX_INPUT_BYTES) {
    throw new RuleError([
      { severity: 'error', message: `input is too long: ${bytes} bytes (the limit is ${MAX_INPUT_BYTES})`, line: 1, column: 1, length: 1 },
    ]);
  }
  const { tokens, error: lexError } = tokenize(text);
  checkNesting(tokens);
  checkPaths(tokens);
  if (tokens.length === 0 && start === 'FileMain' && !lexError) return [[]];

  const parser = new Parser(grammarFor(start), { lexer: new TokenStream(tokens) });
  const internals = parser as unknown as NearleyInternals;
  // nearley's own messages walk the whole parse table; ours are built from the table below.
  internals.reportError = () => 'syntax error';
  internals.reportLexerError = () => 'syntax error';
  try {
    parser.feed(text);
  } catch (e) {
    if (e instanceof RuleError) throw e;
    const token = (e as { token?: Token }).token;
    if (!token) throw e;
    const expected = expectedIn(internals.table[internals.current]);
    const unit = expected.includes('time unit') ? unitHint(token, tokens) : undefined;
    throw syntaxError(token, `unexpected ${describeToken(token)}${unit ? `; did you mean '${unit}'?` : ''}`, expected);
  }
  if (lexError) throw lexicalError(lexError);

  const results = parser.results;
  if (results.length === 0) {
    const column = internals.table[internals.table.length - 1];
    throw new RuleError([{ severity: 'error', message: 'unexpected end of input', ...endOf(tokens), length: 1, expected: expectedIn(column) }]);
  }
  return results;
}

const OPENERS = new Set(['(', '[', '-[']);
const CLOSERS = new Set([')', ']']);
const PREFIX_OPERATORS = new Set(['kw_not', 'kw_every', 'everyDistinct', '-', '+']);

/**
 * Rejects inputs nested more than MAX_NESTING levels: open brackets plus the current run of prefix operators
 * (`not not not x`, `- - x`), which is what makes the parse tree deep.
 */
function checkNesting(tokens: readonly Token[]): void {
  let depth = 0;
  let run = 0;
  for (const token of tokens) {
    if (OPENERS.has(token.text)) depth++;
    else if (CLOSERS.has(token.text)) depth = Math.max(0, depth - 1);
    run = PREFIX_OPERATORS.has(token.type) || token.text === '-' || token.text === '+' ? run + 1 : 0;
    if (depth + run > MAX_NESTING) {
      throw syntaxError(token, `nesting is too deep: more than ${MAX_NESTING} levels`);
    }
  }
}

/** Rejects dotted names and paths of more than MAX_PATH_PARTS parts (the parser copies a path at every part). */
function checkPaths(tokens: readonly Token[]): void {
  let dots = 0;
  for (let i = 0; i < tokens.length; i++) {
    if (tokens[i].text !== '.') continue;
    // Another part of the same path: the previous dot is two tokens back (`x . y . z`).
    dots = i >= 2 && tokens[i - 2].text === '.' ? dots + 1 : 1;
    if (dots >= MAX_PATH_PARTS) throw syntaxError(tokens[i], `a name or path of more than ${MAX_PATH_PARTS} parts`);
  }
}

function syntaxError(token: Token, message: string, expected?: string[]): RuleError {
  const diagnostic: Diagnostic = { severity: 'error', message, line: token.line, column: token.col, length: Math.max(1, token.text.length) };
  if (expected && expected.length > 0) diagnostic.expected = expected;
  return new RuleError([diagnostic]);
}

/** Unit spellings of other tools (`30s`, `5 m`, `1h`) and Esper's word for each. */
const UNIT_SPELLINGS = new Map([
  ['s', 'sec'],
  ['secs', 'sec'],
  ['ms', 'msec'],
  ['millis', 'msec'],
  ['us', 'usec'],
  ['m', 'min'],
  ['mins', 'minutes'],
  ['h', 'hour'],
  ['hr', 'hour'],
  ['hrs', 'hours'],
  ['d', 'day'],
  ['w', 'week'],
  ['wk', 'week'],
  ['y', 'year'],
  ['yr', 'year'],
]);

/** Esper's unit for a name other tools use as one, right after a number where a time unit may come. */
function unitHint(token: Token, tokens: readonly Token[]): string | undefined {
  const i = tokens.indexOf(token);
  if (i < 1 || tokens[i - 1].type !== 'number') return undefined;
  // Case as written: `5 M` is months in some tools, minutes in none of them.
  return UNIT_SPELLINGS.get(token.text);
}

function lexicalError(error: LexError): RuleError {
  return syntaxError(error.token, error.message);
}

function describeToken(token: Token): string {
  const text = token.text.length > 40 ? `${token.text.slice(0, 37)}...` : token.text;
  return token.type === 'string' ? `string ${text}` : `'${text}'`;
}

/** Line and column just after the last token (1:1 for an input without tokens). */
function endOf(tokens: readonly Token[]): Pick<Span, 'line' | 'column'> {
  const last = tokens[tokens.length - 1];
  if (!last) return { line: 1, column: 1 };
  const lines = last.text.split(LINE_BREAK);
  if (lines.length === 1) return { line: last.line, column: last.col + last.text.length };
  return { line: last.line + lines.length - 1, column: lines[lines.length - 1].length + 1 };
}

const SUBSUMED_BY_IDENTIFIER = new Set([...SOFT_KEYWORDS.map((k) => `'${k}'`), 'time unit']);
const WORD_CLASSES = ['identifier', 'number', 'string', 'time unit', 'annotation'];

/** The terminals the parser could have accepted at a column of its table, as deduplicated human-readable names. */
function expectedIn(column: NearleyInternals['table'][number] | undefined): string[] {
  const found = new Set<string>();
  for (const state of column?.states ?? []) {
    const symbol = state.rule.symbols[state.dot] as { type?: string; literal?: string } | string | undefined;
    if (!symbol || typeof symbol !== 'object') continue;
    if (symbol.type !== undefined) found.add(symbol.type === 'followMax' ? "'-[n]>'" : describeTokenType(symbol.type));
    else if (symbol.literal !== undefined) found.add(`'${symbol.literal}'`);
  }
  // Soft keywords and time units are also names: when any name fits, "identifier" says it.
  if (found.has('identifier')) for (const s of SUBSUMED_BY_IDENTIFIER) found.delete(s);
  const quoted = [...found].filter((s) => !WORD_CLASSES.includes(s)).sort();
  return [...quoted, ...WORD_CLASSES.filter((w) => found.has(w))];
}
