/**
 * The matching runtime: per rule and key, the active pattern instance; one clock and one timer queue for
 * the whole engine. Deterministic and free of I/O: time only moves when events or advanceTo() move it.
 */
import type { Bindings, EventRecord } from '../expr/types';
import type { RuleDefinition } from '../rules/rule';
import { COMPLETED_BY, type CompiledRuleInfo, type DropReason, type EngineStats, type MatchRecord } from './api';
import type { CompiledPattern } from './automaton';
import { CompiledEmit, compileRuleParts } from './compile';
import {
  FilterState,
  KeyContext,
  RestoreContext,
  RootState,
  SaveContext,
  SavedNode,
  StateNode,
  TimerEntry,
  TimerOwner,
} from './states';
import {
  ExpiryQueue,
  FamilyHost,
  FamilyKey,
  FamilyMember,
  SavedSequenceKey,
  SequenceFamily,
  SequencePlan,
  planShape,
  sequencePlan,
} from './sequence';
import { TimerQueue, type QueuedTimer } from './timer-queue';
import { eventTime } from './time';

export const DEFAULT_MAX_PARTIAL_MATCHES_PER_KEY = 10_000;
export const DEFAULT_TIMER_CATCH_UP_LIMIT = 100_000;
export const DEFAULT_TIMER_MOVE_LIMIT = 500_000;
/** reclaimFreshKeys: the fewest new keys between two sweeps. */
export const RECLAIM_AFTER_NEW_KEYS = 10_000;
/** The work one process() call gives a sweep: a key looked at costs 1, more for large states (see freshCost). */
const RECLAIM_WORK_PER_STEP = 64;

/** A rule ready to run: compile once, add to any number of engines. */
export class CompiledRule {
  readonly info: CompiledRuleInfo;

  constructor(
    readonly definition: RuleDefinition,
    readonly pattern: CompiledPattern,
    readonly emit: CompiledEmit[],
    /** Starting an instance starts a timer or can match at once: a key's instance starts at its first event of any type. */
    readonly startsOnAnyEvent: boolean,
    warnings: CompiledRuleInfo['warnings'],
  ) {
    this.info = { id: definition.id, definition, warnings, tags: pattern.tags };
  }
}

/** Compiles a rule; throws RuleError with diagnostics in the rule file's coordinates. */
export function compileRule(definition: RuleDefinition): CompiledRule {
  const parts = compileRuleParts(definition);
  return new CompiledRule(definition, parts.pattern, parts.emit, parts.startsOnAnyEvent, parts.warnings);
}

export type InvalidEventReason = 'not_an_object' | 'missing_type' | 'missing_time';

/** An event no rule can use: it has no usable type or time for any rule's `event` fields. */
export class InvalidEventError extends Error {
  constructor(readonly reason: InvalidEventReason) {
    super(`invalid event: ${reason.replace('_', ' ')}`);
    this.name = 'InvalidEventError';
  }
}

/** The JSON-able state of one (rule, key) pattern instance. */
export interface KeySnapshot {
  v: 1;
  ended: boolean;
  /** Next creation sequence number of the instance. */
  seq: number;
  events: unknown[];
  root: SavedNode | null;
  /** Next filter registration number of the instance. */
  reg?: number;
  /** Creation numbers of the open partial matches, oldest first (the order they are dropped in). */
  partials?: number[];
  /** The flat automaton's runs (rules on the sequence fast path). */
  sequence?: SavedSequenceKey;
}

export interface EngineOptions {
  maxPartialMatchesPerKey?: number;
  /** Unpartitioned rules start here (epoch ms); default: the first event's time. */
  startTime?: number;
  /** Record which (rule, key) instances changed, for checkpointing (see drainChanges). */
  trackChanges?: boolean;
  /** Run flat sequence rules on the flat automaton (default true; false forces the general runtime). */
  sequenceFastPath?: boolean;
  /**
   * Free the keys of partitioned rules whose state is what a new key of their rule starts with (default
   * false): no partial match but the ones a new key opens, no timer, not ended. The key's next event builds
   * the same state again, so no match changes; without it every key ever seen stays in memory. Sweeps run
   * inside process() once enough new keys came (at least reclaimAfterNewKeys, and as many as were left by
   * the last sweep), a few keys per call. With trackChanges a freed key is a change whose snapshot is null (its
   * stored copy is deleted), sweeps pass over keys changed since the last drain (their stored state is older),
   * and evicting a key in a new key's state frees it the same way (evictKey), so the store does not keep every
   * key ever seen either. Not while rules read time from several fields: a
   * group's clock move after another group offered the event could then fire a timer within the same event,
   * which an `every` tells apart by when it last spawned (EveryState.lastSpawn, not part of the state).
   */
  reclaimFreshKeys?: boolean;
  /** The fewest new keys between two sweeps of reclaimFreshKeys (default RECLAIM_AFTER_NEW_KEYS). */
  reclaimAfterNewKeys?: number;
  /**
   * The most evicted sequence keys whose runs' end the engine keeps, to free them then (Engine.expireEvicted;
   * default MAX_EXPIRY_ENTRIES). Past it, an evicted key gets no entry and stays stored until its next event,
   * so the heap of a partition with many cold keys stays bounded.
   */
  maxExpiryEntries?: number;
  /**
   * Timers one key may fire between two events the engine processes, of any key (default 100,000). A jump of
   * the clock, such as an event from 1970 followed by one from today, would make `every timer:interval(1 sec)`
   * fire 1.8 billion times in one step (Esper would, stalling the partition for hours or running out of
   * memory). Past this many firings the key's state is thrown away, counted as dropped for
   * `timer_catch_up_limit`, and the key starts afresh at its next event (an unpartitioned rule: at the time
   * the clock moved to). Counted between events, not per move, so how the clock got there (ticks or one
   * jump) changes nothing; the count is not in snapshots, so a key restored from one starts counting again.
   */
  timerCatchUpLimit?: number;
  /**
   * Timers all keys together may fire in one move of the clock (default 500,000), so that many keys each
   * catching up cannot exhaust memory (their matches are held until the move ends). Past it, each key whose
   * timer comes due in that move is reset as above. Unlike the per-key limit this depends on how the clock
   * moved (a replay that advances in other steps may not reach it), which is why it is only a safety net.
   */
  timerMoveLimit?: number;
}

/** The bounds on an engine's state and work, as configuration carries them to every engine. */
export type EngineLimits = Pick<EngineOptions, 'maxPartialMatchesPerKey' | 'timerCatchUpLimit' | 'timerMoveLimit'>;

/** The engine limits of any options object holding them (the service's config, a stream's options...). */
export function engineLimits(o: EngineLimits): EngineLimits {
  return { maxPartialMatchesPerKey: o.maxPartialMatchesPerKey, timerCatchUpLimit: o.timerCatchUpLimit, timerMoveLimit: o.timerMoveLimit };
}

export interface KeyChange {
  rule: string;
  key: string | null;
  /** The instance's new state (`ended: true` once it ended and freed its memory), or null when discarded. */
  snapshot: KeySnapshot | null;
}

/** The active filters of one event type, in the order they see an event (see KeyInstance.dispatch). */
interface FilterList {
  /** Filters with a condition, in registration order. */
  conditional: FilterState[];
  /** Filters without one (`a=A`), in registration order. */
  unconditional: FilterState[];
  dead: number;
}

/** Offers the event to the first `n` filters of the list that are still active. */
function matchEach(filters: FilterState[], n: number, event: EventRecord): void {
  for (let i = 0; i < n; i++) {
    const f = filters[i];
    if (f.active) f.match(event);
  }
}

interface EngineTimer extends TimerEntry {
  instance: KeyInstance;
}

/** An evicted key that owns pending timers, queued by its earliest one (see Engine.nextDormantDue). */
interface DormantKey extends QueuedTimer {
  rule: string;
  key: string;
  /** Its open partial matches (counted in the rule's evictedPartials). */
  partials: number;
}

/** The engine was asked to move its clock past a timer of an evicted key that was not reloaded first. */
export class DormantKeyError extends Error {
  constructor(
    readonly rule: string,
    readonly key: string,
    readonly due: number,
  ) {
    super(`the key '${key}' of rule '${rule}' has a timer due at ${due} but is not in memory: reload it before moving the clock past it`);
    this.name = 'DormantKeyError';
  }
}

/** A resident (rule, key) instance that may be evicted now, with its last activity (see Engine.evictableKeys). */
export interface EvictableKey {
  rule: string;
  key: string;
  /** The engine's activity time when an event last reached the key (or it was restored, or it ended). */
  active: number;
}

class KeyInstance implements KeyContext {
  readonly filters = new Map<string, FilterList>();
  readonly partials = new Set<StateNode>();
  readonly root: RootState;
  seqCounter = 0;
  regCounter = 0;
  /** Activity time of the last event (or timer) that reached the instance, or of its restore. */
  active = 0;
  /** Pending (not fired, not cancelled) timers of the instance: while any, it must stay in memory. */
  timers = 0;
  /** Timers fired since the engine's event numbered `firedAfter` (see EngineOptions.timerCatchUpLimit). */
  firedSinceEvent = 0;
  firedAfter = -1;
  private dispatching = false;

  constructor(
    readonly rule: RuleRuntime,
    readonly key: string | null,
  ) {
    this.root = new RootState(rule.compiled.pattern.root, this);
  }

  get time(): number {
    return this.rule.engine.now;
  }

  get firingTimer(): boolean {
    return this.rule.engine.firingTimer;
  }

  get eventCount(): number {
    return this.rule.engine.eventCount;
  }

  nextSeq(): number {
    return this.seqCounter++;
  }

  addFilter(filter: FilterState): void {
    filter.reg = this.regCounter++;
    const type = filter.spec.eventType;
    let list = this.filters.get(type);
    if (!list) this.filters.set(type, (list = { conditional: [], unconditional: [], dead: 0 }));
    (filter.spec.conditional ? list.conditional : list.unconditional).push(filter);
  }

  removeFilter(filter: FilterState): void {
    const list = this.filters.get(filter.spec.eventType);
    if (list) list.dead++;
  }

  schedule(owner: TimerOwner, at: number, seq?: number): TimerEntry {
    return this.rule.engine.schedule(this, owner, at, seq);
  }

  reserveTimerSeq(): number {
    return this.rule.engine.reserveTimerSeq();
  }

  cancel(entry: TimerEntry): void {
    this.rule.engine.cancel(entry);
  }

  emit(bindings: Bindings): void {
    this.rule.emit(this, bindings);
  }

  ended(): void {
    this.rule.ended(this);
  }

  partialOpened(node: StateNode): void {
    this.partials.add(node);
    this.rule.partialCount++;
    if (this.partials.size > this.rule.engine.maxPartialMatchesPerKey) {
      const oldest = this.partials.values().next().value as StateNode;
      this.rule.countDrop('max_partial_matches_per_key');
      (oldest.parent as unknown as { drop(child: StateNode): void }).drop(oldest);
    }
  }

  partialClosed(node: StateNode): void {
    if (this.partials.delete(node)) this.rule.partialCount--;
  }

  /**
   * Offers an event to the filters waiting for its type; filters started meanwhile do not see it. Filters
   * with a condition see it first, then those without, each group in registration order: Esper collects an
   * event's filters from its filter index, where a filter without a condition sits at the index's root and
   * comes after every indexed one. So in `a=A or b=A(x > 5)` an A with x = 6 is b, and in
   * `a=A(x > 5) until b=A` it is collected by a before it ends the repeat.
   */
  dispatch(event: EventRecord, type: string): void {
    const list = this.filters.get(type);
    if (!list) return;
    const conditional = list.conditional;
    const unconditional = list.unconditional;
    const nConditional = conditional.length;
    const nUnconditional = unconditional.length;
    this.dispatching = true;
    try {
      matchEach(conditional, nConditional, event);
      matchEach(unconditional, nUnconditional, event);
    } finally {
      this.dispatching = false;
    }
    if (list.dead > 16 && list.dead * 2 > nConditional + nUnconditional) this.compact(list);
  }

  private compact(list: FilterList): void {
    if (this.dispatching) return;
    list.conditional = list.conditional.filter((f) => f.active);
    list.unconditional = list.unconditional.filter((f) => f.active);
    list.dead = 0;
  }

  sortFiltersByRegistration(): void {
    for (const list of this.filters.values()) {
      list.conditional.sort((a, b) => a.reg - b.reg);
      list.unconditional.sort((a, b) => a.reg - b.reg);
    }
  }
}

/** What the engine needs from a rule's runtime (the general state trees, or the flat sequence automaton). */
interface RuleRunner {
  readonly id: string;
  compiled: CompiledRule;
  readonly partitionBy: string | undefined;
  readonly partialCount: number;
  readonly drops: Map<DropReason, number>;
  readonly unkeyedEvents: number;
  readonly dirty: Set<string | null>;
  startSingle(): void;
  ensureInstance(event: EventRecord): void;
  keyList(): Array<string | null>;
  snapshot(key: string | null): KeySnapshot | undefined;
  restore(key: string | null, snapshot: KeySnapshot): void;
  discard(key: string | null): void;
  /** Records a change of the key's state for the next drain (with trackChanges). */
  markDirty(key: string | null): void;
  stop(): void;
  keyCount(): number;
  /** Partial matches of keys evicted from memory (they still count as open: their state is stored). */
  evictedPartials: number;
  /** Resident keys (live and ended) of a partitioned rule; 0 for an unpartitioned one (never evicted). */
  residentCount(): number;
  isResident(key: string): boolean;
  lastActive(key: string): number | undefined;
  /** Calls `visit` for each resident key that evict() would accept now. */
  forEachEvictable(visit: (key: string, active: number) => void): void;
  /** Frees a key's memory without recording a change; false (and nothing done) when it must stay. */
  evict(key: string): boolean;
  /** Open partial matches the key has in memory (0 when not resident). */
  partialsOf(key: string): number;
  /** Drops the key's oldest partial matches until `keep` are left, counting each for `reason`; returns how many. */
  trim(key: string | null, keep: number, reason: DropReason): number;
}

function partitionKey(event: EventRecord, field: string): string | undefined {
  const v = Object.prototype.hasOwnProperty.call(event, field) ? event[field] : undefined;
  if (typeof v === 'string') return v;
  if (typeof v === 'number' || typeof v === 'boolean') return String(v);
  return undefined;
}

class RuleRuntime implements RuleRunner {
  readonly id: string;
  readonly partitionBy: string | undefined;
  private readonly keys = new Map<string, KeyInstance>();
  private single: KeyInstance | null = null;
  /**
   * Keys whose instance has ended (as in Esper, a key's pattern instance does not start again), with the
   * activity time of the last event that reached the tombstone.
   */
  private readonly endedKeys = new Map<string, number>();
  private singleEnded = false;
  readonly dirty = new Set<string | null>();
  partialCount = 0;
  evictedPartials = 0;
  readonly drops = new Map<DropReason, number>();
  unkeyedEvents = 0;
  /** Matches emitted so far (tells whether starting an instance emits one). */
  private emitted = 0;
  /**
   * What a new key's state looks like (freshForm), once a key was started with reclaimFreshKeys on; null when
   * a new key's start does more than open filters (emits, sets a timer, or ends), so keys are never freed.
   */
  private fresh: { form: string; partials: number; events: number } | null | undefined;

  constructor(
    public compiled: CompiledRule,
    readonly engine: Engine,
  ) {
    this.id = compiled.definition.id;
    this.partitionBy = compiled.definition.partitionBy;
  }

  /** Starts the one instance of an unpartitioned rule. */
  startSingle(): void {
    if (this.partitionBy !== undefined || this.single || this.singleEnded) return;
    const inst = new KeyInstance(this, null);
    this.single = inst;
    this.touch(inst);
    // An unpartitioned rule is a statement without a context in Esper: a match at its start is not output.
    // A key's instance is a keyed context's partition, whose start matches Esper does output.
    inst.root.start(true);
  }

  /** The key's instance, started (and offered the event) at the key's first event. */
  private instanceFor(event: EventRecord, countUnkeyed = true): KeyInstance | undefined {
    if (this.partitionBy === undefined) return this.single ?? undefined;
    const key = partitionKey(event, this.partitionBy);
    if (key === undefined) {
      if (countUnkeyed) this.unkeyedEvents++;
      return undefined;
    }
    let inst = this.keys.get(key);
    if (inst === undefined) {
      if (this.endedKeys.has(key)) {
        this.endedKeys.set(key, this.engine.activityTime);
        return undefined;
      }
      inst = new KeyInstance(this, key);
      this.keys.set(key, inst);
      this.touch(inst);
      // The first key started with reclaimFreshKeys on tells what a new key's state is (see `fresh`).
      const probe = this.fresh === undefined && this.engine.reclaimsFreshKeys ? { emitted: this.emitted, dropped: this.dropCount() } : null;
      inst.root.start();
      this.engine.keyStarted();
      if (probe !== null) {
        // A start that emits, drops a partial match (the per-key cap), sets a timer or ends would do so again
        // each time a freed key is built again: such a rule's keys are never freed.
        const quiet = !inst.root.isEnded && inst.timers === 0 && this.emitted === probe.emitted && this.dropCount() === probe.dropped;
        const snap = this.snapshot(key)!;
        this.fresh = quiet ? { form: freshForm(snap), partials: inst.partials.size, events: snap.events.length } : null;
      }
      if (inst.root.isEnded) return undefined;
    }
    return inst;
  }

  /** Starts the key's instance at any event of the key (see startsOnAnyEvent); offer counts unkeyed events. */
  ensureInstance(event: EventRecord): void {
    this.instanceFor(event, false);
  }

  offer(event: EventRecord, type: string): void {
    const inst = this.instanceFor(event);
    if (inst === undefined || inst.root.isEnded) return;
    this.touch(inst);
    inst.dispatch(event, type);
  }

  touch(inst: KeyInstance): void {
    inst.active = this.engine.activityTime;
    this.markDirty(inst.key);
  }

  markDirty(key: string | null): void {
    if (this.engine.trackChanges) this.dirty.add(key);
  }

  emit(inst: KeyInstance, bindings: Bindings): void {
    this.emitted++;
    emitMatch(this.compiled, this.engine, inst.key, bindings);
  }

  ended(inst: KeyInstance): void {
    if (inst.key === null) {
      this.single = null;
      this.singleEnded = true;
    } else {
      this.keys.delete(inst.key);
      this.endedKeys.set(inst.key, this.engine.activityTime);
    }
    this.partialCount -= inst.partials.size;
    inst.partials.clear();
    this.touch(inst);
  }

  countDrop(reason: DropReason): void {
    this.drops.set(reason, (this.drops.get(reason) ?? 0) + 1);
  }

  instance(key: string | null): KeyInstance | undefined {
    return key === null ? (this.single ?? undefined) : this.keys.get(key);
  }

  isEnded(key: string | null): boolean {
    return key === null ? this.singleEnded : this.endedKeys.has(key);
  }

  keyList(): Array<string | null> {
    if (this.partitionBy === undefined) return this.single || this.singleEnded ? [null] : [];
    return [...this.keys.keys(), ...this.endedKeys.keys()];
  }

  snapshot(key: string | null): KeySnapshot | undefined {
    const inst = this.instance(key);
    if (!inst) return this.isEnded(key) ? { v: 1, ended: true, seq: 0, events: [], root: null } : undefined;
    const w = new SaveContext();
    const root = inst.root.save(w);
    const partials = [...inst.partials].map((p) => p.seq);
    return { v: 1, ended: false, seq: inst.seqCounter, reg: inst.regCounter, events: w.events, root, partials };
  }

  restore(key: string | null, snap: KeySnapshot): void {
    this.discard(key);
    // A snapshot of the sequence runtime (the rule ran there in another version, see stateRuntimeMarker)
    // cannot be read here: the key starts afresh rather than as a broken instance.
    if (snap.sequence) return;
    if (snap.ended) {
      if (key === null) this.singleEnded = true;
      else this.endedKeys.set(key, this.engine.activityTime);
      return;
    }
    const inst = new KeyInstance(this, key);
    inst.active = this.engine.activityTime;
    inst.seqCounter = snap.seq;
    const r = new RestoreContext(snap.events, this.compiled.pattern.specs, inst);
    inst.root.restore(snap.root, r);
    // Re-registering the filters counted registrations again; the saved counter is the true one.
    inst.regCounter = snap.reg ?? 0;
    inst.sortFiltersByRegistration();
    // Restoring re-opened the partial matches in tree order; the drop order is the order they opened in.
    const bySeq = new Map([...inst.partials].map((p) => [p.seq, p]));
    inst.partials.clear();
    for (const seq of snap.partials ?? []) {
      const p = bySeq.get(seq);
      if (p) inst.partials.add(p);
    }
    if (key === null) this.single = inst;
    else this.keys.set(key, inst);
  }

  /** Forgets a key's state without emitting anything (its timers are cancelled). */
  discard(key: string | null): void {
    const inst = this.instance(key);
    if (inst) {
      inst.root.child?.quit();
      this.partialCount -= inst.partials.size;
      inst.partials.clear();
      if (key === null) this.single = null;
      else this.keys.delete(key);
    }
    if (key === null) this.singleEnded = false;
    else this.endedKeys.delete(key);
  }

  stop(): void {
    for (const key of this.keyList()) this.discard(key);
  }

  keyCount(): number {
    return this.keys.size + (this.single ? 1 : 0);
  }

  residentCount(): number {
    return this.partitionBy === undefined ? 0 : this.keys.size + this.endedKeys.size;
  }

  isResident(key: string): boolean {
    return this.keys.has(key) || this.endedKeys.has(key);
  }

  lastActive(key: string): number | undefined {
    return this.keys.get(key)?.active ?? this.endedKeys.get(key);
  }

  partialsOf(key: string): number {
    return this.keys.get(key)?.partials.size ?? 0;
  }

  trim(key: string | null, keep: number, reason: DropReason): number {
    const inst = this.instance(key);
    if (!inst) return 0;
    let drops = 0;
    while (inst.partials.size > keep) {
      const size = inst.partials.size;
      const oldest = inst.partials.values().next().value as StateNode;
      (oldest.parent as unknown as { drop(child: StateNode): void }).drop(oldest);
      if (inst.partials.size >= size) break; // the node did not close: nothing more to take
      drops++;
    }
    this.drops.set(reason, (this.drops.get(reason) ?? 0) + drops);
    this.touch(inst);
    return drops;
  }

  private dropCount(): number {
    let n = 0;
    for (const v of this.drops.values()) n += v;
    return n;
  }

  /** Its live keys when partitioned (what reclaimFresh looks at), else 0. */
  sweptKeyCount(): number {
    return this.partitionBy === undefined ? 0 : this.keys.size;
  }

  /** Frees its keys whose state is a new key's (EngineOptions.reclaimFreshKeys); yields the work of each key looked at. */
  *reclaimFresh(): Generator<number> {
    if (this.partitionBy === undefined || !this.fresh) return;
    for (const [key, inst] of this.keys) {
      // A changed key's latest state is not in the checkpoint yet: freed now, a reload before its deletion is
      // written would bring back the older stored state. It waits for a sweep after its checkpoint.
      if (this.dirty.has(key)) {
        yield 1;
        continue;
      }
      const look = this.freshLook(key, inst);
      if (look.fresh) this.reclaim(key);
      yield look.work;
    }
  }

  /**
   * Whether the key's state is a new key's, and the work it took to tell: saving walks the whole state, so a
   * key holding many events or seen values costs its size, and bound events (a new key has none) rule it out
   * before the costlier serialization.
   */
  private freshLook(key: string, inst: KeyInstance): { fresh: boolean; work: number } {
    const fresh = this.fresh;
    if (!fresh || inst.timers > 0 || inst.partials.size !== fresh.partials) return { fresh: false, work: 1 };
    const snap = this.snapshot(key)!;
    if (snap.events.length !== fresh.events) return { fresh: false, work: 1 + (snap.events.length >> 5) };
    const form = freshForm(snap);
    return { fresh: form === fresh.form, work: 1 + (form.length >> 10) };
  }

  /** Frees a key in a new key's state; with a checkpoint, its deletion is the change recorded. */
  private reclaim(key: string): void {
    this.discard(key);
    this.engine.keyReclaimed(this, key);
  }

  /**
   * Keys changed since the last drain stay. A key owning pending timers may go: the engine keeps its earliest
   * timer's time (a dormant key) and will not move its clock there before the key is reloaded.
   */
  forEachEvictable(visit: (key: string, active: number) => void): void {
    if (this.partitionBy === undefined) return;
    const timers = this.engine.mayEvictTimers;
    for (const [key, inst] of this.keys) if (!this.dirty.has(key) && (timers || inst.timers === 0)) visit(key, inst.active);
    for (const [key, active] of this.endedKeys) if (!this.dirty.has(key)) visit(key, active);
  }

  evict(key: string): boolean {
    if (this.partitionBy === undefined || this.dirty.has(key)) return false;
    const inst = this.keys.get(key);
    if (inst !== undefined) {
      // A key in a new key's state leaves the store too (its stored copy would be kept forever otherwise); not
      // while rules read time from several fields (see EngineOptions.reclaimFreshKeys).
      if (this.engine.reclaimsOnEvict && this.freshLook(key, inst).fresh) {
        this.reclaim(key);
        return true;
      }
      if (inst.timers > 0 && !this.engine.mayEvictTimers) return false;
      const partials = inst.partials.size;
      this.evictedPartials += partials;
      if (inst.timers === 0) this.discard(key);
      else this.engine.sleep(this.id, key, inst, partials, () => this.discard(key));
      return true;
    }
    return this.endedKeys.delete(key);
  }
}

/** A rule on the flat sequence automaton (sequence.ts); its runs live in its family. */
class SequenceRuntime implements RuleRunner, FamilyMember {
  readonly id: string;
  readonly partitionBy: string | undefined;
  readonly dirty = new Set<string | null>();
  readonly drops = new Map<DropReason, number>();
  unkeyedEvents = 0;
  evictedPartials = 0;
  /** Where the rule runs (set by the engine when rules change): group, family, position in both. */
  group: SequenceGroup | null = null;
  fam: SequenceFamily<SequenceRuntime> | null = null;
  member = 0;
  index = 0;

  constructor(
    public compiled: CompiledRule,
    readonly plan: SequencePlan,
    readonly engine: Engine,
  ) {
    this.id = compiled.definition.id;
    this.partitionBy = compiled.definition.partitionBy;
  }

  /** Kept by its family (one array for all its rules: it changes per run). */
  get partialCount(): number {
    return this.fam === null ? 0 : this.fam.totals[this.member];
  }

  dropped(reason: DropReason): void {
    this.drops.set(reason, (this.drops.get(reason) ?? 0) + 1);
  }

  markDirty(key: string | null): void {
    if (this.engine.trackChanges) this.dirty.add(key);
  }

  /** Ends the runs whose within-deadline has passed: what the general runtime's timers do. */
  expire(now: number): void {
    this.group?.expire(now);
  }

  startSingle(): void {
    if (this.partitionBy === undefined) this.group!.keyOf(this, null, true)!.setPresent(this.member);
  }

  ensureInstance(): void {
    // A sequence starts with a filter: nothing happens before its first event.
  }

  /** Its key's state, when it has one. */
  private instance(key: string | null): FamilyKey | undefined {
    const fk = this.fam?.keys.get(key);
    return fk !== undefined && fk.isPresent(this.member) ? fk : undefined;
  }

  keyList(): Array<string | null> {
    const out: Array<string | null> = [];
    if (this.fam !== null) for (const [key, fk] of this.fam.keys) if (fk.isPresent(this.member)) out.push(key);
    return out;
  }

  snapshot(key: string | null): KeySnapshot | undefined {
    this.expire(this.engine.now);
    const fk = this.instance(key);
    if (!fk) return undefined;
    const sequence = fk.save(this.member);
    return { v: 1, ended: false, seq: sequence.reg, events: [], root: null, sequence };
  }

  restore(key: string | null, snapshot: KeySnapshot): void {
    this.discard(key);
    // A general-runtime snapshot (the rule ran there in another version): the key starts afresh instead of
    // failing the partition's load again and again.
    if (!snapshot.sequence) return;
    const fk = this.group!.keyOf(this, key, true)!;
    fk.restore(this.member, snapshot.sequence);
    fk.active = this.engine.activityTime;
    this.group!.restoredDeadlines();
  }

  discard(key: string | null): void {
    this.group?.discardKey(this, key);
  }

  stop(): void {
    for (const key of this.keyList()) this.discard(key);
  }

  keyCount(): number {
    return this.fam === null ? 0 : this.fam.keyCounts[this.member];
  }

  residentCount(): number {
    return this.partitionBy === undefined ? 0 : this.keyCount();
  }

  isResident(key: string): boolean {
    return this.instance(key) !== undefined;
  }

  lastActive(key: string): number | undefined {
    return this.instance(key)?.active;
  }

  partialsOf(key: string): number {
    return this.instance(key)?.partialsOf(this.member) ?? 0;
  }

  trim(key: string | null, keep: number, reason: DropReason): number {
    const fk = this.fam?.keys.get(key);
    if (fk === undefined || !fk.isPresent(this.member)) return 0;
    const drops = fk.trimTo(this.member, keep, reason);
    this.markDirty(key);
    return drops;
  }

  /**
   * No key has a timer here: a `within` deadline is checked lazily (an event, a snapshot or stats expire the
   * runs past it) and its expiry produces no output, so a restored key behaves as one that stayed. An evicted
   * key whose runs all end at a deadline is freed when the clock gets there (Engine.expireEvicted).
   */
  forEachEvictable(visit: (key: string, active: number) => void): void {
    if (this.partitionBy === undefined || this.fam === null) return;
    for (const [key, fk] of this.fam.keys) if (key !== null && fk.isPresent(this.member) && !this.dirty.has(key)) visit(key, fk.active);
  }

  evict(key: string): boolean {
    if (this.partitionBy === undefined || this.dirty.has(key)) return false;
    const fk = this.instance(key);
    if (fk === undefined) return false;
    const partials = fk.partialsOf(this.member);
    const reclaims = this.engine.reclaimsOnEvict;
    // When its runs have all ended (the latest `within` deadline): from then on its state is a new key's.
    const end = partials === 0 ? Number.NEGATIVE_INFINITY : reclaims ? fk.lastDeadlineOf(this.member) : Number.POSITIVE_INFINITY;
    // An earlier entry (the key started afresh since: its stored state was not found) goes with its count.
    this.engine.forgetDormant(this.id, key);
    this.discard(key);
    // No run, or none that outlives the clock: a new key's state, which leaves the store too (its stored copy
    // would be kept forever otherwise). Runs past their deadline are not expired in the queues here: a load
    // evicts key after key, and each expiry would sort the queues its restores left unsorted.
    if (reclaims && end <= this.engine.now) this.freed(key);
    else {
      this.evictedPartials += partials;
      if (reclaims && end !== Number.POSITIVE_INFINITY) this.engine.expireEvicted(this.id, key, partials, end);
    }
    return true;
  }

  /** Its key was freed in a new key's state: with a checkpoint, the deletion is the change recorded. */
  freed(key: string | null): void {
    this.engine.keyReclaimed(this, key);
  }

  /** Takes its state out of its family (which the engine is dissolving); restore puts it back elsewhere. */
  detach(): Array<[string | null, SavedSequenceKey, number]> {
    if (this.fam === null) return [];
    this.expire(this.engine.now);
    const saved = this.keyList().map((key): [string | null, SavedSequenceKey, number] => {
      const fk = this.instance(key)!;
      return [key, fk.save(this.member), fk.active];
    });
    this.fam = null;
    this.group = null;
    return saved;
  }
}

/**
 * Whether a family can become `members` in place: its members that stay come first, in its order, and the
 * others are new rules (rules join the engine's order at the end, so this holds unless shapes moved). `staying`:
 * `members` as a set.
 */
function keepsFamily(fam: SequenceFamily<SequenceRuntime>, members: SequenceRuntime[], staying: ReadonlySet<SequenceRuntime>): boolean {
  let i = 0;
  for (const rule of fam.members) if (staying.has(rule) && members[i++] !== rule) return false;
  for (; i < members.length; i++) if (members[i].fam !== null) return false;
  return true;
}

/**
 * A key's state with its nodes' creation numbers and its filters' registration numbers replaced by their
 * ranks. Only the order of those numbers matters (new ones are numbered after all of them), so two states of
 * one rule with the same form behave alike: a key whose form is a new key's can be freed (reclaimFreshKeys).
 */
function freshForm(snap: KeySnapshot): string {
  const numbers = { q: [] as number[], g: [] as number[] };
  const collect = (v: unknown): void => {
    if (v === null || typeof v !== 'object') return;
    if (Array.isArray(v)) {
      for (const x of v) collect(x);
      return;
    }
    for (const [k, x] of Object.entries(v)) {
      if ((k === 'q' || k === 'g') && typeof x === 'number') numbers[k].push(x);
      else collect(x);
    }
  };
  collect(snap.root);
  const rank = (list: number[]) => new Map([...new Set(list)].sort((a, b) => a - b).map((x, i) => [x, i]));
  const q = rank(numbers.q);
  const g = rank(numbers.g);
  const root = JSON.stringify(snap.root, (k, v: unknown) =>
    k === 'q' && typeof v === 'number' ? q.get(v) : k === 'g' && typeof v === 'number' ? g.get(v) : v,
  );
  return JSON.stringify([snap.ended, snap.events, root, (snap.partials ?? []).map((n) => q.get(n) ?? -1)]);
}

/** Splits a group's rules into families (sequence.ts planShape), in rule order. */
function familiesOf(rules: SequenceRuntime[]): SequenceRuntime[][] {
  const byShape = new Map<string, SequenceRuntime[]>();
  const out: SequenceRuntime[][] = [];
  for (const rule of rules) {
    const shape = planShape(rule.plan);
    let members = shape === null ? undefined : byShape.get(shape);
    if (members === undefined) {
      out.push((members = []));
      if (shape !== null) byShape.set(shape, members);
    }
    members.push(rule);
  }
  return out;
}

/**
 * All sequence-automaton rules that share a partition field: one key lookup per event for all of them.
 * Each family (rules that differ only in predicates, sharing runs) is offered only the events its start
 * filter or its waiting runs care about. Matches of one event are reported in rule order.
 */
class SequenceGroup implements FamilyHost {
  /** Per event type: the families that start on it or may wait for it, with the type's index there. */
  private readonly dispatch = new Map<
    string,
    { fams: number[]; types: number[]; starts: boolean[]; anyStart: boolean; rules?: SequenceRuntime[] }
  >();
  /** Per key: its state in each family (the families' own maps, gathered on first use). */
  private readonly keys = new Map<string | null, Array<FamilyKey | undefined>>();
  private readonly queues: ExpiryQueue[] = [];
  /** No queued deadline is earlier. */
  private readonly due = { next: Infinity };
  /** Restored deadlines were appended out of order (see restoredDeadlines). */
  private unsorted = false;
  readonly maxPartialMatchesPerKey: number;
  readonly tracking: boolean;
  private sharedEvent: EventRecord | null = null;
  private sharedSlot = -1;
  private shared: unknown[] = [];
  /** Matches of the event being offered, by rule position; reported once every family has seen it. */
  private readonly pendingRules: number[] = [];
  private readonly pendingBindings: unknown[][] = [];

  constructor(
    readonly partitionBy: string | undefined,
    readonly rules: SequenceRuntime[],
    readonly families: Array<SequenceFamily<SequenceRuntime>>,
    private readonly engine: Engine,
  ) {
    this.tracking = engine.trackChanges;
    this.maxPartialMatchesPerKey = engine.maxPartialMatchesPerKey;
    rules.forEach((rule, i) => {
      rule.group = this;
      rule.index = i;
    });
    families.forEach((fam, f) => {
      fam.members.forEach((rule, m) => {
        rule.fam = fam;
        rule.member = m;
      });
      fam.attach(this, this.due);
      this.queues.push(...fam.queues);
      const add = (type: string, start: boolean) => {
        let d = this.dispatch.get(type);
        if (!d) this.dispatch.set(type, (d = { fams: [], types: [], starts: [], anyStart: false }));
        d.fams.push(f);
        d.types.push(fam.typeIndex(type));
        d.starts.push(start);
        if (start) d.anyStart = true;
      };
      add(fam.startType, true);
      for (const type of fam.types) if (type !== fam.startType) add(type, false);
    });
  }

  /** The rules of the families an event of this type is offered to (start or wait for it). */
  rulesFor(type: string): readonly SequenceRuntime[] {
    const d = this.dispatch.get(type);
    if (d === undefined) return [];
    d.rules ??= d.fams.flatMap((f) => this.families[f].members);
    return d.rules;
  }

  emit(fam: SequenceFamily, member: number, bindings: unknown[]): void {
    this.pendingRules.push((fam.members[member] as SequenceRuntime).index);
    this.pendingBindings.push(bindings);
  }

  startBindings(event: EventRecord, slot: number): unknown[] {
    if (event !== this.sharedEvent || slot !== this.sharedSlot) {
      this.shared = [];
      this.shared[slot] = event;
      this.sharedEvent = event;
      this.sharedSlot = slot;
    }
    return this.shared;
  }

  offer(event: EventRecord, type: string, now: number): void {
    if (now >= this.due.next) this.expire(now);
    const active = this.engine.activityTime;
    const d = this.dispatch.get(type);
    if (d === undefined) return;
    let key: string | null = null;
    if (this.partitionBy !== undefined) {
      const k = partitionKey(event, this.partitionBy);
      if (k === undefined) {
        for (let i = 0; i < d.fams.length; i++) if (d.starts[i]) for (const r of this.families[d.fams[i]].members) r.unkeyedEvents++;
        return;
      }
      key = k;
    }
    let fks = this.keys.get(key);
    if (fks === undefined) {
      fks = this.families.map((f) => f.keys.get(key));
      if (!d.anyStart && fks.every((fk) => fk === undefined)) return;
      this.keys.set(key, fks);
    }
    const fams = d.fams;
    for (let i = 0; i < fams.length; i++) {
      const f = fams[i];
      let fk = fks[f];
      if (fk === undefined) {
        if (!d.starts[i]) continue;
        fk = fks[f] = this.families[f].key(key, true)!;
        this.engine.keyStarted();
      }
      fk.active = active;
      fk.offer(event, d.types[i], d.starts[i], now);
    }
    if (this.pendingRules.length > 0) this.flush(key);
    this.sharedEvent = null; // an event object may be offered again: its bindings must not carry over
  }

  /** Reports the pending matches in rule order (each rule's own in the order they happened). */
  private flush(key: string | null): void {
    const rules = this.pendingRules;
    const bindings = this.pendingBindings;
    const n = rules.length;
    for (let i = 1; i < n; i++) {
      const r = rules[i];
      const b = bindings[i];
      let j = i;
      for (; j > 0 && rules[j - 1] > r; j--) {
        rules[j] = rules[j - 1];
        bindings[j] = bindings[j - 1];
      }
      rules[j] = r;
      bindings[j] = b;
    }
    for (let i = 0; i < n; i++) emitMatch(this.rules[rules[i]].compiled, this.engine, key, bindings[i]);
    rules.length = 0;
    bindings.length = 0;
  }

  expire(now: number): void {
    if (now < this.due.next) return;
    if (this.unsorted) {
      this.resortExpiry();
      if (now < this.due.next) return;
    }
    let next = Infinity;
    for (const q of this.queues) {
      q.expire(now);
      next = Math.min(next, q.nextDeadline());
    }
    this.due.next = next;
  }

  /**
   * Restored deadlines join the expiry queues unordered: they are sorted once, before the next expiry check
   * (restoring many keys, e.g. a partition's load, sorts once instead of once per key).
   */
  restoredDeadlines(): void {
    this.unsorted = true;
    this.due.next = Number.NEGATIVE_INFINITY;
  }

  resortExpiry(): void {
    this.unsorted = false;
    this.reorganize((q) => q.sort());
  }

  /**
   * After evictions: drops the expiry entries of runs that ended (they would stay until their deadline) and
   * shrinks the families' run pools, so that evicted keys' memory is really freed.
   */
  compact(): void {
    const sort = this.unsorted;
    this.unsorted = false;
    this.reorganize((q) => {
      q.compact();
      if (sort) q.sort();
    });
    for (const fam of this.families) fam.trimPool();
  }

  /** Changes every expiry queue, then finds the earliest deadline again. */
  private reorganize(change: (q: ExpiryQueue) => void): void {
    let next = Infinity;
    for (const q of this.queues) {
      change(q);
      next = Math.min(next, q.nextDeadline());
    }
    this.due.next = next;
  }

  /** The families' keys (what reclaimFresh looks at), when partitioned. */
  sweptKeyCount(): number {
    if (this.partitionBy === undefined) return 0;
    let n = 0;
    for (const fam of this.families) n += fam.keys.size;
    return n;
  }

  /**
   * Frees the family keys without runs (EngineOptions.reclaimFreshKeys): a new key has none, and the sequence
   * automaton keeps nothing else per key. Each family's keys once, for all its rules; yields per key looked at.
   */
  *reclaimFresh(): Generator<number> {
    if (this.partitionBy === undefined) return;
    this.expire(this.engine.now);
    for (const fam of this.families) {
      for (const fk of fam.keys.values()) {
        // A changed key waits for a sweep after its checkpoint (see RuleRuntime.reclaimFresh).
        if (fk.key !== null && fk.idle && !fam.members.some((r, m) => fk.isPresent(m) && r.dirty.has(fk.key))) {
          for (let m = 0; m < fam.members.length; m++) if (fk.isPresent(m)) fam.members[m].freed(fk.key);
          fam.dropKey(fk);
          this.keys.delete(fk.key);
        }
        yield 1;
      }
    }
  }

  /** The rule's family state for the key; a new one resets the key's gathered view. */
  keyOf(rule: SequenceRuntime, key: string | null, create: boolean): FamilyKey | undefined {
    const existing = rule.fam!.keys.get(key);
    if (existing !== undefined || !create) return existing;
    this.keys.delete(key);
    return rule.fam!.key(key, true);
  }

  discardKey(rule: SequenceRuntime, key: string | null): void {
    const fk = rule.fam?.keys.get(key);
    if (fk === undefined || !fk.isPresent(rule.member)) return;
    fk.clear(rule.member);
    rule.fam!.dropKeyIfUnused(fk);
    this.keys.delete(key);
  }
}

/**
 * Sets `obj[key]` as an own data property. A plain assignment to `__proto__` would replace the object's
 * prototype (or be ignored) instead, losing the entry; every other key is an ordinary assignment.
 */
function setOwn<T>(obj: Record<string, T>, key: string, value: T): void {
  if (key === '__proto__') Object.defineProperty(obj, key, { value, enumerable: true, writable: true, configurable: true });
  else obj[key] = value;
}

/** Whether `event` is one of a match's bound events. */
function binds(events: MatchRecord['events'], event: EventRecord): boolean {
  for (const tag in events) {
    const bound = events[tag];
    if (bound === event || (Array.isArray(bound) && bound.includes(event))) return true;
  }
  return false;
}

/** Builds the match record both runtimes report. */
function emitMatch(compiled: CompiledRule, engine: Engine, key: string | null, bindings: Bindings): void {
  const events: MatchRecord['events'] = {};
  for (const { name, slot } of compiled.pattern.visibleTags) {
    const v = bindings[slot];
    setOwn(events, name, v === undefined ? null : (v as EventRecord | EventRecord[]));
  }
  const fields: Record<string, unknown> = {};
  for (const e of compiled.emit) {
    const v = e.evaluate(undefined, bindings);
    setOwn(fields, e.field, v === undefined ? null : v);
  }
  const match: MatchRecord = { rule: compiled.definition.id, key, time: engine.now, events, fields };
  const completing = engine.completingEvent();
  if (completing === null || !binds(events, completing)) Object.defineProperty(match, COMPLETED_BY, { value: completing });
  engine.output(match);
}

/**
 * Default EngineOptions.maxExpiryEntries: per engine (one per owned partition), about 0.8 MB at most; keys
 * evicted under `within` windows of minutes come and go well within it.
 */
export const MAX_EXPIRY_ENTRIES = 4096;

export class Engine {
  readonly maxPartialMatchesPerKey: number;
  readonly trackChanges: boolean;
  private readonly sequenceFastPath: boolean;
  private readonly startTime: number | undefined;
  private started = false;
  private clock = Number.NEGATIVE_INFINITY;
  private activity = 0;
  private readonly rules = new Map<string, RuleRuntime | SequenceRuntime>();
  /** Rules grouped by the fields they read type and time from, then by event type. */
  private groups: Array<{
    typeField: string;
    timeField: string;
    byType: Map<string, RuleRuntime[]>;
    anyType: RuleRuntime[];
    sequences: SequenceGroup[];
  }> = [];
  private readonly timers = new TimerQueue<EngineTimer>();
  private timerSeq = 0;
  private out: MatchRecord[] = [];
  /** Evicted keys owning pending timers, by rule and key; the queue orders them by their earliest timer. */
  private readonly dormant = new Map<string, Map<string, DormantKey>>();
  private readonly dormantQueue = new TimerQueue<DormantKey>();
  private dormantSeq = 0;
  /**
   * Sequence keys evicted with open runs that all end at a `within` deadline, by rule and key; the queue orders
   * them by that time, when each is freed unless reloaded first (see expireEvicted).
   */
  private readonly expiring = new Map<string, Map<string, DormantKey>>();
  private readonly expiringQueue = new TimerQueue<DormantKey>();
  private readonly maxExpiryEntries: number;
  /** While a key with timers is evicted: its instance and the earliest timer cancelled so far. */
  private sleeping: { instance: KeyInstance; due: number } | null = null;
  private firing = false;
  private readonly timerCatchUpLimit: number;
  private readonly timerMoveLimit: number;
  /** The event process() is offering to the rules, if any (see completingEvent). */
  private offering: EventRecord | undefined;
  private events = 0;
  /** Whether keys with pending timers may be evicted: all rules read time from one field (see regroup). */
  private canSleep = true;
  readonly reclaimsFreshKeys: boolean;
  /** Keys whose state was created so far (each rule's or sequence family's), and when the next sweep starts. */
  private keysCreated = 0;
  private readonly reclaimAfter: number;
  private nextReclaimAt: number;
  /** The sweep under way (see reclaimStep), or null. */
  private sweep: Generator<number> | null = null;
  /** Keys freed per rule id (reclaimFreshKeys), since the start: kept when a rule is removed or restarted. */
  private readonly reclaimed = new Map<string, number>();

  constructor(options: EngineOptions = {}) {
    this.maxPartialMatchesPerKey = options.maxPartialMatchesPerKey ?? DEFAULT_MAX_PARTIAL_MATCHES_PER_KEY;
    this.startTime = options.startTime;
    this.trackChanges = options.trackChanges ?? false;
    this.sequenceFastPath = options.sequenceFastPath ?? true;
    this.timerCatchUpLimit = options.timerCatchUpLimit ?? DEFAULT_TIMER_CATCH_UP_LIMIT;
    this.timerMoveLimit = options.timerMoveLimit ?? DEFAULT_TIMER_MOVE_LIMIT;
    this.reclaimsFreshKeys = options.reclaimFreshKeys ?? false;
    this.maxExpiryEntries = options.maxExpiryEntries ?? MAX_EXPIRY_ENTRIES;
    this.nextReclaimAt = this.reclaimAfter = options.reclaimAfterNewKeys ?? RECLAIM_AFTER_NEW_KEYS;
  }

  /** A rule (or sequence family) created a key's state: counts towards the next sweep. */
  keyStarted(): void {
    this.keysCreated++;
  }

  /**
   * A (rule, key) instance in a new key's state was freed (a sweep, or its eviction): counted, and with
   * trackChanges its deletion is the change recorded.
   */
  keyReclaimed(rule: RuleRunner, key: string | null): void {
    rule.markDirty(key);
    this.reclaimed.set(rule.id, (this.reclaimed.get(rule.id) ?? 0) + 1);
  }

  /** Keys freed because they held what a new key would (see EngineOptions.reclaimFreshKeys), since the start. */
  get reclaimedKeyCount(): number {
    let n = 0;
    for (const v of this.reclaimed.values()) n += v;
    return n;
  }

  /** reclaimedKeyCount per rule id (rules removed since included). */
  reclaimedKeysByRule(): Map<string, number> {
    return new Map(this.reclaimed);
  }

  /**
   * Runs part of a sweep over the keys (RECLAIM_WORK_PER_STEP), starting one once enough new keys came since
   * the last: at least reclaimAfterNewKeys, and as many as the last sweep left to look at, so each key
   * created pays for a bounded share of the sweeps. Changing the rules abandons a sweep (see regroup).
   */
  private reclaimStep(): void {
    if (this.sweep === null) {
      if (this.keysCreated < this.nextReclaimAt || !this.canSleep) return;
      this.sweep = this.sweepKeys();
    }
    for (let work = 0; work < RECLAIM_WORK_PER_STEP; ) {
      const step = this.sweep.next();
      if (!step.done) {
        work += step.value;
        continue;
      }
      this.sweep = null;
      let left = 0;
      for (const r of this.rules.values()) if (r instanceof RuleRuntime) left += r.sweptKeyCount();
      for (const g of this.groups) for (const s of g.sequences) left += s.sweptKeyCount();
      this.nextReclaimAt = this.keysCreated + Math.max(this.reclaimAfter, left);
      this.compactEvicted();
      return;
    }
  }

  /** Every general-runtime rule's keys, then every sequence group's families' keys (each key once). */
  private *sweepKeys(): Generator<number> {
    for (const r of [...this.rules.values()]) if (r instanceof RuleRuntime) yield* r.reclaimFresh();
    for (const g of this.groups) for (const s of g.sequences) yield* s.reclaimFresh();
  }

  get now(): number {
    return this.clock;
  }

  /** Whether a timer is firing now (as opposed to an event being processed). */
  get firingTimer(): boolean {
    return this.firing;
  }

  /** The event being offered to the rules (it completes any match made now), or null while a timer fires. */
  completingEvent(): EventRecord | null {
    return this.firing || this.offering === undefined ? null : this.offering;
  }

  /** Events given to process() so far. */
  get eventCount(): number {
    return this.events;
  }

  /** Whether the clock has started (first event, startTime, or setTime). */
  get isStarted(): boolean {
    return this.started;
  }

  /**
   * The activity clock: a number the caller advances (the Kafka consumer passes the wall clock in ms; tests
   * pass a counter). Every key an event reaches, whose timer fires, that ends or that is restored records it
   * as its last activity (lastActive), which is what eviction compares with its idle threshold. It never
   * affects matching.
   */
  get activityTime(): number {
    return this.activity;
  }

  /** Moves the activity clock forward (an earlier time is ignored: activity never goes back). */
  setActivityTime(time: number): void {
    if (time > this.activity) this.activity = time;
  }

  addRule(rule: CompiledRule): void {
    const id = rule.definition.id;
    if (this.rules.has(id)) throw new Error(`rule '${id}' is already running`);
    const plan = this.sequenceFastPath ? sequencePlan(rule.pattern) : null;
    const runtime = plan ? new SequenceRuntime(rule, plan, this) : new RuleRuntime(rule, this);
    this.rules.set(id, runtime);
    this.regroup();
    if (this.started) this.collect(() => runtime.startSingle());
  }

  /**
   * Replaces a running rule. When only metadata changed (severity, labels, emit, description) the rule keeps
   * its state; a changed pattern, partitionBy or event mapping starts it afresh. Returns whether state was kept.
   */
  updateRule(rule: CompiledRule): boolean {
    const id = rule.definition.id;
    const current = this.rules.get(id);
    if (!current) {
      this.addRule(rule);
      return false;
    }
    const a = current.compiled.definition;
    const b = rule.definition;
    const sameShape =
      a.pattern === b.pattern &&
      a.partitionBy === b.partitionBy &&
      a.event.typeField === b.event.typeField &&
      a.event.timeField === b.event.timeField;
    if (sameShape) {
      current.compiled = rule;
      return true;
    }
    this.removeRule(id);
    this.addRule(rule);
    return false;
  }

  /** Stops a rule and frees its state (its pending timers are cancelled). */
  removeRule(id: string): void {
    const runtime = this.rules.get(id);
    if (!runtime) return;
    for (const key of [...(this.dormant.get(id)?.keys() ?? []), ...(this.expiring.get(id)?.keys() ?? [])]) this.wake(id, key);
    runtime.stop();
    this.rules.delete(id);
    this.regroup();
  }

  ruleIds(): string[] {
    return [...this.rules.keys()];
  }

  private regroup(): void {
    this.sweep = null;
    this.canSleep = new Set([...this.rules.values()].map((r) => r.compiled.definition.event.timeField)).size <= 1;
    const groups = new Map<string, (typeof this.groups)[number]>();
    const sequenceRules = new Map<string, SequenceRuntime[]>();
    for (const rule of this.rules.values()) {
      const { typeField, timeField } = rule.compiled.definition.event;
      const gk = `${typeField}\u0000${timeField}`;
      let g = groups.get(gk);
      if (!g) groups.set(gk, (g = { typeField, timeField, byType: new Map(), anyType: [], sequences: [] }));
      if (rule instanceof SequenceRuntime) {
        const sk = `${gk}\u0000${rule.partitionBy ?? ''}\u0000${rule.partitionBy === undefined ? 0 : 1}`;
        let list = sequenceRules.get(sk);
        if (!list) sequenceRules.set(sk, (list = []));
        list.push(rule);
        continue;
      }
      for (const type of rule.compiled.pattern.eventTypes) {
        let list = g.byType.get(type);
        if (!list) g.byType.set(type, (list = []));
        list.push(rule);
      }
      if (rule.partitionBy !== undefined && rule.compiled.startsOnAnyEvent) g.anyType.push(rule);
    }
    // A family keeps its state when rules left it (taken out in place) or joined it at the end; otherwise its
    // rules move theirs into a new family (saved and restored).
    const moved: Array<[SequenceRuntime, Array<[string | null, SavedSequenceKey, number]>]> = [];
    const families = [...sequenceRules.values()].map((list) =>
      familiesOf(list).map((members) => {
        const old = members.find((r) => r.fam !== null)?.fam ?? null;
        const staying = new Set(members);
        if (old !== null && keepsFamily(old, members, staying)) {
          for (let m = old.members.length - 1; m >= 0; m--) if (!staying.has(old.members[m])) old.remove(m);
          const added = members.slice(old.members.length);
          if (added.length > 0) old.extend(added.map((r) => r.plan), added);
          return old;
        }
        for (const rule of members) moved.push([rule, rule.detach()]);
        return new SequenceFamily(
          members.map((r) => r.plan),
          members,
        );
      }),
    );
    [...sequenceRules.values()].forEach((list, i) => {
      const { typeField, timeField } = list[0].compiled.definition.event;
      groups.get(`${typeField}\u0000${timeField}`)!.sequences.push(new SequenceGroup(list[0].partitionBy, list, families[i], this));
    });
    this.groups = [...groups.values()];
    for (const [rule, keys] of moved) {
      for (const [key, saved, active] of keys) {
        const fk = rule.group!.keyOf(rule, key, true)!;
        fk.restore(rule.member, saved);
        // Keys keep their last activity (several rules of a new family: the latest).
        fk.active = Math.max(fk.active, active);
      }
    }
    for (const g of this.groups) for (const s of g.sequences) s.resortExpiry();
  }

  private start(time: number): void {
    this.started = true;
    this.clock = this.startTime ?? time;
    for (const rule of this.rules.values()) rule.startSingle();
  }

  /**
   * Advances the clock to the event's time (firing due timers first), then offers the event to every rule.
   * Returns the matches in the order they happened. An event earlier than the clock is processed at the
   * clock's time (time never goes back).
   */
  process(event: EventRecord): MatchRecord[] {
    const out: MatchRecord[] = (this.out = []);
    if (event === null || typeof event !== 'object' || Array.isArray(event)) throw new InvalidEventError('not_an_object');
    // With one time field, advance() refuses an event that would pass a dormant key's timer before any rule sees
    // it. With several (keys evicted before another field's rules came), every event with a time is refused until
    // those keys are back: checked here, not half-way through the groups.
    if (!this.canSleep && this.dormantQueue.size > 0 && this.latestTimeOf(event) !== undefined) this.dormantError();
    let reason: InvalidEventReason | undefined;
    let used = false;
    for (const g of this.groups) {
      const type = event[g.typeField];
      if (typeof type !== 'string' || type.length === 0) {
        reason ??= 'missing_type';
        continue;
      }
      const time = eventTime(event[g.timeField]);
      if (time === undefined) {
        reason = 'missing_time';
        continue;
      }
      used = true;
      if (!this.started) this.start(time);
      if (time > this.clock) this.advance(time);
      this.offering = event;
      for (const rule of g.anyType) rule.ensureInstance(event);
      const rules = g.byType.get(type);
      if (rules !== undefined) for (let i = 0; i < rules.length; i++) rules[i].offer(event, type);
      for (let i = 0; i < g.sequences.length; i++) g.sequences[i].offer(event, type, this.clock);
      this.offering = undefined;
    }
    // Counted once offered: an every that spawned while this event was processed has seen an event since.
    this.events++;
    if (!used && reason !== undefined) throw new InvalidEventError(reason);
    if (this.reclaimsFreshKeys) this.reclaimStep();
    return out;
  }

  /** Moves the clock to `time`, firing every timer due by then in time order. */
  advanceTo(time: number): MatchRecord[] {
    const out: MatchRecord[] = (this.out = []);
    if (!this.started) this.start(time);
    if (time > this.clock) this.advance(time);
    return out;
  }

  /** Sets the clock without firing timers (restoring a checkpoint); evicted keys whose runs ended by then are freed. */
  setTime(time: number): void {
    this.started = true;
    this.clock = time;
    if (this.expiringQueue.size > 0) this.freeExpiredEvicted(time);
  }

  private advance(time: number): void {
    // Its timers are not in memory: firing later ones first would reorder (or lose) its matches.
    if (this.dormantQueue.size > 0 && this.nextDormantDue() <= time) this.dormantError();
    if (this.expiringQueue.size > 0) this.freeExpiredEvicted(time);
    let firedInMove = 0;
    let restart: RuleRuntime[] | undefined;
    let entry = this.timers.peek();
    while (entry !== undefined && entry.time <= time) {
      this.timers.pop();
      // Fired: a later cancel of it is a no-op, and it no longer holds its instance in memory.
      entry.cancelled = true;
      entry.instance.timers--;
      this.clock = entry.time;
      const inst = entry.instance;
      if (inst.firedAfter !== this.events) {
        inst.firedAfter = this.events;
        inst.firedSinceEvent = 0;
      }
      if (++inst.firedSinceEvent > this.timerCatchUpLimit || ++firedInMove > this.timerMoveLimit) {
        // A runaway catch-up (see EngineOptions.timerCatchUpLimit and timerMoveLimit): the key's state goes,
        // timers included; an unpartitioned rule restarts once the clock got where it was going.
        this.dropKeyState(inst.rule, inst.key, 'timer_catch_up_limit');
        if (inst.key === null) (restart ??= []).push(inst.rule);
        entry = this.timers.peek();
        continue;
      }
      inst.rule.touch(inst);
      this.firing = true;
      try {
        entry.owner.onTimer();
      } finally {
        this.firing = false;
      }
      entry = this.timers.peek();
    }
    this.clock = time;
    if (restart !== undefined) for (const rule of restart) rule.startSingle();
  }

  reserveTimerSeq(): number {
    return this.timerSeq++;
  }

  schedule(instance: KeyInstance, owner: TimerOwner, at: number, seq?: number): TimerEntry {
    const s = seq ?? this.timerSeq++;
    if (s >= this.timerSeq) this.timerSeq = s + 1;
    // A time past what Date can hold (a calendar period or timer:at near its edge) is NaN: never due, and
    // kept out of the queue's order, where one NaN at the top would stop every timer behind it. Snapshots
    // store such a time as JSON, where Infinity becomes null: restored, it is never due again.
    const time = typeof at === 'number' && !Number.isNaN(at) ? at : Number.POSITIVE_INFINITY;
    const entry: EngineTimer = { time, seq: s, owner, cancelled: false, instance };
    this.timers.push(entry);
    instance.timers++;
    return entry;
  }

  cancel(entry: TimerEntry): void {
    if (entry.cancelled) return;
    const sleeping = this.sleeping;
    if (sleeping !== null && (entry as EngineTimer).instance === sleeping.instance && entry.time < sleeping.due) sleeping.due = entry.time;
    (entry as EngineTimer).instance.timers--;
    this.timers.cancel(entry as EngineTimer);
  }

  output(match: MatchRecord): void {
    this.out.push(match);
  }

  private collect(f: () => void): MatchRecord[] {
    const saved = this.out;
    const out: MatchRecord[] = (this.out = []);
    f();
    this.out = saved;
    saved.push(...out);
    return out;
  }

  stats(): EngineStats & { keys: Map<string, number>; unkeyedEvents: Map<string, number>; pendingTimers: number } {
    const partialMatches = new Map<string, number>();
    const dropped = new Map<string, Map<DropReason, number>>();
    const keys = new Map<string, number>();
    const unkeyedEvents = new Map<string, number>();
    for (const [id, r] of this.rules) {
      if (r instanceof SequenceRuntime) r.expire(this.clock);
      partialMatches.set(id, r.partialCount + r.evictedPartials);
      dropped.set(id, new Map(r.drops));
      keys.set(id, r.keyCount());
      unkeyedEvents.set(id, r.unkeyedEvents);
    }
    return { partialMatches, dropped, keys, unkeyedEvents, pendingTimers: this.timers.size };
  }

  /** Keys with state (live or ended) of a rule; null is the single instance of an unpartitioned rule. */
  keys(ruleId: string): Array<string | null> {
    return this.rules.get(ruleId)?.keyList() ?? [];
  }

  snapshotKey(ruleId: string, key: string | null): KeySnapshot | undefined {
    return this.rule(ruleId).snapshot(key);
  }

  restoreKey(ruleId: string, key: string | null, snapshot: KeySnapshot): void {
    if (key !== null) this.wake(ruleId, key);
    this.rule(ruleId).restore(key, snapshot);
  }

  // ---- Eviction of cold keys (their state stays in the checkpoint store; see docs/redis.md) ----

  /**
   * Calls `visit(rule, key)` for every partitioned rule an event would reach (by its type: the rules reading
   * that type, rules whose instances start at any event, sequence families that start on or wait for it),
   * with the event's key for that rule. A rule may be visited more than once. Those are the keys that must be
   * in memory before the event is processed.
   */
  partitionKeys(event: EventRecord, visit: (rule: string, key: string) => void): void {
    for (const g of this.groups) {
      const type = event[g.typeField];
      if (typeof type !== 'string' || type.length === 0) continue;
      const keyed = (r: RuleRunner) => {
        if (r.partitionBy === undefined) return;
        const key = partitionKey(event, r.partitionBy);
        if (key !== undefined) visit(r.id, key);
      };
      g.anyType.forEach(keyed);
      g.byType.get(type)?.forEach(keyed);
      for (const s of g.sequences) if (s.partitionBy !== undefined) s.rulesFor(type).forEach(keyed);
    }
  }

  /** The partition key of an event for a rule (undefined: the rule is unpartitioned or the event has no key). */
  partitionKeyOf(ruleId: string, event: EventRecord): string | undefined {
    const field = this.rule(ruleId).partitionBy;
    return field === undefined ? undefined : partitionKey(event, field);
  }

  /** Whether the rule holds the key (live or ended) in memory. */
  isResident(ruleId: string, key: string): boolean {
    return this.rules.get(ruleId)?.isResident(key) ?? false;
  }

  /** The key's last activity time (see activityTime), or undefined when it is not in memory. */
  lastActive(ruleId: string, key: string): number | undefined {
    return this.rules.get(ruleId)?.lastActive(key);
  }

  /** Keys (live and ended) of partitioned rules in memory, over all rules. */
  residentKeyCount(): number {
    let n = 0;
    for (const r of this.rules.values()) n += r.residentCount();
    return n;
  }

  /** Keys (live and ended) in memory per partitioned rule. */
  residentKeysByRule(): Map<string, number> {
    const out = new Map<string, number>();
    for (const [id, r] of this.rules) if (r.partitionBy !== undefined) out.set(id, r.residentCount());
    return out;
  }

  /**
   * The keys that may be evicted now: keys of partitioned rules (live or ended), not changed since the last
   * drainChanges (so the checkpoint holds their state), and owning no pending timer (general runtime: an
   * absence, `timer:interval` or `within` timer must fire on time). Unordered.
   */
  evictableKeys(): EvictableKey[] {
    const out: EvictableKey[] = [];
    for (const r of this.rules.values()) r.forEachEvictable((key, active) => out.push({ rule: r.id, key, active }));
    return out;
  }

  /**
   * Frees a key's memory without recording a change (no deletion reaches the checkpoint: the stored snapshot
   * stays the truth, and reloadKeys brings it back). Its open partial matches still count in stats(). With
   * reclaimFreshKeys, a key in a new key's state is freed for good instead: its deletion is recorded as a change
   * (it may be reloaded until that is checkpointed: the stored state is a new key's as well). Returns false and
   * does nothing when the key is not evictable now (see evictableKeys) or not in memory.
   */
  evictKey(ruleId: string, key: string): boolean {
    return this.rule(ruleId).evict(key);
  }

  /** After evictions: frees what evicted keys left in shared structures (expiry queues, run pools). */
  compactEvicted(): void {
    for (const g of this.groups) for (const s of g.sequences) s.compact();
  }

  /**
   * Restores keys evicted earlier from their stored snapshots (the partial matches they hold move from the
   * evicted count back to memory). Keys already in memory must not be passed, nor keys whose deletion was
   * drained and is not written yet (the caller's pending checkpoint: PartitionCheckpoint.reload leaves them out);
   * a key whose deletion is recorded and not drained yet is left out here.
   */
  reloadKeys(ruleId: string, entries: ReadonlyArray<readonly [string, KeySnapshot]>): void {
    const r = this.rule(ruleId);
    for (const [key, snapshot] of entries) {
      // Its deletion is recorded and not drained yet (freed, or reset): the stored state is not its state, and
      // its partial matches no longer count. It starts afresh instead.
      if (r.dirty.has(key) && !r.isResident(key)) {
        this.forgetDormant(ruleId, key);
        continue;
      }
      this.wake(ruleId, key);
      r.restore(key, snapshot);
      r.evictedPartials = Math.max(0, r.evictedPartials - r.partialsOf(key));
    }
  }

  /** Forgets a key's state (e.g. a partition moved to another replica). */
  discardKey(ruleId: string, key: string | null): void {
    if (key !== null) this.wake(ruleId, key);
    this.rule(ruleId).discard(key);
  }

  // ---- Dormant keys: evicted with pending timers ----

  /**
   * The earliest timer of an evicted key (Infinity when none): the clock must not reach it before that key is
   * reloaded (dormantKeysDueBy, reloadKeys). process() and advanceTo() throw DormantKeyError instead.
   */
  nextDormantDue(): number {
    const d = this.dormantQueue.peek();
    if (d === undefined) return Number.POSITIVE_INFINITY;
    // Keys evicted before rules with another time field came: an event's clock may be any of its times, so
    // the clock stays until they are all back (dormantKeysDueBy then lists them all).
    return this.canSleep ? d.time : Number.NEGATIVE_INFINITY;
  }

  /** Evicted keys whose earliest timer is due at or before `time`: those to reload before the clock gets there. */
  dormantKeysDueBy(time: number, visit: (rule: string, key: string) => void): void {
    this.dormantQueue.forEachDueBy(this.canSleep ? time : Number.POSITIVE_INFINITY, (d) => visit(d.rule, d.key));
  }

  private dormantError(): never {
    const d = this.dormantQueue.peek()!;
    throw new DormantKeyError(d.rule, d.key, d.time);
  }

  /** Evicted keys that own pending timers. */
  get dormantCount(): number {
    return this.dormantQueue.size;
  }

  /** Whether the key was evicted with pending timers and is not back yet. */
  isDormant(ruleId: string, key: string): boolean {
    return this.dormant.get(ruleId)?.has(key) ?? false;
  }

  /**
   * Whether keys with pending timers may be evicted now: only while every rule reads its time from one field.
   * With several, an event's clock is the latest of its times, which the reorder buffer (ordered by one of
   * them) cannot hold back at a dormant key's timer.
   */
  get mayEvictTimers(): boolean {
    return this.canSleep;
  }

  /** Whether an eviction frees a key in a new key's state instead of storing it (see EngineOptions.reclaimFreshKeys). */
  get reclaimsOnEvict(): boolean {
    return this.reclaimsFreshKeys && this.canSleep;
  }

  /** The latest of an event's times over the rules' time fields (undefined: none readable). */
  latestTimeOf(event: EventRecord): number | undefined {
    let latest: number | undefined;
    for (const g of this.groups) {
      const t = eventTime(event[g.timeField]);
      if (t !== undefined && (latest === undefined || t > latest)) latest = t;
    }
    return latest;
  }

  /**
   * The stored state of a dormant key is gone (its reload found nothing): the clock no longer waits for it.
   * Its partial matches stop counting as open.
   */
  forgetDormant(ruleId: string, key: string): void {
    const entry = this.wake(ruleId, key);
    const r = this.rules.get(ruleId);
    if (entry !== undefined && r) r.evictedPartials = Math.max(0, r.evictedPartials - entry.partials);
  }

  /** Evicts a key that owns timers (`discard` frees it), remembering when its earliest timer is due. */
  sleep(ruleId: string, key: string, instance: KeyInstance, partials: number, discard: () => void): void {
    // A key that started afresh (its stored state was not found) and is evicted again: its earlier entry goes,
    // and so do the partial matches it counted.
    this.forgetDormant(ruleId, key);
    this.sleeping = { instance, due: Number.POSITIVE_INFINITY };
    try {
      discard();
    } finally {
      const due = this.sleeping.due;
      this.sleeping = null;
      if (Number.isFinite(due)) this.enqueue(this.dormant, this.dormantQueue, ruleId, key, due, partials);
    }
  }

  /**
   * A sequence key was evicted with open runs that all end by `end` (their `within` deadlines), after the clock:
   * from then on its stored state is a new key's. Expiry emits nothing, so the clock does not wait for it; when
   * the clock gets there, the key is freed (its deletion recorded) unless it was reloaded before. The caller
   * has forgotten any earlier entry of the key (forgetDormant).
   */
  expireEvicted(ruleId: string, key: string, partials: number, end: number): void {
    // Bounded (about 200 B each): past the bound the key stays stored until its next event, as it did before.
    if (this.expiringQueue.size < this.maxExpiryEntries) this.enqueue(this.expiring, this.expiringQueue, ruleId, key, end, partials);
  }

  /** Evicted sequence keys whose runs will end at a deadline and are not back yet (see expireEvicted). */
  get expiringEvictedCount(): number {
    return this.expiringQueue.size;
  }

  /** Frees the evicted sequence keys whose runs have all ended by `time`. */
  private freeExpiredEvicted(time: number): void {
    for (let e = this.expiringQueue.peek(); e !== undefined && e.time <= time; e = this.expiringQueue.peek()) {
      this.forgetDormant(e.rule, e.key);
      const r = this.rules.get(e.rule);
      // In memory again without a reload (its stored state was lost and it started afresh): nothing to free.
      if (r instanceof SequenceRuntime && !r.isResident(e.key)) r.freed(e.key);
    }
  }

  /**
   * The key is back in memory (or gone for good): the clock stops waiting for it, and an evicted sequence key
   * is no longer freed at its runs' end. Its entry, if it had one.
   */
  private wake(ruleId: string, key: string): DormantKey | undefined {
    return this.unqueue(this.dormant, this.dormantQueue, ruleId, key) ?? this.unqueue(this.expiring, this.expiringQueue, ruleId, key);
  }

  private enqueue(byRule: Map<string, Map<string, DormantKey>>, queue: TimerQueue<DormantKey>, rule: string, key: string, time: number, partials: number): void {
    let byKey = byRule.get(rule);
    if (!byKey) byRule.set(rule, (byKey = new Map()));
    const entry: DormantKey = { time, seq: this.dormantSeq++, cancelled: false, rule, key, partials };
    byKey.set(key, entry);
    queue.push(entry);
  }

  private unqueue(byRule: Map<string, Map<string, DormantKey>>, queue: TimerQueue<DormantKey>, ruleId: string, key: string): DormantKey | undefined {
    const byKey = byRule.get(ruleId);
    const entry = byKey?.get(key);
    if (entry === undefined) return undefined;
    byKey!.delete(key);
    if (byKey!.size === 0) byRule.delete(ruleId);
    queue.cancel(entry);
    return entry;
  }

  /**
   * Throws a key's state away because it cannot be kept (it grew past the checkpoint's size bound): its
   * partial matches are counted as dropped for `reason`, the change is recorded (drainChanges reports it), and
   * the key starts afresh at its next event — an unpartitioned rule's single instance restarts at once.
   * Returns the number of partial matches dropped.
   */
  resetKey(ruleId: string, key: string | null, reason: DropReason): number {
    const rule = this.rule(ruleId);
    const dropped = this.dropKeyState(rule, key, reason);
    if (key === null && this.started) this.collect(() => rule.startSingle());
    return dropped;
  }

  /** Discards a key's state, counting its open partial matches as dropped for `reason`, and records the change. */
  private dropKeyState(rule: RuleRunner, key: string | null, reason: DropReason): number {
    const before = rule.partialCount;
    rule.discard(key);
    const dropped = Math.max(0, before - rule.partialCount);
    rule.drops.set(reason, (rule.drops.get(reason) ?? 0) + dropped);
    rule.markDirty(key);
    return dropped;
  }

  /**
   * Drops a key's oldest partial matches until `keep` are left (the key grew past what a checkpoint may
   * store), counting each for `reason`, and records the change. Returns the number dropped.
   */
  trimKey(ruleId: string, key: string | null, keep: number, reason: DropReason): number {
    return this.rule(ruleId).trim(key, Math.max(0, keep), reason);
  }

  /** A key's open partial matches in memory (an unpartitioned rule's single instance: key null). */
  partialMatchesOf(ruleId: string, key: string | null): number {
    const rule = this.rule(ruleId);
    return key === null ? rule.partialCount : rule.partialsOf(key);
  }

  /** Whether drainChanges has something to report (with trackChanges). */
  get hasChanges(): boolean {
    for (const rule of this.rules.values()) if (rule.dirty.size > 0) return true;
    return false;
  }

  /** The (rule, key) instances changed since the last call, with their new state. Needs trackChanges. */
  drainChanges(): KeyChange[] {
    const changes: KeyChange[] = [];
    for (const rule of this.rules.values()) {
      for (const key of rule.dirty) {
        changes.push({ rule: rule.id, key, snapshot: rule.snapshot(key) ?? null });
      }
      rule.dirty.clear();
    }
    return changes;
  }

  private rule(id: string): RuleRunner {
    const r = this.rules.get(id);
    if (!r) throw new Error(`no rule '${id}'`);
    return r;
  }
}
