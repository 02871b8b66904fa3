/**
 * One table per operator: pattern, events, and the exact multiset of matches Esper's evaluation rules give
 * (each expectation is worked out from the operator's definition in Esper's reference, chapter Patterns).
 * Events are written as `A1 B1@2500 C1{x:1}`: type, id, optional timestamp (default: 1000 ms apart).
 */
import { Engine, compileRule, type MatchRecord } from '.';
import { compileRuleParts } from './compile';
import { ConformanceMatch, canonical, events, ruleOf, runPattern, runPatternRaw } from '../../../test/support/pattern-harness';

type Case = [pattern: string, script: string, expected: ConformanceMatch[], opts?: Parameters<typeof runPattern>[2]];

const m = (at: string | null, tags: Record<string, string | string[]>): ConformanceMatch => ({ at, tags });

function check([pattern, script, expected, opts]: Case): void {
  const evs = events(script);
  expect(canonical(runPattern(pattern, evs, { startTime: 0, ...opts }))).toEqual(canonical(expected));
}

describe('filter atoms', () => {
  it.each<Case>([
    ['a=A', 'B1 A1 A2', [m('A1', { a: 'A1' })]],
    ['A', 'A1', [m('A1', {})]],
    ['a=A(x > 5)', 'A1{x:3} A2{x:7} A3{x:9}', [m('A2', { a: 'A2' })]],
    ['a=A(x > 1, y = 2)', 'A1{x:3,y:1} A2{x:3,y:2}', [m('A2', { a: 'A2' })]],
    ['every a=A(kind = "buy")', 'A1{kind:buy} A2{kind:sell} A3{kind:buy}', [m('A1', { a: 'A1' }), m('A3', { a: 'A3' })]],
  ])('%s over %s', (...c) => check(c));
});

describe('every', () => {
  it.each<Case>([
    ['every a=A', 'A1 B1 A2', [m('A1', { a: 'A1' }), m('A2', { a: 'A2' })]],
    ['every (a=A -> b=B -> c=C)', 'A1 B1 A2 C1 B2 C2', [m('C1', { a: 'A1', b: 'B1', c: 'C1' })]],
    ['every (a=A and b=B)', 'A1 A2 B1 B2 A3', [m('B1', { a: 'A1', b: 'B1' }), m('A3', { a: 'A3', b: 'B2' })]],
    ['every (a=A or b=B)', 'A1 B1 C1', [m('A1', { a: 'A1' }), m('B1', { b: 'B1' })]],
    // A spawn that is true at once (a not) is discarded, so every over a bare not never matches.
    ['every (not A)', 'A1 B1', []],
  ])('%s over %s', (...c) => check(c));

  it('restarts a timer sub-expression at its scheduled time, not at the next event', () => {
    const out = runPatternRaw('every timer:interval(1 sec)', [], { startTime: 0, until: 3500 });
    expect(out.map((x) => x.time)).toEqual([1000, 2000, 3000]);
  });
});

describe('followed-by', () => {
  it.each<Case>([
    ['a=A -> b=B', 'B1 A1 B2 B3', [m('B2', { a: 'A1', b: 'B2' })]],
    ['every a=A -> b=B(v = a.v)', 'A1{v:1} A2{v:2} B1{v:2} B2{v:1}', [m('B1', { a: 'A2', b: 'B1' }), m('B2', { a: 'A1', b: 'B2' })]],
    // A filter started while an event is being processed does not see that event.
    ['every a=A -> b=A', 'A1 A2 A3', [m('A2', { a: 'A1', b: 'A2' }), m('A3', { a: 'A2', b: 'A3' })]],
    // -[1]> allows one instance of the right side at a time; A2 arrives while A1's is active.
    ['every a=A -[1]> b=B', 'A1 A2 B1 A3 B2', [m('B1', { a: 'A1', b: 'B1' }), m('B2', { a: 'A3', b: 'B2' })]],
    ['every a=A -[2]> b=B', 'A1 A2 A3 B1', [m('B1', { a: 'A1', b: 'B1' }), m('B1', { a: 'A2', b: 'B1' })]],
  ])('%s over %s', (...c) => check(c));
});

describe('and / or', () => {
  it.each<Case>([
    ['a=A and b=B', 'B1 A1 A2', [m('A1', { a: 'A1', b: 'B1' })]],
    ['a=A or b=B', 'B1 A1', [m('B1', { b: 'B1' })]],
    // An every inside `and` keeps feeding it: each new A pairs with the B already seen.
    [
      '(every a=A) and b=B',
      'A1 A2 B1 A3',
      [m('B1', { a: 'A1', b: 'B1' }), m('B1', { a: 'A2', b: 'B1' }), m('A3', { a: 'A3', b: 'B1' })],
    ],
    ['not A and b=B', 'B1', [m('B1', { b: 'B1' })]],
    ['not A and b=B', 'A1 B1', []],
    ['a=A and b=B and c=C', 'C1 B1 A1', [m('A1', { a: 'A1', b: 'B1', c: 'C1' })]],
  ])('%s over %s', (...c) => check(c));
});

describe('not', () => {
  it.each<Case>([
    // B1 kills A1's instance; A2's interval fires at 6000 with no B in between.
    ['every a=A -> (timer:interval(2 sec) and not B)', 'A1@1000 B1@2000 A2@4000 C1@7000', [m('C1', { a: 'A2' })]],
    ['every a=A -> (b=B and not C)', 'A1 C1 B1 A2 B2', [m('B2', { a: 'A2', b: 'B2' })]],
    // `a=A -> not B` is true as soon as A arrives: a not is true at start.
    ['a=A -> not B', 'A1 B1', [m('A1', { a: 'A1' })]],
    // A rule without partitionBy is an Esper statement without a context: a match while its pattern starts
    // is not output (ViewableActivatorPattern), but the states stay, so the or still matches A1.
    ['not B', 'A1 B1', []],
    ['timer:interval(0)', 'A1', []],
    ['(a=A) or (not B)', 'A1', [m('A1', { a: 'A1' })]],
    // A key's instance is a keyed context's partition, whose start matches Esper outputs: one per key, at the
    // key's first event of any type.
    ['not B', 'A1{k:1} B1{k:1} A2{k:2}', [m('A1', {}), m('A2', {})], { partitionBy: 'k' }],
    ['(a=A) or (not B)', 'C1{k:1} A1{k:1}', [m('C1', {}), m('A1', { a: 'A1' })], { partitionBy: 'k' }],
    // `not A` is true as the key's instance starts (at C1), so the within starts then and has ended by B1.
    ['not A -> (b=B where timer:within(500 msec))', 'C1@2000{k:1} B1@6000{k:1}', [], { partitionBy: 'k' }],
  ])('%s over %s', (...c) => check(c));
});

describe('one event passing several filters of an instance (checked against Esper 8.9)', () => {
  // Esper collects an event's filters from its filter index: filters with a condition come before those
  // without; filters of the same group come in the order they started.
  it.each<Case>([
    ['a=A or b=A(x > 5)', 'A1{x:6}', [m('A1', { b: 'A1' })]],
    ['b=A(x > 5) or a=A', 'A1{x:6}', [m('A1', { b: 'A1' })]],
    ['a=A(x = 6) or b=A(x > 5)', 'A1{x:6}', [m('A1', { a: 'A1' })]],
    ['b=A(x > 5) or a=A(x = 6)', 'A1{x:6}', [m('A1', { b: 'A1' })]],
    ['a=A or b=A', 'A1{x:6}', [m('A1', { a: 'A1' })]],
    // A condition that does not read the event itself (a constant, only earlier tags) is no condition here.
    ['b=B or c=B(true)', 'B1', [m('B1', { b: 'B1' })]],
    ['every a=A -> (b=B or c=B(a.x > 0))', 'A1{x:1} B1', [m('B1', { a: 'A1', b: 'B1' })]],
    ['a=A -> (b=B(a.x >= 0) or c=B(x >= 0))', 'A1{x:1} B1{x:1}', [m('B1', { a: 'A1', c: 'B1' })]],
    ['a=A -> (b=B or c=B(a.x >= 0 or x >= 0))', 'A1{x:1} B1{x:1}', [m('B1', { a: 'A1', b: 'B1' })]],
    ['a=A -> (b=B or c=B(x >= 0 and a.x >= 0))', 'A1{x:1} B1{x:1}', [m('B1', { a: 'A1', c: 'B1' })]],
    // The repeat's A collects A1 before the until side (started first, but unconditional) ends it.
    ['a=A(x > 5) until b=A', 'A1{x:6}', [m('A1', { a: ['A1'], b: 'A1' })]],
    ['b=A until a=A(x > 5)', 'A1{x:6}', [m('A1', { a: 'A1' })]],
    // On the sequence fast path too: a waiting b with a condition takes A2 before the every's unconditional
    // a starts a new run, so a cap of one partial match drops nothing.
    ['every a=A -> b=A(x > a.x)', 'A1{x:1} A2{x:2} A3{x:3}', [m('A2', { a: 'A1', b: 'A2' }), m('A3', { a: 'A2', b: 'A3' })], { maxPartialMatchesPerKey: 1 }],
  ])('%s over %s', (...c) => check(c));
});

describe('time: timers fire before the event at their time', () => {
  it.each<Case>([
    ['a=A where timer:within(2 sec)', 'A1@2000', []],
    ['a=A where timer:within(2 sec)', 'A1@1999', [m('A1', { a: 'A1' })]],
    ['timer:interval(4 sec) -> b=B', 'B1@4000', [m('B1', { b: 'B1' })]],
    ['timer:interval(4 sec) -> b=B', 'B1@3999 B2@4000', [m('B2', { b: 'B2' })]],
    ['every a=A -> b=B where timer:within(2 sec)', 'A1@1000 B1@3000 A2@4000 B2@5999', [m('B2', { a: 'A2', b: 'B2' })]],
    ['timer:at(*, *, *, *, *)', 'X1@30000 X2@61000', [m('X2', {})]],
    ['timer:at(*, *, *, *, *, */20)', 'X1@15000 X2@21000', [m('X2', {})]],
    // Esper keeps the start's milliseconds: started at 1.5 s, the next whole minute is due at 60.5 s.
    ['a=A -> (timer:at(*, *, *, *, *) or b=B)', 'A1@1500 B1@60200', [m('B1', { a: 'A1', b: 'B1' })]],
    ['a=A -> (timer:at(*, *, *, *, *) or b=B)', 'A1@1500 B1@60500', [m('B1', { a: 'A1' })]],
    // A guard's deadline and a timer of its child due at the same time: the guard was made first (Esper's
    // schedule slots), so its deadline fires first and the child's timer no longer counts.
    ['a=A -> (timer:interval(2 sec) where timer:within(2 sec))', 'A1@1000 X1@5000', []],
    ['a=A -> (timer:interval(2 sec) where timer:within(3 sec))', 'A1@1000 X1@5000', [m('X1', { a: 'A1' })]],
    ['a=A -> ((timer:interval(2 sec) and not B) where timer:within(2 sec))', 'A1@1000 X1@5000', []],
    // A child timer made after its guard still fires first when it is due earlier.
    ['every a=A -> (b=B -> timer:interval(5 sec)) where timer:within(10 sec)', 'A1@1000 B1@6000 X1@20000', []],
    ['every a=A -> (b=B -> timer:interval(5 sec)) where timer:within(10 sec)', 'A1@1000 B1@5000 X1@20000', [m('X1', { a: 'A1', b: 'B1' })]],
  ])('%s over %s', (...c) => check(c));

  it('a zero interval is true while it starts, as in Esper: the match comes with the event, not at the next clock move', () => {
    const evs = events('A1@1000 A2@5000');
    expect(runPatternRaw('every a=A -> timer:interval(0 sec)', evs).map((x) => x.time)).toEqual([1000, 5000]);
  });

  it.each<Case>([
    // True during its start, so the `or` ends before B's filter starts: b stays unbound.
    ['a=A -> (timer:interval(0 sec) or b=B)', 'A1@1000 B1@1000', [m('A1', { a: 'A1' })]],
    ['every a=A -> (timer:interval(0 sec) and not B)', 'A1@1000 B1@1000 A2@5000 C1@6000', [m('A1', { a: 'A1' }), m('A2', { a: 'A2' })]],
    // A spawn that is true at once is discarded (as `every (not A)`): no match, and no endless restarts.
    ['every timer:interval(0 sec)', 'A1@1000 A2@2000', []],
    ['every (timer:interval(0 msec) or timer:interval(0 sec))', 'A1@1000 A2@2000', []],
  ])('zero interval: %s over %s', (...c) => check(c));
});

describe('periods computed from tags (checked against Esper 8.9)', () => {
  it.each<Case>([
    // A bare expression is seconds, read as the observer starts.
    ['every a=A -> timer:interval(a.d)', 'A1@1000{d:1} A2@2000{d:0.5} X1@2500 X2@5000', [m('A2', { a: 'A1' }), m('X1', { a: 'A2' })]],
    ['a=A -> (b=B where timer:within(a.ttl sec))', 'A1@1000{ttl:2} B1@2999', [m('B1', { a: 'A1', b: 'B1' })]],
    ['a=A -> (b=B where timer:within(a.ttl sec))', 'A1@1000{ttl:2} B1@3000', []],
    ['a=A -> (b=B where timer:within(a.ttl * 2))', 'A1@1000{ttl:1} B1@2999', [m('B1', { a: 'A1', b: 'B1' })]],
    ['a=A -> ((every b=B) where timer:withinmax(a.ttl sec, 1))', 'A1@1000{ttl:5} B1@2000 B2@3000', [m('B1', { a: 'A1', b: 'B1' })]],
    // Our extension: any fixed unit after an expression (Esper takes only seconds there).
    ['a=A -> timer:interval(a.m minutes)', 'A1@0{m:1} X1@59999 X2@60000', [m('X2', { a: 'A1' })]],
    // Whole milliseconds, rounded as Esper's TimeAbacus rounds: 1000.4 ms is 1000, 1000.5 is 1001.
    ['a=A -> timer:interval(a.d)', 'A1@1000{d:1.0004} X1@2000', [m('X1', { a: 'A1' })]],
    ['a=A -> timer:interval(a.d)', 'A1@1000{d:1.0005} X1@2000 X2@2001', [m('X2', { a: 'A1' })]],
    ['a=A -> timer:interval(0.0004)', 'A1@1000', [m('A1', { a: 'A1' })]],
    // Zero or negative: an interval is true as it starts; a within still takes events at the same millisecond.
    ['a=A -> timer:interval(a.d)', 'A1@1000{d:-1}', [m('A1', { a: 'A1' })]],
    ['a=A -> (b=B where timer:within(a.d))', 'A1@1000{d:-1} B1@1000 B2@1001', [m('A1', { a: 'A1', b: 'B1' })]],
    // Not a number (missing, a string): no match, as in Esper (which throws as the guard or observer starts),
    // not even at the same millisecond; the other instances go on.
    ['every a=A -> timer:interval(a.d)', 'A1@1000 A2@2000{d:1} X1@9000', [m('X1', { a: 'A2' })]],
    ['every a=A -> timer:interval(a.d)', 'A1@1000{d:soon} X1@9000', []],
    ['a=A -> (b=B where timer:within(a.ttl))', 'A1@1000 B1@1000 B2@2000', []],
    // Under every, such a branch ends (Esper's exception ends it too); it is not restarted for ever.
    ['a=A -> every timer:interval(a.d)', 'A1@1000 B1@2000', []],
    ['a=A -> every (timer:interval(a.d) and not C)', 'A1@1000 B1@2000 B2@9000', []],
    ['every a=A -> every-distinct(b.k) (b=B where timer:within(a.ttl sec))', 'A1@1000{k:x} B1@2000{k:y} A2@3000{k:x,ttl:5} B2@4000{k:z}', [m('B2', { a: 'A2', b: 'B2' })]],
    // A zero period reached through an event at the millisecond the every restarted: the every goes on.
    ['every (a=A -> (b=B where timer:within(a.ttl sec)))', 'A1@1000{k:x,ttl:0} B1@1500{k:x} A2@2000{k:x,ttl:5} B2@3000{k:x}', [m('B2', { a: 'A2', b: 'B2' })], { partitionBy: 'k' }],
    ['every (a=A -> (b=B where timer:within(a.ttl sec)))', 'A0@1000{ttl:1} A1@2000{ttl:0} A2@3000{ttl:5} B2@4000', [m('B2', { a: 'A2', b: 'B2' })]],
    ['every (a=A -> (b=B where timer:within(a.ttl sec)))', 'A0@1000{ttl:1} A1@2000{ttl:-1} A2@3000{ttl:5} B2@4000', [m('B2', { a: 'A2', b: 'B2' })]],
  ])('%s over %s', (...c) => check(c));

  // Esper 8.9 never returns on these: each instance of the every ends false at the millisecond it started, and
  // the every restarts it there for ever. Here the every ends false instead (the same as for a period that is
  // not a number), after the matches its instances made.
  it.each<Case>([
    ['a=A -> every (b=B where timer:within(a.d))', 'A1@1000{d:0} B1@1000 B2@5000', [m('A1', { a: 'A1', b: 'B1' })]],
    ['a=A -> every (b=B where timer:within(a.d))', 'A1@1000{d:-5} B1@1000 B2@5000', [m('A1', { a: 'A1', b: 'B1' })]],
    ['a=A -> every (b=B where timer:within(0))', 'A1@1000 B1@1000 B2@5000', [m('A1', { a: 'A1', b: 'B1' })]],
    ['a=A -> every (timer:interval(a.d) -> b=B)', 'A1@1000 B1@2000', []],
    ['every a=A -> every (b=B where timer:within(a.d))', 'A1@1000 A2@2000{d:5} B1@3000', [m('B1', { a: 'A2', b: 'B1' })]],
  ])('ends rather than restarting for ever: %s over %s', (...c) => check(c));

  it('a computed period that overflows is no period (no match), and a snapshot of it round-trips', () => {
    for (const pattern of ['a=A -> timer:interval(a.d)', 'a=A -> (b=B where timer:within(a.d))']) {
      const engine = new Engine({ startTime: 0, trackChanges: true });
      engine.addRule(compileRule(ruleOf(pattern, { partitionBy: 'k' })));
      engine.process({ type: 'A', id: 'A1', k: 'k1', timestamp: 1000, d: 1e306 });
      const [change] = engine.drainChanges();
      const restored = new Engine({ startTime: 0 });
      restored.addRule(compileRule(ruleOf(pattern, { partitionBy: 'k' })));
      restored.restoreKey('test', 'k1', JSON.parse(JSON.stringify(change.snapshot)));
      restored.setTime(1000);
      for (const e of [engine, restored]) {
        expect([pattern, e.process({ type: 'B', id: 'B1', k: 'k1', timestamp: 5000 })]).toEqual([pattern, []]);
        expect([pattern, e.advanceTo(9000)]).toEqual([pattern, []]);
      }
    }
  });

  it('an every restarts an instance a zero period ended when an event came after it was spawned, whether the timer fires with an event or with the clock alone', () => {
    for (const byClock of [false, true]) {
      const engine = new Engine({ startTime: 0 });
      engine.addRule(compileRule(ruleOf('every (a=A -> (b=B where timer:within(a.ttl sec)))', { partitionBy: 'k' })));
      const out = [...engine.process({ type: 'A', id: 'A1', k: 'x', timestamp: 1000, ttl: 0 })];
      out.push(...(byClock ? engine.advanceTo(1500) : engine.process({ type: 'X', id: 'X1', k: 'x', timestamp: 1500 })));
      out.push(...engine.process({ type: 'A', id: 'A2', k: 'x', timestamp: 2000, ttl: 5 }));
      out.push(...engine.process({ type: 'B', id: 'B2', k: 'x', timestamp: 3000 }));
      expect([byClock, out.map((m) => [m.events.a, m.events.b].map((e) => (e as { id: string }).id))]).toEqual([byClock, [['A2', 'B2']]]);
    }
  });

  it('an instance whose period is not a number ends when the clock next moves: it holds no partial match', () => {
    const engine = new Engine({ startTime: 0 });
    engine.addRule(compileRule(ruleOf('every a=A -> (timer:interval(a.d) and not B)')));
    engine.process({ type: 'A', id: 'A1', timestamp: 1000 });
    engine.process({ type: 'A', id: 'A2', timestamp: 1000, d: 60 });
    expect(engine.stats().partialMatches.get('test')).toBe(2);
    engine.advanceTo(1001);
    expect(engine.stats().partialMatches.get('test')).toBe(1);
  });

  it.each([
    ['a=A -> timer:interval(a.name || "x")', /a time period must be a number, not a string/],
    ['a=A -> timer:interval(b.d)', /unknown tag 'b'/],
    ['timer:interval(a.d) -> a=A', /tag 'a' is not bound at this point/],
    ['a=A -> (b=B where timer:within(b.ttl))', /tag 'b' is not bound at this point/],
    ['a=A -> timer:interval(1 / 0)', /this time period is not a finite number/],
    ['a=A -> timer:interval(1e306 * 1e10)', /this time period is not a finite number/],
    ['a=A -> timer:interval(1e306)', /a time period of more than 10000 years/],
    ['a=A -> timer:interval(a)', /a time period must be a number, not the event tagged 'a'/],
    ['a=A -> (b=B where timer:within(a sec))', /a time period must be a number, not the event tagged 'a'/],
  ])('refuses %s', (pattern, error) => {
    expect(() => compileRuleParts(ruleOf(pattern))).toThrow(error);
  });
});

describe('guards', () => {
  it.each<Case>([
    ['(every b=B) where timer:withinmax(10 sec, 2)', 'B1 B2 B3', [m('B1', { b: 'B1' }), m('B2', { b: 'B2' })]],
    ['(every b=B) while (b.v < 3)', 'B1{v:1} B2{v:2} B3{v:5} B4{v:1}', [m('B1', { b: 'B1' }), m('B2', { b: 'B2' })]],
    // A guard that ends is permanently false: every restarts its child.
    ['every (a=A where timer:within(1500 msec))', 'A1@1000 A2@4000', [m('A1', { a: 'A1' }), m('A2', { a: 'A2' })]],
  ])('%s over %s', (...c) => check(c));
});

describe('repeat and until', () => {
  it.each<Case>([
    ['[3] a=A', 'A1 B1 A2 A3 A4', [m('A3', { a: ['A1', 'A2', 'A3'] })]],
    ['[2] a=A -> b=B', 'A1 A2 A3 B1', [m('B1', { a: ['A1', 'A2'], b: 'B1' })]],
    ['a=A until b=B', 'A1 A2 B1 A3', [m('B1', { a: ['A1', 'A2'], b: 'B1' })]],
    ['a=A until b=B', 'B1', [m('B1', { b: 'B1' })]],
    ['[2:3] a=A until b=B', 'A1 B1', []],
    ['[2:3] a=A until b=B', 'A1 A2 A3 A4 B1', [m('B1', { a: ['A1', 'A2', 'A3'], b: 'B1' })]],
    ['[:2] a=A until b=B', 'A1 A2 A3 B1', [m('B1', { a: ['A1', 'A2'], b: 'B1' })]],
    ['[2:] a=A until b=B', 'A1 A2 A3 B1', [m('B1', { a: ['A1', 'A2', 'A3'], b: 'B1' })]],
    // The until side starts first, so an event satisfying both ends the repeat without counting.
    ['a=A(x > 0) until b=A(x > 5)', 'A1{x:1} A2{x:6}', [m('A2', { a: ['A1'], b: 'A2' })]],
    // An until side true as it starts ends the repeat true below its lower bound: Esper reads the bounds only
    // after starting the until side (checked against Esper 8.9).
    ['a=A -> ([2:3] c=C until not B)', 'A1 C1', [m('A1', { a: 'A1' })]],
    ['a=A -> ([2] c=C until timer:interval(0))', 'A1 C1', [m('A1', { a: 'A1' })]],
    // Later, the lower bound holds: B1 ends it with one C, so it is false.
    ['a=A -> ([2:3] c=C until b=B)', 'A1 C1 B1', []],
    ['[2] a=A -> b=B(v > a[0].v)', 'A1{v:5} A2{v:1} B1{v:4} B2{v:6}', [m('B2', { a: ['A1', 'A2'], b: 'B2' })]],
  ])('%s over %s', (...c) => check(c));
});

describe('partitionBy: events without the key', () => {
  it('counts each one once, and only for the types the rule uses, also when its instances start on any event', () => {
    const engine = new Engine({ startTime: 0 });
    engine.addRule(compileRule(ruleOf('not a=A', { id: 'r', partitionBy: 'k' })));
    engine.process({ type: 'A', id: 'A1', timestamp: 1000 });
    engine.process({ type: 'Z', id: 'Z1', timestamp: 2000 });
    expect(engine.stats().unkeyedEvents.get('r')).toBe(1);
  });
});

describe('repeat: the runtime backstop behind the compile-time check', () => {
  it('an open-ended repeat whose matcher is true as it starts waits for its until instead of recursing', () => {
    // The compiler refuses `timer:interval(0) until b=B`; a 1 ms interval made 0 here reaches the runtime.
    const rule = compileRule(ruleOf('a=A -> (timer:interval(1 msec) until b=B)'));
    const repeat = (rule.pattern.root as { children: Array<{ child: { ms: number } }> }).children[1];
    repeat.child.ms = 0;
    const engine = new Engine({ startTime: 0 });
    engine.addRule(rule);
    expect(engine.process({ type: 'A', id: 'A1', timestamp: 1000 })).toEqual([]);
    const out = engine.process({ type: 'B', id: 'B1', timestamp: 2000 });
    expect(out.map((mm) => (mm.events.b as { id: string }).id)).toEqual(['B1']);
  });
});

describe('every-distinct', () => {
  it.each<Case>([
    ['every-distinct(a.sym) a=A', 'A1{sym:x} A2{sym:y} A3{sym:x}', [m('A1', { a: 'A1' }), m('A2', { a: 'A2' })]],
    [
      'every-distinct(a.sym, 2 sec) a=A',
      'A1@1000{sym:x} A2@2000{sym:x} A3@3000{sym:x}',
      [m('A1', { a: 'A1' }), m('A3', { a: 'A3' })],
    ],
    [
      'every-distinct(a.sym) (a=A -> b=B)',
      'A1{sym:x} B1 A2{sym:x} B2 A3{sym:y} B3',
      [m('B1', { a: 'A1', b: 'B1' }), m('B3', { a: 'A3', b: 'B3' })],
    ],
    // Esper keeps the keys per spawned instance: the instance after A1/B1 inherits {1}, times out at 12 s
    // (A2 started it), and its replacement has seen nothing, so A3/B3 (key 1 again) match.
    [
      'every-distinct(a.u) (a=A -> b=B(u = a.u) where timer:within(10 sec))',
      'A1@0{u:1} B1@1000{u:1} A2@2000{u:2} A3@20000{u:1} B3@21000{u:1}',
      [m('B1', { a: 'A1', b: 'B1' }), m('B3', { a: 'A3', b: 'B3' })],
    ],
    // The instance spawned after A1 times out at 11 s; the next one lets key 1 through again.
    ['every-distinct(a.u) a=A where timer:within(10 sec)', 'A1@1000{u:1} A2@12000{u:1} A3@13000{u:1}', [m('A1', { a: 'A1' }), m('A2', { a: 'A2' })]],
    // A filter child never ends, so its keys are never forgotten (without an expiry).
    ['every-distinct(a.u) a=A', 'A1@1000{u:1} A2@60000{u:1}', [m('A1', { a: 'A1' })]],
    // Esper: a number as the last parameter is the expiry in seconds, not a key; other constants are no keys.
    ['every-distinct(a.k, 2) a=A', 'A1@1000{k:1} A2@2000{k:1} A3@3000{k:1} A4@4000{k:1}', [m('A1', { a: 'A1' }), m('A3', { a: 'A3' })]],
    ['every-distinct(a.k, 1.5) a=A', 'A1@1000{k:1} A2@2000{k:1} A3@3000{k:1}', [m('A1', { a: 'A1' }), m('A3', { a: 'A3' })]],
    // Rounded to milliseconds before the check: 0.0001 seconds is ignored (a warning), so A2 and A3 repeat k.
    ['every-distinct(a.k, 0.0001) a=A', 'A1@1000{k:1} A2@1000{k:1} A3@1000{k:1}', [m('A1', { a: 'A1' })]],
    ['every-distinct(a.k, 0) a=A', 'A1@1000{k:1} A2@90000{k:1}', [m('A1', { a: 'A1' })]],
  ])('%s over %s', (...c) => check(c));

  it.each<[pattern: string, error: RegExp]>([
    ["every-distinct(a.k, 'x') a=A", /the last parameter of every-distinct is a constant, so it is the expiry: it must be a time period or a number of seconds/],
    ['every-distinct(5) a=A', /every-distinct needs at least one key whose value depends on the events/],
  ])('refuses %s', (pattern, error) => {
    expect(() => compileRule(ruleOf(pattern))).toThrow(error);
  });

  it('warns about a constant that is not a key and an expiry that is not positive', () => {
    const { warnings } = compileRuleParts(ruleOf('every-distinct(7, a.k, 0) a=A'));
    expect(warnings.map((w) => w.message)).toEqual([
      'this parameter is a constant, so it is not a distinct key: it is left out',
      'an expiry of 0 seconds is ignored: it must be at least a millisecond',
    ]);
  });

  it('hands the keys of an ended instance to the next one without copying: 20,000 distinct keys stay linear', () => {
    // Copying the set at every match took 25 s for 20,000 keys (and grew with the square).
    const engine = new Engine({ startTime: 0 });
    engine.addRule(compileRule(ruleOf('every-distinct(a.u) (a=A -> b=B)')));
    const started = Date.now();
    let matches = 0;
    for (let i = 0; i < 20_000; i++) {
      engine.process({ type: 'A', u: i, timestamp: 2 * i });
      matches += engine.process({ type: 'B', timestamp: 2 * i + 1 }).length;
    }
    matches += engine.process({ type: 'A', u: 7, timestamp: 50_000 }).length + engine.process({ type: 'B', timestamp: 50_001 }).length;
    expect(matches).toBe(20_000);
    expect(Date.now() - started).toBeLessThan(5000);
  });
});

describe('timer catch-up limit: a jump of the clock cannot fire one key\'s timers without bound', () => {
  const ticks = (_engine: Engine, rule: string) => (out: MatchRecord[]) => out.filter((m) => m.rule === rule).map((m) => [m.key, m.time]);

  it('an unpartitioned rule fires its timers up to the limit, is reset (counted), and restarts where the clock moved to', () => {
    const engine = new Engine({ timerCatchUpLimit: 100 });
    engine.addRule(compileRule(ruleOf('every timer:interval(1 sec)', { id: 'beat' })));
    engine.addRule(compileRule(ruleOf('every a=A -> timer:interval(30 sec)', { id: 'slow' })));
    expect(engine.process({ type: 'A', timestamp: 0 })).toEqual([]);
    // 1,000 s later: 1,000 firings are due for `beat`, 100 happen; `slow` (one firing) is not affected.
    const jump = engine.process({ type: 'B', timestamp: 1_000_000 });
    expect(ticks(engine, 'beat')(jump)).toHaveLength(100);
    expect(ticks(engine, 'beat')(jump).at(-1)).toEqual([null, 100_000]);
    expect(ticks(engine, 'slow')(jump)).toEqual([[null, 30_000]]);
    expect(engine.stats().dropped.get('beat')!.get('timer_catch_up_limit')).toBeGreaterThan(0);
    expect(engine.stats().dropped.get('slow')!.get('timer_catch_up_limit')).toBeUndefined();
    // Restarted at 1,000,000: it fires every second from there.
    expect(ticks(engine, 'beat')(engine.advanceTo(1_002_500))).toEqual([
      [null, 1_001_000],
      [null, 1_002_000],
    ]);
  });

  it('a partitioned rule resets only the key past the limit; it starts afresh at its next event', () => {
    const engine = new Engine({ timerCatchUpLimit: 10 });
    engine.addRule(compileRule(ruleOf('a=A -> every timer:interval(1 sec)', { id: 'beat', partitionBy: 'k' })));
    engine.process({ type: 'A', k: 'busy', timestamp: 0 });
    const open = engine.partialMatchesOf('beat', 'busy');
    expect(open).toBeGreaterThan(0);
    // 100 firings due for `busy`: 10 happen, then its state goes, its open partial matches counted as dropped.
    expect(engine.process({ type: 'C', k: 'other', timestamp: 100_000 }).map((m) => m.key)).toEqual(Array(10).fill('busy'));
    expect(engine.stats().dropped.get('beat')!.get('timer_catch_up_limit')).toBe(open);
    expect(engine.partialMatchesOf('beat', 'busy')).toBe(0);
    engine.process({ type: 'A', k: 'fine', timestamp: 100_500 });
    expect(engine.advanceTo(102_600).map((m) => [m.key, m.time])).toEqual([
      ['fine', 101_500],
      ['fine', 102_500],
    ]);
    engine.process({ type: 'A', k: 'busy', timestamp: 103_000 });
    expect(engine.advanceTo(104_000).map((m) => [m.key, m.time])).toEqual([
      ['fine', 103_500],
      ['busy', 104_000],
    ]);
  });

  it('counts between events, so ticks that move the clock in steps give what one jump gives (a replay agrees)', () => {
    const run = (tickEvery: number | null) => {
      const engine = new Engine({ timerCatchUpLimit: 100 });
      engine.addRule(compileRule(ruleOf('a=A -> every timer:interval(1 sec)', { id: 'beat', partitionBy: 'k' })));
      const out = [...engine.process({ type: 'A', k: 'k1', timestamp: 0 })];
      if (tickEvery !== null) for (let t = tickEvery; t < 300_000; t += tickEvery) out.push(...engine.advanceTo(t));
      out.push(...engine.process({ type: 'C', k: 'other', timestamp: 300_000 }));
      return { times: out.map((m) => m.time), dropped: engine.stats().dropped.get('beat')!.get('timer_catch_up_limit') };
    };
    const jump = run(null);
    expect(jump.times).toHaveLength(100);
    expect(run(10_000)).toEqual(jump);
    expect(run(777)).toEqual(jump);
  });

  it('a rule no event reaches is not reset while events keep coming: the count starts again at each event', () => {
    const engine = new Engine({ timerCatchUpLimit: 100 });
    engine.addRule(compileRule(ruleOf('every timer:interval(1 sec)', { id: 'beat' })));
    let fired = 0;
    for (let t = 0; t <= 10_000_000; t += 50_000) fired += engine.process({ type: 'Other', timestamp: t }).length;
    expect(fired).toBe(10_000);
    expect(engine.stats().dropped.get('beat')!.get('timer_catch_up_limit')).toBeUndefined();
  });

  it('all keys together fire at most timerMoveLimit timers in one move; the keys due after that are reset', () => {
    const engine = new Engine({ timerCatchUpLimit: 1000, timerMoveLimit: 250 });
    engine.addRule(compileRule(ruleOf('a=A -> every timer:interval(1 sec)', { id: 'beat', partitionBy: 'k' })));
    for (let k = 0; k < 10; k++) engine.process({ type: 'A', k: `k${k}`, timestamp: k });
    // 10 keys, 100 firings due each: the first 250 happen (in time order, the keys interleaved), then every
    // key whose timer comes due is reset.
    const out = engine.process({ type: 'C', k: 'other', timestamp: 100_000 });
    expect(out).toHaveLength(250);
    expect(engine.advanceTo(200_000)).toEqual([]);
    expect(engine.partialMatchesOf('beat', 'k0')).toBe(0);
  });

  it('below the limit nothing changes: every firing of a long jump happens', () => {
    const engine = new Engine({ timerCatchUpLimit: 1000 });
    engine.addRule(compileRule(ruleOf('every timer:interval(1 sec)', { id: 'beat' })));
    engine.process({ type: 'A', timestamp: 0 });
    expect(engine.process({ type: 'B', timestamp: 1_000_000 })).toHaveLength(1000);
    expect(engine.stats().dropped.get('beat')!.get('timer_catch_up_limit')).toBeUndefined();
  });
});

describe('calendar periods (months and years are added on the calendar, as Esper does)', () => {
  const at = (iso: string) => Date.parse(iso);
  const run = (pattern: string, evs: Array<[string, string]>, until?: string, fast = true) => {
    const engine = new Engine({ startTime: at('2024-01-01T00:00:00Z'), sequenceFastPath: fast });
    engine.addRule(compileRule(ruleOf(pattern)));
    const out = evs.flatMap(([type, time]) => engine.process({ type, timestamp: at(time) }));
    if (until) out.push(...engine.advanceTo(at(until)));
    return out.map((m) => new Date(m.time).toISOString());
  };

  it('a calendar period that ends past the range of Date never fires and does not stop the other timers', () => {
    // The month after 8.64e15 ms is no Date (NaN): a NaN timer at the head of the queue stopped every timer.
    const engine = new Engine();
    engine.addRule(compileRule(ruleOf('every a=A -> b=B where timer:within(1 month)')));
    engine.addRule(compileRule(ruleOf('every x=X -> timer:interval(1 sec)', { id: 'ticker' })));
    const end = 8.64e15 - 1000;
    expect(engine.process({ type: 'A', timestamp: end })).toEqual([]);
    expect(engine.process({ type: 'X', timestamp: end })).toEqual([]);
    expect(engine.advanceTo(8.64e15).map((m) => [m.rule, m.time])).toEqual([['ticker', 8.64e15]]);
  });

  it('a timer that is never due stays never due through a snapshot in JSON (Infinity is saved as null)', () => {
    const make = () => {
      const e = new Engine({ trackChanges: true });
      e.addRule(compileRule(ruleOf('a=A -> timer:interval(1 month)', { id: 'late', partitionBy: 'k' })));
      return e;
    };
    const engine = make();
    engine.process({ type: 'A', k: 'k1', timestamp: 8.64e15 - 1000 });
    const saved = JSON.parse(JSON.stringify(engine.snapshotKey('late', 'k1')));
    const restored = make();
    restored.restoreKey('late', 'k1', saved);
    restored.setTime(8.64e15 - 1000);
    expect(restored.advanceTo(8.64e15)).toEqual([]);
    expect(engine.advanceTo(8.64e15)).toEqual([]);
  });

  it('within(1 month) from Jan 31 ends on Feb 29 of a leap year (30 days would end on Mar 1)', () => {
    const pattern = 'every a=A -> b=B where timer:within(1 month)';
    for (const fast of [true, false]) {
      expect(run(pattern, [['A', '2024-01-31T00:00:00Z'], ['B', '2024-02-28T23:00:00Z']], undefined, fast)).toEqual(['2024-02-28T23:00:00.000Z']);
      expect(run(pattern, [['A', '2024-01-31T00:00:00Z'], ['B', '2024-02-29T12:00:00Z']], undefined, fast)).toEqual([]);
    }
  });

  it('timer:interval(1 month) from Jan 15 fires on Feb 15 (31 days), then on Mar 15 (29 days)', () => {
    expect(run('every (a=A -> timer:interval(1 month))', [['A', '2024-01-15T10:00:00Z']], '2024-03-20T00:00:00Z')).toEqual([
      '2024-02-15T10:00:00.000Z',
    ]);
    expect(run('a=A -> every timer:interval(1 month)', [['A', '2024-01-15T10:00:00Z']], '2024-03-20T00:00:00Z')).toEqual([
      '2024-02-15T10:00:00.000Z',
      '2024-03-15T10:00:00.000Z',
    ]);
  });

  it('1 year from Feb 29 is Feb 28; years are added before months; the fixed part comes last', () => {
    expect(run('a=A -> timer:interval(1 year)', [['A', '2024-02-29T08:00:00Z']], '2026-01-01T00:00:00Z')).toEqual(['2025-02-28T08:00:00.000Z']);
    // Feb 29 2024 + 1 year = Feb 28 2025, + 1 month = Mar 28 (13 months at once would give Mar 29), + 1 day.
    expect(run('a=A -> timer:interval(1 year 1 month 1 day)', [['A', '2024-02-29T08:00:00Z']], '2026-01-01T00:00:00Z')).toEqual([
      '2025-03-29T08:00:00.000Z',
    ]);
  });

  it('every-distinct forgets a key one calendar month after it was first seen', () => {
    const pattern = 'every-distinct(a.k, 1 month) a=A';
    const engine = new Engine({ startTime: at('2024-01-01T00:00:00Z') });
    engine.addRule(compileRule(ruleOf(pattern)));
    const times = ['2024-01-31T00:00:00Z', '2024-02-28T23:59:59Z', '2024-02-29T00:00:00Z'];
    const matched = times.map((t) => engine.process({ type: 'A', k: 'x', timestamp: at(t) }).length);
    expect(matched).toEqual([1, 0, 1]);
  });
});

describe('partitionBy', () => {
  it.each<Case>([
    [
      'every a=A -> b=B',
      'A1{k:1} A2{k:2} B1{k:1} B2{k:2}',
      [m('B1', { a: 'A1', b: 'B1' }), m('B2', { a: 'A2', b: 'B2' })],
      { partitionBy: 'k' },
    ],
    // Without every, a key's instance ends after its match and does not start again.
    ['a=A -> b=B', 'A1{k:1} B1{k:1} A2{k:1} B2{k:1}', [m('B1', { a: 'A1', b: 'B1' })], { partitionBy: 'k' }],
    // The instance starts at the key's first event of any type, so its within guard runs from there.
    [
      '(a=A -> b=B) where timer:within(3 sec)',
      'C1@1000{k:1} A1@3000{k:1} A2@3000{k:2} B1@4500{k:1} B2@4600{k:2}',
      [m('B2', { a: 'A2', b: 'B2' })],
      { partitionBy: 'k' },
    ],
    ['every a=A -> b=B', 'A1{k:1} B1', [], { partitionBy: 'k' }],
  ])('%s over %s', (...c) => check(c));
});

describe('bounded state', () => {
  it('drops the oldest partial match past maxPartialMatchesPerKey and keeps matching the rest', () => {
    const evs = events('A1 A2 A3 B1');
    const out = runPattern('every a=A -> b=B', evs, { startTime: 0, maxPartialMatchesPerKey: 2 });
    expect(canonical(out)).toEqual(canonical([m('B1', { a: 'A2', b: 'B1' }), m('B1', { a: 'A3', b: 'B1' })]));
  });
});
