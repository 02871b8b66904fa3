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
  KeyContext,
  RestoreContext,
  RootState,
  SaveContext,
  SavedNode,
  StateNode,
  TimerEntry,
  TimerOwner,
} from './states';
import { Run, RunQueue, SavedSequenceKey, SequenceHost, SequenceKey, SequencePlan, sequencePlan } from './sequence';
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
  regCounter = 0;
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
    filter.reg = this.regCounter++;
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
      (oldest.parent as unknown as { drop(child: StateNode): void }).drop(oldest);
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

  sortFiltersByRegistration(): void {
    for (const list of this.filters.values()) list.items.sort((a, b) => a.reg - b.reg);
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
  offer(event: EventRecord, type: string): void;
  keyList(): Array<string | null>;
  snapshot(key: string | null): KeySnapshot | undefined;
  restore(key: string | null, snapshot: KeySnapshot): void;
  discard(key: string | null): void;
  stop(): void;
  keyCount(): number;
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
  /** Keys whose instance has ended: as in Esper, a key's pattern instance does not start again. */
  private readonly endedKeys = new Set<string>();
  private singleEnded = false;
  readonly dirty = new Set<string | null>();
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

  /** The key's instance, started (and offered the event) at the key's first event. */
  private instanceFor(event: EventRecord): KeyInstance | undefined {
    if (this.partitionBy === undefined) return this.single ?? undefined;
    const key = partitionKey(event, this.partitionBy);
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
    if (this.engine.trackChanges) this.dirty.add(inst.key);
  }

  emit(inst: KeyInstance, bindings: Bindings): void {
    emitMatch(this.compiled, this.engine, inst.key, bindings);
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
    const partials = [...inst.partials].map((p) => p.seq);
    return { v: 1, ended: false, seq: inst.seqCounter, reg: inst.regCounter, events: w.events, root, partials };
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
    inst.regCounter = snap.reg ?? 0;
    const r = new RestoreContext(snap.events, this.compiled.pattern.specs, inst);
    inst.root.restore(snap.root, r);
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
}

/** A rule on the flat sequence automaton (sequence.ts). */
class SequenceRuntime implements RuleRunner, SequenceHost {
  readonly id: string;
  readonly partitionBy: string | undefined;
  private readonly keys = new Map<string, SequenceKey>();
  private single: SequenceKey | null = null;
  readonly dirty = new Set<string | null>();
  partialCount = 0;
  readonly drops = new Map<DropReason, number>();
  unkeyedEvents = 0;

  constructor(
    public compiled: CompiledRule,
    private readonly plan: SequencePlan,
    readonly engine: Engine,
  ) {
    this.id = compiled.definition.id;
    this.partitionBy = compiled.definition.partitionBy;
  }

  get maxPartialMatchesPerKey(): number {
    return this.engine.maxPartialMatchesPerKey;
  }

  get startType(): string {
    return this.plan.start.eventType;
  }

  get startSlot(): number {
    return this.plan.start.slot;
  }

  emit(key: SequenceKey, bindings: unknown[]): void {
    emitMatch(this.compiled, this.engine, key.key, bindings);
  }

  dropped(): void {
    this.drops.set('max_partial_matches_per_key', (this.drops.get('max_partial_matches_per_key') ?? 0) + 1);
  }

  partialsChanged(delta: number): void {
    this.partialCount += delta;
  }

  /** The dispatch group this rule belongs to (set by the engine when rules change). */
  group: SequenceGroup | null = null;
  index = 0;

  scheduleExpiry(run: Run, withinMs: number): void {
    this.group!.scheduleExpiry(run, withinMs);
  }

  waitingOn(key: SequenceKey, type: string): void {
    this.group?.noteWaiting(key.key, this.index, type);
  }

  /** The key's runs, created on first use. */
  keyFor(key: string | null): SequenceKey {
    if (key === null) {
      this.startSingle();
      return this.single!;
    }
    let k = this.keys.get(key);
    if (k === undefined) this.keys.set(key, (k = new SequenceKey(key, this.plan, this)));
    return k;
  }

  existingKey(key: string | null): SequenceKey | undefined {
    return this.instance(key);
  }

  countUnkeyed(): void {
    this.unkeyedEvents++;
  }

  markDirty(key: string | null): void {
    if (this.engine.trackChanges) this.dirty.add(key);
  }



  /** Ends the runs whose within-deadline has passed: what the general runtime's timers do. */
  expire(now: number): void {
    this.group?.expire(now);
  }


  startSingle(): void {
    if (this.partitionBy === undefined && !this.single) {
      this.single = new SequenceKey(null, this.plan, this);
      this.group?.forget(null);
    }
  }

  ensureInstance(): void {
    // A sequence starts with a filter: nothing happens before its first event.
  }

  offer(event: EventRecord, type: string): void {
    const now = this.engine.now;
    this.expire(now);
    let key: string | null = null;
    if (this.partitionBy !== undefined) {
      const k = partitionKey(event, this.partitionBy);
      if (k === undefined) {
        this.unkeyedEvents++;
        return;
      }
      key = k;
    }
    this.markDirty(key);
    this.keyFor(key).offer(event, type, now);
  }

  private instance(key: string | null): SequenceKey | undefined {
    return key === null ? (this.single ?? undefined) : this.keys.get(key);
  }

  keyList(): Array<string | null> {
    if (this.partitionBy === undefined) return this.single ? [null] : [];
    return [...this.keys.keys()];
  }

  snapshot(key: string | null): KeySnapshot | undefined {
    this.expire(this.engine.now);
    const k = this.instance(key);
    if (!k) return undefined;
    const sequence = k.save();
    return { v: 1, ended: false, seq: sequence.reg, events: [], root: null, sequence };
  }

  restore(key: string | null, snapshot: KeySnapshot): void {
    this.discard(key);
    if (!snapshot.sequence) throw new Error(`snapshot of rule '${this.id}' is not a sequence snapshot`);
    const k = new SequenceKey(key, this.plan, this);
    k.restore(snapshot.sequence);
    if (key === null) this.single = k;
    else this.keys.set(key, k);
    this.group?.forget(key);
    this.group?.resortExpiry();
  }

  discard(key: string | null): void {
    const k = this.instance(key);
    if (!k) return;
    k.clear();
    if (key === null) this.single = null;
    else this.keys.delete(key);
    this.group?.forget(key);
  }

  stop(): void {
    for (const key of this.keyList()) this.discard(key);
  }

  keyCount(): number {
    return this.keys.size + (this.single ? 1 : 0);
  }
}

/**
 * All sequence-automaton rules that share a partition field: one key lookup per event for all of them, and
 * each rule is offered only the events its start filter or its waiting runs care about.
 */
class SequenceGroup {
  private readonly startRules = new Map<string, number[]>();
  private readonly keys = new Map<string | null, GroupKey>();
  /** One queue per `within` length: deadlines join each queue in time order. */
  private readonly expiryQueues = new Map<number, RunQueue>();
  private queues: RunQueue[] = [];
  private nextDeadline = Infinity;

  private readonly trackChanges: boolean;

  constructor(
    readonly partitionBy: string | undefined,
    readonly rules: SequenceRuntime[],
  ) {
    this.trackChanges = rules[0]?.engine.trackChanges ?? false;
    rules.forEach((rule, i) => {
      rule.group = this;
      rule.index = i;
      const type = rule.startType;
      let list = this.startRules.get(type);
      if (!list) this.startRules.set(type, (list = []));
      list.push(i);
    });
  }

  scheduleExpiry(run: Run, withinMs: number): void {
    let q = this.expiryQueues.get(withinMs);
    if (!q) {
      this.expiryQueues.set(withinMs, (q = new RunQueue()));
      this.queues = [...this.expiryQueues.values()];
    }
    q.push(run, run.deadline);
    if (run.deadline < this.nextDeadline) this.nextDeadline = run.deadline;
  }

  resortExpiry(): void {
    let next = Infinity;
    for (const q of this.queues) {
      q.sort();
      next = Math.min(next, q.nextDeadline());
    }
    this.nextDeadline = next;
  }

  noteWaiting(key: string | null, rule: number, type: string): void {
    const gk = this.keys.get(key);
    if (gk) insertSorted(gk.waiting, type, rule);
  }

  /** Drops the cached view of a key (its runs were restored or discarded). */
  forget(key: string | null): void {
    this.keys.delete(key);
  }

  private groupKey(key: string | null): GroupKey {
    let gk = this.keys.get(key);
    if (gk === undefined) {
      gk = { waiting: new Map(), seq: this.rules.map((rule) => rule.existingKey(key)) };
      this.keys.set(key, gk);
      gk.seq.forEach((k, i) => {
        for (const type of k?.waitingTypes() ?? []) insertSorted(gk!.waiting, type, i);
      });
    }
    return gk;
  }

  offer(event: EventRecord, type: string, now: number): void {
    if (now >= this.nextDeadline) this.expire(now);
    const starts = this.startRules.get(type);
    let key: string | null = null;
    if (this.partitionBy !== undefined) {
      const k = partitionKey(event, this.partitionBy);
      if (k === undefined) {
        if (starts) for (const i of starts) this.rules[i].countUnkeyed();
        return;
      }
      key = k;
    }
    const gk = this.groupKey(key);
    const waits = gk.waiting.get(type);
    // Both lists are in rule order; walking them together offers each rule once, in rule order.
    const a = starts ?? EMPTY_INDEXES;
    const b = waits ?? EMPTY_INDEXES;
    const tracking = this.trackChanges;
    let shared: unknown[] | undefined;
    let sharedSlot = -1;
    let i = 0;
    let j = 0;
    while (i < a.length || j < b.length) {
      let r: number;
      if (j >= b.length || (i < a.length && a[i] <= b[j])) {
        r = a[i++];
        const alsoWaiting = j < b.length && b[j] === r;
        if (alsoWaiting) j++;
        const rule = this.rules[r];
        if (tracking) rule.markDirty(key);
        const slot = rule.startSlot;
        if (slot !== sharedSlot) {
          shared = slot >= 0 ? [] : EMPTY_BINDINGS;
          if (slot >= 0) shared[slot] = event;
          sharedSlot = slot;
        }
        const k = (gk.seq[r] ??= rule.keyFor(key));
        if (alsoWaiting) k.offer(event, type, now, shared);
        else k.start(event, now, shared);
      } else {
        r = b[j++];
        const k = gk.seq[r];
        if (k !== undefined && k.hasWaiting(type)) {
          if (tracking) this.rules[r].markDirty(key);
          k.resume(event, type, now);
        }
      }
    }
  }


  expire(now: number): void {
    if (now < this.nextDeadline) return;
    let next = Infinity;
    for (const q of this.queues) {
      while (q.nextDeadline() <= now) {
        const run = q.shift();
        if (run !== undefined) {
          const rule = this.rules[run.owner.ruleIndex];
          rule.markDirty(run.owner.key);
          run.owner.expire(run);
        }
      }
      const d = q.nextDeadline();
      if (d < next) next = d;
    }
    this.nextDeadline = next;
  }

}

interface GroupKey {
  /** Event type → rules (indexes, ascending) that have had runs waiting for it in this key. */
  waiting: Map<string, number[]>;
  /** Per rule index: its runs for this key, once created. */
  seq: Array<SequenceKey | undefined>;
}

const EMPTY_INDEXES: number[] = [];
const EMPTY_BINDINGS: unknown[] = [];

function insertSorted(map: Map<string, number[]>, type: string, value: number): void {
  let list = map.get(type);
  if (!list) map.set(type, (list = []));
  let i = list.length;
  while (i > 0 && list[i - 1] > value) i--;
  if (list[i - 1] === value) return;
  list.splice(i, 0, value);
}

/** Builds the match record both runtimes report. */
function emitMatch(compiled: CompiledRule, engine: Engine, key: string | null, bindings: Bindings): void {
  const events: MatchRecord['events'] = {};
  for (const { name, slot } of compiled.pattern.visibleTags) {
    const v = bindings[slot];
    events[name] = v === undefined ? null : (v as EventRecord | EventRecord[]);
  }
  const fields: Record<string, unknown> = {};
  for (const e of compiled.emit) {
    const v = e.evaluate(undefined, bindings);
    fields[e.field] = v === undefined ? null : v;
  }
  engine.output({ rule: compiled.definition.id, key, time: engine.now, events, fields });
}

export class Engine {
  readonly maxPartialMatchesPerKey: number;
  readonly trackChanges: boolean;
  private readonly sequenceFastPath: boolean;
  private readonly startTime: number | undefined;
  private started = false;
  private clock = Number.NEGATIVE_INFINITY;
  private readonly rules = new Map<string, RuleRunner>();
  /** Rules grouped by the fields they read type and time from, then by event type. */
  private groups: Array<{
    typeField: string;
    timeField: string;
    byType: Map<string, RuleRunner[]>;
    anyType: RuleRunner[];
    sequences: SequenceGroup[];
  }> = [];
  private readonly timers = new TimerQueue<EngineTimer>();
  private timerSeq = 0;
  private out: MatchRecord[] = [];

  constructor(options: EngineOptions = {}) {
    this.maxPartialMatchesPerKey = options.maxPartialMatchesPerKey ?? DEFAULT_MAX_PARTIAL_MATCHES_PER_KEY;
    this.startTime = options.startTime;
    this.trackChanges = options.trackChanges ?? false;
    this.sequenceFastPath = options.sequenceFastPath ?? true;
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
    const plan = this.sequenceFastPath ? sequencePlan(rule.pattern) : null;
    const runtime: RuleRunner = plan ? new SequenceRuntime(rule, plan, this) : new RuleRuntime(rule, this);
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
      if (rule.partitionBy !== undefined && rule.compiled.startsTimed) g.anyType.push(rule);
    }
    for (const list of sequenceRules.values()) {
      const { typeField, timeField } = list[0].compiled.definition.event;
      groups.get(`${typeField}\u0000${timeField}`)!.sequences.push(new SequenceGroup(list[0].partitionBy, list));
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
      for (let i = 0; i < g.sequences.length; i++) g.sequences[i].offer(event, type, this.clock);
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
      if (r instanceof SequenceRuntime) r.expire(this.clock);
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
