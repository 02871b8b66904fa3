/** `.cep` statement examples (statement.spec.ts; also checked for a single parse by parser.spec.ts). */
import { bin, every, F, fb, lit, p, type Shape, SEC, MIN, within } from './ast-shorthand';

/** [behaviour, .cep text, expected statements without spans (patternText and patternSpan included)] */
export type Case = [string, string, Shape[]];

const select = (...items: Array<[Shape, string]>) => items.map(([expr, alias]) => ({ expr, alias }));

export const statementCases: Case[] = [
  [
    'the smallest statement: select * from a pattern',
    'select * from pattern [A]',
    [{ annotations: [], select: [], pattern: F('A'), patternText: 'A' }],
  ],
  [
    'annotations, partition by, select items with aliases and a pattern',
    "@name('impossible-travel') @severity('critical') @source('user-events')\n" +
      'partition by user_id\n' +
      'select login.user_id as user, purchase.country as to_country\n' +
      'from pattern [every login=login -> purchase=purchase(country != login.country) where timer:within(5 min)]',
    [
      {
        annotations: [
          { name: 'name', args: ['impossible-travel'] },
          { name: 'severity', args: ['critical'] },
          { name: 'source', args: ['user-events'] },
        ],
        partitionBy: { field: 'user_id' },
        select: select([p('login.user_id'), 'user'], [p('purchase.country'), 'to_country']),
        pattern: fb(every(F('login=login')), within(5 * MIN, F('purchase=purchase', bin('!=', p('country'), p('login.country'))))),
        patternText: 'every login=login -> purchase=purchase(country != login.country) where timer:within(5 min)',
      },
    ],
  ],
  [
    'annotation arguments are literals of any kind, names are lower-cased, @label repeats',
    "@Label('team', 'fraud') @label('tier', 1) @enabled(false) @x(true, null, -2, 1.5, \"dq\") @bare select * from pattern [A]",
    [
      {
        annotations: [
          { name: 'label', args: ['team', 'fraud'] },
          { name: 'label', args: ['tier', 1] },
          { name: 'enabled', args: [false] },
          { name: 'x', args: [true, null, -2, 1.5, 'dq'] },
          { name: 'bare', args: [] },
        ],
        select: [],
        pattern: F('A'),
        patternText: 'A',
      },
    ],
  ],
  [
    'empty annotation parentheses give no arguments',
    '@enabled() select * from pattern [A]',
    [{ annotations: [{ name: 'enabled', args: [] }], select: [], pattern: F('A'), patternText: 'A' }],
  ],
  [
    'the pattern text is kept exactly as written between the brackets',
    'select * from pattern [  every a=A\n  -> b=B  ]',
    [{ annotations: [], select: [], pattern: fb(every(F('a=A')), F('b=B')), patternText: '  every a=A\n  -> b=B  ' }],
  ],
  [
    'brackets inside the pattern do not end it',
    'select * from pattern [[2] a=A(x in [1:5]) -[3]> B]',
    [
      {
        annotations: [],
        select: [],
        pattern: { kind: 'followedBy', children: [{ kind: 'repeat', low: 2, high: 2, exact: true, child: F('a=A', { kind: 'inRange', operand: p('x'), low: lit(1), high: lit(5), lowInclusive: true, highInclusive: true, negated: false }) }, F('B')], limits: [3] },
        patternText: '[2] a=A(x in [1:5]) -[3]> B',
      },
    ],
  ],
  [
    'a select item without alias is named by its text, as in Esper',
    'select a.x, a.y + 1 as z from pattern [a=A]',
    [{ annotations: [], select: select([p('a.x'), 'a.x'], [bin('+', p('a.y'), lit(1)), 'z']), pattern: F('a=A'), patternText: 'a=A' }],
  ],
  [
    'select items are expressions',
    "select coalesce(a.x, 'none') as x, (a.p - b.p) / a.p * 100 as pct from pattern [a=A -> b=B]",
    [
      {
        annotations: [],
        select: select(
          [{ kind: 'call', name: 'coalesce', args: [p('a.x'), lit('none')] }, 'x'],
          [bin('*', bin('/', bin('-', p('a.p'), p('b.p')), p('a.p')), lit(100)), 'pct'],
        ),
        pattern: fb(F('a=A'), F('b=B')),
        patternText: 'a=A -> b=B',
      },
    ],
  ],
  [
    'partition by a dotted field',
    'partition by geo.country select * from pattern [A]',
    [{ annotations: [], partitionBy: { field: 'geo.country' }, select: [], pattern: F('A'), patternText: 'A' }],
  ],
  [
    'statement keywords are case-insensitive',
    'PARTITION BY user_id SELECT a.x AS y FROM PATTERN [a=A]',
    [{ annotations: [], partitionBy: { field: 'user_id' }, select: select([p('a.x'), 'y']), pattern: F('a=A'), patternText: 'a=A' }],
  ],
  [
    'statement words may be used as names in expressions and aliases',
    'select from.by as as, select as pattern from pattern [from=by]',
    [{ annotations: [], select: select([p('from.by'), 'as'], [p('select'), 'pattern']), pattern: F('from=by'), patternText: 'from=by' }],
  ],
  [
    'statements are separated by semicolons',
    "@name('one') select * from pattern [A];\n@name('two') select * from pattern [B]",
    [
      { annotations: [{ name: 'name', args: ['one'] }], select: [], pattern: F('A'), patternText: 'A' },
      { annotations: [{ name: 'name', args: ['two'] }], select: [], pattern: F('B'), patternText: 'B' },
    ],
  ],
  [
    'the last semicolon is optional but allowed',
    'select * from pattern [A];\nselect * from pattern [B];\n',
    [
      { annotations: [], select: [], pattern: F('A'), patternText: 'A' },
      { annotations: [], select: [], pattern: F('B'), patternText: 'B' },
    ],
  ],
  [
    'comments anywhere: // to end of line and /* blocks */',
    "// a file comment\n/* a block\n comment */ @name('x') // trailing\nselect * /* inline */ from pattern [A // inside the pattern\n]",
    [{ annotations: [{ name: 'name', args: ['x'] }], select: [], pattern: F('A'), patternText: 'A // inside the pattern\n' }],
  ],
  ['a file with nothing but comments has no statements', '// nothing here\n/* at all */\n', []],
  ['an empty file has no statements', '', []],
  [
    'a guard with a time period in a statement',
    'select * from pattern [A where timer:within(30 sec)]',
    [{ annotations: [], select: [], pattern: within(30 * SEC, F('A')), patternText: 'A where timer:within(30 sec)' }],
  ],
];
