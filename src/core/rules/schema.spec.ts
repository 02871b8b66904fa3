import { formatDiagnostic, relocate, type Diagnostic } from '../language/diagnostics';
import { RULE_DEFAULTS } from './rule';
import { parseRuleText, type RuleFormat } from './rule-text';
import { didYouMean, RULE_LIMITS, utf8Length } from './schema';

const FILE = 'rules/test.yaml';
const yaml = (...lines: string[]) => lines.join('\n') + '\n';
const parse = (text: string) => parseRuleText(text, FILE, 'yaml');
/** `file:line:column: message` of each diagnostic. */
const where = (ds: Diagnostic[]) => ds.map((d) => `${d.file}:${d.line}:${d.column}: ${d.severity === 'warning' ? 'warning: ' : ''}${d.message}`);
const errorsOf = (text: string) => where(parse(text).diagnostics.filter((d) => d.severity === 'error'));

describe('YAML rules: valid definitions', () => {
  it('fills every default for a rule with only id and pattern', () => {
    const { rules, diagnostics } = parse(yaml('id: r1', 'pattern: every a=A -> b=B'));
    expect(diagnostics).toEqual([]);
    expect(rules).toEqual([
      {
        id: 'r1',
        severity: 'warning',
        source: 'events',
        pattern: 'every a=A -> b=B',
        emit: {},
        labels: {},
        enabled: true,
        event: { typeField: 'type', timeField: 'timestamp' },
        origin: { file: FILE, pattern: { file: FILE, line: 2, column: 10 }, emit: {} },
      },
    ]);
    expect(rules[0].severity).toBe(RULE_DEFAULTS.severity);
  });

  it('reads every schema key, keyedBy included', () => {
    const { rules, diagnostics } = parse(
      yaml(
        'id: full-rule_2',
        'description: Everything set',
        'severity: critical',
        'source: user.events-v2',
        'partitionBy: user_id',
        'keyedBy: account',
        'pattern: every a=A',
        'emit:',
        '  who: a.user_id',
        '  n: 42',
        'labels:',
        '  team: fraud',
        '  k8s.io/app: cep',
        'enabled: false',
        'event:',
        '  typeField: kind',
        '  timeField: ts',
      ),
    );
    expect(diagnostics).toEqual([]);
    const { origin, ...rule } = rules[0];
    expect(rule).toEqual({
      id: 'full-rule_2',
      description: 'Everything set',
      severity: 'critical',
      source: 'user.events-v2',
      partitionBy: 'user_id',
      keyedBy: 'account',
      pattern: 'every a=A',
      emit: { who: 'a.user_id', n: '42' },
      labels: { team: 'fraud', 'k8s.io/app': 'cep' },
      enabled: false,
      event: { typeField: 'kind', timeField: 'ts' },
    });
    expect(origin?.emit).toEqual({ who: { file: FILE, line: 9, column: 8 }, n: { file: FILE, line: 10, column: 6 } });
  });

  it('keeps the default for the event field not given', () => {
    const { rules } = parse(yaml('id: r', 'pattern: A', 'event:', '  timeField: ts'));
    expect(rules[0].event).toEqual({ typeField: 'type', timeField: 'ts' });
  });

  it('treats an optional key left empty as absent', () => {
    const { rules, diagnostics } = parse(yaml('id: r', 'pattern: A', 'description:', 'emit:', 'labels:'));
    expect(diagnostics).toEqual([]);
    expect(rules[0]).toMatchObject({ emit: {}, labels: {} });
    expect(rules[0]).not.toHaveProperty('description');
  });

  it('reads several rules from one file separated by ---, skipping empty documents', () => {
    const text = yaml('# leading comment', 'id: one', 'pattern: A', '---', 'id: two', 'pattern: B', '---', '# nothing here', '---');
    const { rules, diagnostics } = parse(text);
    expect(diagnostics).toEqual([]);
    expect(rules.map((r) => [r.id, r.origin?.pattern?.line])).toEqual([
      ['one', 3],
      ['two', 6],
    ]);
  });

  it.each<[string, string, RuleFormat]>([
    ['an empty YAML file', '', 'yaml'],
    ['a YAML file of comments', '# just a comment\n', 'yaml'],
    ['a YAML file of empty documents', '# nothing\n---\n---\n', 'yaml'],
    ['an empty .cep file', '', 'cep'],
    ['a .cep file of comments', '// nothing\n/* here */\n', 'cep'],
  ])('warns, without an error, that %s defines no rule', (_name, text, format) => {
    expect(parseRuleText(text, FILE, format)).toEqual({
      rules: [],
      diagnostics: [{ severity: 'warning', message: 'this file defines no rule', line: 1, column: 1, length: 1, file: FILE }],
    });
  });

  it('does not add that warning to the errors of a file whose rules are all invalid', () => {
    expect(where(parse(yaml('id: Bad', 'pattern: B')).diagnostics)).toEqual([
      "rules/test.yaml:1:5: invalid id 'Bad': only lower-case letters, digits, '_' and '-' are allowed; did you mean 'bad'?",
    ]);
  });

  it('suggests an id with the dashes at both ends trimmed and runs of other characters made one dash', () => {
    expect(errorsOf(yaml(`id: '--My Rule!!--'`, 'pattern: B'))).toEqual([
      "rules/test.yaml:1:5: invalid id '--My Rule!!--': only lower-case letters, digits, '_' and '-' are allowed; did you mean 'my-rule'?",
    ]);
  });

  it('keeps the valid rules of a file in which another rule is invalid', () => {
    const { rules, diagnostics } = parse(yaml('id: good', 'pattern: A', '---', 'id: Bad', 'pattern: B'));
    expect(rules.map((r) => r.id)).toEqual(['good']);
    expect(diagnostics).toHaveLength(1);
  });

  it('resolves a YAML alias to the anchored value', () => {
    const { rules, diagnostics } = parse(yaml('id: r', 'pattern: &p every a=A', 'emit:', '  x: a.x', 'description: *p'));
    expect(diagnostics).toEqual([]);
    expect(rules[0].description).toBe('every a=A');
  });
});

describe('YAML rules: where patterns and emit expressions start (origin)', () => {
  /** The file position a diagnostic at (line, column) of the embedded text ends up at. */
  const moved = (origin: { line: number; column: number }, line: number, column: number) => {
    const d = relocate({ severity: 'error', message: 'x', line, column, length: 1 }, origin, FILE);
    return [d.line, d.column];
  };

  it('maps every line of a literal block scalar (|) to its exact file position', () => {
    const text = yaml('id: r', 'pattern: |', '  every a=A', '    -> b=B(x > 1)', 'emit:', '  v: b.x');
    const { rules } = parse(text);
    const rule = rules[0];
    expect(rule.origin?.pattern).toEqual({ file: FILE, line: 3, column: 3 });
    // `x` of `x > 1` is on line 2 of the pattern text; relocated it must land on the `x` in the file.
    const lines = rule.pattern.split('\n');
    const col = lines[1].indexOf('x >') + 1;
    const [line, column] = moved(rule.origin!.pattern!, 2, col);
    expect(text.split('\n')[line - 1].slice(column - 1, column + 2)).toBe('x >');
  });

  it('maps a folded block scalar (>) exactly: its line breaks are kept as whitespace', () => {
    const text = yaml('id: r', 'pattern: >-', '    every a=A', '    -> b=B(y < 2)');
    const { rules } = parse(text);
    const rule = rules[0];
    expect(rule.pattern).toBe('every a=A\n    -> b=B(y < 2)');
    expect(rule.origin?.pattern).toEqual({ file: FILE, line: 3, column: 5 });
    const col = rule.pattern.split('\n')[1].indexOf('y <') + 1;
    const [line, column] = moved(rule.origin!.pattern!, 2, col);
    expect(text.split('\n')[line - 1].slice(column - 1, column + 2)).toBe('y <');
  });

  it('starts a block scalar at its first content line after blank lines and a header comment', () => {
    const { rules } = parse(yaml('id: r', 'pattern: |-  # the pattern', '', '   every a=A'));
    expect(rules[0].pattern).toBe('every a=A');
    expect(rules[0].origin?.pattern).toEqual({ file: FILE, line: 4, column: 4 });
  });

  it('keeps a multi-line plain scalar as written, so its second line maps exactly', () => {
    const text = yaml('id: r', 'pattern: every a=A', '  -> b=B');
    const { rules } = parse(text);
    expect(rules[0].pattern).toBe('every a=A\n  -> b=B');
    expect(moved(rules[0].origin!.pattern!, 2, 6)).toEqual([3, 6]);
  });

  it('starts a quoted pattern right after its opening quote', () => {
    const { rules } = parse(yaml('id: r', 'pattern: "every a=A(s = \'x\')"', 'emit:', "  s: 'a.s'"));
    expect(rules[0].pattern).toBe("every a=A(s = 'x')");
    expect(rules[0].origin?.pattern).toEqual({ file: FILE, line: 2, column: 11 });
    expect(rules[0].origin?.emit?.s).toEqual({ file: FILE, line: 4, column: 7 });
  });

  it('gives emit expressions in a flow mapping their own columns', () => {
    const { rules } = parse(yaml('id: r', 'pattern: a=A', 'emit: {x: a.x, y: a.y + 1}'));
    expect(rules[0].emit).toEqual({ x: 'a.x', y: 'a.y + 1' });
    expect(rules[0].origin?.emit).toEqual({ x: { file: FILE, line: 3, column: 11 }, y: { file: FILE, line: 3, column: 19 } });
  });
});

describe('YAML rules: errors point at file:line:column', () => {
  it('reports an unknown key at the key, with "did you mean" and the accepted keys', () => {
    const { diagnostics } = parse(yaml('id: r', 'patern: A'));
    expect(where(diagnostics)).toEqual([
      "rules/test.yaml:2:1: unknown key 'patern'; did you mean 'pattern'?",
      "rules/test.yaml:1:1: missing required key 'pattern'",
    ].sort((a, b) => a.localeCompare(b)));
    const unknown = diagnostics.find((d) => d.message.startsWith('unknown key'))!;
    expect(unknown.length).toBe(6);
    expect(unknown.expected).toContain('pattern');
    expect(unknown.expected).toContain('partitionBy');
  });

  it('suggests the camel-case key for snake_case spellings', () => {
    expect(errorsOf(yaml('id: r', 'pattern: A', 'partition_by: user_id'))).toEqual([
      "rules/test.yaml:3:1: unknown key 'partition_by'; did you mean 'partitionBy'?",
    ]);
  });

  it('reports an unknown key inside event with a suggestion', () => {
    expect(errorsOf(yaml('id: r', 'pattern: A', 'event:', '  timefield: ts'))).toEqual([
      "rules/test.yaml:4:3: unknown key 'timefield' in 'event'; did you mean 'timeField'?",
    ]);
  });

  it('reports an invalid id at its value and proposes a valid one', () => {
    const { diagnostics } = parse(yaml('id: Impossible Travel', 'pattern: A'));
    expect(where(diagnostics)).toEqual([
      "rules/test.yaml:1:5: invalid id 'Impossible Travel': only lower-case letters, digits, '_' and '-' are allowed; did you mean 'impossible-travel'?",
    ]);
    expect(diagnostics[0].length).toBe('Impossible Travel'.length);
    expect(diagnostics[0].expected).toEqual(['[a-z0-9_-]+']);
  });

  it('reports a missing id and pattern at the start of the rule', () => {
    expect(errorsOf(yaml('# c', 'description: x'))).toEqual([
      "rules/test.yaml:2:1: missing required key 'id': every rule needs an id",
      "rules/test.yaml:2:1: missing required key 'pattern'",
    ]);
  });

  it('reports a bad severity with a suggestion and the accepted values', () => {
    const { diagnostics } = parse(yaml('id: r', 'severity: crit', 'pattern: A'));
    expect(where(diagnostics)).toEqual(["rules/test.yaml:2:11: invalid severity 'crit'; did you mean 'critical'?"]);
    expect(diagnostics[0].expected).toEqual(['info', 'warning', 'critical']);
  });

  it.each([
    ['an id that quoted is a valid id', 'id: 404', "'id' must be a string, found a number (quote it: '404')"],
    ['an id of true', 'id: true', "'id' must be a string, found a boolean (quote it: 'true')"],
    ['a source topic of digits and a dot', 'source: 1.5', "'source' must be a string, found a number (quote it: '1.5')"],
    ['a label value', 'labels: {tier: 1}', "'labels.tier' must be a string, found a number (quote it: '1')"],
    ['not a severity, quoted or not', 'severity: 3', "'severity' must be a string, found a number"],
    ['not an id, quoted or not (a dot)', 'id: 1.5', "'id' must be a string, found a number"],
  ])('suggests quoting a number or boolean only when quoted it would be valid: %s', (_name, line, message) => {
    const text = line.startsWith('id:') ? yaml(line, 'pattern: A') : yaml('id: r', line, 'pattern: A');
    expect(errorsOf(text).map((e) => e.replace(/^rules\/test\.yaml:\d+:\d+: /, ''))).toEqual([message]);
  });

  it('lists the severities when a severity is not a string', () => {
    expect(parse(yaml('id: r', 'severity: 3', 'pattern: A')).diagnostics[0].expected).toEqual(['info', 'warning', 'critical']);
  });

  it('reports values of the wrong type', () => {
    expect(
      errorsOf(
        yaml(
          'id: 404',
          'pattern: A',
          'enabled: "no"',
          'severity: [warning]',
          'emit: [a.x]',
          'labels:',
          '  tier: 1',
          'event: ts',
          'partitionBy: {f: 1}',
        ),
      ),
    ).toEqual([
      "rules/test.yaml:1:5: 'id' must be a string, found a number (quote it: '404')",
      "rules/test.yaml:3:10: 'enabled' must be true or false, found a string",
      "rules/test.yaml:4:11: 'severity' must be a string, found a list",
      "rules/test.yaml:5:7: 'emit' must be a mapping of output field to expression, found a list",
      "rules/test.yaml:7:9: 'labels.tier' must be a string, found a number (quote it: '1')",
      "rules/test.yaml:8:8: 'event' must be a mapping with typeField and timeField, found a string",
      "rules/test.yaml:9:14: 'partitionBy' must be a string, found a mapping",
    ]);
  });

  it('rejects an empty pattern, a pattern that is not text, and an empty emit expression', () => {
    expect(errorsOf(yaml('id: r', 'pattern:', 'emit:', '  x:'))).toEqual([
      "rules/test.yaml:2:9: 'pattern' must be a string with the pattern, found nothing",
      "rules/test.yaml:4:5: 'emit.x' must be an expression, found nothing",
    ]);
    expect(errorsOf(yaml('id: r', 'pattern: [A, B]'))).toEqual([
      "rules/test.yaml:2:10: 'pattern' must be a string with the pattern, found a list",
    ]);
    expect(errorsOf(yaml('id: r', "pattern: '  '"))).toEqual(["rules/test.yaml:2:10: 'pattern' must not be empty"]);
  });

  it('rejects field names that are not identifiers-like, bad topics, bad label and emit names', () => {
    expect(
      errorsOf(
        yaml('id: r', 'pattern: A', 'partitionBy: user id', 'source: my topic', 'emit:', '  from-country: a.c', 'labels:', '  "bad key": x'),
      ),
    ).toEqual([
      "rules/test.yaml:3:14: 'partitionBy' must be a field name without spaces, found 'user id'",
      "rules/test.yaml:4:9: invalid source topic 'my topic': only letters, digits, '.', '_' and '-' are allowed",
      "rules/test.yaml:6:3: invalid emit field name 'from-country': it must start with a letter or '_' and contain only letters, digits and '_'",
      "rules/test.yaml:8:3: invalid label name 'bad key': it must start with a letter or '_' and contain only letters, digits, '_', '.', '/' and '-' (at most 128 characters)",
    ]);
  });

  it.each([
    [
      'a YAML block',
      yaml('id: r', 'pattern: every a=A', 'emit:', '  __proto__: a.v', '  constructor: a.v', 'labels:', '  __proto__: polluted'),
      ['rules/test.yaml:4:3', 'rules/test.yaml:7:3'],
    ],
    [
      'a JSON body (as sent to POST /rules)',
      '{"id": "r", "pattern": "every a=A", "emit": {"__proto__": "a.v", "constructor": "a.v"}, "labels": {"__proto__": "polluted"}}\n',
      ['rules/test.yaml:1:46', 'rules/test.yaml:1:100'],
    ],
  ])("rejects '__proto__' as an emit field name and as a label name, in %s", (_form, text, [emitAt, labelAt]) => {
    const { rules, diagnostics } = parse(text);
    expect(rules).toEqual([]);
    expect(where(diagnostics)).toEqual([
      `${emitAt}: invalid emit field name '__proto__': it is reserved, choose another name`,
      `${labelAt}: invalid label name '__proto__': it is reserved, choose another name`,
    ]);
  });

  it("keeps 'constructor', 'toString' and 'hasOwnProperty' as ordinary emit field and label names, as own properties", () => {
    const { rules, diagnostics } = parse(
      yaml('id: r', 'pattern: every a=A', 'emit:', '  constructor: a.v', '  toString: a.w', 'labels:', '  constructor: c', '  hasOwnProperty: h'),
    );
    expect(diagnostics).toEqual([]);
    const [rule] = rules;
    expect(rule.emit).toEqual({ constructor: 'a.v', toString: 'a.w' });
    expect(Object.keys(rule.emit)).toEqual(['constructor', 'toString']);
    expect(Object.getPrototypeOf(rule.emit)).toBe(Object.prototype);
    expect(rule.labels).toEqual({ constructor: 'c', hasOwnProperty: 'h' });
    expect(Object.getPrototypeOf(rule.labels)).toBe(Object.prototype);
    expect(Object.keys(rule.origin?.emit ?? {})).toEqual(['constructor', 'toString']);
  });

  it('reports a duplicate key at its second occurrence', () => {
    expect(errorsOf(yaml('id: r', 'pattern: A', 'id: s'))).toEqual(["rules/test.yaml:3:1: 'id' is given twice (first at line 1)"]);
    expect(errorsOf(yaml('id: r', 'pattern: a=A', 'emit:', '  x: a.x', '  x: a.y'))).toEqual([
      "rules/test.yaml:5:3: emit field 'x' is given twice (first at line 4)",
    ]);
  });

  it('reports a duplicate rule id in one file at the second rule and keeps the first', () => {
    const { rules, diagnostics } = parse(yaml('id: same', 'pattern: A', '---', 'description: again', 'id: same', 'pattern: B'));
    expect(rules.map((r) => r.pattern)).toEqual(['A']);
    expect(where(diagnostics)).toEqual(["rules/test.yaml:5:5: duplicate rule id 'same' (first defined at line 1)"]);
  });

  it('reports an alias to no anchor and leaves the rule out', () => {
    const { rules, diagnostics } = parse(yaml('id: r', 'pattern: A', 'description: *nowhere'));
    expect(rules).toEqual([]);
    expect(where(diagnostics)).toEqual(['rules/test.yaml:3:14: unknown alias *nowhere']);
  });

  it('refuses a document whose aliases expand it past the value bound, quickly (a YAML alias bomb)', () => {
    const keys = 'abcdefghij'.split('');
    const level = (i: number) => `  l${i}: &l${i} {${keys.map((k) => `${k}: ${i === 0 ? 'x' : `*l${i - 1}`}`).join(', ')}}`;
    // Ten levels of ten aliases each: 10^10 values if expanded.
    const text = yaml('id: bomb', 'pattern: A', 'labels:', ...Array.from({ length: 10 }, (_, i) => level(i)));
    const started = Date.now();
    const { rules, diagnostics } = parse(text);
    expect(Date.now() - started).toBeLessThan(2000);
    expect(rules).toEqual([]);
    expect(where(diagnostics)).toContainEqual(expect.stringMatching(/^rules\/test\.yaml:\d+:\d+: the rule expands to more than 10000 values/));
    expect(diagnostics.filter((d) => d.message.includes('expands to more than'))).toHaveLength(1);
  });

  it('reports a document that is not a mapping', () => {
    expect(errorsOf(yaml('- id: r', '  pattern: A'))).toEqual([
      'rules/test.yaml:1:1: a rule must be a mapping of keys (id: ..., pattern: ...), found a list',
    ]);
  });

  it('reports YAML syntax errors at their position and validates nothing of that document', () => {
    const errors = errorsOf(yaml('id: r', 'pattern: [every a=A', 'emit: {}'));
    expect(errors.length).toBeGreaterThan(0);
    for (const e of errors) expect(e).toMatch(/^rules\/test\.yaml:\d+:\d+: YAML syntax error: /);
    expect(errorsOf(yaml('id: r', 'pattern: A', '\temit: x'))).toEqual([
      'rules/test.yaml:3:1: YAML syntax error: Tabs are not allowed as indentation',
    ]);
  });

  // The yaml library finds these at the end of the text, past the last line; the opening quote or bracket is the place.
  it.each([
    ['double quote', 'id: y7\npattern: "every a=A -> b=B\n', 'rules/test.yaml:2:10: YAML syntax error: Missing closing "quote'],
    ['single quote over two lines', "id: y8\npattern: 'every a=A\n  -> b=B\n", "rules/test.yaml:2:10: YAML syntax error: Missing closing 'quote"],
    ['double quote ending in an escaped quote', 'id: y9\npattern: "every a=A(s = \\"x\\"\n', 'rules/test.yaml:2:10: YAML syntax error: Missing closing "quote'],
    ['flow map', '{id: fl, pattern: "every a=A -> b=B"\n', 'rules/test.yaml:1:1: YAML syntax error: Flow map must end with a }'],
    ['flow list holding a closed flow map', 'id: fs\nlabels: [a, {b: c}\n', 'rules/test.yaml:2:9: YAML syntax error: Flow sequence in block collection must be sufficiently indented and end with a ]'],
    ['quote inside flow collections', "id: fq\nx: [1, {a: 'b\n", "rules/test.yaml:2:12: YAML syntax error: Missing closing 'quote"],
  ])('reports an unclosed %s where it opens', (_name, text, expected) => {
    expect(errorsOf(text)).toEqual([expected]);
  });

  it('shows the line of an unclosed quote with a caret under it', () => {
    const text = 'id: y7\npattern: "every a=A -> b=B\n';
    expect(formatDiagnostic(parse(text).diagnostics[0], text)).toBe(
      ['rules/test.yaml:2:10: YAML syntax error: Missing closing "quote', '  pattern: "every a=A -> b=B', '           ^'].join('\n'),
    );
  });

  it('formats an error with the file position, the line, a caret under the value and what was expected', () => {
    const text = yaml('id: r', 'severity: urgent', 'pattern: A');
    const d = parse(text).diagnostics[0];
    expect(formatDiagnostic(d, text)).toBe(
      [
        "rules/test.yaml:2:11: invalid severity 'urgent'",
        '  severity: urgent',
        '            ^^^^^^',
        '  expected one of: info, warning, critical',
      ].join('\n'),
    );
  });
});

describe('YAML rules: limits', () => {
  it(`rejects a rule whose text exceeds ${RULE_LIMITS.ruleBytes} bytes`, () => {
    const big = 'x'.repeat(RULE_LIMITS.ruleBytes);
    expect(errorsOf(yaml('id: r', 'pattern: A', `description: ${big}`))).toEqual([
      `rules/test.yaml:1:1: rule is too large: ${RULE_LIMITS.ruleBytes + 31} bytes, at most 64 KiB`,
    ]);
  });

  it('accepts a pattern of exactly 16 KiB and rejects one byte more, at the pattern', () => {
    const ok = 'A' + ' '.repeat(RULE_LIMITS.patternBytes - 2) + 'B';
    expect(parse(yaml('id: r', `pattern: "${ok}"`)).diagnostics).toEqual([]);
    const tooLong = ok + 'C';
    expect(errorsOf(yaml('id: r', `pattern: "${tooLong}"`))).toEqual([
      `rules/test.yaml:2:11: pattern is too long: ${RULE_LIMITS.patternBytes + 1} bytes, at most 16 KiB`,
    ]);
  });

  it('counts the pattern limit in UTF-8 bytes', () => {
    const text = 'é'.repeat(RULE_LIMITS.patternBytes / 2 + 1);
    expect(utf8Length(text)).toBe(RULE_LIMITS.patternBytes + 2);
    expect(errorsOf(yaml('id: r', `pattern: A(s = '${text}')`))[0]).toMatch(/pattern is too long/);
  });

  it('accepts 100 emit fields and reports the 101st', () => {
    const fields = (n: number) => Array.from({ length: n }, (_, i) => `  f${i}: a.x`);
    expect(parse(yaml('id: r', 'pattern: a=A', 'emit:', ...fields(100))).diagnostics).toEqual([]);
    expect(errorsOf(yaml('id: r', 'pattern: a=A', 'emit:', ...fields(101)))).toEqual([
      'rules/test.yaml:104:3: too many emit fields: 101, at most 100',
    ]);
  });

  it('rejects an emit expression over 4 KiB, more than 64 labels, and an over-long id', () => {
    expect(errorsOf(yaml('id: r', 'pattern: a=A', 'emit:', `  x: a.x${' + 1'.repeat(1024)}`))).toEqual([
      'rules/test.yaml:4:6: emit expression \'x\' is too long: 4099 bytes, at most 4 KiB',
    ]);
    const labels = Array.from({ length: 65 }, (_, i) => `  l${i}: v`);
    expect(errorsOf(yaml('id: r', 'pattern: a=A', 'labels:', ...labels))).toEqual([
      'rules/test.yaml:68:3: too many labels: 65, at most 64',
    ]);
    expect(errorsOf(yaml(`id: ${'a'.repeat(129)}`, 'pattern: A'))).toEqual([
      "rules/test.yaml:1:5: 'id' is too long: 129 characters, at most 128",
    ]);
  });

  it('rejects a whole file over the file limit without parsing it', () => {
    const text = '#'.repeat(RULE_LIMITS.fileBytes + 1);
    expect(errorsOf(text)).toEqual([`rules/test.yaml:1:1: rule file is too large: ${RULE_LIMITS.fileBytes + 1} bytes, at most 16 MiB`]);
  });
});

describe('schema helpers', () => {
  it('suggests the closest candidate only when it is close', () => {
    expect(didYouMean('severty', ['severity', 'source'])).toBe('severity');
    expect(didYouMean('PARTITIONBY', ['partitionBy'])).toBe('partitionBy');
    expect(didYouMean('zzz', ['severity', 'source'])).toBeUndefined();
  });
});
