/**
 * What the checkpoint does with a key whose state outgrew the snapshot bound, on both runtimes.
 * Engine.trimKey drops the key's oldest partial matches (counted) and keeps the newest, as the per-key cap
 * does. Engine.resetKey drops them all and the key starts afresh at its next event (an unpartitioned rule's
 * single instance restarts at once). Both report the key as changed.
 */
import { Engine, compileRule } from '../../src/core/engine';
import { ruleOf } from '../support/pattern-harness';

const runtimes = [
  ['the sequence fast path', true],
  ['the general runtime', false],
] as const;

describe.each(runtimes)('Engine.resetKey on %s', (_name, fast) => {
  const at = (type: string, k: string, x: number, timestamp: number) => ({ type, k, x, timestamp });

  it('drops the key\'s partial matches, counts them, reports the key as changed, and restarts it at its next event', () => {
    const engine = new Engine({ startTime: 0, sequenceFastPath: fast, trackChanges: true });
    engine.addRule(compileRule(ruleOf('every a=A -> b=B(x > a.x)', { partitionBy: 'k' })));
    engine.process(at('A', 'big', 1, 1));
    engine.process(at('A', 'big', 2, 2));
    engine.process(at('A', 'other', 1, 3));
    engine.drainChanges();

    expect(engine.resetKey('test', 'big', 'checkpoint_size_limit')).toBe(2);
    expect(engine.stats().dropped.get('test')!.get('checkpoint_size_limit')).toBe(2);
    expect(engine.stats().partialMatches.get('test')).toBe(1);
    expect(engine.drainChanges()).toEqual([{ rule: 'test', key: 'big', snapshot: null }]);

    // The dropped partial matches cannot complete; a new one can.
    expect(engine.process(at('B', 'big', 9, 4))).toEqual([]);
    engine.process(at('A', 'big', 3, 5));
    expect(engine.process(at('B', 'big', 9, 6)).map((m) => m.events.a)).toEqual([at('A', 'big', 3, 5)]);
    expect(engine.process(at('B', 'other', 9, 7))).toHaveLength(1);
  });

  it('trimKey keeps the newest partial matches, counts the dropped ones, and the kept ones still match', () => {
    const engine = new Engine({ startTime: 0, sequenceFastPath: fast, trackChanges: true });
    engine.addRule(compileRule(ruleOf('every a=A -> b=B(x > a.x)', { partitionBy: 'k' })));
    for (let i = 1; i <= 5; i++) engine.process(at('A', 'hot', i, i));
    engine.drainChanges();
    expect(engine.partialMatchesOf('test', 'hot')).toBe(5);

    expect(engine.trimKey('test', 'hot', 2, 'checkpoint_size_limit')).toBe(3);
    expect(engine.partialMatchesOf('test', 'hot')).toBe(2);
    expect(engine.stats().dropped.get('test')!.get('checkpoint_size_limit')).toBe(3);
    expect(engine.stats().dropped.get('test')!.get('max_partial_matches_per_key') ?? 0).toBe(0);
    expect(engine.drainChanges().map((c) => c.key)).toEqual(['hot']);
    // The two newest A's (x = 4, 5) are left: a B above both matches exactly them.
    const matched = engine.process(at('B', 'hot', 9, 10)).map((m) => (m.events.a as { x: number }).x);
    expect(matched.sort()).toEqual([4, 5]);
    expect(engine.trimKey('test', 'hot', 10, 'checkpoint_size_limit')).toBe(0);
  });

  it('restarts the single instance of an unpartitioned rule at once', () => {
    const engine = new Engine({ startTime: 0, sequenceFastPath: fast, trackChanges: true });
    engine.addRule(compileRule(ruleOf('every a=A -> b=B(x > a.x)')));
    engine.process(at('A', 'k', 1, 1));
    engine.drainChanges();

    expect(engine.resetKey('test', null, 'checkpoint_size_limit')).toBe(1);
    expect(engine.drainChanges().map((c) => c.key)).toEqual([null]);
    expect(engine.process(at('B', 'k', 9, 2))).toEqual([]);
    engine.process(at('A', 'k', 2, 3));
    expect(engine.process(at('B', 'k', 9, 4))).toHaveLength(1);
  });
});
