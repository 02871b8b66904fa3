/** Cases that once broke the flat sequence automaton, run on both runtimes. */
import { Engine, MatchRecord, compileRule } from '../../src/core/engine';
import { ruleOf } from '../support/pattern-harness';

function run(pattern: string, events: Array<Record<string, unknown>>, fast: boolean): MatchRecord[] {
  const engine = new Engine({ sequenceFastPath: fast });
  engine.addRule(compileRule(ruleOf(pattern)));
  return events.flatMap((e) => engine.process(e));
}

describe('sequence automaton regressions', () => {
  it('matches the reported alarm stream that crashed replay, exactly like the general runtime', () => {
    const events = [{"type": "alarm", "zone": "south", "level": 1, "timestamp": 1700000350281}, {"type": "alarm", "zone": "south", "level": 3, "timestamp": 1700000382732}, {"type": "alarm", "zone": "north", "level": 2, "timestamp": 1700003076644}, {"type": "alarm", "zone": "north", "level": 0, "timestamp": 1700003135728}, {"type": "alarm", "zone": "north", "level": 3, "timestamp": 1700003241898}, {"type": "alarm", "zone": "north", "level": 2, "timestamp": 1700003262963}, {"type": "alarm", "zone": "north", "level": 2, "timestamp": 1700003284601}, {"type": "alarm", "zone": "north", "level": 4, "timestamp": 1700003321302}, {"type": "alarm", "zone": "south", "level": 2, "timestamp": 1700003344183}, {"type": "alarm", "zone": "south", "level": 0, "timestamp": 1700003581167}];
    const pattern = 'every a=alarm -> b=alarm(zone = a.zone and level > a.level) where timer:within(3 min)';
    const fast = run(pattern, events, true);
    expect(fast).toEqual(run(pattern, events, false));
    // Worked out by hand: each alarm pairs with the first later alarm of its zone with a higher level within 3 min.
    expect(fast.map((m) => [m.events.a, m.events.b].map((e) => (e as { level: number }).level))).toEqual([
      [1, 3],
      [2, 3],
      [0, 3],
      [3, 4],
      [2, 4],
      [2, 4],
    ]);
  });

  it('within(0): an event at the same instant still completes the run, on both runtimes', () => {
    const events = [
      { type: 'A', n: 1, timestamp: 1000 },
      { type: 'B', n: 1, timestamp: 1000 },
      { type: 'B', n: 2, timestamp: 2000 },
    ];
    for (const pattern of ['every a=A -> b=B where timer:within(0 sec)', 'every a=A -> (b=B -> c=B) where timer:within(0 msec)']) {
      const fast = run(pattern, events, true);
      expect({ pattern, fast }).toEqual({ pattern, fast: run(pattern, events, false) });
    }
    expect(run('every a=A -> b=B where timer:within(0 sec)', events, true).map((m) => (m.events.b as { n: number }).n)).toEqual([1]);
  });
});
