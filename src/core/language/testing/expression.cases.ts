/** Expression examples (expression.spec.ts; also checked for a single parse by parser.spec.ts). */
import {
  between,
  bin,
  call,
  inList,
  inRange,
  isNull,
  like,
  lit,
  lnot,
  numLit,
  neg,
  p,
  plus,
  regexp,
  type Shape,
} from './ast-shorthand';

/** [behaviour, text, expected AST without spans] */
export type Case = [string, string, Shape];

export const literalCases: Case[] = [
  ['an integer is a number literal', '42', lit(42)],
  ['a decimal is a number literal', '1.5', lit(1.5)],
  ['an exponent is part of a number (a double, as in Esper, even when integral)', '2.5e3', numLit(2500, 'double')],
  ['a minus sign is unary minus, not part of the number', '-3', neg(lit(3))],
  ['a plus sign is unary plus', '+3', plus(lit(3))],
  ['single quotes make a string', "'abc'", lit('abc')],
  ['double quotes make a string', '"abc"', lit('abc')],
  ['the empty string', "''", lit('')],
  // Esper's StringValue.unescape: a backslash quotes the next character, so \n is the letter n.
  ["a backslash quotes the next character (\\' \\\" \\\\ and \\n, which is the letter n)", String.raw`'a\'b\"c\\d\ne'`, { kind: 'literal', value: 'a\'b"c\\dne', raw: String.raw`a\'b\"c\\d\ne` }],
  ['a doubled quote is one quote (SQL style)', "'it''s'", lit("it's")],
  ['a doubled double quote inside double quotes', '"say ""hi"""', lit('say "hi"')],
  ['a string with a backslash keeps its text as written for regexp (raw)', String.raw`'\d+'`, { kind: 'literal', value: 'd+', raw: String.raw`\d+` }],
  ['\\uXXXX is a unicode escape', String.raw`'\u00e9'`, { kind: 'literal', value: 'é', raw: String.raw`\u00e9` }],
  ['true', 'true', lit(true)],
  ['false', 'false', lit(false)],
  ['null', 'null', lit(null)],
  ['TRUE/False/NULL are case-insensitive', 'TRUE or False or NULL', bin('or', bin('or', lit(true), lit(false)), lit(null))],
  // Esper's (Java's) numeric literal forms; a type suffix changes nothing, every number is a double.
  ['a long suffix (10L) makes a long', '10L', numLit(10, 'long')],
  ['a double suffix (1.5d)', '1.5d', lit(1.5)],
  ['a double suffix on an integer (1d) makes a double', '1d', numLit(1, 'double')],
  ['a float suffix (2F) makes a float', '2F', numLit(2, 'float')],
  ['a float suffix on a decimal (1.5f) makes a float', '1.5f', numLit(1.5, 'float')],
  ['a leading dot (.5)', '.5', lit(0.5)],
  ['a trailing dot (5.) makes a double', '5. + 1', bin('+', numLit(5, 'double'), lit(1))],
  ['a decimal point makes a double even when the value is integral (1.0)', '1.0', numLit(1, 'double')],
  ['an integer beyond int\'s range is a long without a suffix, as in Esper', '3000000000', lit(3000000000)],
  ['hexadecimal (0x1F, 0x1fL)', '0x1F + 0x1fL', bin('+', lit(31), numLit(31, 'long'))],
  ['a dot before a name is a path step, not a decimal point', 'items[0].sku', p('items[0].sku')],
];

export const pathCases: Case[] = [
  ['a name is a path', 'price', p('price')],
  ['dots separate path segments', 'geo.country', p('geo.country')],
  ['an index follows a segment', 'items[0].sku', p('items[0].sku')],
  ['a tag with an index', 'a[0].price', p('a[0].price')],
  ['identifiers keep their case', 'Geo.CountryCode', p('Geo.CountryCode')],
  ['a backtick-quoted name may be a reserved word', '`every`.`not`', p('every.not')],
  ['a backtick-quoted name may hold any character', '`page-view`.x', p('page-view.x')],
  ['statement words are names outside statements', 'select.from.as.by.partition.pattern', p('select.from.as.by.partition.pattern')],
  ['time units are names outside time periods', 'hour + min', bin('+', p('hour'), p('min'))],
  ['$ and _ are identifier characters', '$x._y1', p('$x._y1')],
  ['a ? makes a segment a dynamic property', 'x?', p('x?')],
  ['a dynamic segment inside a path', 'item?.price', p('item?.price')],
  ['a dynamic last segment', 'a.item.price?', p('a.item.price?')],
  ['a ? follows the index', 'items[0]?.sku', p('items[0]?.sku')],
  ['a ? may be spaced from its name', 'x ? = 1', bin('=', p('x?'), lit(1))],
];

export const callCases: Case[] = [
  ['a function call', 'abs(x)', call('abs', p('x'))],
  ['function names are lower-cased', 'LOWER(a.name)', call('lower', p('a.name'))],
  ['a call with several arguments', 'coalesce(a.x, b.x, 0)', call('coalesce', p('a.x'), p('b.x'), lit(0))],
  ['min is a function name although it is a time unit', 'min(a, b)', call('min', p('a'), p('b'))],
  ['max(...)', 'max(a.x, 1)', call('max', p('a.x'), lit(1))],
  ['a call without arguments', 'now()', call('now', )],
  ['an unknown function is left to the compiler', 'frobnicate(1)', call('frobnicate', lit(1))],
  ['calls nest', 'upper(lower(x))', call('upper', call('lower', p('x')))],
  ['exists of a dynamic property', 'exists(x?)', call('exists', p('x?'))],
  ['typeof is a function name', 'typeof(a.x)', call('typeof', p('a.x'))],
];

export const operatorCases: Case[] = [
  ['* binds tighter than +', 'a + b * c', bin('+', p('a'), bin('*', p('b'), p('c')))],
  ['+ and - associate to the left', 'a - b + c', bin('+', bin('-', p('a'), p('b')), p('c'))],
  ['* / % associate to the left', 'a / b % c * d', bin('*', bin('%', bin('/', p('a'), p('b')), p('c')), p('d'))],
  ['parentheses override precedence', '(a + b) * c', bin('*', bin('+', p('a'), p('b')), p('c'))],
  ['unary minus binds tighter than *', '-a * b', bin('*', neg(p('a')), p('b'))],
  ['unary minus nests', '- -a', neg(neg(p('a')))],
  ['a negative number on the right of minus', 'a - -1', bin('-', p('a'), neg(lit(1)))],
  ['+ binds tighter than a comparison', 'a + 1 > b * 2', bin('>', bin('+', p('a'), lit(1)), bin('*', p('b'), lit(2)))],
  ['=', 'a = 1', bin('=', p('a'), lit(1))],
  ['!=', 'a != 1', bin('!=', p('a'), lit(1))],
  ['<> is normalised to !=', 'a <> 1', bin('!=', p('a'), lit(1))],
  ['<', 'a < 1', bin('<', p('a'), lit(1))],
  ['<=', 'a <= 1', bin('<=', p('a'), lit(1))],
  ['>', 'a > 1', bin('>', p('a'), lit(1))],
  ['>=', 'a >= 1', bin('>=', p('a'), lit(1))],
  ['a comparison binds tighter than and', 'a = 1 and b = 2', bin('and', bin('=', p('a'), lit(1)), bin('=', p('b'), lit(2)))],
  ['and binds tighter than or', 'a or b and c', bin('or', p('a'), bin('and', p('b'), p('c')))],
  ['or associates to the left', 'a or b or c', bin('or', bin('or', p('a'), p('b')), p('c'))],
  ['and associates to the left', 'a and b and c', bin('and', bin('and', p('a'), p('b')), p('c'))],
  ['not binds looser than a comparison', 'not a = b', lnot(bin('=', p('a'), p('b')))],
  ['not binds tighter than and', 'not a and b', bin('and', lnot(p('a')), p('b'))],
  ['not nests', 'not not a', lnot(lnot(p('a')))],
  ['keywords are case-insensitive', 'a AND b Or NOT c', bin('or', bin('and', p('a'), p('b')), lnot(p('c')))],
  ['a comparison of parenthesised comparisons', '(a < b) = (c < d)', bin('=', bin('<', p('a'), p('b')), bin('<', p('c'), p('d')))],
  // Esper's grammar puts the relational operators above equality.
  ['= binds looser than < (as in Esper)', 'a = b < c', bin('=', p('a'), bin('<', p('b'), p('c')))],
  ['< binds tighter than !=', 'a < b != c >= d', bin('!=', bin('<', p('a'), p('b')), bin('>=', p('c'), p('d')))],
  ['is compares any two expressions (null-safe equality)', 'a is b + 1', bin('is', p('a'), bin('+', p('b'), lit(1)))],
  ['is not', "a is not 'x'", bin('isNot', p('a'), lit('x'))],
  ['|| concatenates, to the left, tighter than a comparison', "a || b || 'c' = d", bin('=', bin('||', bin('||', p('a'), p('b')), lit('c')), p('d'))],
  ['+ binds tighter than ||', 'a || b + c', bin('||', p('a'), bin('+', p('b'), p('c')))],
  // Esper's bitWiseExpression: between `and` and `not`, one level for the three operators, no chains.
  ['& is bitwise and', 'a & b', bin('&', p('a'), p('b'))],
  ['| is bitwise or', 'a | b', bin('|', p('a'), p('b'))],
  ['^ is bitwise exclusive or', 'a ^ b', bin('^', p('a'), p('b'))],
  ['| is not || (concatenation): a bar alone is bitwise or', 'a | b || c', bin('|', p('a'), bin('||', p('b'), p('c')))],
  ['a bitwise operator binds looser than a comparison (as in Esper)', 'a = 1 & b = 2', bin('&', bin('=', p('a'), lit(1)), bin('=', p('b'), lit(2)))],
  ['so x & 3 = 1 is x & (3 = 1): compare a bitwise result in parentheses', 'x & 3 = 1', bin('&', p('x'), bin('=', lit(3), lit(1)))],
  ['a bitwise operator binds looser than not (not a & b is (not a) & b)', 'not a & b', bin('&', lnot(p('a')), p('b'))],
  ['a bitwise operator binds tighter than and', 'a and b | c', bin('and', p('a'), bin('|', p('b'), p('c')))],
  ['a bitwise operator binds tighter than or', 'a ^ b or c', bin('or', bin('^', p('a'), p('b')), p('c'))],
  ['arithmetic binds tighter than a bitwise operator', 'a + 1 & b * 2', bin('&', bin('+', p('a'), lit(1)), bin('*', p('b'), lit(2)))],
  ['parenthesised bitwise operations nest', '(a & b) | (c ^ d)', bin('|', bin('&', p('a'), p('b')), bin('^', p('c'), p('d')))],
];

export const predicateCases: Case[] = [
  ['in with a list', "country in ('US', 'CA')", inList(p('country'), [lit('US'), lit('CA')])],
  ['in with a single value', 'x in (1)', inList(p('x'), [lit(1)])],
  ['not in', 'x not in (1, 2)', inList(p('x'), [lit(1), lit(2)], true)],
  ['in with expressions', 'x in (a.x, a.y + 1)', inList(p('x'), [p('a.x'), bin('+', p('a.y'), lit(1))])],
  ['in [lo:hi] is a closed range', 'x in [1:5]', inRange(p('x'), lit(1), lit(5), '[]')],
  ['in (lo:hi) is an open range', 'x in (1:5)', inRange(p('x'), lit(1), lit(5), '()')],
  ['in [lo:hi) is half open', 'x in [1:5)', inRange(p('x'), lit(1), lit(5), '[)')],
  ['in (lo:hi] is half open', 'x in (1:5]', inRange(p('x'), lit(1), lit(5), '(]')],
  ['not in a range', 'x not in [a.lo:a.hi]', inRange(p('x'), p('a.lo'), p('a.hi'), '[]', true)],
  ['between', 'x between 1 and 5', between(p('x'), lit(1), lit(5))],
  ['the and after between belongs to between, the next one is logical', 'x between 1 and 5 and y', bin('and', between(p('x'), lit(1), lit(5)), p('y'))],
  ['between takes additive bounds', 'x between a + 1 and b * 2', between(p('x'), bin('+', p('a'), lit(1)), bin('*', p('b'), lit(2)))],
  ['not between', 'x not between 1 and 5', between(p('x'), lit(1), lit(5), true)],
  ['between after and', 'y and x between 1 and 5', bin('and', p('y'), between(p('x'), lit(1), lit(5)))],
  ['like', "name like 'a%'", like(p('name'), lit('a%'))],
  ['like with escape', "name like 'a!%%' escape '!'", like(p('name'), lit('a!%%'), false, '!')],
  ['not like', "name not like '%x'", like(p('name'), lit('%x'), true)],
  ['regexp', "name regexp '[a-z]+'", regexp(p('name'), lit('[a-z]+'))],
  ['not regexp', "name not regexp 'x.*'", regexp(p('name'), lit('x.*'), true)],
  ['is null', 'x is null', isNull(p('x'))],
  ['is not null', 'x is not null', isNull(p('x'), true)],
  ['IS NOT NULL in capitals', 'x IS NOT NULL', isNull(p('x'), true)],
  ['not before a predicate negates the predicate', 'not x in (1)', lnot(inList(p('x'), [lit(1)]))],
  ['predicates combine with and/or', "x in (1, 2) or name like 'a%' and y is null", bin('or', inList(p('x'), [lit(1), lit(2)]), bin('and', like(p('name'), lit('a%')), isNull(p('y'))))],
  ['a function call in a predicate', "lower(email) like '%@example.com'", like(call('lower', p('email')), lit('%@example.com'))],
];

const caseOf = (operand: Shape | undefined, whens: Array<[Shape, Shape]>, otherwise?: Shape): Shape => ({
  kind: 'case',
  ...(operand ? { operand } : {}),
  whens: whens.map(([when, then]) => ({ when, then })),
  ...(otherwise ? { otherwise } : {}),
});

export const caseCases: Case[] = [
  ['case with conditions', "case when x > 1 then 'big' end", caseOf(undefined, [[bin('>', p('x'), lit(1)), lit('big')]])],
  ['case with several whens and an else', "case when x > 9 then 'huge' when x > 1 then 'big' else 'small' end", caseOf(undefined, [[bin('>', p('x'), lit(9)), lit('huge')], [bin('>', p('x'), lit(1)), lit('big')]], lit('small'))],
  ['case with an operand compares it with each when value', 'case x when 1 then 10 when 2 then 20 else 0 end', caseOf(p('x'), [[lit(1), lit(10)], [lit(2), lit(20)]], lit(0))],
  ['case keywords are case-insensitive', 'CASE WHEN a THEN b ELSE c END', caseOf(undefined, [[p('a'), p('b')]], p('c'))],
  ['case is a primary: it may be an operand (Esper needs parentheses)', 'case when a then 1 else 2 end + 1', bin('+', caseOf(undefined, [[p('a'), lit(1)]], lit(2)), lit(1))],
  ['case nests', 'case when a then case when b then 1 end end', caseOf(undefined, [[p('a'), caseOf(undefined, [[p('b'), lit(1)]])]])],
  ['the case words stay names outside a case expression', 'end > case.when + then.else', bin('>', p('end'), bin('+', p('case.when'), p('then.else')))],
  ['a property called end inside a case', 'case when end then end else when end', caseOf(undefined, [[p('end'), p('end')]], p('when'))],
  ['a simple case whose operand is a property called when', 'case when when 1 then 2 end', caseOf(p('when'), [[lit(1), lit(2)]])],
];

const castOf = (operand: Shape, type: string): Shape => ({ kind: 'cast', operand, type });

export const castCases: Case[] = [
  ['cast with a comma and a type name', 'cast(x, int)', castOf(p('x'), 'int')],
  ['cast with as', 'cast(x as long)', castOf(p('x'), 'long')],
  ['cast and as are case-insensitive; the type keeps its case', 'CAST(x AS Double)', castOf(p('x'), 'Double')],
  ['a dotted type name (java.lang.String), with a comma', 'cast(x, java.lang.String)', castOf(p('x'), 'java.lang.String')],
  ['a dotted type name, with as', 'cast(x as java.lang.Long)', castOf(p('x'), 'java.lang.Long')],
  ['a backtick-quoted type name', 'cast(x, `int`)', castOf(p('x'), 'int')],
  ['the value may be any expression', "cast(a.x + 1 || 'y' as string)", castOf(bin('||', bin('+', p('a.x'), lit(1)), lit('y')), 'string')],
  ['a cast is a primary: an operand of arithmetic', 'cast(x as int) + 1', bin('+', castOf(p('x'), 'int'), lit(1))],
  ['casts nest', 'cast(cast(s, int), string)', castOf(castOf(p('s'), 'int'), 'string')],
  ['cast stays a name outside a cast', 'cast.as + cast', bin('+', p('cast.as'), p('cast'))],
];

export const instanceofCases: Case[] = [
  ['instanceof with one type', 'instanceof(x, long)', { kind: 'instanceof', operand: p('x'), types: [{ name: 'long' }] }],
  ['instanceof with several types, dotted, any case', 'INSTANCEOF(a.x + 1, Long, java.lang.Number)', { kind: 'instanceof', operand: bin('+', p('a.x'), lit(1)), types: [{ name: 'Long' }, { name: 'java.lang.Number' }] }],
];

const quant = (operand: Shape, op: string, quantifier: 'any' | 'all', values: Shape[]): Shape => ({ kind: 'quantified', op, quantifier, operand, values });

export const quantifiedCases: Case[] = [
  ['= any', 'x = any (1, 2)', quant(p('x'), '=', 'any', [lit(1), lit(2)])],
  ['some is any', 'x = some (a.x)', quant(p('x'), '=', 'any', [p('a.x')])],
  ['!= all', 'x != all (y, z)', quant(p('x'), '!=', 'all', [p('y'), p('z')])],
  ['<> is !=', 'x <> any (1)', quant(p('x'), '!=', 'any', [lit(1)])],
  ['is any is = any, as in Esper', 'x is any (1)', quant(p('x'), '=', 'any', [lit(1)])],
  ['is not all is != all', 'x is not all (1)', quant(p('x'), '!=', 'all', [lit(1)])],
  ['< > <= >= with any and all', 'x < any (1) and x >= all (2)', bin('and', quant(p('x'), '<', 'any', [lit(1)]), quant(p('x'), '>=', 'all', [lit(2)]))],
  ['an empty list', 'x > all ()', quant(p('x'), '>', 'all', [])],
  ['keywords are case-insensitive', 'x = ANY (1) or x = All (2)', bin('or', quant(p('x'), '=', 'any', [lit(1)]), quant(p('x'), '=', 'all', [lit(2)]))],
  ['the values are expressions', 'x + 1 > any (y * 2, 3)', quant(bin('+', p('x'), lit(1)), '>', 'any', [bin('*', p('y'), lit(2)), lit(3)])],
  ['not binds looser', 'not x = any (1)', lnot(quant(p('x'), '=', 'any', [lit(1)]))],
  ['any, some and all stay property names', 'any = all.some', bin('=', p('any'), p('all.some'))],
];

export const commentCases: Case[] = [
  ['a line comment is ignored', 'a + // plus\n b', bin('+', p('a'), p('b'))],
  ['a block comment is ignored', 'a /* times */ * b', bin('*', p('a'), p('b'))],
  ['a block comment may span lines', 'a /* one\n two */ - b', bin('-', p('a'), p('b'))],
];

export const expressionCases: Case[] = [
  ...literalCases,
  ...pathCases,
  ...callCases,
  ...operatorCases,
  ...predicateCases,
  ...caseCases,
  ...castCases,
  ...instanceofCases,
  ...quantifiedCases,
  ...commentCases,
];
