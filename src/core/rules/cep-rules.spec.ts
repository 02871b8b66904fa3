import type { Diagnostic } from '../language/diagnostics';
import type { RuleDefinition } from './rule';
import { parseRuleText } from './rule-text';

const FILE = 'rules/test.cep';
const lines = (...ls: string[]) => ls.join('\n') + '\n';
const parse = (text: string) => parseRuleText(text, FILE, 'cep');
const where = (ds: Diagnostic[]) => ds.map((d) => `${d.file}:${d.line}:${d.column}: ${d.message}`);
const errorsOf = (text: string) => where(parse(text).diagnostics.filter((d) => d.severity === 'error'));
const withoutOrigin = ({ origin: _origin, ...rest }: RuleDefinition) => rest;

const EXAMPLE = lines(
  "@name('impossible-travel') @severity('critical') @source('user-events')",
  'partition by user_id',
  'select login.user_id as user, login.country as from_country, purchase.country as to_country',
  'from pattern [every login=login -> purchase=purchase(country != login.country) where timer:within(5 min)]',
);

describe('.cep rules: valid definitions', () => {
  it("reads the issue's example into the rule it describes, with origins in file coordinates", () => {
    const { rules, diagnostics } = parse(EXAMPLE);
    expect(diagnostics).toEqual([]);
    expect(rules).toEqual([
      {
        id: 'impossible-travel',
        severity: 'critical',
        source: 'user-events',
        partitionBy: 'user_id',
        pattern: 'every login=login -> purchase=purchase(country != login.country) where timer:within(5 min)',
        emit: { user: 'login.user_id', from_country: 'login.country', to_country: 'purchase.country' },
        labels: {},
        enabled: true,
        event: { typeField: 'type', timeField: 'timestamp' },
        origin: {
          file: FILE,
          pattern: { file: FILE, line: 4, column: 15 },
          emit: {
            user: { file: FILE, line: 3, column: 8 },
            from_country: { file: FILE, line: 3, column: 31 },
            to_country: { file: FILE, line: 3, column: 62 },
          },
        },
      },
    ]);
  });

  it('gives the same definition as the YAML form of the same rule, apart from origin', () => {
    const cep = lines(
      "@name('full-rule') @description('Everything set') @severity('info') @source('user.events-v2')",
      "@label('team', 'fraud') @label('k8s.io/app', 'cep') @enabled(false)",
      "@typeField('kind') @timeField('ts') @keyedBy('account')",
      'partition by user_id',
      'select a.user_id as who, b.amount * 2 as doubled',
      'from pattern [every a=A -> b=B(amount > a.amount) where timer:within(1 min)]',
    );
    const yaml = lines(
      'id: full-rule',
      'description: Everything set',
      'severity: info',
      'source: user.events-v2',
      'labels: {team: fraud, k8s.io/app: cep}',
      'enabled: false',
      'event: {typeField: kind, timeField: ts}',
      'keyedBy: account',
      'partitionBy: user_id',
      'emit:',
      '  who: a.user_id',
      '  doubled: b.amount * 2',
      'pattern: every a=A -> b=B(amount > a.amount) where timer:within(1 min)',
    );
    const fromCep = parse(cep);
    const fromYaml = parseRuleText(yaml, 'rules/test.yaml', 'yaml');
    expect(fromCep.diagnostics).toEqual([]);
    expect(fromYaml.diagnostics).toEqual([]);
    expect(fromCep.rules.map(withoutOrigin)).toEqual(fromYaml.rules.map(withoutOrigin));
    expect(fromCep.rules[0]).toMatchObject({ labels: { team: 'fraud', 'k8s.io/app': 'cep' }, enabled: false, keyedBy: 'account' });
  });

  it('applies the same defaults as YAML: severity warning, source events, enabled, type/timestamp', () => {
    const { rules } = parse(lines("@name('r')", 'select * from pattern [every a=A]'));
    expect(withoutOrigin(rules[0])).toEqual(
      withoutOrigin(parseRuleText(lines('id: r', 'pattern: every a=A'), 'x.yaml', 'yaml').rules[0]),
    );
  });

  it('reads `select *` as no emit fields and a bare @enabled as true', () => {
    const { rules, diagnostics } = parse(lines("@name('r') @enabled", 'select * from pattern [a=A]'));
    expect(diagnostics).toEqual([]);
    expect(rules[0]).toMatchObject({ emit: {}, enabled: true });
  });

  it('accepts annotation names in any case', () => {
    const { rules, diagnostics } = parse(lines("@NAME('r') @TypeField('kind')", 'select * from pattern [a=A]'));
    expect(diagnostics).toEqual([]);
    expect(rules[0]).toMatchObject({ id: 'r', event: { typeField: 'kind', timeField: 'timestamp' } });
  });

  it('reads several statements separated by ";", with comments', () => {
    const { rules, diagnostics } = parse(
      lines("// first", "@name('one') select * from pattern [A];", "/* second */ @name('two')", 'select * from pattern [B]'),
    );
    expect(diagnostics).toEqual([]);
    expect(rules.map((r) => [r.id, r.pattern, r.origin?.pattern?.line])).toEqual([
      ['one', 'A', 2],
      ['two', 'B', 4],
    ]);
  });

  it('trims the pattern between the brackets and starts its origin at its first character', () => {
    const text = lines("@name('r')", 'select b.x as x', 'from pattern [', '  every a=A', '    -> b=B', ']');
    const { rules } = parse(text);
    expect(rules[0].pattern).toBe('every a=A\n    -> b=B');
    expect(rules[0].origin?.pattern).toEqual({ file: FILE, line: 4, column: 3 });
  });

  it('takes each emit expression as the source text of the select item', () => {
    const { rules } = parse(lines("@name('r')", 'select (a.price  -  b.price) / a.price as drop_ratio', 'from pattern [a=A -> b=B]'));
    expect(rules[0].emit).toEqual({ drop_ratio: '(a.price  -  b.price) / a.price' });
    expect(rules[0].origin?.emit?.drop_ratio).toEqual({ file: FILE, line: 2, column: 8 });
  });
});

describe('.cep rules: errors point at file:line:column', () => {
  it('reports an unknown annotation with "did you mean" and the accepted annotations', () => {
    const { diagnostics } = parse(lines("@name('r') @severty('critical')", 'select * from pattern [A]'));
    expect(where(diagnostics)).toEqual(['rules/test.cep:1:12: unknown annotation @severty; did you mean @severity?']);
    expect(diagnostics[0].length).toBe('@severty'.length);
    expect(diagnostics[0].expected).toContain('@severity');
  });

  it('reports names of Object.prototype as unknown annotations (@constructor crashed with a TypeError)', () => {
    for (const name of ['constructor', '__proto__', 'hasOwnProperty']) {
      const { diagnostics } = parse(lines("@name('r')", `@${name}('x')`, 'select * from pattern [A]'));
      expect(where(diagnostics)).toEqual([`rules/test.cep:2:1: unknown annotation @${name.toLowerCase()}`]);
    }
  });

  it('reports a bad annotation value at the argument', () => {
    const { diagnostics } = parse(lines("@name('r')", "  @severity( 'crit' )", 'select * from pattern [A]'));
    expect(where(diagnostics)).toEqual(["rules/test.cep:2:14: invalid severity 'crit'; did you mean 'critical'?"]);
    expect(diagnostics[0].length).toBe("'crit'".length);
    expect(diagnostics[0].expected).toEqual(['info', 'warning', 'critical']);
  });

  it('reports an invalid id at the @name argument', () => {
    expect(errorsOf(lines("@name('Impossible Travel')", 'select * from pattern [A]'))).toEqual([
      "rules/test.cep:1:7: invalid id 'Impossible Travel': only lower-case letters, digits, '_' and '-' are allowed; did you mean 'impossible-travel'?",
    ]);
  });

  it('reports a missing @name at the start of the statement', () => {
    expect(errorsOf(lines('', "  @severity('info')", 'select * from pattern [A]'))).toEqual([
      "rules/test.cep:2:3: missing @name('...'): every rule needs an id",
    ]);
  });

  it('reports a wrong number of annotation arguments, with the expected form', () => {
    const { diagnostics } = parse(lines("@name('a', 'b')", 'select * from pattern [A]'));
    expect(where(diagnostics)).toEqual([
      'rules/test.cep:1:1: @name takes 1 argument, found 2',
      "rules/test.cep:1:1: missing @name('...'): every rule needs an id",
    ]);
    expect(diagnostics[0].expected).toEqual(["@name('rule-id')"]);
    expect(errorsOf(lines("@name('r') @label('team')", 'select * from pattern [A]'))).toEqual([
      'rules/test.cep:1:12: @label takes 2 arguments, found 1',
    ]);
  });

  it('reports values of the wrong type', () => {
    expect(errorsOf(lines("@name('r') @enabled('no') @source(42) @label('tier', 1)", 'select * from pattern [A]'))).toEqual([
      'rules/test.cep:1:21: @enabled must be true or false, found a string',
      'rules/test.cep:1:35: @source must be a string, found a number',
      'rules/test.cep:1:54: @label must be a string, found a number',
    ]);
  });

  it('reports an annotation given twice and a label name given twice', () => {
    expect(errorsOf(lines("@name('r') @severity('info') @severity('critical')", 'select * from pattern [A]'))).toEqual([
      'rules/test.cep:1:30: @severity is given twice (first at line 1)',
    ]);
    expect(errorsOf(lines("@name('r') @label('team', 'a')", "@label('team', 'b')", 'select * from pattern [A]'))).toEqual([
      "rules/test.cep:2:8: label 'team' is given twice (first at line 1)",
    ]);
  });

  it("rejects '__proto__' as a select item name and as a label name, and keeps 'constructor'", () => {
    expect(
      errorsOf(lines("@name('r') @label('__proto__', 'polluted')", 'select a.v as __proto__, a.v as constructor from pattern [every a=A]')),
    ).toEqual([
      "rules/test.cep:1:19: invalid label name '__proto__': it is reserved, choose another name",
      "rules/test.cep:2:15: invalid emit field name '__proto__': it is reserved, choose another name",
    ]);
    const { rules, diagnostics } = parse(lines("@name('r') @label('constructor', 'c')", 'select a.v as constructor from pattern [every a=A]'));
    expect(diagnostics).toEqual([]);
    expect(rules[0]).toMatchObject({ emit: { constructor: 'a.v' }, labels: { constructor: 'c' } });
  });

  it('reports a duplicate rule id at the second statement', () => {
    const { rules, diagnostics } = parse(lines("@name('r') select * from pattern [A];", "@name('r') select * from pattern [B]"));
    expect(rules.map((r) => r.pattern)).toEqual(['A']);
    expect(where(diagnostics)).toEqual(["rules/test.cep:2:7: duplicate rule id 'r' (first defined at line 1)"]);
  });

  it('asks for a name for a select item that has none', () => {
    expect(errorsOf(lines("@name('r')", 'select a.x from pattern [a=A]'))).toEqual([
      "rules/test.cep:2:8: select item 'a.x' needs a name: write 'a.x as name'",
    ]);
  });

  it('reports a syntax error with file:line:column and what was expected', () => {
    const { rules, diagnostics } = parse(lines("@name('r')", 'select *', 'from pattern [every a=A -> ]'));
    expect(rules).toEqual([]);
    expect(diagnostics.length).toBeGreaterThan(0);
    const d = diagnostics[0];
    expect(d).toMatchObject({ severity: 'error', file: FILE, line: 3 });
    expect(d.column).toBeGreaterThanOrEqual(27);
    expect(d.expected?.length).toBeGreaterThan(0);
  });

  it('rejects a .cep file over the 64 KiB the parser reads, advising to split it', () => {
    const big = 'x'.repeat(64 * 1024);
    expect(errorsOf(lines('', `@name('r') @description('${big}')`, 'select * from pattern [A]'))).toEqual([
      'rules/test.cep:1:1: a .cep file may hold at most 64 KiB, this one has 65591 bytes: split it into several files',
    ]);
  });
});
