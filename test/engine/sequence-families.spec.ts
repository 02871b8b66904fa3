/**
 * Several sequence rules in one engine: rules whose plans differ only in predicates share runs on the fast
 * path (a family), and must still be indistinguishable from the general runtime, rule by rule: the same
 * matches in the same order (rule order for one event), partial-match counts and drops, snapshots per
 * (rule, key), and rules added or removed while others hold state.
 */
import fc from 'fast-check';
import { Engine, KeySnapshot, MatchRecord, compileRule } from '../../src/core/engine';
import { TYPES, keyedStreamArb, sequenceRulesArb, timedEvents } from '../../src/core/engine/testing/arbitraries';
import { ruleOf } from '../support/pattern-harness';

const rulesArb = sequenceRulesArb;
const streamArb = keyedStreamArb({ keys: ['k1', 'k2'], gaps: [0, 100, 400, 700, 1500], maxLength: 50 });
const timed = timedEvents;

function engineOf(patterns: string[], fast: boolean, partitioned: boolean, max: number): Engine {
  const engine = new Engine({ startTime: 0, maxPartialMatchesPerKey: max, sequenceFastPath: fast });
  patterns.forEach((p, i) => engine.addRule(compileRule(ruleOf(p, { id: `r${i}`, partitionBy: partitioned ? 'k' : undefined }))));
  return engine;
}

function counts(engine: Engine) {
  const s = engine.stats();
  return engine.ruleIds().map((id) => [id, s.partialMatches.get(id), s.dropped.get(id)!.get('max_partial_matches_per_key') ?? 0]);
}

const strip = (ms: MatchRecord[]) => JSON.parse(JSON.stringify(ms));

/** Each sequence rule's family object (engine internals). */
function families(engine: Engine): unknown[] {
  return [...(engine as unknown as { rules: Map<string, { fam?: unknown }> }).rules.values()].map((r) => r.fam);
}

/** Families numbered in order of first appearance. */
function familyIndexes(engine: Engine): number[] {
  const seen: unknown[] = [];
  return families(engine).map((f) => {
    if (!seen.includes(f)) seen.push(f);
    return seen.indexOf(f);
  });
}

describe('sequence rules sharing runs', () => {
  it('form families only for plans that differ in predicates alone', () => {
    const engine = engineOf(
      [
        'every a=A(x > 1) -> b=B(x > a.x) where timer:within(1 sec)',
        'every a=A -> b=B(x = a.x) where timer:within(1 sec)',
        'every a=A -> b=B where timer:within(2 sec)',
        'every a=A -> (b=B -> c=C) where timer:within(1 sec)',
        'every a=A -> (b=B -> c=C) where timer:within(1 sec)',
      ],
      true,
      true,
      10_000,
    );
    expect(familyIndexes(engine)).toEqual([0, 0, 1, 2, 3]);
  });

  it('keep a family (and its shared runs) when rules join it or leave it', () => {
    const engine = engineOf(['every a=A -> b=B(x > a.x) where timer:within(1 sec)', 'every a=A -> b=B where timer:within(1 sec)'], true, true, 10_000);
    engine.process({ type: 'A', x: 1, k: 'k1', timestamp: 0 });
    const before = families(engine)[0];
    engine.addRule(compileRule(ruleOf('every a=C -> b=B', { id: 'other', partitionBy: 'k' })));
    engine.addRule(compileRule(ruleOf('every a=A(x > 0) -> b=B(x > a.x) where timer:within(1 sec)', { id: 'same', partitionBy: 'k' })));
    expect(familyIndexes(engine)).toEqual([0, 0, 1, 0]);
    expect(families(engine)[0]).toBe(before);
    engine.process({ type: 'A', x: 3, k: 'k1', timestamp: 5 });
    expect(engine.process({ type: 'B', x: 2, k: 'k1', timestamp: 10 }).map((m) => m.rule)).toEqual(['r0', 'r1', 'r1']);
    engine.removeRule('r1');
    expect(families(engine)[0]).toBe(before);
    expect(engine.stats().partialMatches).toEqual(new Map([['r0', 1], ['other', 0], ['same', 1]]));
    expect(engine.process({ type: 'B', x: 4, k: 'k1', timestamp: 20 }).map((m) => m.rule)).toEqual(['r0', 'same']);
  });

  it('keep sharing runs among the rules that stay when one leaves (no unshared copies)', () => {
    const patterns = Array.from({ length: 20 }, (_, i) => `every a=A(x > ${i % 3}) -> b=B(x > a.x) where timer:within(10 sec)`);
    const engine = engineOf(patterns, true, true, 10_000);
    for (let t = 0; t < 50; t++) engine.process({ type: 'A', x: 5, k: `k${t % 4}`, timestamp: t });
    const runsOf = (e: Engine) => {
      const fam = families(e)[0] as { keys: Map<unknown, { lists: Array<{ runs: unknown[]; regs: number[] }> }> };
      let live = 0;
      for (const fk of fam.keys.values()) for (const l of fk.lists) l.runs.forEach((r, i) => (live += (r as { reg: number }).reg === l.regs[i] ? 1 : 0));
      return live;
    };
    expect(runsOf(engine)).toBe(50);
    engine.removeRule('r3');
    engine.removeRule('r0');
    expect(runsOf(engine)).toBe(50);
    expect(engine.stats().partialMatches.get('r1')).toBe(50);
    const matched = engine.process({ type: 'B', x: 9, k: 'k1', timestamp: 60 }).map((m) => m.rule);
    expect(new Set(matched)).toEqual(new Set(patterns.map((_, i) => `r${i}`).filter((id) => id !== 'r0' && id !== 'r3')));
    expect(matched).toHaveLength(18 * 13);
  });

  it('give the general runtime’s matches, order, partial counts and drops, rule by rule', () => {
    fc.assert(
      fc.property(rulesArb, streamArb, fc.boolean(), fc.constantFrom(1, 2, 3, 10_000), (patterns, stream, partitioned, max) => {
        const events = timed(stream);
        const fast = engineOf(patterns, true, partitioned, max);
        const general = engineOf(patterns, false, partitioned, max);
        for (const e of events) {
          expect(strip(fast.process(e))).toEqual(strip(general.process(e)));
          expect(counts(fast)).toEqual(counts(general));
        }
      }),
      { numRuns: 300 },
    );
  });

  it('snapshot per (rule, key), restore in any order, and continue exactly like never stopping', () => {
    fc.assert(
      fc.property(
        rulesArb,
        streamArb,
        fc.nat(),
        fc.boolean(),
        fc.constantFrom(1, 3, 10_000),
        fc.nat(),
        (patterns, stream, cutSeed, partitioned, max, orderSeed) => {
          const events = timed(stream);
          const cut = events.length === 0 ? 0 : cutSeed % (events.length + 1);
          const whole = engineOf(patterns, true, partitioned, max);
          const expected: MatchRecord[] = [];
          for (const e of events) expected.push(...whole.process(e));
          expected.push(...whole.advanceTo(100_000));

          const first = engineOf(patterns, true, partitioned, max);
          const actual: MatchRecord[] = [];
          for (const e of events.slice(0, cut)) actual.push(...first.process(e));
          const saved = JSON.stringify({
            time: first.isStarted ? first.now : null,
            rules: first.ruleIds().map((id) => [id, first.keys(id).map((k) => [k, first.snapshotKey(id, k)])]),
          });

          const second = engineOf(patterns, true, partitioned, max);
          const { time, rules } = JSON.parse(saved) as {
            time: number | null;
            rules: Array<[string, Array<[string | null, KeySnapshot]>]>;
          };
          const order = rules.map((_, i) => i).sort((a, b) => ((a * 7919 + orderSeed) % 13) - ((b * 7919 + orderSeed) % 13));
          for (const i of order) for (const [k, snap] of rules[i][1]) second.restoreKey(rules[i][0], k, snap);
          if (time !== null) second.setTime(time);
          // Restoring changes nothing: each key snapshots to what was saved.
          for (const [id, keys] of rules) for (const [k, snap] of keys) expect(second.snapshotKey(id, k)).toEqual(snap);
          // Drop counters are statistics of the engine, not state of a key: compare the partial matches.
          expect(counts(second).map((c) => c.slice(0, 2))).toEqual(counts(first).map((c) => c.slice(0, 2)));
          for (const e of events.slice(cut)) actual.push(...second.process(e));
          actual.push(...second.advanceTo(100_000));
          expect(strip(actual)).toEqual(strip(expected));
        },
      ),
      { numRuns: 300 },
    );
  });

  it('keep every rule’s state when rules are added or removed', () => {
    const changes = fc.array(fc.record({ at: fc.nat(), rule: fc.nat(), add: fc.boolean() }), { maxLength: 6 });
    fc.assert(
      fc.property(rulesArb, rulesArb, streamArb, changes, fc.constantFrom(1, 3, 10_000), (patterns, extra, stream, plan, max) => {
        const events = timed(stream);
        const fast = engineOf(patterns, true, true, max);
        const general = engineOf(patterns, false, true, max);
        let added = 0;
        events.forEach((e, i) => {
          for (const change of plan) {
            if (change.at % events.length !== i) continue;
            const ids = fast.ruleIds();
            // Adding takes the next extra pattern; removing takes any rule, one just added included.
            const pattern = extra[added % extra.length];
            const id = `x${added}`;
            if (change.add) added++;
            for (const engine of [fast, general]) {
              if (change.add) engine.addRule(compileRule(ruleOf(pattern, { id, partitionBy: 'k' })));
              else if (ids.length > 0) engine.removeRule(ids[change.rule % ids.length]);
            }
          }
          expect(strip(fast.process(e))).toEqual(strip(general.process(e)));
          expect(counts(fast)).toEqual(counts(general));
        });
      }),
      { numRuns: 200 },
    );
  });

  it('stay equal on long, dense streams (lists and queues compact)', () => {
    const dense = fc.array(
      fc.record({
        type: fc.constantFrom(...TYPES),
        x: fc.integer({ min: 0, max: 5 }),
        k: fc.constantFrom('k1', 'k2'),
        gap: fc.constantFrom(0, 0, 50, 100, 400),
      }),
      { minLength: 100, maxLength: 400 },
    );
    fc.assert(
      fc.property(rulesArb, dense, fc.constantFrom(2, 5, 40, 10_000), (patterns, stream, max) => {
        const events = timed(stream);
        const fast = engineOf(patterns, true, true, max);
        const general = engineOf(patterns, false, true, max);
        for (const e of events) {
          expect(strip(fast.process(e))).toEqual(strip(general.process(e)));
          expect(counts(fast)).toEqual(counts(general));
        }
      }),
      { numRuns: 40 },
    );
  });

  it('report every changed (rule, key): a replica fed only drained changes continues identically', () => {
    fc.assert(
      fc.property(rulesArb, streamArb, fc.nat(), fc.constantFrom(1, 3, 10_000), (patterns, stream, cutSeed, max) => {
        const events = timed(stream);
        const cut = events.length === 0 ? 0 : cutSeed % (events.length + 1);
        const make = () => {
          const engine = new Engine({ startTime: 0, maxPartialMatchesPerKey: max, trackChanges: true });
          patterns.forEach((p, i) => engine.addRule(compileRule(ruleOf(p, { id: `r${i}`, partitionBy: 'k' }))));
          return engine;
        };
        const primary = make();
        const replica = make();
        for (const e of events.slice(0, cut)) {
          primary.process(e);
          for (const c of primary.drainChanges()) {
            if (c.snapshot === null) replica.discardKey(c.rule, c.key);
            else replica.restoreKey(c.rule, c.key, JSON.parse(JSON.stringify(c.snapshot)) as KeySnapshot);
          }
          replica.setTime(primary.now);
        }
        expect(counts(replica).map((c) => c.slice(0, 2))).toEqual(counts(primary).map((c) => c.slice(0, 2)));
        for (const e of events.slice(cut)) expect(strip(replica.process(e))).toEqual(strip(primary.process(e)));
        expect(strip(replica.advanceTo(100_000))).toEqual(strip(primary.advanceTo(100_000)));
      }),
      { numRuns: 300 },
    );
  });

  it('drop the right node after the start queue compacts around a long-lived shared run', () => {
    const patterns = ['every a=A -> b=B(x > a.x)', 'every a=A(x > 4) -> b=B(x > a.x)', 'every a=A(x > 3) -> b=B(x > a.x + 1)'];
    // A(5) opens a run no B can end; 40 short runs end behind it; then A(5)s push past the limit.
    const stream = [{ type: 'A', x: 5 }];
    for (let i = 0; i < 40; i++) stream.push({ type: 'A', x: 0 }, { type: 'B', x: 1 });
    for (let i = 0; i < 6; i++) stream.push({ type: 'A', x: 5 }, { type: 'A', x: 4 }, { type: 'B', x: 2 });
    const events = stream.map((e, i) => ({ ...e, k: 'k1', id: `e${i}`, timestamp: i * 10 }));
    for (const max of [2, 3, 10_000]) {
      const fast = engineOf(patterns, true, true, max);
      const general = engineOf(patterns, false, true, max);
      for (const e of events) {
        expect(strip(fast.process(e))).toEqual(strip(general.process(e)));
        expect(counts(fast)).toEqual(counts(general));
      }
    }
  });

  it('compare strings and mixed values the same way when a family reads its fields once', () => {
    const patterns = [
      'every a=A(x < 3) -> b=B(s > a.s) where timer:within(1 sec)',
      'every a=A(x <= 4) -> b=B(s <= a.s) where timer:within(1 sec)',
      'every a=A(x < 5) -> b=B(s < a.s + 1) where timer:within(1 sec)',
      'every a=A(x >= 1) -> b=B(s >= a.s) where timer:within(1 sec)',
    ];
    const values = ['b', 'a', 1, 2, null, 'c', 'A'];
    const events = Array.from({ length: 120 }, (_, i) => ({
      type: i % 3 === 0 ? 'A' : 'B',
      x: i % 6,
      s: values[(i * 5) % values.length],
      k: 'k1',
      id: `e${i}`,
      timestamp: i * 150,
    }));
    const fast = engineOf(patterns, true, true, 10_000);
    const general = engineOf(patterns, false, true, 10_000);
    let matched = 0;
    for (const e of events) {
      const m = fast.process(e);
      matched += m.length;
      expect(strip(m)).toEqual(strip(general.process(e)));
      expect(counts(fast)).toEqual(counts(general));
    }
    expect(matched).toBeGreaterThan(10);
  });
});
