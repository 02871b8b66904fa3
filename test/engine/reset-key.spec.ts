/**
 * Engine.resetKey: what the checkpoint does with a key whose state outgrew the snapshot bound. The key's
 * partial matches are dropped and counted, the change is reported, and the key starts afresh at its next event
 * (an unpartitioned rule's single instance restarts at once), on both runtimes.
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
