/**
 * The matching runtime: per rule and key, the active pattern instance; one clock and one timer queue for
 * the whole engine. Deterministic and free of I/O: time only moves when events or advanceTo() move it.
 */
import type { Bindings, EventRecord } from '../expr/types';
import type { RuleDefinition } from '../rules/rule';
import type { CompiledRuleInfo, DropReason, EngineStats, MatchRecord } from './api';
import type { CompiledPattern } from './automaton';
import { CompiledEmit, compileRuleParts } from './compile';
import {
  FilterState,
  FollowedByState,
  KeyContext,
  RestoreContext,
  RootState,
  SaveContext,
  SavedNode,
  StateNode,
  TimerEntry,
  TimerOwner,
} from './states';
import { TimerQueue } from './timer-queue';
import { eventTime } from './time';

export const DEFAULT_MAX_PARTIAL_MATCHES_PER_KEY = 10_000;

/** A rule ready to run: compile once, add to any number of engines. */
export class CompiledRule {
  readonly info: CompiledRuleInfo;

  constructor(
    readonly definition: RuleDefinition,
    readonly pattern: CompiledPattern,
    readonly emit: CompiledEmit[],
    /** Starting an instance starts a timer: instances must start at the key's first event of any type. */
    readonly startsTimed: boolean,
    warnings: CompiledRuleInfo['warnings'],
  ) {
    this.info = { id: definition.id, definition, warnings, tags: pattern.tags };
  }
}

/** Compiles a rule; throws RuleError with diagnostics in the rule file's coordinates. */
export function compileRule(definition: RuleDefinition): CompiledRule {
  const parts = compileRuleParts(definition);
  return new CompiledRule(definition, parts.pattern, parts.emit, parts.startsTimed, parts.warnings);
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
}

export interface EngineOptions {
  maxPartialMatchesPerKey?: number;
  /** Unpartitioned rules start here (epoch ms); default: the first event's time. */
  startTime?: number;
  /** Record which (rule, key) instances changed, for checkpointing (see drainChanges). */
  trackChanges?: boolean;
}

export interface KeyChange {
  rule: string;
  key: string | null;
  /** The instance's new state (`ended: true` once it ended and freed its memory), or null when discarded. */
  snapshot: KeySnapshot | null;
}

interface FilterList {
  items: FilterState[];
  dead: number;
}

interface EngineTimer extends TimerEntry {
  instance: KeyInstance;
}

class KeyInstance implements KeyContext {
  readonly filters = new Map<string, FilterList>();
  readonly partials = new Set<StateNode>();
  readonly root: RootState;
  seqCounter = 0;
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

  nextSeq(): number {
    return this.seqCounter++;
  }

  addFilter(filter: FilterState): void {
    const type = filter.spec.eventType;
    let list = this.filters.get(type);
    if (!list) this.filters.set(type, (list = { items: [], dead: 0 }));
    list.items.push(filter);
  }

  removeFilter(filter: FilterState): void {
    const list = this.filters.get(filter.spec.eventType);
    if (list) list.dead++;
  }

  schedule(owner: TimerOwner, at: number, seq?: number): TimerEntry {
    return this.rule.engine.schedule(this, owner, at, seq);
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
      (oldest.parent as FollowedByState).drop(oldest);
    }
  }

  partialClosed(node: StateNode): void {
    if (this.partials.delete(node)) this.rule.partialCount--;
  }

  /** Offers an event to the filters waiting for its type; filters started meanwhile do not see it. */
  dispatch(event: EventRecord, type: string): void {
    const list = this.filters.get(type);
    if (!list) return;
    const items = list.items;
    const n = items.length;
    this.dispatching = true;
    for (let i = 0; i < n; i++) {
      const f = items[i];
      if (f.active) f.match(event);
    }
    this.dispatching = false;
    if (list.dead > 16 && list.dead * 2 > items.length) this.compact(list);
  }

  private compact(list: FilterList): void {
    if (this.dispatching) return;
    list.items = list.items.filter((f) => f.active);
    list.dead = 0;
  }

  sortFiltersBySeq(): void {
    for (const list of this.filters.values()) list.items.sort((a, b) => a.seq - b.seq);
  }
}

class RuleRuntime {
  readonly id: string;
  readonly partitionBy: string | undefined;
  private readonly keys = new Map<string, KeyInstance>();
  private single: KeyInstance | null = null;
  /** Keys whose instance has ended: as in Esper, a key's pattern instance does not start again. */
  private readonly endedKeys = new Set<string>();
  private singleEnded = false;
  readonly dirty = new Set<KeyInstance | string | null>();
  partialCount = 0;
  readonly drops = new Map<DropReason, number>();
  unkeyedEvents = 0;

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
    inst.root.start();
  }

  private keyOf(event: EventRecord): string | undefined {
    const v = Object.prototype.hasOwnProperty.call(event, this.partitionBy!) ? event[this.partitionBy!] : undefined;
    if (typeof v === 'string') return v;
    if (typeof v === 'number' || typeof v === 'boolean') return String(v);
    return undefined;
  }

  /** The key's instance, started (and offered the event) at the key's first event. */
  private instanceFor(event: EventRecord): KeyInstance | undefined {
    if (this.partitionBy === undefined) return this.single ?? undefined;
    const key = this.keyOf(event);
    if (key === undefined) {
      this.unkeyedEvents++;
      return undefined;
    }
    let inst = this.keys.get(key);
    if (inst === undefined) {
      if (this.endedKeys.has(key)) return undefined;
      inst = new KeyInstance(this, key);
      this.keys.set(key, inst);
      this.touch(inst);
      inst.root.start();
      if (inst.root.isEnded) return undefined;
    }
    return inst;
  }

  ensureInstance(event: EventRecord): void {
    this.instanceFor(event);
  }

  offer(event: EventRecord, type: string): void {
    const inst = this.instanceFor(event);
    if (inst === undefined || inst.root.isEnded) return;
    this.touch(inst);
    inst.dispatch(event, type);
  }

  touch(inst: KeyInstance): void {
    if (this.engine.trackChanges) this.dirty.add(inst);
  }

  emit(inst: KeyInstance, bindings: Bindings): void {
    const pattern = this.compiled.pattern;
    const events: MatchRecord['events'] = {};
    for (const { name, slot } of pattern.visibleTags) {
      const v = bindings[slot];
      events[name] = v === undefined ? null : (v as EventRecord | EventRecord[]);
    }
    const fields: Record<string, unknown> = {};
    for (const e of this.compiled.emit) {
      const v = e.evaluate(undefined, bindings);
      fields[e.field] = v === undefined ? null : v;
    }
    this.engine.output({ rule: this.id, key: inst.key, time: this.engine.now, events, fields });
  }

  ended(inst: KeyInstance): void {
    if (inst.key === null) {
      this.single = null;
      this.singleEnded = true;
    } else {
      this.keys.delete(inst.key);
      this.endedKeys.add(inst.key);
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
    return [...this.keys.keys(), ...this.endedKeys];
  }

  snapshot(key: string | null): KeySnapshot | undefined {
    const inst = this.instance(key);
    if (!inst) return this.isEnded(key) ? { v: 1, ended: true, seq: 0, events: [], root: null } : undefined;
    const w = new SaveContext();
    const root = inst.root.save(w);
    return { v: 1, ended: false, seq: inst.seqCounter, events: w.events, root };
  }

  restore(key: string | null, snap: KeySnapshot): void {
    this.discard(key);
    if (snap.ended) {
      if (key === null) this.singleEnded = true;
      else this.endedKeys.add(key);
      return;
    }
    const inst = new KeyInstance(this, key);
    inst.seqCounter = snap.seq;
    const r = new RestoreContext(snap.events, this.compiled.pattern.specs, inst);
    inst.root.restore(snap.root, r);
    inst.sortFiltersBySeq();
    // Restoring re-opened the partial matches in tree order; the drop order is by age.
    const partials = [...inst.partials].sort((a, b) => a.seq - b.seq);
    inst.partials.clear();
    for (const p of partials) inst.partials.add(p);
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
}

export class Engine {
  readonly maxPartialMatchesPerKey: number;
  readonly trackChanges: boolean;
  private readonly startTime: number | undefined;
  private started = false;
  private clock = Number.NEGATIVE_INFINITY;
  private readonly rules = new Map<string, RuleRuntime>();
  /** Rules grouped by the fields they read type and time from, then by event type. */
  private groups: Array<{
    typeField: string;
    timeField: string;
    byType: Map<string, RuleRuntime[]>;
    anyType: RuleRuntime[];
  }> = [];
  private readonly timers = new TimerQueue<EngineTimer>();
  private timerSeq = 0;
  private out: MatchRecord[] = [];

  constructor(options: EngineOptions = {}) {
    this.maxPartialMatchesPerKey = options.maxPartialMatchesPerKey ?? DEFAULT_MAX_PARTIAL_MATCHES_PER_KEY;
    this.startTime = options.startTime;
    this.trackChanges = options.trackChanges ?? false;
  }

  get now(): number {
    return this.clock;
  }

  /** Whether the clock has started (first event, startTime, or setTime). */
  get isStarted(): boolean {
    return this.started;
  }

  addRule(rule: CompiledRule): void {
    const id = rule.definition.id;
    if (this.rules.has(id)) throw new Error(`rule '${id}' is already running`);
    const runtime = new RuleRuntime(rule, this);
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
    runtime.stop();
    this.rules.delete(id);
    this.regroup();
  }

  ruleIds(): string[] {
    return [...this.rules.keys()];
  }

  private regroup(): void {
    const groups = new Map<string, (typeof this.groups)[number]>();
    for (const rule of this.rules.values()) {
      const { typeField, timeField } = rule.compiled.definition.event;
      const gk = `${typeField}\u0000${timeField}`;
      let g = groups.get(gk);
      if (!g) groups.set(gk, (g = { typeField, timeField, byType: new Map(), anyType: [] }));
      for (const type of rule.compiled.pattern.eventTypes) {
        let list = g.byType.get(type);
        if (!list) g.byType.set(type, (list = []));
        list.push(rule);
      }
      if (rule.partitionBy !== undefined && rule.compiled.startsTimed) g.anyType.push(rule);
    }
    this.groups = [...groups.values()];
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
      for (const rule of g.anyType) rule.ensureInstance(event);
      const rules = g.byType.get(type);
      if (rules !== undefined) for (let i = 0; i < rules.length; i++) rules[i].offer(event, type);
    }
    if (!used && reason !== undefined) throw new InvalidEventError(reason);
    return out;
  }

  /** Moves the clock to `time`, firing every timer due by then in time order. */
  advanceTo(time: number): MatchRecord[] {
    const out: MatchRecord[] = (this.out = []);
    if (!this.started) this.start(time);
    if (time > this.clock) this.advance(time);
    return out;
  }

  /** Sets the clock without firing timers (restoring a checkpoint). */
  setTime(time: number): void {
    this.started = true;
    this.clock = time;
  }

  private advance(time: number): void {
    let entry = this.timers.peek();
    while (entry !== undefined && entry.time <= time) {
      this.timers.pop();
      this.clock = entry.time;
      const inst = entry.instance;
      inst.rule.touch(inst);
      entry.owner.onTimer();
      entry = this.timers.peek();
    }
    this.clock = time;
  }

  schedule(instance: KeyInstance, owner: TimerOwner, at: number, seq?: number): TimerEntry {
    const s = seq ?? this.timerSeq++;
    if (s >= this.timerSeq) this.timerSeq = s + 1;
    const entry: EngineTimer = { time: at, seq: s, owner, cancelled: false, instance };
    this.timers.push(entry);
    return entry;
  }

  cancel(entry: TimerEntry): void {
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
      partialMatches.set(id, r.partialCount);
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
    this.rule(ruleId).restore(key, snapshot);
  }

  /** Forgets a key's state (e.g. a partition moved to another replica). */
  discardKey(ruleId: string, key: string | null): void {
    this.rule(ruleId).discard(key);
  }

  /** The (rule, key) instances changed since the last call, with their new state. Needs trackChanges. */
  drainChanges(): KeyChange[] {
    const changes: KeyChange[] = [];
    for (const rule of this.rules.values()) {
      for (const inst of rule.dirty) {
        const key = inst instanceof KeyInstance ? inst.key : inst;
        changes.push({ rule: rule.id, key, snapshot: rule.snapshot(key) ?? null });
      }
      rule.dirty.clear();
    }
    return changes;
  }

  private rule(id: string): RuleRuntime {
    const r = this.rules.get(id);
    if (!r) throw new Error(`no rule '${id}'`);
    return r;
  }
}
