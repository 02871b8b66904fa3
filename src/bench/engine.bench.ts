/**
 * npm run bench:engine — replays the stock dataset through patterns of rising difficulty (engine only:
 * events are parsed before the clock starts) and prints events/s, matches, peak partial matches and heap;
 * then the memory of a million distinct keys, and how long changing one rule among many blocks the engine.
 */
import { Engine, compileRule } from '../core/engine';
import { RuleDefinition, ruleDefinition } from '../core/rules/rule';
import { StockEvent, loadStocks } from './stocks';

interface BenchCase {
  name: string;
  patterns: string[];
}

const CASES: BenchCase[] = [
  { name: 'seq2-within', patterns: ['every a=BUY -> b=SELL(price > a.price) where timer:within(1 sec)'] },
  {
    name: 'seq3-within',
    patterns: ['every a=BUY -> (b=SELL(price > a.price) -> c=BUY(price > b.price)) where timer:within(2 sec)'],
  },
  {
    name: 'every-every-bounded',
    patterns: ['every a=BUY -> (every b=SELL(price > a.price)) where timer:within(500 msec)'],
  },
  { name: 'absence', patterns: ['every a=BUY -> (timer:interval(500 msec) and not SELL)'] },
  {
    name: '100-rules',
    patterns: Array.from(
      { length: 100 },
      (_, i) => `every a=BUY(volume > ${i * 10}) -> b=SELL(price > a.price + ${(i % 10) / 100}) where timer:within(1 sec)`,
    ),
  },
];

function rule(id: string, pattern: string): RuleDefinition {
  return ruleDefinition(id, pattern, { partitionBy: 'symbol' });
}

function run(c: BenchCase, events: StockEvent[]) {
  const engine = new Engine();
  c.patterns.forEach((p, i) => engine.addRule(compileRule(rule(`r${i}`, p))));
  let matches = 0;
  let peakPartials = 0;
  let peakHeap = process.memoryUsage().heapUsed;
  const sampleEvery = 4096;
  const start = process.hrtime.bigint();
  for (let i = 0; i < events.length; i++) {
    matches += engine.process(events[i]).length;
    if ((i & (sampleEvery - 1)) === 0) {
      let partials = 0;
      for (const n of engine.stats().partialMatches.values()) partials += n;
      if (partials > peakPartials) peakPartials = partials;
      const heap = process.memoryUsage().heapUsed;
      if (heap > peakHeap) peakHeap = heap;
    }
  }
  const seconds = Number(process.hrtime.bigint() - start) / 1e9;
  return { eventsPerSecond: events.length / seconds, matches, peakPartials, peakHeapMiB: peakHeap / 1048576, seconds };
}

/** A rule of many that differ only in their thresholds (one family on the sequence automaton). */
function familyPattern(i: number): string {
  return `every a=BUY(volume > ${i % 50}) -> b=SELL(price > a.price + ${(i % 10) / 100}) where timer:within(30 sec)`;
}

function msSince(start: bigint): number {
  return Number(process.hrtime.bigint() - start) / 1e6;
}

/**
 * How long changing one rule blocks the engine while many similar rules hold partial matches: removing a
 * rule from the middle, adding it back, removing the last one, then the matches of the events after.
 */
function ruleChange(ruleCount: number, events: StockEvent[], fed: number) {
  const engine = new Engine();
  const add = (i: number) => engine.addRule(compileRule(rule(`r${i}`, familyPattern(i))));
  for (let i = 0; i < ruleCount; i++) add(i);
  for (let i = 0; i < fed; i++) engine.process(events[i]);
  let partials = 0;
  for (const n of engine.stats().partialMatches.values()) partials += n;
  let t = process.hrtime.bigint();
  engine.removeRule('r5');
  const removeMs = msSince(t);
  t = process.hrtime.bigint();
  add(5);
  const addMs = msSince(t);
  t = process.hrtime.bigint();
  engine.removeRule(`r${ruleCount - 1}`);
  const removeLastMs = msSince(t);
  let matchesAfter = 0;
  for (let i = fed; i < fed + 20_000; i++) matchesAfter += engine.process(events[i]).length;
  return { partials, removeMs, addMs, removeLastMs, matchesAfter };
}

/**
 * Memory with many distinct keys: each of `users` users logs in once, and the rule's partial match for it ends
 * 10 s later (one login every 10 ms). With reclaimFreshKeys the engine frees the keys that hold only what a
 * new key would; without it every user seen stays.
 */
function distinctKeys(pattern: string, users: number, reclaim: boolean) {
  (globalThis as { gc?: () => void }).gc?.();
  const heapBefore = process.memoryUsage().heapUsed;
  const engine = new Engine({ reclaimFreshKeys: reclaim });
  engine.addRule(compileRule(ruleDefinition('r0', pattern, { partitionBy: 'user' })));
  let peakKeys = 0;
  const start = process.hrtime.bigint();
  for (let i = 0; i < users; i++) {
    engine.process({ type: 'login', user: `user${i}`, country: 'FR', timestamp: i * 10 });
    if ((i & 4095) === 0) peakKeys = Math.max(peakKeys, engine.residentKeysByRule().get('r0')!);
  }
  const seconds = Number(process.hrtime.bigint() - start) / 1e9;
  (globalThis as { gc?: () => void }).gc?.();
  const heapMiB = (process.memoryUsage().heapUsed - heapBefore) / 1048576;
  return { eventsPerSecond: users / seconds, peakKeys, keysAtEnd: engine.residentKeysByRule().get('r0')!, heapMiB, freed: engine.reclaimedKeyCount };
}

function main(): void {
  const only = process.argv[2];
  const t0 = Date.now();
  const events = loadStocks();
  console.log(`loaded ${events.length} stock events in ${Date.now() - t0} ms (node ${process.version})`);
  console.log('case                  events/s    matches  peak-partials  peak-heap-MiB');
  for (const c of CASES) {
    if (only && c.name !== only) continue;
    run(c, events); // warm-up: lets the JIT settle so the measured run is steady-state
    const r = run(c, events);
    console.log(
      `${c.name.padEnd(20)} ${Math.round(r.eventsPerSecond).toLocaleString('en-US').padStart(11)} ${String(r.matches).padStart(10)} ${String(r.peakPartials).padStart(14)} ${r.peakHeapMiB.toFixed(1).padStart(14)}`,
    );
  }
  if (!only || only === 'distinct-keys') {
    const users = 1_000_000;
    console.log(`\ndistinct-keys: ${users.toLocaleString('en-US')} users, one login each, 10 ms apart; heap retained at the end${(globalThis as { gc?: unknown }).gc ? '' : ' (run with --expose-gc for exact heap figures)'}`);
    console.log('runtime   reclaim     events/s   peak-keys  keys-at-end  keys-freed  heap-MiB');
    for (const [runtime, pattern] of [
      ['sequence', "every a=login -> b=purchase(country != a.country) where timer:within(10 sec)"],
      ['general', "every a=login -> (b=purchase(country != a.country) and not logout) where timer:within(10 sec)"],
    ]) {
      for (const reclaim of [false, true]) {
        const r = distinctKeys(pattern, users, reclaim);
        console.log(
          `${runtime.padEnd(9)} ${String(reclaim).padEnd(7)} ${Math.round(r.eventsPerSecond).toLocaleString('en-US').padStart(12)} ${String(r.peakKeys).padStart(11)} ${String(r.keysAtEnd).padStart(12)} ${String(r.freed).padStart(11)} ${r.heapMiB.toFixed(1).padStart(9)}`,
        );
      }
    }
  }
  if (only && only !== 'rule-change') return;
  const fed = 60_000;
  console.log(`\nrule-change: similar rules holding partial matches after ${fed.toLocaleString('en-US')} events; ms the engine is blocked`);
  console.log('rules  partials  remove-r5-ms  add-r5-ms  remove-last-ms  matches-next-20k');
  for (const n of [200, 940]) {
    const r = ruleChange(n, events, fed);
    console.log(
      `${String(n).padStart(5)} ${String(r.partials).padStart(9)} ${r.removeMs.toFixed(1).padStart(13)} ${r.addMs.toFixed(1).padStart(10)} ${r.removeLastMs.toFixed(1).padStart(15)} ${String(r.matchesAfter).padStart(17)}`,
    );
  }
}

main();
