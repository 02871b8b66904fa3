/**
 * Every semantic error class of the pattern compiler, with its exact position in the rule file.
 */
import { RuleError, formatDiagnostic } from '../language/diagnostics';
import { ruleOf } from '../../../test/support/pattern-harness';
import { Engine, compileRule } from './engine';

function errorsOf(pattern: string, emit: Record<string, string> = {}) {
  try {
    compileRule(ruleOf(pattern, { emit, origin: { file: 'rules/x.yaml', pattern: { line: 3, column: 10 } } }));
  } catch (e) {
    if (e instanceof RuleError) return e.diagnostics;
    throw e;
  }
  throw new Error(`expected '${pattern}' to be rejected`);
}

describe('pattern compile errors', () => {
  it.each([
    // [pattern, message fragment, column of the offending text within the pattern]
    ['a=A -> b=B(x = c.x) -> c=C', "tag 'c' is not bound at this point", 16],
    ['a=A and b=B(x = a.x)', "tag 'a' is bound on the other side of 'and'", 17],
    ['a=A or b=B(x = a.x)', "tag 'a' is bound on the other side of 'or'", 16],
    ['a=A -> not n=N -> b=B(x = n.x)', "tag 'n' is bound inside 'not'", 27],
    ['a=A -> a=A', "tag 'a' is bound more than once", 8],
    ['[2:3] a=A', "a repeat without an exact count needs 'until'", 1],
    // Restarted as soon as it is true, a zero interval would restart without end (Esper overflows its stack).
    ['a=A -> (timer:interval(0) until b=B)', 'an open-ended repeat would restart it without end', 8],
    ['[2:] (timer:interval(0 sec) or a=A) until b=B', 'an open-ended repeat would restart it without end', 1],
    ['[1:] ([2] timer:interval(0)) until b=B', 'an open-ended repeat would restart it without end', 1],
    ['[1:] (timer:interval(0) where timer:withinmax(1 sec, 2)) until b=B', 'an open-ended repeat would restart it without end', 1],
    ['[1:] (timer:interval(0) while (true)) until b=B', 'an open-ended repeat would restart it without end', 1],
    ['[1:] ((not c=C) and (not a=A)) until b=B', 'an open-ended repeat would restart it without end', 1],
    ['[1:] (a=A until timer:interval(0)) until b=B', 'an open-ended repeat would restart it without end', 1],
    ['[1:] ([2] a=A until not c=C) until b=B', 'an open-ended repeat would restart it without end', 1],
    ['every timer:schedule(period: 0 sec, repetitions: 2)', 'the period of timer:schedule must be more than zero', 30],
    ['every timer:schedule(period: 0 months)', 'the period of timer:schedule must be more than zero', 30],
    ["every timer:schedule(iso: 'R2/P0Y')", "timer:schedule: cannot read 'R2/P0Y': invalid period 'P0Y': it is zero", 27],
    ["every timer:schedule(date: '2025-02-30')", 'timer:schedule: "2025-02-30" is not an ISO-8601 date', 28],
    ['a=A -> timer:schedule(date: a.t, period: 1 sec, repetitions: 2.5)', "the 'repetitions' parameter of timer:schedule must be an int or a long, not a double", 62],
    ['a=A -> timer:schedule(iso: a.s?)', "'a.s?' is a dynamic property, of Java's type Object as in Esper", 28],
    ['a=A(5)', 'a condition must be boolean, not number', 5],
    ["a=A('x')", 'a condition must be boolean, not string', 5],
    ['a=A(x > 5 + "y")', '', 13],
    ['every __proto__=A -> b=B(x = __proto__.x)', "invalid tag name '__proto__': it is reserved, choose another name", 7],
    ['a=A -> (__proto__=B or c=C)', "invalid tag name '__proto__'", 9],
  ])('%s is rejected: %s', (pattern, fragment, column) => {
    const [d] = errorsOf(pattern);
    expect(d.file).toBe('rules/x.yaml');
    expect(d.line).toBe(3);
    expect(d.column).toBe(10 + column - 1);
    if (fragment) expect(d.message).toContain(fragment);
  });

  it('reports an unknown tag in an emit field at that field', () => {
    const [d] = (() => {
      try {
        compileRule(
          ruleOf('a=A', { emit: { who: 'b.user' }, origin: { file: 'r.yaml', emit: { who: { line: 7, column: 8 } } } }),
        );
      } catch (e) {
        return (e as RuleError).diagnostics;
      }
      throw new Error('expected an error');
    })();
    expect(d).toMatchObject({ file: 'r.yaml', line: 7, column: 8 });
    expect(d.message).toContain("emit 'who'");
  });

  it('collects several errors of one pattern', () => {
    expect(errorsOf('a=A(5) -> b=B(x = z.x) -> z=Z("s")').length).toBeGreaterThanOrEqual(2);
  });

  it('formats an error as file:line:column, the line, a caret under the text, and what was expected', () => {
    const source = 'id: x\n# comment\npattern: a=A -> (b=B\n';
    try {
      compileRule(ruleOf('a=A -> (b=B', { origin: { file: 'rules/x.yaml', pattern: { line: 3, column: 10 } } }));
      throw new Error('expected an error');
    } catch (e) {
      const text = formatDiagnostic((e as RuleError).diagnostics[0], source);
      expect(text.split('\n')[0]).toMatch(/^rules\/x\.yaml:3:\d+: /);
      expect(text).toContain('pattern: a=A -> (b=B');
      expect(text).toMatch(/\^/);
      expect(text).toContain('expected');
    }
  });
});

describe("names of Object.prototype's properties", () => {
  const seq = [
    { type: 'A', id: 'a1', timestamp: 1000, x: 1 },
    { type: 'B', id: 'b1', timestamp: 2000, x: 1 },
  ];

  it("reports a '__proto__' tag once, at the tag, in file coordinates", () => {
    const ds = errorsOf('every __proto__=A -> b=B(x = __proto__.x)');
    expect(ds).toHaveLength(1);
    expect(ds[0]).toMatchObject({ file: 'rules/x.yaml', line: 3, column: 10 + 6, length: '__proto__'.length });
  });

  it.each([true, false])(
    "keeps 'constructor', 'toString' and 'hasOwnProperty' as ordinary tags and emit fields (sequence fast path %s)",
    (sequenceFastPath) => {
      const engine = new Engine({ startTime: 0, sequenceFastPath });
      engine.addRule(
        compileRule(
          ruleOf('every constructor=A -> toString=B(x = constructor.x) -> hasOwnProperty=A', {
            emit: { constructor: 'constructor.id', toString: 'toString.id' },
          }),
        ),
      );
      const out = [...seq, { type: 'A', id: 'a2', timestamp: 3000, x: 2 }].flatMap((e) => engine.process(e));
      expect(out).toHaveLength(1);
      expect(Object.keys(out[0].events)).toEqual(['constructor', 'toString', 'hasOwnProperty']);
      expect(out[0].events).toEqual({ constructor: seq[0], toString: seq[1], hasOwnProperty: expect.objectContaining({ id: 'a2' }) });
      expect(out[0].fields).toEqual({ constructor: 'a1', toString: 'b1' });
    },
  );

  it.each([true, false])(
    "gives an emit field named '__proto__' that bypassed the rule schema an own field of the alert (sequence fast path %s)",
    (sequenceFastPath) => {
      // A definition made in code (JSON.parse makes '__proto__' an own key): the schema never saw it.
      const emit = JSON.parse('{"__proto__": "a.x", "constructor": "b.id"}') as Record<string, string>;
      const engine = new Engine({ startTime: 0, sequenceFastPath });
      engine.addRule(compileRule(ruleOf('every a=A -> b=B(x = a.x)', { emit })));
      const [match] = seq.flatMap((e) => engine.process(e));
      expect(Object.getPrototypeOf(match.fields)).toBe(Object.prototype);
      expect(Object.keys(match.fields)).toEqual(['__proto__', 'constructor']);
      expect(Object.getOwnPropertyDescriptor(match.fields, '__proto__')).toMatchObject({ value: 1, enumerable: true });
      expect(JSON.parse(JSON.stringify(match.fields))).toEqual(JSON.parse('{"__proto__": 1, "constructor": "b1"}'));
      expect(Object.keys(match.events)).toEqual(['a', 'b']);
    },
  );
});

describe('pattern compile warnings', () => {
  it.each([
    ['every a=A -> b=B', true],
    ['every a=A -> b=B where timer:within(5 min)', false],
    ['(every a=A -> b=B) where timer:within(1 hour)', false],
    ['every a=A -> (timer:interval(5 sec) and not B)', false],
    ['every a=A', false],
  ])('%s warns that nothing bounds it in time: %s', (pattern, warns) => {
    const rule = compileRule(ruleOf(pattern));
    expect(rule.info.warnings.some((w) => w.message.includes('nothing bounds this rule in time'))).toBe(warns);
  });
});
