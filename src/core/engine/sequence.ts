/**
 * A flat automaton for the most common rule shape — `every a=A(..) -> b=B(..) [-> c=C(..)] [where timer:within(d)]`
 * — where each partial match is one small pooled "run" record instead of a tree of state nodes, and a
 * `within` deadline is checked when an event arrives instead of through a timer. Rules that differ only in
 * predicates share runs while at their first step (a family). Per rule it gives exactly the matches, match
 * order, partial-match counts and drops of the general runtime (states.ts); property tests compare the two
 * (test/engine/fast-path-equivalence.spec.ts, sequence-families.spec.ts).
 */
import { linearTest } from '../expr/compile';
import type { EventRecord, Predicate } from '../expr/types';
import type { DropReason } from './api';
import type { CompiledPattern, FilterSpec, NodeSpec } from './automaton';

interface Step {
  type: string;
  slot: number;
  test: Predicate;
  /** The step's filter has a condition: it sees an event before the filters without one. */
  conditional: boolean;
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

/** Bits of SequenceFamily.typeSteps: the type has steps with a condition, without one. */
const CONDITIONAL_STEPS = 1;
const UNCONDITIONAL_STEPS = 2;

export interface SequencePlan {
  start: FilterSpec;
  steps: Step[];
  items: Item[];
}

/**
 * The plan when the pattern has the flat shape, else null (the general runtime handles it). `before` gives
 * the answer of versions before 2026-11-24, which also took zero-length and calendar `within`s (see
 * stateRuntimeMarker).
 */
export function sequencePlan(pattern: CompiledPattern, before = false): SequencePlan | null {
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
      steps.push({ type: spec.eventType, slot: spec.slot, test: spec.test, conditional: spec.conditional, item, inner });
    });
    return true;
  };
  for (const child of root.children.slice(1)) {
    if (child.kind === 'filter') {
      addFilters([child], null, false);
    } else if (child.kind === 'guard' && child.guard.kind === 'within') {
      // A zero-length window ends on the general runtime's timer when the clock next moves, so an event at the
      // same instant still gets in; the flat automaton expires runs at `deadline <= now` and would miss it.
      // Calendar periods (months, years) have no fixed length, which its per-length expiry queues need.
      // A computed period (`timer:within(a.ttl sec)`) is decided per run as it starts: general runtime too.
      if (child.guard.computed) return null;
      if (!before && (!(child.guard.ms > 0) || child.guard.calendar)) return null;
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

/**
 * What a rule's state version must also cover, beyond its definition: '' for almost every rule, 'general'
 * for a pattern that versions before 2026-11-24 ran on the sequence fast path and this one runs on the
 * general runtime (a zero-length or calendar `within`). The two runtimes store a key differently, so such a
 * rule's stored state must not be read by the other runtime: a new version starts it afresh on an upgrade,
 * and an older replica (a rollback) sees the state of another version and drops it.
 */
export function stateRuntimeMarker(pattern: CompiledPattern): string {
  return sequencePlan(pattern) === null && sequencePlan(pattern, true) !== null ? 'general' : '';
}

/**
 * Rules whose plans differ only in their conditions form a family: while at the first step (a single
 * filter), one run serves every rule of the family whose start filter passed. A rule leaves a shared run
 * when it advances, is dropped, or the run expires. A grouped first item would need a shared run to hand its
 * open outer node to the split-off run, so such plans get a family of their own.
 */
export function planShape(plan: SequencePlan): string | null {
  const first = plan.items[0];
  if (first.first !== first.last) return null;
  // Whether a filter has a condition orders it among the filters of its event type (FamilyKey.offer): where
  // a type has several, a family shares that order. Elsewhere members may differ (one rule's order is moot).
  const types = [plan.start.eventType, ...plan.steps.map((s) => s.type)];
  const ordered = (type: string, conditional: boolean): boolean | null =>
    types.indexOf(type) !== types.lastIndexOf(type) ? conditional : null;
  return JSON.stringify([
    plan.start.eventType,
    plan.start.slot,
    ordered(plan.start.eventType, plan.start.conditional),
    plan.steps.map((s) => [s.type, s.slot, ordered(s.type, s.conditional), s.item, s.inner]),
    plan.items.map((i) => [i.withinMs, i.first, i.last, i.grouped]),
  ]);
}

/**
 * One counter for list registrations and partial-node openings. Stamps are never reused, so an entry left
 * behind in a list or queue cannot validate against a pooled run that was reused, and comparing stamps
 * orders node openings (the drop order).
 */
let lastStamp = 0;

/** One partial match, shared by the family rules in `members` (pooled: see lastStamp). */
export class Run {
  fk: FamilyKey | null = null;
  bindings: unknown[] = EMPTY;
  step = 0;
  deadline = Infinity;
  /** Stamp of its live list entry, 0 when free. */
  reg = 0;
  list: RunList | null = null;
  /** Stamps of its open outer and inner partial nodes (0: none). */
  outer = 0;
  inner = 0;
  /**
   * Family positions of its rules in members[0, count), ascending; -1 once a rule has left. The array is
   * reused: shortening it would make V8 shrink its storage, and grow it again for the next run.
   */
  members: number[] = [];
  count = 0;
  live = 0;
  /** Its outer node is in the key's start queue (otherwise in its rule's token queue). */
  inStart = false;

  addMember(m: number): void {
    if (this.count < this.members.length) this.members[this.count] = m;
    else this.members.push(m);
    this.count++;
  }

  hasMember(m: number): boolean {
    return this.indexOf(m) >= 0;
  }

  indexOf(m: number): number {
    for (let j = 0; j < this.count; j++) if (this.members[j] === m) return j;
    return -1;
  }
}

/** Runs waiting for one event type, in registration order; an entry is live while its run keeps that reg. */
class RunList {
  runs: Run[] = [];
  regs: number[] = [];
  /** Entries that are no longer live (exact). */
  dead = 0;
  /** Being iterated: compaction would move entries under the loop. */
  busy = false;
}

/** A FIFO of (run, stamp) pairs in parallel arrays that are reused, never shrunk. */
class StampQueue {
  runs: Array<Run | undefined> = [];
  stamps: number[] = [];
  head = 0;
  tail = 0;
  /** Entries removed from the front so far: absolute position = base + array index. */
  base = 0;

  get size(): number {
    return this.tail - this.head;
  }

  push(run: Run, stamp: number): void {
    if (this.tail === this.runs.length && this.head > 0 && this.head * 2 >= this.tail) this.slide();
    if (this.tail === this.runs.length) {
      this.runs.push(run);
      this.stamps.push(stamp);
    } else {
      this.runs[this.tail] = run;
      this.stamps[this.tail] = stamp;
    }
    this.tail++;
  }

  protected slide(): void {
    const n = this.tail - this.head;
    this.runs.copyWithin(0, this.head, this.tail);
    this.stamps.copyWithin(0, this.head, this.tail);
    this.runs.fill(undefined, n, this.tail);
    this.base += this.head;
    this.tail = n;
    this.head = 0;
  }

  drop(): void {
    this.runs[this.head++] = undefined;
    if (this.head === this.tail) {
      this.base += this.head;
      this.head = this.tail = 0;
    }
  }

  /** Keeps the entries that pass. Positions restart past all earlier ones: one held from before means the head. */
  keep(valid: (run: Run, stamp: number) => boolean): void {
    let w = 0;
    for (let i = this.head; i < this.tail; i++) {
      const r = this.runs[i]!;
      const s = this.stamps[i];
      if (!valid(r, s)) continue;
      this.runs[w] = r;
      this.stamps[w] = s;
      w++;
    }
    this.runs.fill(undefined, w, this.tail);
    this.base += this.tail;
    this.head = 0;
    this.tail = w;
  }
}

/** Open partial nodes of one rule's own runs, in opening order; an inner node's stamp is stored negated. */
class TokenQueue extends StampQueue {
  /** Drops closed nodes from the front. */
  trim(): void {
    while (this.head < this.tail) {
      const run = this.runs[this.head]!;
      const s = this.stamps[this.head];
      if (s < 0 ? run.inner === -s : run.outer === s) return;
      this.drop();
    }
  }
}

/** Runs by deadline for one `within` length, with the outer stamp they had when queued. */
export class ExpiryQueue extends StampQueue {
  deadlines: number[] = [];

  /** `due.next`: no deadline in the queues sharing `due` is earlier (their owner skips them until then). */
  due = { next: Infinity };

  add(run: Run): void {
    if (run.deadline < this.due.next) this.due.next = run.deadline;
    if (this.tail === this.runs.length && this.head > 0 && this.head * 2 >= this.tail) {
      this.deadlines.copyWithin(0, this.head, this.tail);
      this.slide();
    }
    this.deadlines[this.tail] = run.deadline;
    this.push(run, run.outer);
  }

  nextDeadline(): number {
    return this.head < this.tail ? this.deadlines[this.head] : Infinity;
  }

  /** Ends the runs due by `now` (what the general runtime's within-timers do). */
  expire(now: number): void {
    while (this.head < this.tail && this.deadlines[this.head] <= now) {
      const run = this.runs[this.head]!;
      const s = this.stamps[this.head];
      this.drop();
      if (run.outer === s) run.fk!.expire(run);
    }
  }

  /**
   * Keeps only the entries of runs still waiting for that deadline, in order. Others (runs that matched,
   * were dropped or were evicted) would otherwise stay, with their run, until the deadline passes.
   */
  compact(): void {
    let w = 0;
    for (let i = this.head; i < this.tail; i++) {
      const r = this.runs[i]!;
      const s = this.stamps[i];
      if (r.outer !== s) continue;
      this.runs[w] = r;
      this.stamps[w] = s;
      this.deadlines[w] = this.deadlines[i];
      w++;
    }
    this.runs.length = w;
    this.stamps.length = w;
    this.deadlines.length = w;
    this.base += this.tail;
    this.head = 0;
    this.tail = w;
  }

  /** Restored deadlines come unordered. */
  sort(): void {
    const idx: number[] = [];
    for (let i = this.head; i < this.tail; i++) idx.push(i);
    idx.sort((a, b) => this.deadlines[a] - this.deadlines[b] || a - b);
    const runs = idx.map((i) => this.runs[i]!);
    const stamps = idx.map((i) => this.stamps[i]);
    const deadlines = idx.map((i) => this.deadlines[i]);
    this.runs = runs;
    this.stamps = stamps;
    this.deadlines = deadlines;
    this.base += this.head;
    this.head = 0;
    this.tail = runs.length;
  }
}

const OPS = ['<', '<=', '>', '>='];

function compare(code: number, x: number | string, y: number | string): boolean {
  switch (code) {
    case 0:
      return x < y;
    case 1:
      return x <= y;
    case 2:
      return x > y;
    default:
      return x >= y;
  }
}

/**
 * The members' tests at one filter when all are linear (expr/compile.ts LinearTest) over the same reads: read
 * x and y once, then compare per member. A test without y is `x op 0 + d`: adding to 0 changes no comparison.
 */
class LinearBatch {
  private constructor(
    readonly xTag: number,
    readonly xKey: string,
    /** -2 when the tests have no y. */
    readonly yTag: number,
    readonly yKey: string,
    readonly codes: number[],
    readonly ds: number[],
    readonly strings: boolean[],
  ) {}

  static of(tests: Predicate[]): LinearBatch | null {
    if (tests.length < 2) return null;
    const ts = tests.map(linearTest);
    const t0 = ts[0];
    if (t0 === undefined) return null;
    const same = ts.every(
      (t) =>
        t !== undefined &&
        t.x.tag === t0.x.tag &&
        t.x.key === t0.x.key &&
        (t.y === null ? t0.y === null : t0.y !== null && t.y.tag === t0.y.tag && t.y.key === t0.y.key),
    );
    if (!same) return null;
    return new LinearBatch(
      t0.x.tag,
      t0.x.key,
      t0.y === null ? -2 : t0.y.tag,
      t0.y === null ? '' : t0.y.key,
      ts.map((t) => OPS.indexOf(t!.op)),
      ts.map((t) => t!.d),
      ts.map((t) => t!.strings),
    );
  }
}

/** A rule of a family, as the automaton sees it. */
export interface FamilyMember {
  dropped(reason: DropReason): void;
  markDirty(key: string | null): void;
}

export interface FamilyHost {
  readonly maxPartialMatchesPerKey: number;
  readonly tracking: boolean;
  /** A match of family member `member`, in the order the member's own runtime would report it. */
  emit(family: SequenceFamily, member: number, bindings: unknown[]): void;
  /** Bindings holding just `event` at `slot`, shared by the runs it starts (bindings are never mutated). */
  startBindings(event: EventRecord, slot: number): unknown[];
}

/**
 * A family: its plan shape, its members' predicates, and its state (keys, expiry queues, run pool), which
 * stays with it when the engine regroups rules as long as its members do not change.
 */
export class SequenceFamily<M extends FamilyMember = FamilyMember> {
  /** Event types runs wait for (a type's index is its position). */
  readonly types: string[] = [];
  readonly startType: string;
  readonly startSlot: number;
  readonly stepCount: number;
  readonly stepType: number[];
  readonly stepSlot: number[];
  readonly stepItem: number[];
  readonly stepInner: number[];
  readonly itemFirst: number[];
  readonly itemWithin: Array<number | null>;
  readonly itemQueue: Array<ExpiryQueue | null>;
  /** One queue per `within` length: deadlines join each queue in time order. */
  readonly queues: ExpiryQueue[] = [];
  readonly keys = new Map<string | null, FamilyKey>();
  /** Whether the start filter, and each step's, has a condition (the same for every member: see planShape). */
  readonly startConditional: boolean;
  readonly stepConditional: boolean[];
  /** Per step type (index into `types`): CONDITIONAL_STEPS and/or UNCONDITIONAL_STEPS. */
  readonly typeSteps: number[];
  /** Per member. */
  readonly startTests: Predicate[];
  /** Per step, per member. */
  readonly stepTests: Predicate[][];
  /** The same tests read once for all members, when they allow it (the start's only without tags). */
  startBatch: LinearBatch | null = null;
  stepBatch: Array<LinearBatch | null> = [];
  /** Per member over all keys: open partial nodes, present keys (contiguous: updated per run). */
  readonly totals: number[];
  readonly keyCounts: number[];
  readonly pool: Run[] = [];

  /** Its dispatch group (set by attach). */
  host!: FamilyHost;

  constructor(
    plans: SequencePlan[],
    readonly members: M[],
  ) {
    const plan = plans[0];
    this.startType = plan.start.eventType;
    this.startSlot = plan.start.slot;
    this.stepCount = plan.steps.length;
    this.stepType = plan.steps.map((s) => {
      let t = this.types.indexOf(s.type);
      if (t < 0) t = this.types.push(s.type) - 1;
      return t;
    });
    this.stepSlot = plan.steps.map((s) => s.slot);
    this.startConditional = plan.start.conditional;
    this.stepConditional = plan.steps.map((s) => s.conditional);
    this.typeSteps = this.types.map((_, t) =>
      plan.steps.reduce(
        (bits, s, i) => (this.stepType[i] === t ? bits | (s.conditional ? CONDITIONAL_STEPS : UNCONDITIONAL_STEPS) : bits),
        0,
      ),
    );
    this.stepItem = plan.steps.map((s) => s.item);
    this.stepInner = plan.steps.map((s) => s.inner);
    this.itemFirst = plan.items.map((i) => i.first);
    this.itemWithin = plan.items.map((i) => i.withinMs);
    const byLength = new Map<number, ExpiryQueue>();
    this.itemQueue = plan.items.map((i) => {
      if (i.withinMs === null) return null;
      let q = byLength.get(i.withinMs);
      if (q === undefined) {
        byLength.set(i.withinMs, (q = new ExpiryQueue()));
        this.queues.push(q);
      }
      return q;
    });
    this.startTests = plans.map((p) => p.start.test);
    this.stepTests = plan.steps.map((_, s) => plans.map((p) => p.steps[s].test));
    this.totals = plans.map(() => 0);
    this.keyCounts = plans.map(() => 0);
    this.batch();
  }

  private batch(): void {
    const startBatch = LinearBatch.of(this.startTests);
    this.startBatch = startBatch !== null && startBatch.xTag < 0 && startBatch.yTag === -2 ? startBatch : null;
    this.stepBatch = this.stepTests.map((tests) => LinearBatch.of(tests));
  }

  /** Adds rules after the current members: positions and runs stay as they are. */
  extend(plans: SequencePlan[], members: M[]): void {
    plans.forEach((plan, i) => {
      this.members.push(members[i]);
      this.startTests.push(plan.start.test);
      this.stepTests.forEach((tests, s) => tests.push(plan.steps[s].test));
      this.totals.push(0);
      this.keyCounts.push(0);
    });
    this.batch();
    for (const fk of this.keys.values()) fk.grow(this.members.length);
  }

  /**
   * Takes member m out in place: its runs end (runs it shared go on without it) and the members after it
   * move down one position. The other members' runs stay as they are, shared and in order, so removing a rule
   * costs one pass over the live runs instead of saving and restoring every rule's state unshared.
   */
  remove(m: number): void {
    for (const fk of this.keys.values()) {
      fk.forget(m);
      this.dropKeyIfUnused(fk);
    }
    this.members.splice(m, 1);
    this.startTests.splice(m, 1);
    for (const tests of this.stepTests) tests.splice(m, 1);
    this.totals.splice(m, 1);
    this.keyCounts.splice(m, 1);
    this.batch();
  }

  /** Joins a dispatch group: its queues report their deadlines to the group's `due`. */
  attach(host: FamilyHost, due: { next: number }): void {
    this.host = host;
    for (const q of this.queues) {
      q.due = due;
      due.next = Math.min(due.next, q.nextDeadline());
    }
  }

  typeIndex(type: string): number {
    return this.types.indexOf(type);
  }

  key(key: string | null, create: boolean): FamilyKey | undefined {
    let fk = this.keys.get(key);
    if (fk === undefined && create) this.keys.set(key, (fk = new FamilyKey(key, this)));
    return fk;
  }

  /** Forgets a key without runs for every member (reclaimFreshKeys). */
  dropKey(fk: FamilyKey): void {
    for (let m = 0; m < this.members.length; m++) if (fk.isPresent(m)) this.keyCounts[m]--;
    this.keys.delete(fk.key);
  }

  /** Forgets the key once no member has it. */
  dropKeyIfUnused(fk: FamilyKey): void {
    if (!fk.anyPresent) this.keys.delete(fk.key);
  }

  alloc(fk: FamilyKey): Run {
    const run = this.pool.pop() ?? new Run();
    run.fk = fk;
    return run;
  }

  /** Keeps at most POOL_KEEP free runs (evicting many keys at once would otherwise park all their runs here). */
  trimPool(): void {
    if (this.pool.length > POOL_KEEP) this.pool.length = POOL_KEEP;
  }
}

const POOL_KEEP = 4096;

export interface SavedSequenceKey {
  reg: number;
  events: unknown[];
  /** Live runs in registration order. */
  runs: Array<{ b: Array<number | null>; s: number; d: number | null; r: number; i: boolean }>;
  /** Open partial nodes in opening order: [run index, inner]. */
  tokens: Array<[number, boolean]>;
}

/**
 * The runs of one family for one key. Per member it gives exactly what that rule's general runtime would:
 * matches in registration order, partial-node counts, and drops of the node opened earliest.
 */
export class FamilyKey {
  private readonly lists: RunList[];
  /** Outer nodes of runs opened by the start filter, in opening order (shared by the members). */
  private readonly starts = new StampQueue();
  private startDead = 0;
  /** Per member: open partial nodes, nodes of its own runs, and where its oldest start node may be. */
  private readonly partials: number[];
  private readonly tokens: Array<TokenQueue | undefined>;
  private readonly cursor: number[];
  private readonly present: boolean[];
  private allPresent = false;
  /** The engine's activity time when an event last reached the key, or when it was restored (eviction). */
  active = 0;

  constructor(
    readonly key: string | null,
    private readonly fam: SequenceFamily,
  ) {
    this.lists = fam.types.map(() => new RunList());
    const n = fam.members.length;
    this.partials = new Array<number>(n).fill(0);
    this.tokens = new Array<TokenQueue | undefined>(n).fill(undefined);
    this.cursor = new Array<number>(n).fill(0);
    this.present = new Array<boolean>(n).fill(false);
  }

  isPresent(m: number): boolean {
    return this.present[m];
  }

  /** Member m's open partial nodes here. */
  partialsOf(m: number): number {
    return this.partials[m];
  }

  /**
   * When member m's last run here ends at its `within` deadline: Infinity when a run has none (or when the
   * count says partial nodes are open but no run is found), -Infinity when it has no run.
   */
  lastDeadlineOf(m: number): number {
    let last = Number.NEGATIVE_INFINITY;
    for (const r of this.runsOf(m)) if (r.deadline > last) last = r.deadline;
    return last === Number.NEGATIVE_INFINITY && this.partials[m] > 0 ? Number.POSITIVE_INFINITY : last;
  }

  /** Room for members added to the family (they have no runs here yet). */
  grow(n: number): void {
    while (this.present.length < n) {
      this.partials.push(0);
      this.tokens.push(undefined);
      this.cursor.push(0);
      this.present.push(false);
    }
    this.allPresent = false;
  }

  /** No member has a run here (a new key's state). */
  get idle(): boolean {
    for (let m = 0; m < this.partials.length; m++) if (this.partials[m] !== 0) return false;
    return true;
  }

  get anyPresent(): boolean {
    return this.present.includes(true);
  }

  setPresent(m: number): void {
    if (this.present[m]) return;
    this.present[m] = true;
    this.fam.keyCounts[m]++;
    this.allPresent = !this.present.includes(false);
  }

  /** The key's event for every member: as the general runtime, each rule now has an instance here. */
  private markAllPresent(): void {
    for (let m = 0; m < this.present.length; m++) this.setPresent(m);
  }

  /**
   * Offers an event in the order the general runtime's filters see it (KeyInstance.dispatch): filters with a
   * condition first, then those without, each in registration order. The start filter is registered before
   * the runs waiting for its type (list `t`, -1 when none) at the time the event arrived.
   */
  offer(event: EventRecord, t: number, isStart: boolean, now: number): void {
    const list = t >= 0 ? this.lists[t] : undefined;
    if (list === undefined) {
      if (isStart) this.startOn(event, now);
      return;
    }
    const n = list.runs.length;
    // Busy from before the start: compacting would move the n entries to offer.
    list.busy = true;
    const fam = this.fam;
    const waiting = list.runs.length > list.dead;
    if (waiting && fam.host.tracking) this.markWaiting(list, n);
    const steps = fam.typeSteps[t];
    if (isStart && fam.startConditional) this.startOn(event, now);
    if (waiting && steps & CONDITIONAL_STEPS) this.resume(list, n, event, now, true);
    if (isStart && !fam.startConditional) this.startOn(event, now);
    if (waiting && steps & UNCONDITIONAL_STEPS) this.resume(list, n, event, now, false);
    list.busy = false;
    if (list.dead > 8 && list.dead * 2 > list.runs.length) this.compact(list);
  }

  private startOn(event: EventRecord, now: number): void {
    if (!this.allPresent) this.markAllPresent();
    if (this.fam.host.tracking) this.markAll();
    this.start(event, now);
  }

  private start(event: EventRecord, now: number): void {
    const fam = this.fam;
    let run: Run | undefined;
    const lb = fam.startBatch;
    if (lb !== null) {
      const x = event[lb.xKey];
      if (typeof x !== 'number') return;
      const codes = lb.codes;
      const ds = lb.ds;
      for (let m = 0; m < ds.length; m++) if (compare(codes[m], x, ds[m])) (run ??= fam.alloc(this)).addMember(m);
    } else {
      const tests = fam.startTests;
      for (let m = 0; m < tests.length; m++) if (tests[m](event, EMPTY)) (run ??= fam.alloc(this)).addMember(m);
    }
    if (run === undefined) return;
    const ms = run.members;
    const count = (run.live = run.count);
    if (fam.startSlot >= 0) run.bindings = fam.host.startBindings(event, fam.startSlot);
    this.enterItem(run, 0, now);
    this.register(run);
    this.pushStart(run);
    const max = fam.host.maxPartialMatchesPerKey;
    const partials = this.partials;
    const totals = fam.totals;
    // A drop here only removes that member's node, so the members after it are still in place.
    for (let j = 0; j < count; j++) {
      const m = ms[j];
      if (m < 0) continue;
      totals[m]++;
      if (++partials[m] > max) this.dropOldest(m);
    }
  }

  /** Offers the event to the first `n` runs of `list` whose step's filter has a condition, or has none. */
  private resume(list: RunList, n: number, event: EventRecord, now: number, conditional: boolean): void {
    const runs = list.runs;
    const regs = list.regs;
    const stepTests = this.fam.stepTests;
    const stepBatch = this.fam.stepBatch;
    const stepConditional = this.fam.stepConditional;
    for (let i = 0; i < n; i++) {
      const run = runs[i];
      const reg = regs[i];
      if (run.reg !== reg || run.deadline <= now || stepConditional[run.step] !== conditional) continue;
      const tests = stepTests[run.step];
      const ms = run.members;
      if (run.count === 1) {
        const m = ms[0];
        if (tests[m](event, run.bindings)) this.advance(run, m, event, now);
        continue;
      }
      const lb = stepBatch[run.step];
      if (lb !== null) {
        this.resumeBatch(run, lb, event, now);
        continue;
      }
      for (let j = 0; j < run.count; j++) {
        const m = ms[j];
        if (m < 0 || !tests[m](event, run.bindings)) continue;
        if (run.live === 1) {
          this.advance(run, m, event, now);
          break;
        }
        ms[j] = -1;
        run.live--;
        this.split(run, m, event, now);
      }
    }
  }

  /** resume's member loop for a shared run whose tests form a LinearBatch (the reads are pure: read once). */
  private resumeBatch(run: Run, lb: LinearBatch, event: EventRecord, now: number): void {
    const b = run.bindings;
    const xo = lb.xTag < 0 ? event : b[lb.xTag];
    if (xo === null || typeof xo !== 'object') return;
    const x = (xo as Record<string, unknown>)[lb.xKey];
    let y: unknown = 0;
    if (lb.yTag !== -2) {
      const yo = lb.yTag < 0 ? event : b[lb.yTag];
      if (yo === null || typeof yo !== 'object') return;
      y = (yo as Record<string, unknown>)[lb.yKey];
    }
    let numbers: boolean;
    if (typeof x === 'number' && typeof y === 'number') numbers = true;
    else if (typeof x === 'string' && typeof y === 'string') numbers = false;
    else return;
    const codes = lb.codes;
    const ds = lb.ds;
    const ms = run.members;
    for (let j = 0; j < run.count; j++) {
      const m = ms[j];
      if (m < 0) continue;
      if (numbers ? !compare(codes[m], x as number, (y as number) + ds[m]) : !lb.strings[m] || !compare(codes[m], x as string, y as string)) continue;
      if (run.live === 1) {
        this.advance(run, m, event, now);
        return;
      }
      ms[j] = -1;
      run.live--;
      this.split(run, m, event, now);
    }
  }

  /** Member `m` of a shared run (at its first step, a single filter) matches: it goes on alone. */
  private split(run: Run, m: number, event: EventRecord, now: number): void {
    const fam = this.fam;
    const bindings = run.bindings.slice();
    const slot = fam.stepSlot[0];
    if (slot >= 0) bindings[slot] = event;
    this.changePartials(m, -1); // the shared outer node, for this member
    if (fam.stepCount === 1) {
      fam.host.emit(fam, m, bindings);
      return;
    }
    const own = fam.alloc(this);
    own.addMember(m);
    own.live = 1;
    own.bindings = bindings;
    this.enterItem(own, fam.stepItem[1], now);
    this.register(own);
    this.openToken(m, own, false);
  }

  private advance(run: Run, m: number, event: EventRecord, now: number): void {
    const fam = this.fam;
    const step = run.step;
    const bindings = run.bindings.slice();
    const slot = fam.stepSlot[step];
    if (slot >= 0) bindings[slot] = event;
    const next = step + 1;
    if (next === fam.stepCount) {
      this.release(run);
      fam.host.emit(fam, m, bindings);
      return;
    }
    run.bindings = bindings;
    if (fam.stepInner[next] === 0) {
      // Leaving the item closes its partial nodes; entering the next opens one.
      this.changePartials(m, run.inner !== 0 ? -2 : -1);
      if (run.inStart) this.leaveStart(run);
      run.inner = 0;
      this.enterItem(run, fam.stepItem[next], now);
      this.register(run);
      this.openToken(m, run, false);
    } else {
      run.step = next;
      this.register(run);
      if (run.inner !== 0) this.changePartials(m, -1);
      run.inner = ++lastStamp;
      this.openToken(m, run, true);
    }
  }

  /** Sets the run at the item's first step, opens its outer node (stamp) and queues its deadline. */
  private enterItem(run: Run, item: number, now: number): void {
    const fam = this.fam;
    run.step = fam.itemFirst[item];
    run.outer = ++lastStamp;
    const within = fam.itemWithin[item];
    if (within === null) {
      run.deadline = Infinity;
    } else {
      run.deadline = now + within;
      fam.itemQueue[item]!.add(run);
    }
  }

  private register(run: Run): void {
    const list = this.lists[this.fam.stepType[run.step]];
    if (run.list !== null) run.list.dead++;
    if (!list.busy && list.dead > 8 && list.dead * 2 > list.runs.length) this.compact(list);
    run.reg = ++lastStamp;
    run.list = list;
    list.runs.push(run);
    list.regs.push(run.reg);
  }

  private compact(list: RunList): void {
    const runs = list.runs;
    const regs = list.regs;
    let w = 0;
    for (let i = 0; i < runs.length; i++) {
      const r = runs[i];
      if (r.reg === regs[i]) {
        runs[w] = r;
        regs[w] = regs[i];
        w++;
      }
    }
    runs.length = w;
    regs.length = w;
    list.dead = 0;
  }

  private pushStart(run: Run): void {
    const q = this.starts;
    while (q.head < q.tail && q.runs[q.head]!.outer !== q.stamps[q.head]) {
      q.drop();
      this.startDead--;
    }
    if (this.startDead > 32 && this.startDead * 2 > q.size) {
      q.keep((r, s) => r.outer === s);
      this.startDead = 0;
    }
    q.push(run, run.outer);
    run.inStart = true;
  }

  private leaveStart(run: Run): void {
    run.inStart = false;
    this.startDead++;
  }

  private openToken(m: number, run: Run, inner: boolean): void {
    let q = this.tokens[m];
    if (q === undefined) this.tokens[m] = q = new TokenQueue();
    // Closed nodes leave from the front, so the queue holds about as many nodes as are open.
    q.trim();
    q.push(run, inner ? -run.inner : run.outer);
    this.fam.totals[m]++;
    if (++this.partials[m] > this.fam.host.maxPartialMatchesPerKey) this.dropOldest(m);
  }

  private changePartials(m: number, delta: number): void {
    this.partials[m] += delta;
    this.fam.totals[m] += delta;
  }

  /** Drops member m's oldest partial nodes until `keep` are open; returns how many were dropped. */
  trimTo(m: number, keep: number, reason: DropReason): number {
    let drops = 0;
    while (this.partials[m] > keep) {
      const before = this.partials[m];
      this.dropOldest(m, reason);
      if (this.partials[m] >= before) break; // nothing found to drop
      drops++;
    }
    return drops;
  }

  /** Drops member m's partial node opened earliest, and with it the run (or the member's share of it). */
  private dropOldest(m: number, reason: DropReason = 'max_partial_matches_per_key'): void {
    const q = this.tokens[m];
    let own: Run | undefined;
    let ownStamp = Infinity;
    if (q !== undefined) {
      q.trim();
      if (q.head < q.tail) {
        own = q.runs[q.head];
        ownStamp = Math.abs(q.stamps[q.head]);
      }
    }
    // The member's nodes in the start queue only close, and new ones join at the back: the cursor only moves on.
    const s = this.starts;
    let c = Math.max(this.cursor[m] - s.base, s.head);
    while (c < s.tail) {
      const r = s.runs[c]!;
      if (r.outer === s.stamps[c] && r.hasMember(m)) break;
      c++;
    }
    this.cursor[m] = s.base + c;
    let victim: Run;
    if (c < s.tail && s.stamps[c] < ownStamp) {
      victim = s.runs[c]!;
    } else if (own !== undefined) {
      victim = own;
      q!.drop();
    } else return;
    this.fam.members[m].dropped(reason);
    this.removeMember(victim, m);
  }

  /** Ends member m's part in a run without output. */
  private removeMember(run: Run, m: number): void {
    if (run.live === 1) {
      this.release(run);
      return;
    }
    run.members[run.indexOf(m)] = -1;
    run.live--;
    this.changePartials(m, -1);
  }

  /** The run ends (matched, expired, dropped): its partial nodes close and it goes back to the pool. */
  private release(run: Run): void {
    const ms = run.members;
    const open = run.inner !== 0 ? 2 : 1;
    const partials = this.partials;
    const totals = this.fam.totals;
    for (let j = 0; j < run.count; j++) {
      const m = ms[j];
      if (m < 0) continue;
      partials[m] -= open;
      totals[m] -= open;
    }
    if (run.list !== null) {
      run.list.dead++;
      run.list = null;
    }
    if (run.inStart) this.leaveStart(run);
    run.reg = 0;
    run.outer = 0;
    run.inner = 0;
    run.live = 0;
    run.count = 0;
    run.bindings = EMPTY;
    run.deadline = Infinity;
    run.fk = null;
    this.fam.pool.push(run);
  }

  /** Ends a run whose deadline passed. */
  expire(run: Run): void {
    if (this.fam.host.tracking) {
      for (let j = 0; j < run.count; j++) if (run.members[j] >= 0) this.fam.members[run.members[j]].markDirty(this.key);
    }
    this.release(run);
  }

  private markAll(): void {
    for (const member of this.fam.members) member.markDirty(this.key);
  }

  private markWaiting(list: RunList, n: number): void {
    for (let i = 0; i < n; i++) {
      const run = list.runs[i];
      if (run.reg !== list.regs[i]) continue;
      for (let j = 0; j < run.count; j++) if (run.members[j] >= 0) this.fam.members[run.members[j]].markDirty(this.key);
    }
  }

  /** Member m's live runs in registration order. */
  private runsOf(m: number): Run[] {
    const out: Run[] = [];
    for (const list of this.lists) {
      for (let i = 0; i < list.runs.length; i++) {
        const r = list.runs[i];
        if (r.reg === list.regs[i] && r.hasMember(m)) out.push(r);
      }
    }
    return out.sort((a, b) => a.reg - b.reg);
  }

  save(m: number): SavedSequenceKey {
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
    const live = this.runsOf(m);
    const pos = new Map(live.map((r, i) => [r, i]));
    const open: Array<[number, number, boolean]> = [];
    const s = this.starts;
    for (let i = s.head; i < s.tail; i++) {
      const r = s.runs[i]!;
      if (r.outer === s.stamps[i] && pos.has(r)) open.push([s.stamps[i], pos.get(r)!, false]);
    }
    const q = this.tokens[m];
    if (q !== undefined) {
      for (let i = q.head; i < q.tail; i++) {
        const r = q.runs[i]!;
        const st = q.stamps[i];
        if ((st < 0 ? r.inner === -st : r.outer === st) && pos.has(r)) open.push([Math.abs(st), pos.get(r)!, st < 0]);
      }
    }
    open.sort((a, b) => a[0] - b[0]);
    // Only the order of registrations matters: numbering them 0..n-1 makes a restored key save the same.
    return {
      reg: live.length,
      events,
      runs: live.map((r, i) => ({
        b: Array.from({ length: r.bindings.length }, (_, j) => (r.bindings[j] === undefined ? null : ref(r.bindings[j]))),
        s: r.step,
        d: r.deadline === Infinity ? null : r.deadline,
        r: i,
        i: r.inner !== 0,
      })),
      tokens: open.map(([, i, inner]) => [i, inner]),
    };
  }

  /**
   * Restores member m's saved runs as runs of its own, after this key's existing ones (only the order
   * within a member matters). The caller re-sorts the expiry queues (restored deadlines come unordered).
   */
  restore(m: number, saved: SavedSequenceKey): void {
    this.setPresent(m);
    const fam = this.fam;
    const order = saved.runs.map((_, i) => i).sort((a, b) => saved.runs[a].r - saved.runs[b].r);
    const runs: Run[] = [];
    for (const i of order) {
      const s = saved.runs[i];
      const run = fam.alloc(this);
      run.addMember(m);
      run.live = 1;
      run.bindings = s.b.map((e) => (e === null ? undefined : saved.events[e]));
      run.step = s.s;
      run.deadline = s.d === null ? Infinity : s.d;
      this.register(run);
      runs[i] = run;
    }
    for (const [i, inner] of saved.tokens) {
      const run = runs[i];
      if (inner) run.inner = ++lastStamp;
      else run.outer = ++lastStamp;
      this.openTokenRestored(m, run, inner);
    }
    saved.runs.forEach((s, i) => {
      const run = runs[i];
      if (run.outer === 0) run.outer = ++lastStamp; // keeps it expirable
      const q = fam.itemQueue[fam.stepItem[s.s]];
      if (s.d !== null && q !== null) q.add(run);
    });
  }

  private openTokenRestored(m: number, run: Run, inner: boolean): void {
    let q = this.tokens[m];
    if (q === undefined) this.tokens[m] = q = new TokenQueue();
    q.push(run, inner ? -run.inner : run.outer);
    this.changePartials(m, 1);
  }

  /** Member m leaves the family (SequenceFamily.remove): its runs end and later members move down one. */
  forget(m: number): void {
    this.clear(m);
    for (const list of this.lists) {
      for (let i = 0; i < list.runs.length; i++) {
        const run = list.runs[i];
        if (run.reg !== list.regs[i]) continue;
        const ms = run.members;
        for (let j = 0; j < run.count; j++) if (ms[j] > m) ms[j]--;
      }
    }
    this.partials.splice(m, 1);
    this.tokens.splice(m, 1);
    this.cursor.splice(m, 1);
    this.present.splice(m, 1);
    this.allPresent = !this.present.includes(false);
  }

  /** Ends member m's runs without output, and forgets the key for it (its state is being discarded). */
  clear(m: number): void {
    for (const run of this.runsOf(m)) this.removeMember(run, m);
    this.tokens[m] = undefined;
    this.cursor[m] = 0;
    if (this.present[m]) {
      this.present[m] = false;
      this.fam.keyCounts[m]--;
      this.allPresent = false;
    }
  }
}

const EMPTY: unknown[] = [];
