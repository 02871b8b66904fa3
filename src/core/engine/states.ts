/**
 * Runtime state of one pattern instance (one rule, one key): a tree of state nodes that mirrors the
 * automaton's specs. Each node reports to its parent the way Esper's evaluation nodes do:
 * `childTrue(bindings, from, quitted)` when a sub-expression turned true (quitted = it will not turn true
 * again) and `childFalse(from, restartable)` when it turned permanently false. Following those exact rules
 * is what makes `every`, `and`, `not`, repeat and guards match the same events as Esper.
 *
 * Bindings arrays are never mutated once handed on; every step that adds a tag makes a new array.
 */
import type { Bindings, EventRecord } from '../expr/types';
import type {
  AndSpec,
  AtSpec,
  EveryDistinctSpec,
  EverySpec,
  FilterSpec,
  FollowedBySpec,
  GuardSpec,
  IntervalSpec,
  NodeSpec,
  NotSpec,
  OrSpec,
  RepeatSpec,
  ScheduleSpec,
} from './automaton';
import { nextOccurrence } from './cron';
import { nextScheduled, startSchedule, type ScheduleProgress, type SchedulePlan } from './schedule';
import { afterPeriod } from './time';

/** What a state node needs from the key instance that owns it. */
export interface KeyContext {
  /** Current time (epoch ms): the event's time, or a timer's scheduled time while it fires. */
  readonly time: number;
  /** Whether a timer is firing (not an event being processed). */
  readonly firingTimer: boolean;
  /** Events the engine has processed so far (see EveryState.childFalse). */
  readonly eventCount: number;
  nextSeq(): number;
  addFilter(filter: FilterState): void;
  removeFilter(filter: FilterState): void;
  schedule(owner: TimerOwner, at: number, seq?: number): TimerEntry;
  /** A timer sequence number taken now, for a timer scheduled later (see GuardState.start). */
  reserveTimerSeq(): number;
  cancel(entry: TimerEntry): void;
  emit(bindings: Bindings): void;
  ended(): void;
  partialOpened(node: StateNode): void;
  partialClosed(node: StateNode): void;
}

export interface TimerOwner {
  onTimer(): void;
}

export interface TimerEntry {
  time: number;
  seq: number;
  owner: TimerOwner;
  cancelled: boolean;
}

export interface Parent {
  childTrue(bindings: Bindings, from: StateNode, quitted: boolean): void;
  childFalse(from: StateNode, restartable: boolean): void;
  /** A filter directly below stays registered after a match (every, every-distinct, repeat): saves a restart. */
  readonly filterChildNonQuitting: boolean;
  /**
   * A `timer:schedule` directly below reports each of its times here (every, every-distinct, repeat and the root,
   * as in Esper); below any other operator it reports its first time and ends (see ScheduleState).
   */
  readonly takesRepetitions: boolean;
}

// ---------------------------------------------------------------------------------------------
// Snapshots
// ---------------------------------------------------------------------------------------------

/** A bindings array in a snapshot: per slot an event index, a list of event indexes, or null. */
export type SavedBindings = Array<number | number[] | null>;

export interface SavedNode {
  /** Spec id. */
  s: number;
  /** Creation sequence number (orders filters and partial matches). */
  q: number;
  [field: string]: unknown;
}

export class SaveContext {
  readonly events: unknown[] = [];
  private readonly index = new Map<unknown, number>();

  private ref(event: unknown): number {
    let i = this.index.get(event);
    if (i === undefined) {
      i = this.events.length;
      this.events.push(event);
      this.index.set(event, i);
    }
    return i;
  }

  bindings(b: Bindings): SavedBindings {
    const out: SavedBindings = new Array(b.length);
    for (let i = 0; i < b.length; i++) {
      const v = b[i];
      out[i] = v === undefined ? null : Array.isArray(v) ? v.map((e) => this.ref(e)) : this.ref(v);
    }
    return out;
  }
}

export class RestoreContext {
  constructor(
    readonly events: unknown[],
    readonly specs: NodeSpec[],
    readonly ctx: KeyContext,
  ) {}

  bindings(saved: SavedBindings): Bindings {
    return saved.map((v) => (v === null ? undefined : Array.isArray(v) ? v.map((i) => this.events[i]) : this.events[v]));
  }

  node(saved: SavedNode, parent: Parent): StateNode {
    const spec = this.specs[saved.s];
    if (!spec) throw new Error(`snapshot refers to unknown pattern node ${saved.s}`);
    const node = newState(spec, parent, this.ctx, saved.q);
    node.restore(saved, this);
    return node;
  }
}

// ---------------------------------------------------------------------------------------------
// State nodes
// ---------------------------------------------------------------------------------------------

export abstract class StateNode<S extends NodeSpec = NodeSpec> {
  isNot = false;
  isFilter = false;
  /** A `timer:schedule`: an every above it does not restart it when it turns true (Esper's non-restarting observer). */
  isSchedule = false;
  readonly seq: number;

  constructor(
    readonly spec: S,
    public parent: Parent,
    protected readonly ctx: KeyContext,
    seq?: number,
  ) {
    this.seq = seq ?? ctx.nextSeq();
  }

  abstract start(begin: Bindings): void;
  abstract quit(): void;
  abstract save(w: SaveContext): SavedNode;
  abstract restore(saved: SavedNode, r: RestoreContext): void;

  protected base(extra: Record<string, unknown>): SavedNode {
    return { s: this.spec.id, q: this.seq, ...extra };
  }
}

export function newState(spec: NodeSpec, parent: Parent, ctx: KeyContext, seq?: number): StateNode {
  switch (spec.kind) {
    case 'filter':
      return new FilterState(spec, parent, ctx, seq);
    case 'followedBy':
      return new FollowedByState(spec, parent, ctx, seq);
    case 'and':
      return new AndState(spec, parent, ctx, seq);
    case 'or':
      return new OrState(spec, parent, ctx, seq);
    case 'not':
      return new NotState(spec, parent, ctx, seq);
    case 'every':
      return new EveryState(spec, parent, ctx, seq);
    case 'everyDistinct':
      return new EveryDistinctState(spec, parent, ctx, seq);
    case 'repeat':
      return new RepeatState(spec, parent, ctx, seq);
    case 'guard':
      return new GuardState(spec, parent, ctx, seq);
    case 'interval':
    case 'at':
      return new ObserverState(spec, parent, ctx, seq);
    case 'schedule':
      return new ScheduleState(spec, parent, ctx, seq);
  }
}

/** Waits for one event of its type that passes its predicate. */
export class FilterState extends StateNode<FilterSpec> {
  override isFilter = true;
  active = false;
  begin: Bindings = [];
  /** Registration number: filters see an event in the order they were registered (not created). */
  reg = 0;


  start(begin: Bindings): void {
    this.begin = begin;
    this.active = true;
    this.ctx.addFilter(this);
  }

  match(event: EventRecord): void {
    if (!this.active || !this.spec.test(event, this.begin)) return;
    const passUp = this.begin.slice();
    if (this.spec.slot >= 0) passUp[this.spec.slot] = event;
    if (this.parent.filterChildNonQuitting) {
      this.parent.childTrue(passUp, this, false);
    } else {
      this.quit();
      this.parent.childTrue(passUp, this, true);
    }
  }

  quit(): void {
    if (!this.active) return;
    this.active = false;
    this.ctx.removeFilter(this);
  }

  save(w: SaveContext): SavedNode {
    return this.base({ b: w.bindings(this.begin), g: this.reg });
  }

  restore(saved: SavedNode, r: RestoreContext): void {
    this.start(r.bindings(saved.b as SavedBindings));
    this.reg = saved.g as number;
  }
}

/** A node that waits for one timer at a time (the observers): its timer, and the bindings it started with. */
abstract class TimerNode<S extends NodeSpec> extends StateNode<S> implements TimerOwner {
  protected entry: TimerEntry | null = null;
  protected begin: Bindings = [];

  abstract onTimer(): void;

  quit(): void {
    if (this.entry) this.ctx.cancel(this.entry);
    this.entry = null;
  }

  protected saveTimer(w: SaveContext, extra: Record<string, unknown>): SavedNode {
    return this.base({ b: w.bindings(this.begin), t: this.entry ? [this.entry.time, this.entry.seq] : null, ...extra });
  }

  protected restoreTimer(saved: SavedNode, r: RestoreContext): void {
    this.begin = r.bindings(saved.b as SavedBindings);
    const t = saved.t as [number, number] | null;
    if (t) this.entry = this.ctx.schedule(this, t[0], t[1]);
  }
}

/** `timer:interval(d)` and `timer:at(...)`: true once, at the scheduled time. */
export class ObserverState extends TimerNode<IntervalSpec | AtSpec> {
  /** A computed interval that was not a number: its timer ends it false instead of true. */
  private endsFalse = false;


  start(begin: Bindings): void {
    this.begin = begin;
    let due: number | null;
    if (this.spec.kind === 'interval' && this.spec.computed) {
      const ms = this.spec.computed(begin);
      if (ms === null) {
        // Not a number: never true, as in Esper, where such an interval throws as it starts and its branch
        // never matches. It ends false when the clock next moves, so its partial match does not stay.
        this.endsFalse = true;
        this.entry = this.ctx.schedule(this, this.ctx.time);
        return;
      }
      // A negative interval is due now, as one of zero (Esper schedules it at once).
      due = this.ctx.time + ms;
    } else due = this.spec.kind === 'interval' ? afterPeriod(this.ctx.time, this.spec) : nextOccurrence(this.spec.schedule, this.ctx.time);
    if (due === null) return;
    // Esper (TimerIntervalObserver): an interval of zero is true while it starts, not at the next clock move
    // (a timer due now would only fire when time advances, and under `every` would restart forever).
    if (due <= this.ctx.time) this.parent.childTrue(begin, this, true);
    else this.entry = this.ctx.schedule(this, due);
  }

  onTimer(): void {
    this.entry = null;
    if (this.endsFalse) this.parent.childFalse(this, true);
    else this.parent.childTrue(this.begin, this, true);
  }

  save(w: SaveContext): SavedNode {
    return this.saveTimer(w, this.endsFalse ? { f: 1 } : {});
  }

  restore(saved: SavedNode, r: RestoreContext): void {
    this.restoreTimer(saved, r);
    this.endsFalse = saved.f === 1;
  }
}

/**
 * `timer:schedule(...)`: true at each time of its schedule (schedule.ts). Below an every, a repeat or at the
 * top it reports every time and ends after the last, and an every above does not restart it; below any other
 * operator it reports its first time and ends. (Esper keeps such a schedule's timer running after it reported
 * itself ended, and its later times reach operators that no longer hold it: `every (a=A -> timer:schedule(iso:
 * 'PT1S'))` matches twice per A there. That is not copied.)
 */
export class ScheduleState extends TimerNode<ScheduleSpec> {
  override isSchedule = true;
  /**
   * Its plan and how far it got; null when it has no time to fire at, so it ends false when the clock next
   * moves. Snapshots keep the progress only: the plan is computed again from the same bindings.
   */
  private running: { plan: SchedulePlan; progress: ScheduleProgress } | null = null;
  private active = false;

  start(begin: Bindings): void {
    this.begin = begin;
    this.active = true;
    const now = this.ctx.time;
    const plan = this.spec.plan(begin);
    if (plan) {
      const progress = startSchedule(plan, now);
      const due = nextScheduled(plan, progress, now);
      if (due !== null) {
        this.running = { plan, progress };
        this.entry = this.ctx.schedule(this, due);
        return;
      }
    }
    // A date already past, a count of zero or a value that is not usable: never true. Esper turns it false as
    // it starts; here it ends false when the clock next moves, as a computed interval that is not a number does.
    this.entry = this.ctx.schedule(this, now);
  }

  onTimer(): void {
    this.entry = null;
    if (!this.running) {
      this.active = false;
      this.parent.childFalse(this, false);
      return;
    }
    const next = nextScheduled(this.running.plan, this.running.progress, this.ctx.time);
    const last = next === null || !this.parent.takesRepetitions;
    if (last) this.active = false;
    this.parent.childTrue(this.begin, this, last);
    // The parent may have quit it meanwhile (a repeat that reached its count).
    if (!last && this.active) this.entry = this.ctx.schedule(this, next!);
  }

  override quit(): void {
    this.active = false;
    super.quit();
  }

  save(w: SaveContext): SavedNode {
    const p = this.running?.progress;
    return this.saveTimer(w, { g: p ? [p.anchor, p.last, p.count] : null });
  }

  restore(saved: SavedNode, r: RestoreContext): void {
    this.restoreTimer(saved, r);
    this.active = true;
    const g = saved.g as [number, number | null, number | null] | null;
    const plan = g ? this.spec.plan(this.begin) : null;
    if (g && plan) this.running = { plan, progress: { anchor: g[0], last: g[1], count: g[2] } };
  }
}

/** `A -> B -> C`: each child instance that turns true starts an instance of the next child. */
export class FollowedByState extends StateNode<FollowedBySpec> implements Parent {
  readonly filterChildNonQuitting = false;
  readonly takesRepetitions = false;
  /** Active child instances → their child index, in start order. */
  private readonly nodes = new Map<StateNode, number>();


  start(begin: Bindings): void {
    const child = newState(this.spec.children[0], this, this.ctx);
    this.add(child, 0);
    child.start(begin);
  }

  private add(child: StateNode, index: number): void {
    this.nodes.set(child, index);
    if (index > 0) this.ctx.partialOpened(child);
  }

  private remove(child: StateNode): number | undefined {
    const index = this.nodes.get(child);
    if (index === undefined) return undefined;
    this.nodes.delete(child);
    if (index > 0) this.ctx.partialClosed(child);
    return index;
  }

  childTrue(bindings: Bindings, from: StateNode, quitted: boolean): void {
    const index = this.nodes.get(from);
    if (index === undefined) return; // a late callback from an instance this node already ended
    if (quitted) this.remove(from);
    const last = this.spec.children.length - 1;
    if (index === last) {
      const done = this.nodes.size === 0;
      this.parent.childTrue(bindings, this, done);
      return;
    }
    const limit = this.spec.limits[index + 1];
    if (limit !== null && limit !== undefined && this.countAt(index + 1) >= limit) return;
    const next = newState(this.spec.children[index + 1], this, this.ctx);
    this.add(next, index + 1);
    // Adding it may have dropped the oldest partial match for the per-key cap: when that was this node or one
    // above it, `next` was quit with it and must not start (it would live on outside the tree).
    if (this.nodes.has(next)) next.start(bindings);
  }

  private countAt(index: number): number {
    let n = 0;
    for (const i of this.nodes.values()) if (i === index) n++;
    return n;
  }

  childFalse(from: StateNode, _restartable: boolean): void {
    from.quit();
    this.remove(from);
    if (this.nodes.size === 0) this.parent.childFalse(this, true);
  }

  /** Drops one partial match to respect the per-key cap: as if it had turned permanently false. */
  drop(child: StateNode): void {
    if (!this.nodes.has(child)) return;
    this.childFalse(child, true);
  }

  quit(): void {
    for (const child of [...this.nodes.keys()]) {
      child.quit();
      this.remove(child);
    }
  }

  save(w: SaveContext): SavedNode {
    return this.base({ n: [...this.nodes].map(([child, index]) => [index, child.save(w)]) });
  }

  restore(saved: SavedNode, r: RestoreContext): void {
    for (const [index, child] of saved.n as Array<[number, SavedNode]>) this.add(r.node(child, this), index);
  }
}

/** `A and B`: true for every combination once each child has turned true. */
export class AndState extends StateNode<AndSpec> implements Parent {
  readonly filterChildNonQuitting = false;
  readonly takesRepetitions = false;
  private children: Array<StateNode | null> = [];
  /** Per child: the bindings it turned true with (several when it did so more than once); null = quit. */
  private eventsPerChild: Array<Bindings[] | null> | null = null;


  start(begin: Bindings): void {
    this.children = this.spec.children.map((c) => newState(c, this, this.ctx));
    this.eventsPerChild = this.spec.children.map(() => null);
    for (let i = 0; i < this.children.length; i++) this.children[i]?.start(begin);
  }

  childTrue(bindings: Bindings, from: StateNode, quitted: boolean): void {
    const index = this.children.indexOf(from);
    if (quitted && index >= 0) this.children[index] = null;
    const events = this.eventsPerChild;
    if (events === null || index < 0) return;

    let allOthersHaveEvents = true;
    for (let i = 0; i < events.length; i++) {
      if (i !== index && events[i] === null) {
        allOthersHaveEvents = false;
        break;
      }
    }
    if (!allOthersHaveEvents) {
      (events[index] ??= []).push(bindings);
      return;
    }

    let allOthersQuit = true;
    let hasActive = false;
    for (let i = 0; i < this.children.length; i++) {
      if (this.children[i] !== null) {
        hasActive = true;
        if (i !== index) allOthersQuit = false;
      }
    }
    if (!allOthersQuit) (events[index] ??= []).push(bindings);

    const results = combine(bindings, events, index);

    // Quit once every child but a `not` has quit: a `not` only waits to turn false.
    let done = true;
    if (hasActive) for (const c of this.children) if (c !== null && !c.isNot) done = false;
    if (done) this.quitInternal();
    for (const r of results) this.parent.childTrue(r, this, done);
  }

  childFalse(from: StateNode, restartable: boolean): void {
    const index = this.children.indexOf(from);
    if (index >= 0) this.children[index] = null;
    this.quitInternal();
    this.parent.childFalse(this, restartable);
  }

  quit(): void {
    if (this.eventsPerChild === null) return;
    this.quitInternal();
  }

  private quitInternal(): void {
    const children = this.children;
    this.children = children.map(() => null);
    for (const c of children) c?.quit();
    this.eventsPerChild = null;
  }

  save(w: SaveContext): SavedNode {
    return this.base({
      c: this.children.map((c) => (c ? c.save(w) : null)),
      e: this.eventsPerChild?.map((list) => (list ? list.map((b) => w.bindings(b)) : null)) ?? null,
    });
  }

  restore(saved: SavedNode, r: RestoreContext): void {
    this.children = (saved.c as Array<SavedNode | null>).map((c) => (c ? r.node(c, this) : null));
    const e = saved.e as Array<SavedBindings[] | null> | null;
    this.eventsPerChild = e ? e.map((list) => (list ? list.map((b) => r.bindings(b)) : null)) : null;
  }
}

/** Every combination of the other children's bindings merged over `first`. */
function combine(first: Bindings, eventsPerChild: Array<Bindings[] | null>, skip: number): Bindings[] {
  let results: Bindings[] = [first];
  for (let i = 0; i < eventsPerChild.length; i++) {
    const list = eventsPerChild[i];
    if (i === skip || list === null) continue;
    const next: Bindings[] = [];
    for (const base of results) for (const other of list) next.push(merge(base, other));
    results = next;
  }
  return results;
}

function merge(base: Bindings, other: Bindings): Bindings {
  const out = base.slice();
  for (let i = 0; i < other.length; i++) if (other[i] !== undefined) out[i] = other[i];
  return out;
}

/** `A or B`: true when any child is; ends when the first child ends true. */
export class OrState extends StateNode<OrSpec> implements Parent {
  readonly filterChildNonQuitting = false;
  readonly takesRepetitions = false;
  private children: Array<StateNode | null> = [];
  private quitted = false;


  start(begin: Bindings): void {
    this.children = this.spec.children.map((c) => newState(c, this, this.ctx));
    for (const child of [...this.children]) {
      child?.start(begin);
      if (this.quitted) break;
    }
  }

  childTrue(bindings: Bindings, from: StateNode, quitted: boolean): void {
    if (quitted) {
      const i = this.children.indexOf(from);
      if (i >= 0) this.children[i] = null;
      this.quitInternal();
    }
    this.parent.childTrue(bindings, this, quitted);
  }

  childFalse(from: StateNode, _restartable: boolean): void {
    const i = this.children.indexOf(from);
    if (i >= 0) this.children[i] = null;
    if (this.children.every((c) => c === null)) this.parent.childFalse(this, true);
  }

  quit(): void {
    this.quitInternal();
  }

  private quitInternal(): void {
    const children = this.children;
    this.children = children.map(() => null);
    for (const c of children) c?.quit();
    this.quitted = true;
  }

  save(w: SaveContext): SavedNode {
    return this.base({ c: this.children.map((c) => (c ? c.save(w) : null)), x: this.quitted });
  }

  restore(saved: SavedNode, r: RestoreContext): void {
    this.children = (saved.c as Array<SavedNode | null>).map((c) => (c ? r.node(c, this) : null));
    this.quitted = saved.x as boolean;
  }
}

/** `not A`: true from the start; permanently false once A turns true and ends. */
export class NotState extends StateNode<NotSpec> implements Parent {
  override isNot = true;
  readonly filterChildNonQuitting = false;
  readonly takesRepetitions = false;
  private child: StateNode | null = null;


  start(begin: Bindings): void {
    this.child = newState(this.spec.child, this, this.ctx);
    this.child.start(begin);
    this.parent.childTrue(begin, this, false);
  }

  childTrue(_bindings: Bindings, _from: StateNode, quitted: boolean): void {
    if (quitted) {
      this.child = null;
      this.parent.childFalse(this, true);
    }
  }

  childFalse(): void {
    // The sub-expression can no longer turn true: the not stays true.
  }

  quit(): void {
    const child = this.child;
    this.child = null;
    child?.quit();
  }

  save(w: SaveContext): SavedNode {
    return this.base({ c: this.child ? this.child.save(w) : null });
  }

  restore(saved: SavedNode, r: RestoreContext): void {
    this.child = saved.c ? r.node(saved.c as SavedNode, this) : null;
  }
}

/** Catches a child that turns true while it is being started (a `not` does): such a spawn is discarded. */
class SpawnCatcher implements Parent {
  readonly filterChildNonQuitting = false;
  readonly takesRepetitions = false;
  caught = false;
  childTrue(): void {
    this.caught = true;
  }
  childFalse(): void {
    // A spawn that is false right away simply never matches.
  }
}

/** `every A`: restarts A whenever an instance turns true or permanently false. */
export class EveryState<S extends EverySpec | EveryDistinctSpec = EverySpec> extends StateNode<S> implements Parent {
  readonly filterChildNonQuitting = true;
  readonly takesRepetitions = true;
  protected readonly spawned = new Set<StateNode>();
  protected begin: Bindings = [];
  protected quitted = false;
  /** The last instance spawned, when, and after how many events (see childFalse; not kept in snapshots). */
  private lastSpawn: StateNode | null = null;
  private lastSpawnAt = 0;
  private lastSpawnAfter = 0;


  start(begin: Bindings): void {
    this.begin = begin;
    this.spawn();
  }

  /** Starts a new instance of the child; returns it, or null when it was discarded (see below). */
  protected spawn(): StateNode | null {
    if (this.quitted) return null;
    const catcher = new SpawnCatcher();
    const child = newState(this.spec.child, catcher, this.ctx);
    child.start(this.begin);
    // Starting it may have dropped the oldest partial match for the per-key cap, quitting this node: the
    // child (not tracked yet, so not quit with it) must not live on outside the tree.
    if (catcher.caught || this.quitted) {
      child.quit();
      return null;
    }
    child.parent = this;
    this.lastSpawn = child;
    this.lastSpawnAt = this.ctx.time;
    this.lastSpawnAfter = this.ctx.eventCount;
    this.track(child);
    return child;
  }

  /**
   * A spawned sub-expression other than a lone filter counts as a partial match: nested `every`s can
   * multiply them (each restart of an inner every spawns another outer instance), so they share the cap.
   */
  protected track(child: StateNode): void {
    this.spawned.add(child);
    if (!child.isFilter) this.ctx.partialOpened(child);
  }

  protected untrack(child: StateNode): void {
    if (this.spawned.delete(child) && !child.isFilter) this.ctx.partialClosed(child);
    if (child === this.lastSpawn) this.lastSpawn = null;
  }

  /** Drops one spawned instance to respect the per-key cap, without restarting it. */
  drop(child: StateNode): void {
    if (!this.spawned.has(child)) return;
    this.untrack(child);
    child.quit();
  }

  childTrue(bindings: Bindings, from: StateNode, quitted: boolean): void {
    if (quitted) this.untrack(from);
    // A filter below an every never quits, so it needs no restart; a schedule reports each of its times itself.
    if (!from.isFilter && !from.isSchedule) this.spawn();
    this.parent.childTrue(bindings, this, false);
    this.afterLastScheduled(from, quitted);
  }

  /**
   * A schedule that reported its last time is not restarted, so the every ends false, as in Esper (the observer
   * turns false after its last time: `(every timer:schedule(iso: 'R2/PT1S')) and b=B` never matches).
   */
  protected afterLastScheduled(from: StateNode, quitted: boolean): void {
    if (quitted && from.isSchedule && !this.quitted && this.spawned.size === 0) this.parent.childFalse(this, false);
  }

  childFalse(from: StateNode, restartable: boolean): void {
    // An instance that a timer ends false at the very millisecond it was spawned, with no event since (a period
    // of zero or less, or one computed from a value that is not a number), would do the same again when
    // restarted, for ever: that timer is due at once. Esper loops too (a zero within) or throws as it starts (a
    // non-number), which ends the branch; so the every ends here, false. An event since may have changed what
    // the restart does (a later event's period), so then it restarts.
    const loops = this.ctx.firingTimer && from === this.lastSpawn && this.lastSpawnAt === this.ctx.time && this.lastSpawnAfter === this.ctx.eventCount;
    from.quit();
    this.untrack(from);
    if (!restartable || loops) {
      // The every ends, and its other instances with it: a parent drops a child that turned false without
      // quitting it, so instances left here would go on firing timers for a pattern that has ended.
      this.quit();
      this.parent.childFalse(this, false);
      return;
    }
    this.spawn();
  }

  quit(): void {
    this.quitted = true;
    const spawned = [...this.spawned];
    for (const child of spawned) this.untrack(child);
    for (const child of spawned) child.quit();
  }

  save(w: SaveContext): SavedNode {
    return this.base({ b: w.bindings(this.begin), c: [...this.spawned].map((c) => c.save(w)) });
  }

  restore(saved: SavedNode, r: RestoreContext): void {
    this.begin = r.bindings(saved.b as SavedBindings);
    for (const c of saved.c as SavedNode[]) this.track(r.node(c, this));
  }
}

/**
 * `every-distinct(keys [, expiry]) A`: like every, but passes a match only for keys not seen (or expired).
 * As in Esper, the keys seen belong to each spawned instance of A: an instance that turns true hands a copy
 * of its keys to the instance it spawns, and one that turns false is replaced by an instance that has seen
 * nothing. So a sub-expression that timed out (a `within`) lets every key through again.
 */
export class EveryDistinctState extends EveryState<EveryDistinctSpec> {
  /** Per spawned instance: key → time it expires (null: never), in insertion order so expired keys come first. */
  private readonly seenBy = new Map<StateNode, Map<string, number | null>>();
  /** The keys the next spawn starts with (a copy of its predecessor's when that one turned true). */
  private inherited: Map<string, number | null> | undefined;

  protected override spawn(): StateNode | null {
    const keys = this.inherited ?? new Map<string, number | null>();
    this.inherited = undefined;
    const child = super.spawn();
    if (child) this.seenBy.set(child, keys);
    return child;
  }

  protected override untrack(child: StateNode): void {
    super.untrack(child);
    this.seenBy.delete(child);
  }

  override childTrue(bindings: Bindings, from: StateNode, quitted: boolean): void {
    const keys = this.seenBy.get(from);
    let seenBefore = false;
    if (keys) {
      const now = this.ctx.time;
      for (const [k, expires] of keys) {
        if (expires !== null && now >= expires) keys.delete(k);
        else break;
      }
      const key = JSON.stringify(this.spec.keys.map((k) => k(undefined, bindings) ?? null));
      seenBefore = keys.has(key);
      if (!seenBefore) keys.set(key, this.spec.expiry === null ? null : afterPeriod(now, this.spec.expiry));
    }
    if (quitted) this.untrack(from);
    if (!from.isFilter && !from.isSchedule) {
      // An instance that ended hands its keys over; one that goes on keeps its own, so the new one gets a copy
      // (copying every time made a stream of distinct keys quadratic).
      this.inherited = quitted && keys ? keys : new Map(keys);
      this.spawn();
    }
    if (!seenBefore) this.parent.childTrue(bindings, this, false);
    this.afterLastScheduled(from, quitted);
  }

  override save(w: SaveContext): SavedNode {
    const children = [...this.spawned];
    const keysOf = (c: StateNode) => [...(this.seenBy.get(c) ?? [])];
    // `k`: one set for the node, which versions before 2026-11-24 read (a rolling deploy or a rollback may
    // restore this snapshot there): the first instance's keys. `ks`: each instance's, when there are several.
    return {
      ...super.save(w),
      k: children.length > 0 ? keysOf(children[0]) : [],
      ...(children.length > 1 ? { ks: children.map(keysOf) } : {}),
    };
  }

  override restore(saved: SavedNode, r: RestoreContext): void {
    super.restore(saved, r);
    const children = [...this.spawned];
    const perChild = saved.ks as Array<Array<[string, number | null]>> | undefined;
    // One instance (or a snapshot before 2026-11-24, which kept one set for the node): `k` is its set.
    const shared = saved.k as Array<[string, number | null]> | undefined;
    children.forEach((c, i) => this.seenBy.set(c, new Map(perChild ? perChild[i] : shared)));
  }
}

/** The repeat operator `[n] A`, `[lo:hi] A until B`, `A until B` (Esper's match-until). */
export class RepeatState extends StateNode<RepeatSpec> implements Parent {
  readonly filterChildNonQuitting = true;
  readonly takesRepetitions = true;
  private begin: Bindings = [];
  private matcher: StateNode | null = null;
  private until: StateNode | null = null;
  private matches = 0;
  /** Per arrayed slot (same order as spec.arrayedSlots): the events collected so far. */
  private collected: unknown[][] = [];
  /** Set while the until side starts: Esper reads the bounds only after that (EvalMatchUntilStateNode.start). */
  private untilStarting = false;
  /** Set while a restarted matcher starts (see childTrue). */
  private startingMatcher = false;


  start(begin: Bindings): void {
    this.begin = begin;
    this.collected = this.spec.arrayedSlots.map(() => []);
    this.matcher = newState(this.spec.child, this, this.ctx);
    if (this.spec.until) this.until = newState(this.spec.until, this, this.ctx);
    // The until side starts first: when one event satisfies both, the match does not count.
    this.untilStarting = true;
    try {
      this.until?.start(begin);
    } finally {
      this.untilStarting = false;
    }
    this.matcher?.start(begin);
  }

  private get tight(): boolean {
    return this.spec.low !== null && this.spec.high !== null && this.spec.low === this.spec.high;
  }

  childTrue(bindings: Bindings, from: StateNode, quitted: boolean): void {
    const isMatcher = from === this.matcher;
    if (isMatcher) {
      this.matches++;
      const slots = this.spec.arrayedSlots;
      for (let i = 0; i < slots.length; i++) {
        const v = bindings[slots[i]];
        if (v === undefined) continue;
        if (Array.isArray(v)) this.collected[i].push(...v);
        else this.collected[i].push(v);
      }
      if (quitted) this.matcher = null;
    } else if (quitted) {
      this.until = null;
    }

    if (isMatcher) {
      if (this.tight && this.matches === this.spec.low) {
        this.quitInternal();
        this.parent.childTrue(this.consolidate(bindings), this, true);
        return;
      }
      if (quitted && from.isSchedule) {
        // A schedule's last time: nothing restarts it, and as in Esper (where it then turns false) the repeat
        // ends false: `timer:schedule(iso: 'R3/PT2S') until timer:interval(10 sec)` never matches.
        this.quitInternal();
        this.parent.childFalse(this, true);
        return;
      }
      const bounded = this.spec.low !== null || this.spec.high !== null;
      const restart = !bounded || this.spec.high === null || this.spec.high > this.matches;
      if (this.matcher === null) {
        // Open-ended, a matcher true as it starts would restart without end (the compiler refuses the
        // shapes it can see; this is the backstop): it is not restarted, and the repeat waits for its until.
        if (restart && !(this.startingMatcher && this.spec.high === null)) {
          this.matcher = newState(this.spec.child, this, this.ctx);
          this.startingMatcher = true;
          try {
            this.matcher.start(this.begin);
          } finally {
            this.startingMatcher = false;
          }
        }
      } else if (!restart) {
        this.matcher.quit();
        this.matcher = null;
      }
      return;
    }

    this.quitInternal();
    // An until side true as it starts (`not B`) ends the repeat true whatever its lower bound, as in Esper,
    // whose bounds are not read yet at that point.
    if (this.spec.low !== null && this.matches < this.spec.low && !this.untilStarting) this.parent.childFalse(this, true);
    else this.parent.childTrue(this.consolidate(bindings), this, true);
  }

  private consolidate(bindings: Bindings): Bindings {
    const out = bindings.slice();
    const slots = this.spec.arrayedSlots;
    for (let i = 0; i < slots.length; i++) if (this.collected[i].length > 0) out[slots[i]] = this.collected[i].slice();
    return out;
  }

  childFalse(from: StateNode, _restartable: boolean): void {
    if (from === this.matcher) {
      this.matcher.quit();
      this.matcher = null;
    } else {
      this.until?.quit();
      this.until = null;
    }
    this.parent.childFalse(this, true);
  }

  quit(): void {
    this.quitInternal();
  }

  private quitInternal(): void {
    const m = this.matcher;
    const u = this.until;
    this.matcher = null;
    this.until = null;
    m?.quit();
    u?.quit();
  }

  save(w: SaveContext): SavedNode {
    return this.base({
      b: w.bindings(this.begin),
      m: this.matcher ? this.matcher.save(w) : null,
      u: this.until ? this.until.save(w) : null,
      n: this.matches,
      e: w.bindings(this.collected as unknown as Bindings),
    });
  }

  restore(saved: SavedNode, r: RestoreContext): void {
    this.begin = r.bindings(saved.b as SavedBindings);
    this.matcher = saved.m ? r.node(saved.m as SavedNode, this) : null;
    this.until = saved.u ? r.node(saved.u as SavedNode, this) : null;
    this.matches = saved.n as number;
    this.collected = (r.bindings(saved.e as SavedBindings) as unknown[][]).map((l) => l ?? []);
  }
}

/** `A where timer:within(d)`, `A where timer:withinmax(d, n)`, `A while (expr)`. */
export class GuardState extends StateNode<GuardSpec> implements Parent, TimerOwner {
  readonly filterChildNonQuitting = false;
  readonly takesRepetitions = false;
  private child: StateNode | null = null;
  private entry: TimerEntry | null = null;
  private count = 0;


  start(begin: Bindings): void {
    const g = this.spec.guard;
    const timed = g.kind === 'within' || g.kind === 'withinMax';
    // Esper orders timers due at the same time by their schedule slots, and a guard takes its slot when it is
    // made, before its child starts: its deadline fires before a timer of the child due at the same time.
    const seq = timed ? this.ctx.reserveTimerSeq() : undefined;
    let deadline: number | null = null;
    if (timed) {
      if (g.computed) {
        const ms = g.computed(begin);
        if (ms === null) {
          // Not a number: no match, as in Esper, where the guard throws as it starts. The child never starts and
          // the guard ends false when the clock next moves, as a zero-length within does.
          this.child = null;
          this.entry = this.ctx.schedule(this, this.ctx.time, seq);
          return;
        }
        // A negative period is due now, as zero (a timer in the past would move the clock back).
        deadline = this.ctx.time + Math.max(0, ms);
      } else deadline = afterPeriod(this.ctx.time, g);
    }
    this.child = newState(this.spec.child, this, this.ctx);
    this.child.start(begin);
    if (this.child !== null && deadline !== null) {
      this.entry = this.ctx.schedule(this, deadline, seq);
      this.count = 0;
    }
  }

  childTrue(bindings: Bindings, _from: StateNode, quitted: boolean): void {
    const alreadyQuit = this.child === null;
    if (quitted) {
      this.child = null;
      this.stopTimer();
    }
    if (!alreadyQuit && this.inspect(bindings)) this.parent.childTrue(bindings, this, quitted);
  }

  private inspect(bindings: Bindings): boolean {
    const g = this.spec.guard;
    switch (g.kind) {
      case 'within':
        return true;
      case 'withinMax':
        if (++this.count > g.max) {
          this.guardQuit();
          return false;
        }
        return true;
      case 'while': {
        const v = g.condition(undefined, bindings);
        if (v === true) return true;
        // Esper: an unknown (null) condition drops this match but keeps the guard; false ends it.
        if (v !== null && v !== undefined) this.guardQuit();
        return false;
      }
    }
  }

  childFalse(): void {
    this.child = null;
    this.stopTimer();
    this.parent.childFalse(this, true);
  }

  onTimer(): void {
    this.entry = null;
    this.guardQuit();
  }

  private guardQuit(): void {
    const child = this.child;
    this.child = null;
    this.stopTimer();
    child?.quit();
    this.parent.childFalse(this, true);
  }

  private stopTimer(): void {
    if (this.entry) this.ctx.cancel(this.entry);
    this.entry = null;
  }

  quit(): void {
    const child = this.child;
    this.child = null;
    this.stopTimer();
    child?.quit();
  }

  save(w: SaveContext): SavedNode {
    return this.base({
      c: this.child ? this.child.save(w) : null,
      t: this.entry ? [this.entry.time, this.entry.seq] : null,
      n: this.count,
    });
  }

  restore(saved: SavedNode, r: RestoreContext): void {
    this.child = saved.c ? r.node(saved.c as SavedNode, this) : null;
    const t = saved.t as [number, number] | null;
    if (t) this.entry = this.ctx.schedule(this, t[0], t[1]);
    this.count = saved.n as number;
  }
}

/** The top of a pattern instance: reports matches and the instance's end. */
export class RootState implements Parent {
  readonly filterChildNonQuitting = false;
  readonly takesRepetitions = true;
  child: StateNode | null = null;
  isEnded = false;

  constructor(
    private readonly spec: NodeSpec,
    private readonly ctx: KeyContext,
  ) {}

  /** Set while starting a pattern whose matches at its start are dropped (see start). */
  private droppingStartMatches = false;

  /**
   * Starts the pattern. With `dropStartMatches`, a match found while it starts (`not A`, `timer:interval(0)`)
   * is dropped, as Esper drops it for a statement without a context (ViewableActivatorPattern connects its
   * output only after the start); the states stay as they are, so `(a=A) or (not b=B)` still matches A.
   */
  start(dropStartMatches = false): void {
    this.child = newState(this.spec, this, this.ctx);
    this.droppingStartMatches = dropStartMatches;
    try {
      this.child.start([]);
    } finally {
      this.droppingStartMatches = false;
    }
  }

  childTrue(bindings: Bindings, _from: StateNode, quitted: boolean): void {
    if (!this.droppingStartMatches) this.ctx.emit(bindings);
    if (quitted) this.end();
  }

  childFalse(): void {
    const child = this.child;
    this.child = null;
    child?.quit();
    this.end();
  }

  private end(): void {
    if (this.isEnded) return;
    this.child = null;
    this.isEnded = true;
    this.ctx.ended();
  }

  save(w: SaveContext): SavedNode | null {
    return this.child ? this.child.save(w) : null;
  }

  restore(saved: SavedNode | null, r: RestoreContext): void {
    this.child = saved ? r.node(saved, this) : null;
    if (!this.child) this.isEnded = true;
  }
}
