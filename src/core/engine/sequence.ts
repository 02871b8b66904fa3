/**
 * A flat automaton for the most common rule shape — `every a=A(..) -> b=B(..) [-> c=C(..)] [where timer:within(d)]`
 * — where each partial match is one small "run" record instead of a tree of state nodes, and a `within`
 * deadline is checked when an event arrives instead of through a timer. It gives exactly the matches,
 * match order, partial-match counts and drops of the general runtime (states.ts); a property test compares
 * the two on random patterns and streams.
 */
import type { EventRecord, Predicate } from '../expr/types';
import type { CompiledPattern, FilterSpec, NodeSpec } from './automaton';

interface Step {
  type: string;
  slot: number;
  test: Predicate;
  item: number;
  /** Position inside its item (0 = the item's first filter). */
  inner: number;
}

interface Item {
  /** Deadline length for the item, or null when it is not under `timer:within`. */
  withinMs: number | null;
  first: number;
  last: number;
  /** The item groups several filters under one guard (an inner followed-by). */
  grouped: boolean;
}

export interface SequencePlan {
  start: FilterSpec;
  steps: Step[];
  items: Item[];
}

/** The plan when the pattern has the flat shape, else null (the general runtime handles it). */
export function sequencePlan(pattern: CompiledPattern): SequencePlan | null {
  const root = pattern.root;
  if (root.kind !== 'followedBy' || root.children.length < 2 || root.limits.some((l) => l !== null)) return null;
  const head = root.children[0];
  if (head.kind !== 'every' || head.child.kind !== 'filter') return null;
  const steps: Step[] = [];
  const items: Item[] = [];
  const addFilters = (filters: NodeSpec[], withinMs: number | null, grouped: boolean): boolean => {
    if (!filters.every((f) => f.kind === 'filter')) return false;
    const item = items.length;
    items.push({ withinMs, first: steps.length, last: steps.length + filters.length - 1, grouped });
    filters.forEach((f, inner) => {
      const spec = f as FilterSpec;
      steps.push({ type: spec.eventType, slot: spec.slot, test: spec.test, item, inner });
    });
    return true;
  };
  for (const child of root.children.slice(1)) {
    if (child.kind === 'filter') {
      addFilters([child], null, false);
    } else if (child.kind === 'guard' && child.guard.kind === 'within') {
      const inner = child.child;
      if (inner.kind === 'filter') {
        if (!addFilters([inner], child.guard.ms, false)) return null;
      } else if (inner.kind === 'followedBy' && inner.limits.every((l) => l === null)) {
        if (!addFilters(inner.children, child.guard.ms, true)) return null;
      } else return null;
    } else return null;
  }
  return { start: head.child, steps, items };
}

/** One partial match. */
export class Run {
  active = true;
  /** The key whose runs this is (set when the run is created). */
  owner!: SequenceKey;
  /** The run holds an inner partial node (a grouped item past its first filter). */
  hasInner = false;
  /** Generations of the run's partial nodes: a token of an older generation is closed. */
  outerGen = 0;
  innerGen = 0;
  constructor(
    public bindings: unknown[],
    public step: number,
    public deadline: number,
    /** Registration number in its type list: the order in which the general runtime offers it events. */
    public reg: number,
  ) {}
}

/**
 * The general runtime counts a partial match per followed-by child past the first, and drops the one it
 * opened earliest. A run holds one such node for its item, plus one for a grouped item past its first filter.
 */
interface PartialToken {
  run: Run;
  inner: boolean;
  gen: number;
}

function tokenValid(t: PartialToken): boolean {
  const r = t.run;
  return r.active && (t.inner ? r.hasInner && r.innerGen === t.gen : r.outerGen === t.gen);
}

/** Runs waiting for one event type, in registration order; an entry is live while its run keeps that reg. */
interface RunList {
  runs: Run[];
  regs: number[];
  dead: number;
}

/**
 * A FIFO of (run, number) pairs in two parallel arrays that are reused, never shrunk: entries are written at
 * `tail` and read at `head`. This sits on the per-run path, so it allocates nothing per entry.
 */
class PairQueue {
  protected runs: Array<Run | undefined> = [];
  protected nums: number[] = [];
  protected head = 0;
  protected tail = 0;

  get size(): number {
    return this.tail - this.head;
  }

  push(run: Run, n: number): void {
    if (this.tail === this.runs.length && this.head > 0 && this.head * 2 >= this.tail) {
      // Slide the live entries to the front instead of growing the arrays.
      this.runs.copyWithin(0, this.head, this.tail);
      this.nums.copyWithin(0, this.head, this.tail);
      this.runs.fill(undefined, this.tail - this.head, this.tail);
      this.tail -= this.head;
      this.head = 0;
    }
    if (this.tail === this.runs.length) {
      this.runs.push(run);
      this.nums.push(n);
    } else {
      this.runs[this.tail] = run;
      this.nums[this.tail] = n;
    }
    this.tail++;
  }

  /** Discards the first entry. */
  drop(): void {
    this.runs[this.head++] = undefined;
    if (this.head === this.tail) this.head = this.tail = 0;
  }

  protected firstRun(): Run | undefined {
    return this.head < this.tail ? this.runs[this.head] : undefined;
  }

  protected firstNum(): number {
    return this.nums[this.head];
  }

  protected *entries(): IterableIterator<[Run, number]> {
    for (let i = this.head; i < this.tail; i++) yield [this.runs[i]!, this.nums[i]];
  }

  protected reset(entries: Array<[Run, number]>): void {
    this.runs = entries.map((e) => e[0]);
    this.nums = entries.map((e) => e[1]);
    this.head = 0;
    this.tail = entries.length;
  }
}

/** Runs in the order of their deadlines, each with the deadline it had when queued. */
export class RunQueue extends PairQueue {
  /** Deadline of the first entry, or Infinity. */
  nextDeadline(): number {
    return this.head < this.tail ? this.firstNum() : Infinity;
  }

  /** Removes the first entry; returns its run when it still has that deadline (it has not moved on). */
  shift(): Run | undefined {
    const run = this.firstRun();
    const deadline = this.firstNum();
    this.drop();
    return run !== undefined && run.active && run.deadline === deadline ? run : undefined;
  }

  sort(): void {
    this.reset([...this.entries()].sort((a, b) => a[1] - b[1]));
  }
}

/** Partial tokens in opening order: (run, generation), the generation negative for an inner node. */
class TokenQueue extends PairQueue {
  pushToken(run: Run, inner: boolean, gen: number): void {
    this.push(run, inner ? -gen : gen);
  }

  private firstIsOpen(): boolean {
    const run = this.firstRun()!;
    const g = this.firstNum();
    return run.active && (g < 0 ? run.hasInner && run.innerGen === -g : run.outerGen === g);
  }

  /** Drops closed tokens from the front. */
  trimClosed(): void {
    while (this.head < this.tail && !this.firstIsOpen()) this.drop();
  }

  /** Removes and returns the run of the oldest open token. */
  takeOldestOpen(): Run | undefined {
    this.trimClosed();
    const run = this.firstRun();
    if (run !== undefined) this.drop();
    return run;
  }

  *tokens(): IterableIterator<PartialToken> {
    for (const [run, g] of this.entries()) yield { run, inner: g < 0, gen: Math.abs(g) };
  }
}

export interface SequenceHost {
  readonly maxPartialMatchesPerKey: number;
  /** The rule's position in its dispatch group. */
  readonly index: number;
  /** Queue the run to end at its deadline (item's `within` length `withinMs`). */
  scheduleExpiry(run: Run, withinMs: number): void;
  waitingOn(key: SequenceKey, type: string): void;
  emit(key: SequenceKey, bindings: unknown[]): void;
  dropped(): void;
  partialsChanged(delta: number): void;
}

export interface SavedSequenceKey {
  reg: number;
  events: unknown[];
  /** Live runs in registration order. */
  runs: Array<{ b: Array<number | null>; s: number; d: number | null; r: number; i: boolean }>;
  /** Open partial nodes in opening order: [run index, inner]. */
  tokens: Array<[number, boolean]>;
}

/** The runs of one key. */
export class SequenceKey {
  private readonly lists = new Map<string, RunList>();
  private tokens = new TokenQueue();
  private reg = 0;
  private dispatching = false;
  partials = 0;

  constructor(
    readonly key: string | null,
    private readonly plan: SequencePlan,
    private readonly host: SequenceHost,
  ) {}

  /** Offers an event: the start filter (registered first) opens a run, then waiting runs in registration order. */
  offer(event: EventRecord, type: string, now: number, startBindings?: unknown[]): void {
    const before = this.reg;
    this.dispatching = true;
    if (this.plan.start.eventType === type) this.start(event, now, startBindings);
    const list = this.lists.get(type);
    if (list !== undefined) this.resumeRuns(list, before, event, now);
    this.dispatching = false;
    if (list !== undefined) this.maybeCompact(list);
  }

  /** Offers an event to the waiting runs only (the caller knows the start filter does not take this type). */
  resume(event: EventRecord, type: string, now: number): void {
    const list = this.lists.get(type);
    if (list === undefined) return;
    this.dispatching = true;
    this.resumeRuns(list, this.reg, event, now);
    this.dispatching = false;
    this.maybeCompact(list);
  }

  /**
   * Offers the event to the runs registered before it arrived (`reg < before`): a run that enters a step while
   * this event is processed does not see the event, as a filter started meanwhile does not in Esper.
   */
  private resumeRuns(list: RunList, before: number, event: EventRecord, now: number): void {
    const runs = list.runs;
    const regs = list.regs;
    const steps = this.plan.steps;
    for (let i = 0; i < runs.length; i++) {
      const run = runs[i];
      const reg = regs[i];
      if (reg >= before) break; // registrations are in increasing order: the rest are newer
      if (!run.active || run.reg !== reg || run.deadline <= now) continue;
      const step = steps[run.step];
      if (step.test(event, run.bindings)) this.advance(run, step, event, list, now);
    }
  }

  private maybeCompact(list: RunList): void {
    // Never while dispatching: compaction moves entries under the loop that walks them.
    if (!this.dispatching && list.dead > 8 && list.dead * 2 > list.runs.length) this.compact(list);
  }

  /**
   * The start filter: opens a run when the event passes it. `startBindings`, when given, is a bindings array
   * holding just this event at the start tag's slot, shared by the rules of a group (bindings are never mutated).
   */
  start(event: EventRecord, now: number, startBindings?: unknown[]): void {
    const start = this.plan.start;
    if (!start.test(event, EMPTY)) return;
    let bindings = startBindings;
    if (bindings === undefined) {
      bindings = [];
      if (start.slot >= 0) bindings[start.slot] = event;
    }
    const run = new Run(bindings, 0, Infinity, -1);
    run.owner = this;
    this.enterItem(run, 0, now);
    this.register(run);
    this.openOuter(run);
  }

  private compact(list: RunList): void {
    const runs = list.runs;
    const regs = list.regs;
    let w = 0;
    for (let i = 0; i < runs.length; i++) {
      const r = runs[i];
      if (r.active && r.reg === regs[i]) {
        runs[w] = r;
        regs[w] = regs[i];
        w++;
      }
    }
    runs.length = w;
    regs.length = w;
    list.dead = 0;
  }




  private advance(run: Run, step: Step, event: EventRecord, list: RunList, now: number): void {
    const bindings = run.bindings.slice();
    if (step.slot >= 0) bindings[step.slot] = event;
    run.bindings = bindings;
    list.dead++;
    const next = run.step + 1;
    if (next === this.plan.steps.length) {
      this.finish(run);
      this.host.emit(this, bindings);
      return;
    }
    const nextStep = this.plan.steps[next];
    if (nextStep.inner === 0) {
      // Leaving the item closes its partial nodes; entering the next opens one.
      this.closeNodes(run);
      this.enterItem(run, nextStep.item, now);
      this.register(run);
      this.openOuter(run);
    } else {
      run.step = next;
      this.register(run);
      if (run.hasInner) this.changePartials(-1);
      run.hasInner = true;
      run.innerGen++;
      this.openToken(run, true, run.innerGen);
    }
  }

  private enterItem(run: Run, item: number, now: number): void {
    const spec = this.plan.items[item];
    run.step = spec.first;
    run.deadline = spec.withinMs === null ? Infinity : now + spec.withinMs;
    if (spec.withinMs !== null) this.host.scheduleExpiry(run, spec.withinMs);
  }

  private register(run: Run): void {
    const type = this.plan.steps[run.step].type;
    let list = this.lists.get(type);
    if (list === undefined) {
      this.lists.set(type, (list = { runs: [], regs: [], dead: 0 }));
      this.host.waitingOn(this, type);
    } else {
      this.maybeCompact(list);
    }
    run.reg = this.reg++;
    list.runs.push(run);
    list.regs.push(run.reg);
  }

  private openOuter(run: Run): void {
    run.outerGen++;
    this.openToken(run, false, run.outerGen);
  }

  private openToken(run: Run, inner: boolean, gen: number): void {
    // Closed tokens leave from the front, so the queue holds about as many tokens as open partial matches.
    this.tokens.trimClosed();
    this.tokens.pushToken(run, inner, gen);
    this.changePartials(1);
    if (this.partials > this.host.maxPartialMatchesPerKey) this.dropOldest();
  }

  private closeNodes(run: Run): void {
    let open = 0;
    if (run.outerGen > 0) open++;
    if (run.hasInner) open++;
    run.outerGen++; // invalidates the open outer token
    run.hasInner = false;
    this.changePartials(-open);
  }

  private changePartials(delta: number): void {
    if (delta === 0) return;
    this.partials += delta;
    this.host.partialsChanged(delta);
  }



  private dropOldest(): void {
    const run = this.tokens.takeOldestOpen();
    if (run === undefined) return;
    this.host.dropped();
    this.kill(run);
  }

  /** The run ends (matched, expired, dropped): its partial nodes close. */
  private finish(run: Run): void {
    run.active = false;
    this.closeNodes(run);
  }

  kill(run: Run): void {
    if (!run.active) return;
    this.finish(run);
    const list = this.lists.get(this.plan.steps[run.step].type);
    if (list) list.dead++;
  }

  /** Ends a run whose deadline passed (what the general runtime's within-timer does). */
  expire(run: Run): void {
    this.kill(run);
  }

  get ruleIndex(): number {
    return this.host.index;
  }

  /** Event types some run of this key has waited for. */
  waitingTypes(): string[] {
    return [...this.lists.keys()];
  }

  /** Whether a run may be waiting for this type (entries are cleaned lazily). */
  hasWaiting(type: string): boolean {
    const list = this.lists.get(type);
    return list !== undefined && list.runs.length > list.dead;
  }

  save(): SavedSequenceKey {
    const events: unknown[] = [];
    const index = new Map<unknown, number>();
    const ref = (e: unknown): number => {
      let i = index.get(e);
      if (i === undefined) {
        index.set(e, (i = events.length));
        events.push(e);
      }
      return i;
    };
    const live: Run[] = [];
    for (const list of this.lists.values()) {
      for (let i = 0; i < list.runs.length; i++) {
        const r = list.runs[i];
        if (r.active && r.reg === list.regs[i]) live.push(r);
      }
    }
    live.sort((a, b) => a.reg - b.reg);
    const pos = new Map(live.map((r, i) => [r, i]));
    const tokens: Array<[number, boolean]> = [];
    for (const t of this.tokens.tokens()) if (tokenValid(t)) tokens.push([pos.get(t.run)!, t.inner]);
    return {
      reg: this.reg,
      events,
      runs: live.map((r) => ({
        b: Array.from({ length: r.bindings.length }, (_, i) => (r.bindings[i] === undefined ? null : ref(r.bindings[i]))),
        s: r.step,
        d: r.deadline === Infinity ? null : r.deadline,
        r: r.reg,
        i: r.hasInner,
      })),
      tokens,
    };
  }

  /** Restores saved runs; the caller re-sorts the expiry queues afterwards (restored deadlines come unordered). */
  restore(saved: SavedSequenceKey): void {
    this.reg = saved.reg;
    const runs = saved.runs.map((s) => {
      const b: unknown[] = s.b.map((i) => (i === null ? undefined : saved.events[i]));
      const run = new Run(b, s.s, s.d === null ? Infinity : s.d, s.r);
      run.owner = this;
      run.hasInner = s.i;
      const type = this.plan.steps[s.s].type;
      let list = this.lists.get(type);
      if (list === undefined) this.lists.set(type, (list = { runs: [], regs: [], dead: 0 }));
      list.runs.push(run);
      list.regs.push(run.reg);
      const withinMs = this.plan.items[this.plan.steps[s.s].item].withinMs;
      if (s.d !== null && withinMs !== null) this.host.scheduleExpiry(run, withinMs);
      return run;
    });
    for (const [i, inner] of saved.tokens) {
      const run = runs[i];
      const gen = inner ? ++run.innerGen : ++run.outerGen;
      this.tokens.pushToken(run, inner, gen);
      this.changePartials(1);
    }
  }

  /** Ends every run without output (the key's state is being discarded). */
  clear(): void {
    for (const list of this.lists.values()) {
      for (let i = 0; i < list.runs.length; i++) {
        const r = list.runs[i];
        if (r.active && r.reg === list.regs[i]) this.finish(r);
      }
    }
    this.lists.clear();
    this.tokens = new TokenQueue();
  }
}

const EMPTY: unknown[] = [];

