import { RuleError } from '../language/diagnostics';
import { compileExpression, compilePredicate } from './compile';
import { parseExpression as parse } from '../language/parser';
import type { ExprScope, TagInfo } from './types';

const TAGS: Record<string, TagInfo> = {
  a: { slot: 0, multi: false },
  r: { slot: 1, multi: true },
};

function scopeOf(opts: { tagsOnly?: boolean; unavailable?: Record<string, string> } = {}): ExprScope {
  return {
    resolve: (name) => (Object.prototype.hasOwnProperty.call(TAGS, name) ? TAGS[name] : undefined),
    unavailable: (name) => opts.unavailable?.[name],
    tagsOnly: opts.tagsOnly ?? false,
  };
}

interface Expected {
  line: number;
  column: number;
  length?: number;
  message: RegExp;
}

function errorsOf(f: () => unknown): RuleError {
  try {
    f();
  } catch (e) {
    if (e instanceof RuleError) return e;
    throw e;
  }
  throw new Error('expected a RuleError');
}

function expectErrors(text: string, expected: Expected[], scope: ExprScope = scopeOf()): void {
  const error = errorsOf(() => compileExpression(parse(text), scope));
  expect(error.diagnostics).toHaveLength(expected.length);
  expected.forEach((want, i) => {
    const d = error.diagnostics[i];
    expect(d.severity).toBe('error');
    expect(d.message).toMatch(want.message);
    expect({ line: d.line, column: d.column }).toEqual({ line: want.line, column: want.column });
    if (want.length !== undefined) expect(d.length).toBe(want.length);
  });
}

type Case = [title: string, expression: string, expected: Expected[]];

function cases(title: string, rows: Case[], scope?: ExprScope): void {
  describe(title, () => {
    it.each(rows)('%s: %j', (_title, text, expected) => expectErrors(text, expected, scope));
  });
}

cases('unknown functions and wrong arity', [
  ['an unknown function lists the known ones', 'price > avg(price)', [
    { line: 1, column: 9, length: 10, message: /^unknown function 'avg' \(known functions: abs, coalesce, exists, length, lower, max, min, typeof, upper\)$/ },
  ]],
  ['errors inside the arguments of an unknown function are reported too', "foo('a' * 2)", [
    { line: 1, column: 5, message: /arithmetic '\*' needs numbers, not a string/ },
    { line: 1, column: 1, message: /unknown function 'foo'/ },
  ]],
  ['abs() without an argument', 'abs()', [{ line: 1, column: 1, length: 5, message: /^abs\(\) takes 1 argument, got 0$/ }]],
  ['abs() with two arguments', 'abs(1, 2)', [{ line: 1, column: 1, message: /abs\(\) takes 1 argument, got 2/ }]],
  ['lower() with two arguments', 'lower(name, 1)', [{ line: 1, column: 1, message: /lower\(\) takes 1 argument, got 2/ }]],
  ['length() without an argument', 'length()', [{ line: 1, column: 1, message: /length\(\) takes 1 argument, got 0/ }]],
  ['coalesce() with one argument (Esper needs two)', 'coalesce(x)', [{ line: 1, column: 1, message: /coalesce\(\) takes at least 2 arguments, got 1/ }]],
  ['min() with one argument (Esper needs two)', 'min(x)', [{ line: 1, column: 1, message: /min\(\) takes at least 2 arguments, got 1/ }]],
  ['max() without arguments', 'max()', [{ line: 1, column: 1, message: /max\(\) takes at least 2 arguments, got 0/ }]],
]);

cases('dynamic properties (x?) have Java\'s type Object, which only equality, exists, typeof, instanceof and cast take (Esper)', [
  ['compared with <', 'x? > 0', [{ line: 1, column: 1, length: 2, message: /^'x\?' is a dynamic property, of Java's type Object as in Esper: only =, !=, is \[not\], is \[not\] null, exists, typeof, instanceof and cast take it \(write cast\(x\?, double\) to compare it as a number\)$/ }]],
  ['in arithmetic', 'item?.price * 2 = 4', [{ line: 1, column: 1, length: 11, message: /^'item\?\.price' is a dynamic property/ }]],
  ['as a condition by itself', 'flag?', [{ line: 1, column: 1, message: /'flag\?' is a dynamic property/ }]],
  ['under not', 'not flag?', [{ line: 1, column: 5, message: /'flag\?' is a dynamic property/ }]],
  ['inside a function other than exists and typeof', 'lower(s?) = \'a\'', [{ line: 1, column: 7, message: /'s\?' is a dynamic property/ }]],
  ['in an in-list', 'x? in (1, 2)', [{ line: 1, column: 1, message: /'x\?' is a dynamic property/ }]],
  ['with like', "s? like 'a%'", [{ line: 1, column: 1, message: /'s\?' is a dynamic property/ }]],
  ['with a ? on a tag', 'a?.x = 1', [{ line: 1, column: 1, message: /^'a' is a tag, not a property: put the '\?' on a property \(a\.x\?\)$/ }]],
  ['exists of something that is not a property', 'exists(x + 1)', [{ line: 1, column: 1, message: /^exists\(\) takes one property, as in exists\(x\?\) or exists\(a\.item\?\.price\)$/ }]],
  ['exists of two properties', 'exists(x?, y?)', [{ line: 1, column: 1, message: /^exists\(\) takes one property/ }]],
  ['typeof of two arguments', 'typeof(x?, y?)', [{ line: 1, column: 1, message: /^typeof\(\) takes 1 argument, got 2$/ }]],
  ['typeof of a repeated tag', "typeof(r) = 'A'", [{ line: 1, column: 8, message: /^typeof\(\) of tag 'r' is not supported here/ }]],
]);

cases('type clashes known at compile time', [
  ['comparing a number with a string', "5 > 'x'", [
    { line: 1, column: 1, length: 7, message: /^cannot compare a number with a string using '>'$/ },
  ]],
  ['= between a number and a string (no coercion, as Esper)', "1 = '1'", [
    { line: 1, column: 1, message: /cannot compare a number with a string \('=' does not convert between types\)/ },
  ]],
  ['!= between a boolean and a number', 'true != 1', [{ line: 1, column: 1, message: /cannot compare a boolean with a number/ }]],
  ['< on booleans', 'flag < true', [{ line: 1, column: 1, message: /'<' compares numbers or strings, not booleans/ }]],
  ['arithmetic on a string', "'a' * 2", [{ line: 1, column: 1, length: 3, message: /^arithmetic '\*' needs numbers, not a string$/ }]],
  ['arithmetic on a boolean (right operand)', 'price + true', [{ line: 1, column: 9, length: 4, message: /arithmetic '\+' needs numbers, not a boolean/ }]],
  ['unary minus on a string', "-'a'", [{ line: 1, column: 2, message: /unary '-' needs a number, not a string/ }]],
  ['not on a number', 'not 5', [{ line: 1, column: 5, length: 1, message: /^'not' needs a boolean, not a number$/ }]],
  ['and on a string', "flag and 'yes'", [{ line: 1, column: 10, message: /'and' needs boolean operands, not a string/ }]],
  ['or on a number', '1 or flag', [{ line: 1, column: 1, message: /'or' needs boolean operands, not a number/ }]],
  ['abs() of a string', "abs('x')", [{ line: 1, column: 5, length: 3, message: /^abs\(\) needs a number, not a string$/ }]],
  ['lower() of a number', 'lower(5)', [{ line: 1, column: 7, message: /lower\(\) needs a string, not a number/ }]],
  ['length() of a number', 'length(5)', [{ line: 1, column: 8, message: /length\(\) needs a string or an array, not a number/ }]],
  ['min() of a string', "min(price, 'x')", [{ line: 1, column: 12, message: /min\(\) needs numbers, not a string/ }]],
  ['coalesce() of a number and a string', "coalesce(price, 1, 'x')", [
    { line: 1, column: 20, message: /coalesce\(\) mixes a number with a string/ },
  ]],
  ["case results of two types (Esper: cannot coerce)", "case when flag then 1 else 'x' end", [
    { line: 1, column: 28, length: 3, message: /^the results of 'case' mix a number with a string: they must have one type$/ },
  ]],
  ['a case condition that is a number', 'case when 1 + 1 then 1 end', [{ line: 1, column: 11, length: 5, message: /^a 'when' condition must be boolean, not a number$/ }]],
  ['a case value of another type than the operand', "case abs(price) when 'x' then 1 end", [{ line: 1, column: 22, message: /cannot compare a number with a string/ }]],
  ['case values of two types when the operand\'s type is not known (Esper: cannot coerce)', "case x when 1 then 'a' when 'b' then 'c' end", [
    { line: 1, column: 29, length: 3, message: /cannot compare a number with a string/ },
  ]],
  ['a case whose every result is null (Esper refuses it)', 'case when flag then null else null end', [{ line: 1, column: 1, message: /every result of this 'case' is null/ }]],
  ['between on a string with number bounds', "'x' between 1 and 2", [
    { line: 1, column: 13, length: 1, message: /'between' range mixes a string with a number/ },
  ]],
  ['between with a boolean bound', 'price between true and 2', [
    { line: 1, column: 15, message: /'between' ranges need numbers or strings, not a boolean/ },
  ]],
  ['in-range with a string bound', "price in [1:'z']", [{ line: 1, column: 13, message: /'in' range mixes a number with a string/ }]],
  ['in-list value of another type', "5 in (1, 'a', true)", [
    { line: 1, column: 10, message: /'in' compares a number with a string/ },
    { line: 1, column: 15, message: /'in' compares a number with a boolean/ },
  ]],
  ['like on a boolean', "true like 'a%'", [{ line: 1, column: 1, message: /'like' needs a string \(or a number\) to match, not a boolean/ }]],
  ['like with a number pattern', 'name like 5', [{ line: 1, column: 11, message: /the like pattern must be a string, not a number/ }]],
  ['like with a null pattern', 'name like null', [{ line: 1, column: 11, message: /the like pattern is null/ }]],
  ['regexp on a boolean', "false regexp 'a'", [{ line: 1, column: 1, message: /'regexp' needs a string \(or a number\) to match, not a boolean/ }]],
  ['regexp with a boolean pattern', 'name regexp true', [{ line: 1, column: 13, message: /the regexp pattern must be a string, not a boolean/ }]],
]);

// Esper's ExprBitWiseNode: "Invalid datatype for binary operator", "Invalid type for bitwise & operator" and
// "Bitwise expressions must be of the same type", each checked against Esper 8.9 in esper-differential.spec.ts.
cases('bitwise operators: the operand types Esper refuses', [
  ['a string operand', "x & 'a'", [{ line: 1, column: 5, length: 3, message: /^bitwise '&' needs integers or booleans, not a string$/ }]],
  ['a null operand', 'null | x', [{ line: 1, column: 1, length: 4, message: /^bitwise '\|' needs integers or booleans, not null$/ }]],
  ['a double literal, even an integral one (1.0)', 'x ^ 1.0', [
    { line: 1, column: 5, length: 3, message: /^bitwise '\^' needs integers or booleans, not a double \(Esper refuses floating-point operands\)$/ },
  ]],
  ['a float literal', 'x & 2f', [{ line: 1, column: 5, message: /not a float/ }]],
  ['a division, which is a double in Esper', '(x / 2) & 1', [{ line: 1, column: 1, length: 7, message: /not a double/ }]],
  ['arithmetic with a double', '(x + 0.5) | 1', [{ line: 1, column: 1, message: /not a double/ }]],
  ['coalesce of doubles', 'coalesce(1.5, 2.5) & 1', [{ line: 1, column: 1, message: /not a double/ }]],
  ['max with a double', 'max(x, 1.5) & 1', [{ line: 1, column: 1, message: /not a double/ }]],
  ['an int and a long (Esper: "must be of the same type")', '1 & 1L', [
    { line: 1, column: 1, length: 6, message: /^bitwise '&' needs operands of one type, not an int and a long, as in Esper \(write 10L for a long literal\)$/ },
  ]],
  ['a long computed from longs, with an int', '(2L * 3L) & 1', [{ line: 1, column: 1, message: /not a long and an int/ }]],
  ['a number and a boolean', 'true & 1', [{ line: 1, column: 1, message: /^bitwise '&' needs operands of one type, not a boolean and a number$/ }]],
  ['the comparison binds tighter: x & 3 = 1 is x & (3 = 1), a number and a boolean', '1 & 3 = 1', [
    { line: 1, column: 1, message: /needs operands of one type, not a number and a boolean/ },
  ]],
]);

cases('invalid like and regexp patterns, at the pattern', [
  ['like escape of two characters', "name like 'a' escape '!!'", [
    { line: 1, column: 22, message: /the escape of 'like' must be a single character, got '!!'/ },
  ]],
  ['regexp with an unclosed group', "name regexp '(ab'", [
    { line: 1, column: 13, length: 5, message: /^invalid regexp pattern: unclosed group: missing '\)' at position 0 of the regexp$/ },
  ]],
  ['regexp with a backreference', "name regexp '(a)\\1'", [{ line: 1, column: 13, message: /backreferences .* are not supported/ }]],
  ['regexp with a look-ahead', "name regexp 'a(?=b)'", [{ line: 1, column: 13, message: /look-ahead .* is not supported/ }]],
  ['regexp with a possessive quantifier', "name regexp 'a*+b'", [{ line: 1, column: 13, message: /possessive quantifiers/ }]],
  ['regexp with a repetition count above the limit', "name regexp 'a{5000}'", [
    { line: 1, column: 13, message: /repetition count above the limit of 1000/ },
  ]],
  ['regexp that would compile to too many states', "name regexp '((a{30}){30}){30}'", [
    { line: 1, column: 13, message: /regexp is too large/ },
  ]],
  ['regexp with a dangling quantifier', "name regexp '*a'", [{ line: 1, column: 13, message: /dangling meta character '\*'/ }]],
]);

cases('cast: unknown and unsupported types, constants that do not convert (Esper refuses them too)', [
  ['an unknown type, at its name', 'cast(x, foo)', [
    { line: 1, column: 9, length: 3, message: /^unknown type 'foo' for cast \(known: int, long, double, float, short, byte, boolean, string\)$/ },
  ]],
  ['java.lang names are case-sensitive, as Java class names', 'cast(x as java.lang.long)', [{ line: 1, column: 11, message: /unknown type 'java.lang.long'/ }]],
  ['BigDecimal, which would need exact decimal arithmetic', 'cast(x, BigDecimal)', [{ line: 1, column: 9, message: /^cast to BigDecimal is not supported: numbers are doubles here/ }]],
  ['BigInteger', 'cast(x, java.math.BigInteger)', [{ line: 1, column: 9, message: /cast to java.math.BigInteger is not supported/ }]],
  ['char', 'cast(x, char)', [{ line: 1, column: 9, message: /cast to char is not supported: numbers are doubles here, so characters cannot be kept/ }]],
  ['a constant string that is not a number', "cast('x', int)", [{ line: 1, column: 6, length: 3, message: /^cannot cast "x" to int \(Esper refuses it too\)$/ }]],
  ['a constant string that is not a boolean', "cast('yes' as boolean)", [{ line: 1, column: 6, message: /cannot cast "yes" to boolean/ }]],
  ['a number literal cast to string (Esper 8.9 fails to compile it)', 'cast(-1, string)', [
    { line: 1, column: 6, length: 2, message: /^Esper 8.9 cannot compile the cast of a number or boolean literal to string: write it as a string \('1'\)$/ },
  ]],
  ['a boolean literal cast to string', 'cast(true as java.lang.String)', [{ line: 1, column: 6, message: /cannot compile the cast of a number or boolean literal to string/ }]],
  ['a cast compared with another type', "cast(x, int) = 'a'", [{ line: 1, column: 1, message: /cannot compare a number with a string/ }]],
  ['a short with an int in a bitwise operator (no long hint)', 'cast(x, short) & 1', [
    { line: 1, column: 1, message: /^bitwise '&' needs operands of one type, not a short and an int, as in Esper$/ },
  ]],
]);

cases('any, some and all: the types Esper refuses', [
  ['a value of another type than the operand', "x = any (1, 'a')", [{ line: 1, column: 13, length: 3, message: /^'= any' compares a number with a string: the types must match$/ }]],
  ['operand and values of two types', "'a' != all (x, 2)", [{ line: 1, column: 16, message: /'!= all' compares a string with a number/ }]],
  ['< on booleans', 'x > any (true)', [{ line: 1, column: 10, message: /^'> any' compares numbers, not booleans$/ }]],
  ['< on strings, which Esper 8.9 gets wrong', "x < all ('b')", [
    { line: 1, column: 10, message: /^'< all' on strings is refused: Esper 8.9 gets it wrong \(any is always false, all does not compile\)$/ },
  ]],
  ['only null values (Esper 8.9 fails to compile it)', 'x = any (null)', [{ line: 1, column: 1, length: 14, message: /^'= any' with only null values: Esper 8.9 fails to compile it$/ }]],
]);

cases('instanceof: the type names Esper resolves', [
  ['integer is not one of them (cast knows it, instanceof does not)', 'instanceof(x, long, integer)', [
    { line: 1, column: 21, length: 7, message: /^unknown type 'integer' for instanceof \(known: int, long, short, byte, float, double, boolean, string, and java.lang.Integer/ },
  ]],
  ['a simple class name that is not a primitive type', 'instanceof(x, Number)', [{ line: 1, column: 15, message: /unknown type 'Number' for instanceof/ }]],
  ['java.lang names are case-sensitive', 'instanceof(x, java.lang.long)', [{ line: 1, column: 15, message: /unknown type 'java.lang.long'/ }]],
]);

cases('paths: unknown, unavailable and misused tags', [
  ['indexing a tag that binds one event', 'a[0].price > 1', [
    { line: 1, column: 1, length: 10, message: /^tag 'a' is not repeated: it binds one event and cannot be indexed$/ },
  ]],
  ['a property of a repeated tag without an index', 'r.price > 1', [
    { line: 1, column: 1, length: 7, message: /tag 'r' is repeated and binds an array of events: index it, as in r\[0\]\.price/ },
  ]],
]);

cases(
  'paths where there is no current event (emit fields, every-distinct keys)',
  [
    ['a name that is no tag', 'a.price + x.price', [{ line: 1, column: 11, length: 7, message: /^unknown tag 'x'$/ }]],
    ['a bare property name', 'price', [{ line: 1, column: 1, message: /^unknown tag 'price'$/ }]],
  ],
  scopeOf({ tagsOnly: true }),
);

cases(
  'paths naming a tag that cannot be used at this point: the scope gives the reason',
  [
    ['a tag bound later', 'price > b.price', [
      { line: 1, column: 9, length: 7, message: /^tag 'b' is bound later in the pattern$/ },
    ]],
    ['the reason wins over tagsOnly', 'b', [{ line: 1, column: 1, message: /^tag 'b' is bound later in the pattern$/ }]],
  ],
  scopeOf({ unavailable: { b: "tag 'b' is bound later in the pattern" } }),
);

describe('several errors are collected in one RuleError, each at its own line and column', () => {
  it('reports every problem of a multi-line expression', () => {
    expectErrors("abs('x') > 1\n  and lower(1) = 'a'\n  and   avg(p) > 2\n  or 5 > 'y'", [
      { line: 1, column: 5, message: /abs\(\) needs a number, not a string/ },
      { line: 2, column: 13, message: /lower\(\) needs a string, not a number/ },
      { line: 3, column: 9, message: /unknown function 'avg'/ },
      { line: 4, column: 6, message: /cannot compare a number with a string/ },
    ]);
  });

  it('the RuleError message lists line:column: message for each', () => {
    const error = errorsOf(() => compileExpression(parse("'a' * 2 > 1 or not 5"), scopeOf()));
    expect(error.message).toBe("1:1: arithmetic '*' needs numbers, not a string\n1:20: 'not' needs a boolean, not a number");
  });

  it('an erroneous operand does not cause a second error in its parent', () => {
    expectErrors("abs('x') > 'y'", [{ line: 1, column: 5, message: /abs\(\) needs a number/ }]);
  });
});

describe('compilePredicate errors', () => {
  it('a predicate must be boolean', () => {
    const error = errorsOf(() => compilePredicate([parse('price > 1'), parse('price + 1'), parse("'yes'")], scopeOf()));
    expect(error.diagnostics.map((d) => [d.line, d.column, d.message])).toEqual([
      [1, 1, 'a condition must be boolean, not number'],
      [1, 1, 'a condition must be boolean, not string'],
    ]);
  });

  it('collects the errors of all predicates', () => {
    const error = errorsOf(() => compilePredicate([parse("5 > 'x'"), parse('nope(1)')], scopeOf()));
    expect(error.diagnostics.map((d) => d.message)).toEqual([
      "cannot compare a number with a string using '>'",
      expect.stringMatching(/^unknown function 'nope'/),
    ]);
  });
});
