/**
 * The grammar has exactly one parse for every accepted input: proven over every example the language specs use
 * (the case tables of testing/), the Esper conformance file shared with the engine, the rule files in rules/,
 * and randomly generated patterns and expressions.
 */
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import * as fc from 'fast-check';
import { parseAllDocuments } from 'yaml';
import { RuleError } from './diagnostics';
import { countParses, parseCepFile, parseExpression, parsePattern } from './parser';
import { timerAtCases, durationCases } from './testing/duration.cases';
import { expressionCases } from './testing/expression.cases';
import { patternCases } from './testing/pattern.cases';
import { statementCases } from './testing/statement.cases';

const projectRoot = resolve(__dirname, '../../..');

type Kind = 'pattern' | 'expression' | 'file';

function conformancePatterns(): string[] {
  const file = join(projectRoot, '../shared/conformance/esper-docs-patterns.json');
  const suites: Array<{ cases: Array<{ pattern: string }> }> = JSON.parse(readFileSync(file, 'utf8')).suites;
  return suites.flatMap((s) => s.cases.map((c) => c.pattern));
}

function filesUnder(dir: string): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    return statSync(path).isDirectory() ? filesUnder(path) : [path];
  });
}

/** Every .cep file under rules/, and the `pattern` and `emit` values of every YAML rule there. */
function ruleExamples(): Array<[string, Kind, string]> {
  const out: Array<[string, Kind, string]> = [];
  for (const path of filesUnder(join(projectRoot, 'rules'))) {
    const text = readFileSync(path, 'utf8');
    const name = path.slice(projectRoot.length + 1);
    if (path.endsWith('.cep')) {
      out.push([name, 'file', text]);
    } else if (/\.ya?ml$/.test(path)) {
      for (const doc of parseAllDocuments(text)) {
        const rule = doc.toJS() as { id?: string; pattern?: unknown; emit?: Record<string, unknown> } | null;
        if (!rule) continue;
        if (typeof rule.pattern === 'string') out.push([`${name} ${rule.id ?? ''} pattern`, 'pattern', rule.pattern]);
        for (const [field, expr] of Object.entries(rule.emit ?? {})) {
          if (typeof expr === 'string') out.push([`${name} ${rule.id ?? ''} emit.${field}`, 'expression', expr]);
        }
      }
    }
  }
  return out;
}

const examples: Array<[string, Kind, string]> = [
  ...patternCases.map(([b, text]): [string, Kind, string] => [`pattern.cases: ${b}`, 'pattern', text]),
  ...expressionCases.map(([b, text]): [string, Kind, string] => [`expression.cases: ${b}`, 'expression', text]),
  ...durationCases.map(([text]): [string, Kind, string] => [`duration.cases: ${text}`, 'pattern', `timer:interval(${text})`]),
  ...durationCases.map(([text]): [string, Kind, string] => [`duration.cases: within ${text}`, 'pattern', `A where timer:within(${text})`]),
  ...timerAtCases.map(([b, text]): [string, Kind, string] => [`duration.cases: ${b}`, 'pattern', text]),
  ...statementCases.map(([b, text]): [string, Kind, string] => [`statement.cases: ${b}`, 'file', text]),
  ...conformancePatterns().map((text): [string, Kind, string] => [`conformance: ${text}`, 'pattern', text]),
  ...ruleExamples(),
];

describe('every accepted input has exactly one parse', () => {
  it('collects the examples of every spec table, the conformance file and the rules directory', () => {
    const sources = new Set(examples.map(([name]) => name.split(':')[0]));
    expect([...sources]).toEqual(expect.arrayContaining(['pattern.cases', 'expression.cases', 'duration.cases', 'statement.cases', 'conformance']));
    expect(examples.length).toBeGreaterThan(250);
  });

  it.each(examples)('%s', (_name, kind, text) => {
    expect(countParses(text, kind)).toBe(1);
  });
});

// ---------------------------------------------------------------------------------------------
// Random inputs: whatever is generated either parses exactly once or is a RuleError, never an internal error.
// ---------------------------------------------------------------------------------------------

const atomExpr = fc.constantFrom('x', 'a.x', 'a[0].price', '1', '2.5', "'s'", 'true', 'null', 'lower(a.y)', 'min(x, 1)', 'hour');

const expr: fc.Arbitrary<string> = fc.letrec<{ e: string }>((tie) => ({
  e: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    atomExpr,
    fc.tuple(tie('e'), fc.constantFrom('+', '-', '*', '/', '%', 'and', 'or', '=', '<>', '<', '>=', 'AND', 'Or'), tie('e')).map(([l, op, r]) => `${l} ${op} ${r}`),
    tie('e').map((e) => `(${e})`),
    tie('e').map((e) => `not ${e}`),
    tie('e').map((e) => `-${e}`),
    fc.tuple(tie('e'), tie('e')).map(([e, v]) => `${e} in (${v}, 1)`),
    fc.tuple(tie('e'), tie('e'), tie('e')).map(([e, lo, hi]) => `${e} between ${lo} and ${hi}`),
    fc.tuple(tie('e'), tie('e'), tie('e')).map(([e, lo, hi]) => `${e} not in [${lo}:${hi})`),
    tie('e').map((e) => `${e} like 'a%'`),
    tie('e').map((e) => `${e} is not null`),
  ),
})).e;

const atomPattern = fc.constantFrom(
  'A',
  'a=A',
  'b=B(x > 1)',
  'c=C(x = a.x, y)',
  'timer:interval(5 sec)',
  'timer:at(*/5, *, *, *, *)',
);

const pattern: fc.Arbitrary<string> = fc.letrec<{ p: string }>((tie) => ({
  p: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    atomPattern,
    fc.tuple(tie('p'), fc.constantFrom('->', '-[2]>', 'and', 'or', 'until', 'AND'), tie('p')).map(([l, op, r]) => `${l} ${op} ${r}`),
    tie('p').map((x) => `(${x})`),
    fc.tuple(fc.constantFrom('every', 'not', 'every-distinct(a.x)', 'every-distinct(a.x, 1 min)', '[2]', '[1:3]', '[:2]', '[2:]', 'EVERY'), tie('p')).map(([op, x]) => `${op} ${x}`),
    tie('p').map((x) => `${x} where timer:within(1 min 30 sec)`),
    tie('p').map((x) => `${x} where timer:withinmax(10, 2)`),
    fc.tuple(tie('p'), expr).map(([x, e]) => `${x} while (${e})`),
    fc.tuple(fc.constantFrom('d=D', 'D'), expr).map(([f, e]) => `${f}(${e})`),
  ),
})).p;

function parsesOnceOrRuleError(kind: Kind, text: string): boolean {
  try {
    return countParses(text, kind) === 1;
  } catch (e) {
    if (e instanceof RuleError) return true;
    throw e;
  }
}

describe('random inputs never parse ambiguously', () => {
  it('expressions', () => {
    fc.assert(fc.property(expr, (text) => parsesOnceOrRuleError('expression', text)), { numRuns: 400 });
  });

  it('patterns', () => {
    fc.assert(fc.property(pattern, (text) => parsesOnceOrRuleError('pattern', text)), { numRuns: 400 });
  });

  it('token soups', () => {
    const token = fc.constantFrom(
      'A', 'a', '=', '(', ')', '[', ']', '->', '-[2]>', 'every', 'not', 'and', 'or', 'until', 'where', 'while',
      'timer', ':', 'within', 'interval', '1', 'sec', ',', '*', '/', '.', 'x', 'in', 'between', 'like', "'s'", 'is', 'null',
    );
    fc.assert(fc.property(fc.array(token, { maxLength: 14 }), (tokens) => parsesOnceOrRuleError('pattern', tokens.join(' '))), { numRuns: 1000 });
  });

  it('the public functions return the single parse', () => {
    expect(parsePattern('A -> B')).toMatchObject({ kind: 'followedBy' });
    expect(parseExpression('1 + 2')).toMatchObject({ kind: 'binary' });
    expect(parseCepFile('select * from pattern [A]')).toHaveLength(1);
  });
});
