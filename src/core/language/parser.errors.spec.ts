/**
 * Errors of the parser: where they point (1-based line/column, length), what they say, which tokens were
 * expected, how formatDiagnostic renders them, and the input limits.
 */
import { formatDiagnostic, RuleError, type Diagnostic } from './diagnostics';
import { MAX_INPUT_BYTES, MAX_NESTING, MAX_PATH_PARTS, MAX_TREE_DEPTH, parseCepFile, parseExpression, parsePattern } from './parser';

type Kind = 'pattern' | 'expression' | 'file';

const PARSE: Record<Kind, (text: string) => unknown> = {
  pattern: parsePattern,
  expression: parseExpression,
  file: parseCepFile,
};

function diagnosticOf(kind: Kind, text: string): Diagnostic {
  try {
    PARSE[kind](text);
  } catch (e) {
    if (!(e instanceof RuleError)) throw e;
    expect(e.diagnostics).toHaveLength(1);
    return e.diagnostics[0];
  }
  throw new Error(`expected a RuleError for ${JSON.stringify(text)}`);
}

/** [behaviour, kind, text, line, column, length, message] */
type ErrorCase = [string, Kind, string, number, number, number, string];

const EXPECT_PATTERN_START = ["'('", "'['", "'every'", "'every-distinct'", "'not'", 'identifier'];
const EXPECT_OPERAND = ["'('", "'+'", "'-'", "'false'", "'null'", "'true'", 'identifier', 'number', 'string'];

describe('syntax errors', () => {
  const cases: Array<[string, Kind, string, number, number, number, string, string[]]> = [
    ['a pattern cut short after -> expects the start of a pattern', 'pattern', 'A ->', 1, 5, 1, 'unexpected end of input', EXPECT_PATTERN_START],
    ['an empty pattern expects the start of a pattern at 1:1', 'pattern', '', 1, 1, 1, 'unexpected end of input', EXPECT_PATTERN_START],
    [
      'two atoms side by side: the second is unexpected, operators were expected',
      'pattern',
      'A B',
      1,
      3,
      1,
      "unexpected 'B'",
      ["'('", "'->'", "'-[n]>'", "'.'", "':'", "'='", "'and'", "'or'", "'until'", "'where'", "'while'"],
    ],
    ['a guard cut short expects ) , or another time-period part', 'pattern', 'every a=A -> b=B where timer:within(1 sec', 1, 42, 1, 'unexpected end of input', ["')'", "','", 'number']],
    ['a missing right operand expects an operand', 'pattern', 'A(x = )', 1, 7, 1, "unexpected ')'", EXPECT_OPERAND],
    ['errors on later lines have their own line and column', 'pattern', 'every a=A\n  -> b=B(x = = 1)', 2, 14, 1, "unexpected '='", EXPECT_OPERAND],
    ['unary pattern operators do not nest without parentheses (every every)', 'pattern', 'every every A', 1, 7, 5, "unexpected 'every'", ["'('", "'['", 'identifier']],
    ['unary pattern operators do not nest without parentheses (not every)', 'pattern', 'not every A', 1, 5, 5, "unexpected 'every'", ["'('", "'['", 'identifier']],
    ['a pattern takes one guard; more need parentheses', 'pattern', 'A where timer:within(5 sec) where timer:within(1 sec)', 1, 29, 5, "unexpected 'where'", ["'->'", "'-[n]>'", "'and'", "'or'", "'until'"]],
    ['until does not chain', 'pattern', 'A until B until C', 1, 11, 5, "unexpected 'until'", ["'('", "'->'", "'-[n]>'", "'.'", "':'", "'='", "'and'", "'or'", "'where'", "'while'"]],
    ['two repeat ranges in a row are not a pattern', 'pattern', '[2] [3] A', 1, 5, 1, "unexpected '['", ["'('", "'every'", "'every-distinct'", "'not'", 'identifier']],
    ['a reserved word is not a name', 'pattern', 'A(every = 1)', 1, 3, 5, "unexpected 'every'", ["'('", "')'", "'+'", "'-'", "'false'", "'not'", "'null'", "'true'", 'identifier', 'number', 'string']],
    ['* is not allowed inside a timer:at list', 'pattern', 'timer:at([*], *, *, *, *)', 1, 12, 1, "unexpected ']'", ["'/'"]],
    ['relational comparisons do not chain (a < b < c)', 'expression', 'a < b < c', 1, 7, 1, "unexpected '<'", ["'!='", "'%'", "'&'", "'('", "'*'", "'+'", "'-'", "'.'", "'/'", "'<>'", "'='", "'?'", "'['", "'^'", "'and'", "'is'", "'or'", "'|'", "'||'"]],
    ['bitwise operators do not chain, as Esper refuses a & b | c', 'expression', 'a & b | c', 1, 7, 1, "unexpected '|'", ["'!='", "'%'", "'('", "'*'", "'+'", "'-'", "'.'", "'/'", "'<'", "'<='", "'<>'", "'='", "'>'", "'>='", "'?'", "'['", "'and'", "'between'", "'in'", "'is'", "'like'", "'not'", "'or'", "'regexp'", "'||'"]],
    ['any, some and all are not functions', 'expression', 'any(x)', 1, 4, 1, "unexpected '('", ["'!='", "'%'", "'&'", "'*'", "'+'", "'-'", "'.'", "'/'", "'<'", "'<='", "'<>'", "'='", "'>'", "'>='", "'?'", "'['", "'^'", "'and'", "'between'", "'in'", "'is'", "'like'", "'not'", "'or'", "'regexp'", "'|'", "'||'"]],
    ['cast with as needs a type name', 'expression', 'cast(x as)', 1, 10, 1, "unexpected ')'", ['identifier']],
    ['a bitwise operator needs a right operand', 'expression', 'a ^', 1, 4, 1, 'unexpected end of input', ["'('", "'+'", "'-'", "'false'", "'not'", "'null'", "'true'", 'identifier', 'number', 'string']],
    ['an empty expression expects an operand (not included)', 'expression', '', 1, 1, 1, 'unexpected end of input', ["'('", "'+'", "'-'", "'false'", "'not'", "'null'", "'true'", 'identifier', 'number', 'string']],
    ['an in list needs at least one value', 'expression', 'x in ()', 1, 7, 1, "unexpected ')'", ["'('", "'+'", "'-'", "'false'", "'not'", "'null'", "'true'", 'identifier', 'number', 'string']],
    ['an expression cut short after an operator', 'expression', 'a = ', 1, 4, 1, 'unexpected end of input', EXPECT_OPERAND],
    ['a statement needs from before pattern', 'file', 'select * [A]', 1, 10, 1, "unexpected '['", ["'from'"]],
    ['the pattern of a statement is in brackets', 'file', 'select * from pattern A', 1, 23, 1, "unexpected 'A'", ["'['"]],
    ['statements are separated by ;', 'file', 'select * from pattern [A] select * from pattern [B]', 1, 27, 6, "unexpected 'select'", ["';'"]],
    ['an empty statement is an error', 'file', ';;', 1, 1, 1, "unexpected ';'", ["'partition'", "'select'", 'annotation']],
    ['a statement starts with annotations, partition or select', 'file', 'from pattern [A]', 1, 1, 4, "unexpected 'from'", ["'partition'", "'select'", 'annotation']],
    ['annotation arguments are literals', 'file', '@name(x) select * from pattern [A]', 1, 7, 1, "unexpected 'x'", ["')'", "'-'", "'false'", "'null'", "'true'", 'number', 'string']],
    ['annotations alone are not a statement', 'file', "@name('x')", 1, 11, 1, 'unexpected end of input', ["'partition'", "'select'", 'annotation']],
    ['a unit spelt as other tools do (30 s) names Esper\'s (sec)', 'pattern', 'A where timer:within(1 min 30 s)', 1, 31, 1, "unexpected 's'; did you mean 'sec'?", ['time unit']],
    ['no unit hint where no time unit can come (x > 5 m)', 'expression', 'x > 5 m', 1, 7, 1, "unexpected 'm'", ["'!='", "'%'", "'&'", "'*'", "'+'", "'-'", "'/'", "'<>'", "'='", "'^'", "'and'", "'is'", "'or'", "'|'", "'||'"]],
    ['a string token is described as a string', 'pattern', "A 'x'", 1, 3, 3, "unexpected string 'x'", ["'('", "'->'", "'-[n]>'", "'.'", "':'", "'='", "'and'", "'or'", "'until'", "'where'", "'while'"]],
  ];

  it.each(cases)('%s', (_behaviour, kind, text, line, column, length, message, expected) => {
    expect(diagnosticOf(kind, text)).toEqual({ severity: 'error', message, line, column, length, expected });
  });

  it('expected tokens are deduplicated', () => {
    const { expected } = diagnosticOf('expression', 'a +');
    expect(expected).toBeDefined();
    expect(new Set(expected).size).toBe(expected!.length);
  });

  it('statement words and time units are not listed when any identifier fits', () => {
    const { expected } = diagnosticOf('file', 'select a as');
    expect(expected).toEqual(['identifier']);
  });
});

describe('lexical errors', () => {
  const cases: ErrorCase[] = [
    ['an unknown character', 'pattern', 'A # B', 1, 3, 1, "unexpected character '#'"],
    ['a non-ASCII character outside strings and backticks', 'pattern', 'A -> é', 1, 6, 1, "unexpected character 'é'"],
    ['an unterminated string points at its opening quote', 'pattern', "A(x = 'abc", 1, 7, 1, "unterminated string literal: ' without a closing '"],
    ['an unterminated double-quoted string', 'expression', 'x = "abc', 1, 5, 1, 'unterminated string literal: " without a closing "'],
    ['an unterminated block comment', 'pattern', 'A /* x', 1, 3, 1, "unterminated comment: '/*' without '*/'"],
    ['an unterminated quoted identifier', 'pattern', '`abc', 1, 1, 1, 'unterminated quoted identifier: ` without a closing `'],
    ['a lexical error on a later line', 'file', 'select *\nfrom pattern [A # B]', 2, 17, 1, "unexpected character '#'"],
  ];

  it.each(cases)('%s', (_behaviour, kind, text, line, column, length, message) => {
    expect(diagnosticOf(kind, text)).toEqual({ severity: 'error', message, line, column, length });
  });

  it('a syntax error before a lexical error is reported first', () => {
    expect(diagnosticOf('pattern', 'A B #')).toMatchObject({ message: "unexpected 'B'", column: 3 });
  });
});

describe('semantic errors found while parsing', () => {
  const cases: ErrorCase[] = [
    ['cast needs a value and a type', 'expression', 'cast(x)', 1, 1, 7, 'cast takes a value and a type, as in cast(x, int) or cast(x as int); got 1 argument'],
    ['the type of a cast is a name, not an expression', 'expression', "cast(x, 'int')", 1, 9, 5, 'the second argument of cast must be a type, such as int, long, double or string'],
    ['instanceof needs a value and a type', 'expression', 'instanceof(x)', 1, 1, 13, 'instanceof takes a value and one or more types, as in instanceof(x, long, double)'],
    ['the types of instanceof are names', 'expression', 'instanceof(x, long, 1)', 1, 21, 1, 'the types of instanceof are type names, such as long, string or java.lang.Number'],
    ['the type of a cast has no index', 'expression', 'cast(x, int[0])', 1, 9, 6, 'the second argument of cast must be a type, such as int, long, double or string'],
    ['time-period parts go from the largest unit down', 'pattern', 'A where timer:within(5 sec 2 min)', 1, 30, 3, "the parts of a time period go from the largest unit to the smallest: 'minute' cannot follow 'second'"],
    ['a time-period unit appears once', 'pattern', 'A where timer:within(1 sec 2 seconds)', 1, 30, 7, "the time period gives 'second' twice"],
    ['an unknown guard points at its name', 'pattern', 'A where foo:bar(1)', 1, 9, 7, "unknown guard 'foo:bar' (known: timer:within, timer:withinmax)"],
    ['an unknown observer points at its name', 'pattern', 'foo:bar()', 1, 1, 7, "unknown observer 'foo:bar' (known: timer:interval, timer:at, timer:schedule)"],
    ['an unknown name in the timer namespace', 'pattern', 'A -> timer:sleep(1)', 1, 6, 11, "unknown observer 'timer:sleep' (known: timer:interval, timer:at, timer:schedule)"],
    ['timer:schedule takes named parameters', 'pattern', "timer:schedule('R/PT1S')", 1, 16, 8, "timer:schedule takes named parameters: iso, or date, period and repetitions, as in timer:schedule(iso: 'R/PT10S')"],
    ['timer:schedule needs a parameter', 'pattern', 'timer:schedule()', 1, 16, 1, "timer:schedule takes named parameters: iso, or date, period and repetitions, as in timer:schedule(iso: 'R/PT10S')"],
    ['an unknown parameter of timer:schedule points at its name', 'pattern', 'timer:schedule(foo: 5)', 1, 16, 3, 'unknown parameter \'foo\' of timer:schedule (known: iso, repetitions, date, period)'],
    ['a parameter of timer:schedule given twice, in any case', 'pattern', "timer:schedule(iso: 'PT1S', ISO: 'PT2S')", 1, 29, 3, "the parameter 'iso' of timer:schedule is given twice"],
    ['iso excludes the other parameters', 'pattern', "timer:schedule(iso: 'PT1S', period: 1 sec)", 1, 29, 6, "the 'iso' parameter of timer:schedule excludes the others"],
    ['timer:schedule needs a date or a period', 'pattern', 'timer:schedule(repetitions: 3)', 1, 16, 14, 'timer:schedule needs a date or a period (or iso)'],
    ['repetitions need a period', 'pattern', "timer:schedule(date: '2025-01-01', repetitions: 3)", 1, 36, 11, 'repetitions of timer:schedule need a period'],
    ['the period of timer:schedule is a time period', 'pattern', 'timer:schedule(period: 5)', 1, 24, 1, "the 'period' parameter of timer:schedule needs a time period, such as 10 sec"],
    ['the parts of a timer:schedule period are whole', 'pattern', 'timer:schedule(period: 1.5 sec)', 1, 24, 7, 'the parts of a timer:schedule period are whole numbers (Esper would truncate them): write 1500 msec, not 1.5 sec'],
    ['the iso of timer:schedule is an expression', 'pattern', 'timer:schedule(iso: 5 sec)', 1, 21, 5, "the 'iso' parameter of timer:schedule is an expression, not a time period"],
    ['other observers take no named parameters', 'pattern', 'timer:interval(period: 5 sec)', 1, 16, 6, 'timer:interval takes no named parameters'],
    ['guards take no named parameters', 'pattern', 'A where timer:within(iso: 5)', 1, 22, 3, 'timer:within takes no named parameters'],
    ['a guard used as an observer', 'pattern', 'timer:within(5 sec)', 1, 1, 12, "'timer:within' is a guard: write it after a pattern, as in 'A where timer:within(...)'"],
    ['an observer used as a guard', 'pattern', 'A where timer:at(*,*,*,*,*)', 1, 9, 8, "'timer:at' is an observer, not a guard (guards: timer:within, timer:withinmax)"],
    ['timer:within needs a time period, not a string', 'pattern', "A where timer:within('soon')", 1, 22, 6, 'timer:within needs a time period, such as 10 sec or 1 minute 30 seconds'],
    ['a computed time period cannot count months', 'pattern', 'a=A -> timer:interval(a.n months)', 1, 27, 6, 'a computed time period cannot count months, which have no fixed length: use days'],
    ['the expiry of every-distinct is a constant period', 'pattern', 'every-distinct(a.k, a.ttl sec) a=A', 1, 21, 9, 'the expiry of every-distinct must be a constant time period, such as 10 sec'],
    ['timer:within takes one parameter', 'pattern', 'A where timer:within()', 1, 22, 1, 'timer:within takes 1 parameter: the time period'],
    ['timer:interval takes one parameter', 'pattern', 'timer:interval(1 sec, 2 sec)', 1, 23, 5, 'timer:interval takes 1 parameter: the time period'],
    ['timer:withinmax takes two parameters', 'pattern', 'A where timer:withinmax(5 sec)', 1, 30, 1, 'timer:withinmax takes 2 parameters: the time period, the maximum number of matches'],
    ['the maximum of timer:withinmax is positive', 'pattern', 'A where timer:withinmax(5 sec, 0)', 1, 32, 1, 'the maximum number of matches of timer:withinmax must be a positive integer'],
    ['timer:at minutes are 0-59', 'pattern', 'timer:at(60, *, *, *, *)', 1, 10, 2, 'timer:at minutes must be between 0 and 59, got 60'],
    ['timer:at hours are 0-23', 'pattern', 'timer:at(*, 24, *, *, *)', 1, 13, 2, 'timer:at hours must be between 0 and 23, got 24'],
    ['timer:at days of month start at 1', 'pattern', 'timer:at(*, *, 0, *, *)', 1, 16, 1, 'timer:at days of month must be between 1 and 31, got 0'],
    ['timer:at days of month end at 31', 'pattern', 'timer:at(*, *, 32, *, *)', 1, 16, 2, 'timer:at days of month must be between 1 and 31, got 32'],
    ['timer:at months start at 1', 'pattern', 'timer:at(*, *, *, 0, *)', 1, 19, 1, 'timer:at months must be between 1 and 12, got 0'],
    ['timer:at months end at 12', 'pattern', 'timer:at(*, *, *, 13, *)', 1, 19, 2, 'timer:at months must be between 1 and 12, got 13'],
    ['timer:at days of week are 0-6', 'pattern', 'timer:at(*, *, *, *, 7)', 1, 22, 1, 'timer:at days of week must be between 0 and 6, got 7'],
    ['timer:at seconds are 0-59', 'pattern', 'timer:at(*, *, *, *, *, 60)', 1, 25, 2, 'timer:at seconds must be between 0 and 59, got 60'],
    ['an out-of-range list element points at the element', 'pattern', 'timer:at([1, 99], *, *, *, *)', 1, 14, 2, 'timer:at minutes must be between 0 and 59, got 99'],
    ['an out-of-range range bound points at the bound', 'pattern', 'timer:at(0:60, *, *, *, *)', 1, 12, 2, 'timer:at minutes must be between 0 and 59, got 60'],
    ['a timer:at range must not be empty', 'pattern', 'timer:at(5:1, *, *, *, *)', 1, 10, 3, 'timer:at minutes range 5:1 is empty (low > high)'],
    ['a timer:at step is at least 1', 'pattern', 'timer:at(*/0, *, *, *, *)', 1, 12, 1, 'a timer:at step must be at least 1'],
    ['a timer:at step fits its field', 'pattern', 'timer:at(*/60, *, *, *, *)', 1, 10, 4, 'timer:at minutes step must be at most 59, got 60'],
    ['timer:at values are whole numbers', 'pattern', 'timer:at(1.5, *, *, *, *)', 1, 10, 3, 'timer:at minutes must be whole numbers, got 1.5'],
    ['timer:at list values are whole numbers', 'pattern', 'timer:at([1.5], *, *, *, *)', 1, 11, 3, "a timer:at value must be a non-negative integer, got '1.5'"],
    ['a timer:at field is not a time period', 'pattern', 'timer:at(5 min, *, *, *, *)', 1, 10, 5, 'timer:at minutes cannot be a time period'],
    ['a timer:at field is not an arbitrary expression', 'pattern', 'timer:at(a.x, *, *, *, *)', 1, 10, 3, 'timer:at minutes: expected a number, *, */n, lo:hi or a [list]'],
    ['timer:at takes at least five parameters', 'pattern', 'timer:at(*, *, *, *)', 1, 20, 1, 'timer:at takes 5 or 6 parameters: minutes, hours, days of month, months, days of week [, seconds]'],
    ['timer:at takes at most six parameters', 'pattern', 'timer:at(*, *, *, *, *, *, *)', 1, 28, 1, 'timer:at takes 5 or 6 parameters: minutes, hours, days of month, months, days of week [, seconds]'],
    ['a repeat count is at least 1', 'pattern', '[0] A', 1, 2, 1, 'a repeat count must be at least 1'],
    ['a repeat count is an integer', 'pattern', '[1.5] A', 1, 2, 3, "a repeat count must be a non-negative integer, got '1.5'"],
    ['a repeat range is not empty', 'pattern', '[5:2] A', 1, 1, 5, 'the repeat range [5:2] is empty: its lower bound is above its upper bound'],
    ['a repeat range has a bound', 'pattern', '[:] A', 1, 1, 3, "a repeat range needs at least one bound, as in '[2:]' or '[:5]'"],
    ['a repeat upper bound is at least 1', 'pattern', '[:0] A', 1, 3, 1, 'the upper bound of a repeat range must be at least 1'],
    ['a -[n]> limit is at least 1', 'pattern', 'A -[0]> B', 1, 5, 1, "the limit of '-[n]>' must be at least 1"],
    ['a -[n]> limit is an integer', 'pattern', 'A -[2.5]> B', 1, 5, 3, "the limit of '-[n]>' must be a non-negative integer, got '2.5'"],
    ['only the last every-distinct parameter may be a time period', 'pattern', 'every-distinct(5 sec, a.x) A', 1, 16, 5, 'only the last parameter of every-distinct can be a time period (the expiry)'],
    ['every-distinct needs a key expression', 'pattern', 'every-distinct(5 sec) A', 1, 21, 1, 'every-distinct needs at least one expression before the expiry'],
    ['a like escape is one character', 'expression', "x like 'a' escape 'ab'", 1, 19, 4, "the escape of 'like' must be a single character, got 'ab'"],
    ['a like escape is one UTF-16 unit, as a Java char', 'expression', "x like 'a' escape '😀'", 1, 19, 4, "the escape of 'like' must be a single character, got '😀'"],
    ['an array index is a non-negative integer', 'expression', 'a[1.5]', 1, 3, 3, "an array index must be a non-negative integer, got '1.5'"],
  ];

  it.each(cases)('%s', (_behaviour, kind, text, line, column, length, message) => {
    expect(diagnosticOf(kind, text)).toEqual({ severity: 'error', message, line, column, length });
  });

  it('errors inside a .cep statement are positioned in the file', () => {
    expect(diagnosticOf('file', "@name('x')\nselect *\nfrom pattern [\n  A where timer:within(1 sec 1 min)\n]")).toMatchObject({
      line: 4,
      column: 32,
      length: 3,
    });
  });
});

describe('formatDiagnostic renders parser errors with a caret', () => {
  const render = (kind: Kind, text: string) => formatDiagnostic(diagnosticOf(kind, text), text);

  it('a syntax error: position, source line, caret under the token, expected tokens', () => {
    expect(render('pattern', 'every a=A -> b=B(x = )')).toBe(
      [
        "<input>:1:22: unexpected ')'",
        '  every a=A -> b=B(x = )',
        '  ' + ' '.repeat(21) + '^',
        "  expected one of: '(', '+', '-', 'false', 'null', 'true', identifier, number, string",
      ].join('\n'),
    );
  });

  it('the caret is as wide as the offending token, on the right line', () => {
    expect(render('pattern', 'every a=A\n  -> b=B where timer:nope(1)')).toBe(
      ['<input>:2:16: unknown guard \'timer:nope\' (known: timer:within, timer:withinmax)', '    -> b=B where timer:nope(1)', '  ' + ' '.repeat(15) + '^'.repeat(10)].join('\n'),
    );
  });

  it('unexpected end of input puts the caret just after the last token', () => {
    expect(render('pattern', 'A ->')).toBe(
      ['<input>:1:5: unexpected end of input', '  A ->', '  ' + ' '.repeat(4) + '^', "  expected one of: '(', '[', 'every', 'every-distinct', 'not', identifier"].join('\n'),
    );
  });

  it('an out-of-range timer:at field is underlined', () => {
    expect(render('pattern', 'timer:at(0, 25, *, *, *)')).toBe(
      ['<input>:1:13: timer:at hours must be between 0 and 23, got 25', '  timer:at(0, 25, *, *, *)', '  ' + ' '.repeat(12) + '^^'].join('\n'),
    );
  });
});

describe('limits', () => {
  const nested = (depth: number) => '('.repeat(depth) + 'A' + ')'.repeat(depth);

  it(`accepts ${MAX_NESTING} levels of parentheses`, () => {
    expect(parsePattern(nested(MAX_NESTING))).toMatchObject({ kind: 'filter', eventType: 'A' });
  });

  it(`rejects ${MAX_NESTING + 1} levels of parentheses at the opening that goes too deep`, () => {
    expect(diagnosticOf('pattern', nested(MAX_NESTING + 1))).toEqual({
      severity: 'error',
      message: `nesting is too deep: more than ${MAX_NESTING} levels`,
      line: 1,
      column: MAX_NESTING + 1,
      length: 1,
    });
  });

  it('counts brackets of expressions too', () => {
    expect(diagnosticOf('expression', nested(MAX_NESTING + 1).replace('A', 'x'))).toMatchObject({ column: MAX_NESTING + 1 });
    expect(diagnosticOf('pattern', `A(${nested(MAX_NESTING).replace('A', 'x')})`)).toMatchObject({ message: expect.stringContaining('nesting') });
  });

  it('counts runs of prefix operators (not not ... x, - - ... x)', () => {
    expect(parseExpression('not '.repeat(MAX_NESTING) + 'x')).toMatchObject({ kind: 'unary', op: 'not' });
    expect(diagnosticOf('expression', 'not '.repeat(MAX_NESTING + 1) + 'x')).toMatchObject({ message: expect.stringContaining('nesting is too deep') });
    expect(diagnosticOf('expression', '- '.repeat(MAX_NESTING + 1) + 'x')).toMatchObject({ message: expect.stringContaining('nesting is too deep') });
  });

  it('rejects a 10 KB pattern of nested parentheses quickly, without exhausting the stack', () => {
    const text = nested(5000);
    expect(text.length).toBeGreaterThan(10_000);
    const started = Date.now();
    expect(diagnosticOf('pattern', text).message).toContain('nesting is too deep');
    expect(Date.now() - started).toBeLessThan(200);
  });

  it(`accepts a chain of ${MAX_TREE_DEPTH - 10} operators and rejects a longer one with a line:column error, not a stack overflow`, () => {
    const chain = (op: string, terms: number) => Array.from({ length: terms }, () => 'x').join(` ${op} `);
    expect(parseExpression(chain('+', MAX_TREE_DEPTH - 10))).toMatchObject({ kind: 'binary', op: '+' });
    for (const op of ['+', '*', '||', 'and', 'or']) {
      expect(diagnosticOf('expression', chain(op, 5000))).toMatchObject({ message: expect.stringContaining('expression is too deep'), line: 1 });
    }
    expect(diagnosticOf('pattern', `A(${chain('or', 3000)})`)).toMatchObject({ message: expect.stringContaining('expression is too deep') });
  });

  it(`accepts a path of ${MAX_PATH_PARTS} parts and rejects one more, at the dot that goes too far`, () => {
    const path = (parts: number) => Array.from({ length: parts }, (_, i) => `p${i}`).join('.');
    expect(parseExpression(path(MAX_PATH_PARTS))).toMatchObject({ kind: 'path' });
    const long = path(MAX_PATH_PARTS + 1);
    expect(diagnosticOf('expression', long)).toMatchObject({
      message: `a name or path of more than ${MAX_PATH_PARTS} parts`,
      column: long.lastIndexOf('.') + 1,
    });
    expect(diagnosticOf('pattern', `${path(MAX_PATH_PARTS + 1)}(x = 1)`).message).toContain('a name or path of more than');
  });

  it('parses a list of 30,000 values (60 KB) in linear time, every value in order', () => {
    // Copying the list at every item took about 1 s for 8,000 values and grew with the square.
    const values = Array.from({ length: 30_000 }, (_, i) => String(i % 10));
    const started = Date.now();
    const expr = parseExpression(`x in (${values.join(',')})`) as { kind: string; values: Array<{ value: number }> };
    expect(Date.now() - started).toBeLessThan(3000);
    expect(expr.values.map((v) => String(v.value))).toEqual(values);
  });

  it(`accepts ${MAX_INPUT_BYTES} bytes and rejects one more, before parsing`, () => {
    const fits = 'A' + ' '.repeat(MAX_INPUT_BYTES - 1);
    expect(parsePattern(fits)).toMatchObject({ kind: 'filter' });
    expect(diagnosticOf('pattern', fits + ' ')).toEqual({
      severity: 'error',
      message: `input is too long: ${MAX_INPUT_BYTES + 1} bytes (the limit is ${MAX_INPUT_BYTES})`,
      line: 1,
      column: 1,
      length: 1,
    });
  });

  it('measures the limit in UTF-8 bytes', () => {
    const text = `A(x = '${'é'.repeat(MAX_INPUT_BYTES / 2)}')`;
    expect(diagnosticOf('pattern', text).message).toMatch(/^input is too long/);
  });

  it('a flat 10 KB pattern parses well under a second', () => {
    const text = Array.from({ length: 600 }, (_, i) => `e${i}=E(x > ${i})`).join(' -> ');
    expect(text.length).toBeGreaterThan(10_000);
    const started = Date.now();
    parsePattern(text);
    expect(Date.now() - started).toBeLessThan(1000);
  });

  it('a long left-associative expression parses without deep recursion, then is refused as too deep for the compiler', () => {
    const text = Array.from({ length: 10_000 }, (_, i) => `a${i % 10}`).join('+');
    expect(diagnosticOf('expression', text)).toMatchObject({ message: expect.stringContaining('expression is too deep') });
  });

  it('parses 200 rules well under a second', () => {
    const rule =
      "every login=login(country in ('US', 'CA') and amount > 100.5) -> purchase=purchase(country != login.country and lower(email) like '%@x.com') where timer:within(5 min)";
    parsePattern(rule); // warm up
    const started = Date.now();
    for (let i = 0; i < 200; i++) parsePattern(rule);
    expect(Date.now() - started).toBeLessThan(1000);
  });
});
