/**
 * The moo lexer of the pattern language.
 *
 * - Keywords are case-insensitive (`EVERY`, `Every` and `every` are the token type `kw_every`; the prefix keeps
 *   nearley's generated `declare var <type>` lines clear of JavaScript's reserved words); identifiers keep
 *   their case. Reserved words are the pattern and expression operators (`and or not every every-distinct where
 *   while until in between like regexp escape is null true false`). The statement words (`select from as
 *   partition by pattern`), the words of a `case` expression (`case when then else end`: reserved in Esper,
 *   soft here so that rules with a property called `end` keep working), `cast` (for `cast(x as int)`; a
 *   property in Esper too), `any some all` (of `x > any (a, b)`: reserved in Esper, soft here, but never
 *   the name of a function) and the time units (`sec`, `minutes`, ...) get their own token types but the grammar also accepts them wherever a name is expected, so an event
 *   property may be called `from`, `end`, `hour` or `min`.
 *   Any other word can be written as an identifier between backticks: `` `page-view` ``.
 * - Comments are Esper's: `// to end of line` and `/* block *\/`. As in Esper, a line ends with `\n`, `\r\n` or
 *   a lone `\r`.
 * - Strings are `'...'` or `"..."`, read as Esper reads them: a backslash quotes the next character (`\'`,
 *   `\\`; `\n` is the letter n) and `\uXXXX` is a unicode escape, except in a `regexp` expression, whose
 *   strings reach the regexp engine as written (`'\bfoo\d+'`); also SQL-style doubled quotes (`'it''s'`).
 *
 * The whole input is tokenised before parsing (see {@link tokenize}); nearley is then fed from the token array
 * through {@link TokenStream}.
 */
import * as moo from 'moo';
import { LineIndex } from '../../text/lines';

/** A token as produced by moo (offset is 0-based; line and col are 1-based). */
export interface Token {
  type: string;
  /** The token's meaning: a string's unescaped contents, a quoted identifier without backticks, else the text. */
  value: string;
  /** The exact source text. */
  text: string;
  offset: number;
  line: number;
  col: number;
  lineBreaks: number;
}

/** Reserved words: never names. */
export const RESERVED_KEYWORDS = [
  'and',
  'or',
  'not',
  'in',
  'between',
  'like',
  'regexp',
  'escape',
  'is',
  'null',
  'true',
  'false',
  'every',
  'where',
  'while',
  'until',
] as const;

/** Words with a meaning in a `.cep` statement that are still accepted as names elsewhere. */
export const SOFT_KEYWORDS = ['select', 'from', 'as', 'partition', 'by', 'pattern', 'case', 'when', 'then', 'else', 'end', 'cast', 'any', 'some', 'all'] as const;

/**
 * Esper's time-period units and their lengths in milliseconds. Years and months are not fixed lengths: a
 * period with them is added on the calendar (Duration.calendar); their `ms` here only orders the units.
 */
export const TIME_UNITS: ReadonlyMap<string, { ms: number; rank: number; canonical: string }> = (() => {
  const second = 1000;
  const minute = 60 * second;
  const hour = 60 * minute;
  const day = 24 * hour;
  const groups: Array<[string[], number, string]> = [
    [['year', 'years'], 365 * day, 'year'],
    [['month', 'months'], 30 * day, 'month'],
    [['week', 'weeks'], 7 * day, 'week'],
    [['day', 'days'], day, 'day'],
    [['hour', 'hours'], hour, 'hour'],
    [['minute', 'minutes', 'min'], minute, 'minute'],
    [['second', 'seconds', 'sec'], second, 'second'],
    [['millisecond', 'milliseconds', 'msec'], 1, 'millisecond'],
    [['microsecond', 'microseconds', 'usec'], 0.001, 'microsecond'],
  ];
  const map = new Map<string, { ms: number; rank: number; canonical: string }>();
  groups.forEach(([words, ms, canonical], rank) => words.forEach((w) => map.set(w, { ms, rank, canonical })));
  return map;
})();

/**
 * `value` of a unit of `unitMs` in seconds, as Esper's time periods compute it (units below a second divide,
 * the others multiply). Esper then rounds seconds to whole milliseconds once: `Math.round(seconds * 1000)`,
 * so `500.5 msec` (0.5005 s) is 500 ms, where rounding 500.5 would give 501.
 */
export function periodSeconds(value: number, unitMs: number): number {
  return unitMs >= 1000 ? value * (unitMs / 1000) : value / (1000 / unitMs);
}

/** Whole milliseconds of a period of `seconds`, rounded once as Esper's TimeAbacus does (see periodSeconds). */
export function wholeMilliseconds(seconds: number): number {
  return Math.round(seconds * 1000);
}

const KEYWORD_TYPES = new Map<string, string>([
  ...RESERVED_KEYWORDS.map((k): [string, string] => [k, `kw_${k}`]),
  ...SOFT_KEYWORDS.map((k): [string, string] => [k, `kw_${k}`]),
  ...[...TIME_UNITS.keys()].map((k): [string, string] => [k, 'timeunit']),
]);

/**
 * The value of a string literal token, as Esper's StringValue.parseString reads it: quotes removed, `\uXXXX`
 * a unicode escape, and a backslash before any other character quoting that character (`\'` is `'`, `\\` is
 * `\`, and `\n` is `n`, not a line feed). Doubled quotes (`'it''s'`) are ours, SQL-style.
 */
export function unquote(text: string): string {
  const quote = text[0];
  const body = text.slice(1, -1);
  let out = '';
  for (let i = 0; i < body.length; i++) {
    const c = body[i];
    if (c === '\\' && i + 1 < body.length) {
      const next = body[i + 1];
      if (next === 'u' && /^[0-9a-fA-F]{4}$/.test(body.slice(i + 2, i + 6))) {
        out += String.fromCharCode(parseInt(body.slice(i + 2, i + 6), 16));
        i += 5;
      } else {
        out += next;
        i += 1;
      }
    } else if (c === quote && body[i + 1] === quote) {
      out += quote;
      i += 1;
    } else {
      out += c;
    }
  }
  return out;
}

/**
 * A string literal as written between its quotes (doubled quotes collapsed, backslashes kept): Esper does not
 * unescape the string constants of a `regexp` expression, so `'\b\d+'` reaches the regexp engine as written.
 */
export function rawString(text: string): string {
  const quote = text[0];
  return text.slice(1, -1).split(quote + quote).join(quote);
}

const rules: moo.Rules = {
  ws: { match: /[ \t\r\n\f\v\u00a0\ufeff]+/, lineBreaks: true },
  lineComment: /\/\/[^\r\n]*/,
  blockComment: { match: /\/\*[^]*?\*\//, lineBreaks: true },
  unterminatedComment: { match: /\/\*[^]*/, lineBreaks: true },
  string: {
    match: /'(?:[^'\\]|\\[^]|'')*'|"(?:[^"\\]|\\[^]|"")*"/,
    lineBreaks: true,
    value: unquote,
  },
  unterminatedString: { match: /['"][^]*/, lineBreaks: true },
  quotedIdent: { match: /`[^`\r\n]+`/, value: (text: string) => text.slice(1, -1) },
  unterminatedQuotedIdent: /`[^\r\n]*/,
  annotation: /@[a-zA-Z_][a-zA-Z0-9_]*/,
  // Esper's (Java's) numeric literals: 10, 10L, 0x1F, 1.5, 1.5d, 2f, 5., .5, 1e3 (a type suffix changes nothing
  // here: every number is a double). A `.` right after digits belongs to the number only when no letter
  // follows, so `items[0].sku` stays a property access (Java's `5.e3` is therefore `5` `.` `e3` here).
  number: /0[xX][0-9a-fA-F]+[lL]?(?![a-zA-Z0-9_$])|(?:[0-9]+\.[0-9]+|[0-9]+\.(?![a-zA-Z_$.])|\.[0-9]+|[0-9]+)(?:[eE][+-]?[0-9]+)?(?:[lLfFdD](?![a-zA-Z0-9_$]))?/,
  everyDistinct: /[eE][vV][eE][rR][yY]-[dD][iI][sS][tT][iI][nN][cC][tT](?![a-zA-Z0-9_$])/,
  ident: {
    match: /[a-zA-Z_$][a-zA-Z0-9_$]*/,
    type: (text: string) => KEYWORD_TYPES.get(text.toLowerCase()) ?? 'ident',
  },
  followMax: '-[',
  arrow: '->',
  ne: ['!=', '<>'],
  le: '<=',
  ge: '>=',
  concat: '||',
  // `&`, `|`, `^`: Esper's bitwise operators (`||`, concatenation, is matched before `|`).
  // `?`: Esper's dynamic property (`x?`, `item.price?`).
  punct: ['(', ')', '[', ']', ',', ':', '.', ';', '=', '<', '>', '+', '-', '*', '/', '%', '&', '|', '^', '?'],
  // One character: a surrogate pair (an emoji) is one.
  invalid: { match: /[\ud800-\udbff][\udc00-\udfff]|[^]/, lineBreaks: true },
};

const mooLexer = moo.compile(rules);

const SKIPPED = new Set(['ws', 'lineComment', 'blockComment']);

/** A lexical error: where it is and what it is. */
export interface LexError {
  token: Token;
  message: string;
}

const LEX_ERRORS: Record<string, (t: Token) => string> = {
  unterminatedComment: () => "unterminated comment: '/*' without '*/'",
  unterminatedString: (t) => `unterminated string literal: ${t.text[0]} without a closing ${t.text[0]}`,
  unterminatedQuotedIdent: () => 'unterminated quoted identifier: ` without a closing `',
  invalid: (t) => `unexpected character ${showCharacter(t.text)}`,
};

/**
 * Characters that would not be seen between quotes: controls, format characters (U+200B), separators
 * (U+2028) and other whitespace, surrogates and private or unassigned code points, and combining marks
 * (which would combine with the quote).
 */
const INVISIBLE = /^[\p{Cc}\p{Cf}\p{Z}\s\p{Cs}\p{Co}\p{Cn}\p{Mn}\p{Me}]$/u;

/** A character as a message shows it: quoted, or as its code point (U+200B) when it would not be visible. */
export function showCharacter(c: string): string {
  if (c === ' ' || !INVISIBLE.test(c)) return `'${c}'`;
  return `U+${c.codePointAt(0)!.toString(16).toUpperCase().padStart(4, '0')}`;
}

/**
 * Splits `text` into significant tokens (whitespace and comments dropped). Stops at the first lexical error,
 * which is returned alongside the tokens read before it so that an earlier syntax error can be reported first.
 */
export function tokenize(text: string): { tokens: Token[]; error?: LexError } {
  mooLexer.reset(text);
  // moo counts only \n as a line break; with a lone \r in the text, positions come from the offsets instead.
  const lines = /\r(?!\n)/.test(text) ? new LineIndex(text) : undefined;
  const place = (token: Token): Token => {
    if (lines) {
      const at = lines.pos(token.offset);
      token.line = at.line;
      token.col = at.column;
    }
    return token;
  };
  const tokens: Token[] = [];
  for (let t = mooLexer.next(); t !== undefined; t = mooLexer.next()) {
    const token = t as unknown as Token;
    if (SKIPPED.has(token.type)) continue;
    const lexError = LEX_ERRORS[token.type];
    if (lexError) {
      const length = token.type === 'invalid' ? token.text.length : 1;
      return { tokens, error: { token: place({ ...token, text: token.text.slice(0, length) }), message: lexError(token) } };
    }
    if (token.type === 'quotedIdent') token.type = 'ident';
    tokens.push(place(token));
  }
  return { tokens };
}

/** Human-readable names of token types, as listed in "expected" sets. */
export function describeTokenType(type: string): string {
  switch (type) {
    case 'ident':
      return 'identifier';
    case 'number':
      return 'number';
    case 'string':
      return 'string';
    case 'timeunit':
      return 'time unit';
    case 'annotation':
      return 'annotation';
    case 'everyDistinct':
      return "'every-distinct'";
    default:
      return type.startsWith('kw_') ? `'${type.slice(3)}'` : `'${type}'`;
  }
}

/**
 * The lexer nearley is given: it replays an already tokenised input (the chunk passed to `feed` is ignored).
 * The generated grammar only needs `has` from it at load time.
 */
export class TokenStream {
  private index = 0;

  constructor(private readonly tokens: readonly Token[]) {}

  reset(_chunk: string, _info: unknown): void {
    // The tokens were given to the constructor.
  }

  next(): Token | undefined {
    return this.tokens[this.index++];
  }

  save(): Record<string, unknown> {
    return {};
  }

  formatError(token: Token): string {
    return `unexpected '${token.text}'`;
  }

  has(_tokenType: string): boolean {
    return true;
  }
}

/** Referenced by `@lexer` in the grammar files; the parser supplies a {@link TokenStream} per parse. */
export const lexer = new TokenStream([]);
