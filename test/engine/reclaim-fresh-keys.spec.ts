/**
 * reclaimFreshKeys: an engine that frees the keys whose state is what a new key starts with gives exactly the
 * matches of one that keeps every key, on both runtimes, and its memory follows the keys that hold state
 * instead of every key ever seen.
 */
import fc from 'fast-check';
import { Engine, EngineOptions, MatchRecord, compileRule } from '../../src/core/engine';
import { keyedStreamArb, patternArb, sequenceRulesArb, timedEvents } from '../../src/core/engine/testing/arbitraries';
import { ruleOf } from '../support/pattern-harness';

const streamArb = keyedStreamArb({ keys: ['k1', 'k2', 'k3', 'k4', 'k5'], gaps: [0, 200, 600, 1100], maxLength: 60 });

function engineOf(patterns: string[], options: EngineOptions): Engine {
  const engine = new Engine({ startTime: 0, ...options });
  patterns.forEach((p, i) => engine.addRule(compileRule(ruleOf(p, { id: `r${i}`, partitionBy: 'k' }))));
  return engine;
}

const strip = (ms: MatchRecord[]) => JSON.parse(JSON.stringify(ms));

/** Feeds both engines the events, comparing the matches of each step; returns the keys the first freed. */
function sameMatches(patterns: string[], stream: ReturnType<typeof timedEvents>, options: EngineOptions): number {
  const reclaiming = engineOf(patterns, { ...options, reclaimFreshKeys: true, reclaimAfterNewKeys: 1 });
  const keeping = engineOf(patterns, options);
  for (const e of stream) expect(strip(reclaiming.process(e))).toEqual(strip(keeping.process(e)));
  expect(strip(reclaiming.advanceTo(100_000))).toEqual(strip(keeping.advanceTo(100_000)));
  return reclaiming.reclaimedKeyCount;
}

describe('reclaiming keys that hold what a new key would', () => {
  it('changes no match on the general runtime, for random patterns over every operator', () => {
    // Random patterns seldom restart from the top; these do, so their keys keep coming back to a new key's state.
    const restarting = fc.constantFrom(
      'every a=A -> (b=B(x > a.x) and not C) where timer:within(1 sec)',
      'every ((a=A -> b=B(x > a.x)) where timer:within(1 sec))',
      'every a=A -> (every b=B(x > a.x)) where timer:within(500 msec)',
      'every a=A -> (timer:interval(1 sec) and not b=B(x = a.x))',
      'every (a=A or b=B(x > 2))',
      'every [2] a=A(x > 1)',
      'every (a=A and b=B) where timer:within(1 sec)',
      'every a=A -> b=B until c=C',
    );
    let freed = 0;
    fc.assert(
      fc.property(fc.oneof(patternArb(), restarting), streamArb, fc.constantFrom(3, 50), (pattern, stream, max) => {
        freed += sameMatches([pattern], timedEvents(stream), { sequenceFastPath: false, maxPartialMatchesPerKey: max });
      }),
      { numRuns: 400 },
    );
    // Not vacuous: many keys were freed and built again along the way.
    expect(freed).toBeGreaterThan(150);
  });

  it('changes no match on the sequence automaton, for families of rules sharing runs', () => {
    let freed = 0;
    fc.assert(
      fc.property(sequenceRulesArb, streamArb, fc.constantFrom(1, 3, 10_000), (patterns, stream, max) => {
        freed += sameMatches(patterns, timedEvents(stream), { maxPartialMatchesPerKey: max });
      }),
      { numRuns: 300 },
    );
    expect(freed).toBeGreaterThan(400);
  });

  it.each([
    ['sequence automaton', 'every a=A -> b=B(x > a.x) where timer:within(10 sec)'],
    ['general runtime', 'every a=A -> (b=B(x > a.x) and not C) where timer:within(10 sec)'],
    ['general runtime, every restarting a followed-by', 'every (a=A -> b=B(x > a.x) where timer:within(10 sec))'],
  ])('keeps memory to the keys with state while 100,000 users come and go (%s)', (_, pattern) => {
    const engine = engineOf([pattern], { reclaimFreshKeys: true });
    let peak = 0;
    for (let i = 0; i < 100_000; i++) {
      engine.process({ type: 'A', k: `user${i}`, x: 1, timestamp: i * 10 });
      if (i % 1000 === 0) peak = Math.max(peak, engine.residentKeysByRule().get('r0')!);
    }
    // Each user's partial match lasts 10 s, that is 1,000 users; a sweep starts after 10,000 new keys at least.
    expect(peak).toBeLessThan(25_000);
    expect(engine.reclaimedKeyCount).toBeGreaterThan(70_000);
    const keeping = engineOf([pattern], {});
    for (let i = 0; i < 20_000; i++) keeping.process({ type: 'A', k: `user${i}`, x: 1, timestamp: i * 10 });
    expect(keeping.residentKeysByRule().get('r0')).toBe(20_000);
  });

  it.each([
    ['a key whose pattern ended (it must not start again)', 'a=A -> b=B', ['A', 'B']],
    ['a key waiting for its second event', 'a=A -> b=B', ['A']],
    ['a key that has seen a distinct value', 'every-distinct(a.x) a=A', ['A']],
    ['a key whose new instance starts a timer', 'every (a=A where timer:within(1 hour))', ['A']],
  ])('keeps %s', (_, pattern, types) => {
    const engine = engineOf([pattern as string], { reclaimFreshKeys: true, reclaimAfterNewKeys: 1 });
    let t = 0;
    for (let i = 0; i < 50; i++) for (const type of types as string[]) engine.process({ type, k: `user${i}`, x: i, timestamp: t++ });
    expect(engine.reclaimedKeyCount).toBe(0);
    expect(engine.residentKeysByRule().get('r0')).toBe(50);
  });

  it('is off with trackChanges: checkpointed engines evict cold keys to their store instead', () => {
    const engine = engineOf(['every a=A -> b=B where timer:within(1 sec)'], { reclaimFreshKeys: true, reclaimAfterNewKeys: 1, trackChanges: true });
    for (let i = 0; i < 100; i++) engine.process({ type: 'A', k: `user${i}`, timestamp: i * 2000 });
    expect(engine.reclaimsFreshKeys).toBe(false);
    expect(engine.residentKeysByRule().get('r0')).toBe(100);
  });
});
