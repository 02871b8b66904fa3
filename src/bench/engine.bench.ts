/**
 * npm run bench:engine — replays the stock dataset through patterns of rising difficulty (engine only:
 * events are parsed before the clock starts) and prints events/s, matches, peak partial matches and heap.
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
}

main();
