/**
 * One partition of a stream: the engine that runs the stream's rules for the keys of this partition, the
 * watermark and reorder buffer in front of it, the next offset to read, and (for repartition topics) which
 * source records were already seen.
 *
 * Records are added in offset order; each is admitted by the watermark (buffered, late but accepted, or
 * late and dropped), and every event the watermark has passed goes to the engine in event-time order, after
 * which the engine's clock follows the watermark (timers fire as it passes them). Out-of-order events within
 * maxOutOfOrderness therefore give the matches of the same events in order.
 *
 * Everything here is synchronous and pure (the wall clock is passed in); the state, engine included, can be
 * snapshot as JSON and restored into a fresh instance (per-partition checkpoints).
 */
import { Engine, engineLimits, InvalidEventError, type CompiledRule, type EngineLimits, type EvictableKey, type KeyEvictor, type KeySnapshot } from '../engine';
import type { MatchRecord } from '../engine/api';
import type { EventRecord } from '../expr/types';
import { EventClassifier } from './classify';
import type { StreamSettings } from './settings';
import { WatermarkTracker, type WatermarkSnapshot } from './watermark';

/** A record of the stream, already parsed (and validated against the source's rules). */
export interface StreamRecord<R = unknown> {
  /** Offset in the stream topic's partition. */
  offset: number;
  /** The event's source position (`topic/partition/offset` of the record in the source topic): alert ids. */
  position: string;
  /** For records of a repartition topic: the source partition (`topic/partition`) and offset, to drop re-sends. */
  origin?: { partition: string; offset: number };
  event: EventRecord;
  /** Whatever the caller needs back to dead-letter the record (its original bytes and headers). */
  raw: R;
}

export type AddResult =
  | 'buffered'
  | 'late_accepted'
  | 'late_dropped'
  /** Offset already read (a re-delivery after a restart or a rebalance). */
  | 'seen'
  /** A re-sent copy of a source record already read (repartition topics). */
  | 'duplicate'
  /** None of this stream's rules can use it (rules changed since it was validated). */
  | 'unusable';

export interface LateRecord<R> {
  raw: R;
  position: string;
  time: number;
  watermark: number;
}

export interface FailedRecord<R> {
  raw: R | undefined;
  position: string;
  error: unknown;
}

/** The events as received behind the engine's copies (processing-time mode; see StreamPartition.originalEvents). */
export interface OriginalEvents {
  originalOf(copy: object): EventRecord | undefined;
  keepOriginal(copy: object, original: EventRecord): void;
}

/** What processing produced since the last take(). */
export interface PartitionOutput<R> {
  /** In the order they happened. */
  matches: MatchRecord[];
  /** Late beyond allowedLateness: to the dead-letter topic. */
  lateDropped: Array<LateRecord<R>>;
  /** Late within allowedLateness (processed). */
  lateAccepted: number;
  /** Events the engine failed on (a defect, logged by the caller; the partition goes on). */
  failed: Array<FailedRecord<R>>;
}

interface Buffered {
  offset: number;
  position: string;
  event: EventRecord;
}

/**
 * The stream side of a partition's state, without the engine: the watermark with the events it buffers, and
 * the source records already seen. A checkpoint stores it next to the engine's key snapshots and clock.
 */
export interface StreamState {
  v: 1;
  origins: Record<string, number>;
  watermark: WatermarkSnapshot<Buffered>;
}

/** Everything: the next offset, the stream state and the engine (clock and every key). */
export interface StreamPartitionSnapshot {
  v: 1;
  nextOffset: number;
  stream: StreamState;
  engine: { time: number | null; rules: Record<string, Array<[string | null, KeySnapshot]>> };
}

/** Its engine's limits (EngineLimits) and the rest. */
export interface StreamPartitionOptions extends EngineLimits {
  settings: StreamSettings;
  rules: readonly CompiledRule[];
  /** Called with every event object given to the engine and its source position (alert ids). */
  remember?: (event: object, position: string) => void;
  /** Record changed keys in the engine (checkpoints: engineView.drainChanges()). */
  trackChanges?: boolean;
  /** Engine option (default true). */
  sequenceFastPath?: boolean;
  /** Merging partitions: how long progress that leaves caught-up origins out waits (see WatermarkTracker). */
  idleGrace?: number;
}

export class StreamPartition<R = unknown> {
  private engine: Engine;
  private readonly tracker: WatermarkTracker<Buffered>;
  private classifier: EventClassifier;
  private rules: CompiledRule[] = [];
  private settings: StreamSettings;
  /** Next offset to read; records before it were read already. */
  private next = 0;
  private readonly origins = new Map<string, number>();
  /** Processing-time mode: the engine's copy of an event → the event as received. */
  private readonly originals = new WeakMap<object, EventRecord>();
  private out: PartitionOutput<R> = emptyOutput();

  constructor(private readonly options: StreamPartitionOptions) {
    this.settings = options.settings;
    this.tracker = new WatermarkTracker<Buffered>(options.settings, { idleGrace: options.idleGrace });
    this.engine = this.newEngine();
    this.classifier = new EventClassifier([], options.settings.timeMode);
    this.setRules(options.rules);
  }

  get nextOffset(): number {
    return this.next;
  }

  /** Skips reading below `offset` (e.g. where a restored checkpoint left off). */
  set nextOffset(offset: number) {
    this.next = offset;
  }

  get watermark(): number {
    return this.tracker.watermark;
  }

  get timeMode(): StreamSettings['timeMode'] {
    return this.settings.timeMode;
  }

  get bufferedCount(): number {
    return this.tracker.buffered;
  }

  get ruleIds(): string[] {
    return this.rules.map((r) => r.definition.id);
  }

  /**
   * Processes the oldest `count` buffered events now instead of waiting for the watermark (it moves up to
   * them): for a reorder buffer grown past what a checkpoint may store. Their matches are in take(); events
   * that arrive later and are older than the new watermark are late. Returns how many events were released.
   */
  releaseBuffered(count: number): number {
    const before = this.tracker.buffered;
    if (this.tracker.raiseToRelease(count)) this.drain();
    return before - this.tracker.buffered;
  }

  /** The engine (read-only use: stats, keys). */
  get engineView(): Engine {
    return this.engine;
  }

  /**
   * Where a consumer may commit: the offset of the oldest event still buffered (it must be read again
   * after a restart), or the next offset to read.
   */
  safeOffset(): number {
    let min = this.next;
    for (const b of this.tracker.pendingItems()) if (b.offset < min) min = b.offset;
    return min;
  }

  /** Makes `rules` the running set, as EngineHost.apply does: metadata-only changes keep state. */
  setRules(rules: readonly CompiledRule[]): void {
    const next = new Map(rules.map((r) => [r.definition.id, r]));
    for (const r of this.rules) if (!next.has(r.definition.id)) this.engine.removeRule(r.definition.id);
    const current = new Map(this.rules.map((r) => [r.definition.id, r]));
    for (const r of rules) {
      const c = current.get(r.definition.id);
      if (!c) this.engine.addRule(r);
      else if (c !== r) this.engine.updateRule(r);
    }
    this.rules = [...rules];
    this.classifier = new EventClassifier(
      this.rules.map((r) => r.definition),
      this.settings.timeMode,
    );
    // A removed (or restarted) rule's dormant keys no longer hold events and the clock back.
    if (this.engine.isStarted) this.drain();
  }

  updateSettings(settings: StreamSettings): void {
    this.settings = settings;
    this.tracker.updateSettings(settings);
    this.classifier = new EventClassifier(
      this.rules.map((r) => r.definition),
      settings.timeMode,
    );
  }

  /** Adds the next record of the partition, read at wall time `wallNow`. */
  add(record: StreamRecord<R>, wallNow: number): AddResult {
    this.engine.setActivityTime(wallNow);
    if (record.offset < this.next) return 'seen';
    this.next = record.offset + 1;
    if (record.origin) {
      const seen = this.origins.get(record.origin.partition);
      if (seen !== undefined && record.origin.offset <= seen) return 'duplicate';
      this.origins.set(record.origin.partition, record.origin.offset);
    }
    let time = this.classifier.timeOf(record.event);
    if (typeof time !== 'number') return 'unusable';

    let event = record.event;
    if (this.settings.timeMode === 'processing') {
      time = this.tracker.processingTime(wallNow);
      const copy: EventRecord = { ...event };
      for (const f of this.classifier.timeFields) copy[f] = time;
      this.originals.set(copy, event);
      this.options.remember?.(event, record.position);
      event = copy;
    }
    const item: Buffered = { offset: record.offset, position: record.position, event };
    const merging = record.origin !== undefined && this.settings.timeMode === 'event';
    const admission = merging
      ? this.tracker.offer(item, time, wallNow, record.origin!.partition, record.origin!.offset)
      : this.tracker.offer(item, time, wallNow);
    if (admission.kind === 'late_dropped') {
      this.out.lateDropped.push({ raw: record.raw, position: record.position, time, watermark: this.tracker.watermark });
      return 'late_dropped';
    }
    if (admission.kind === 'late_accepted') {
      if (this.waitsForKeys) {
        // A late event is processed at the watermark, which the clock cannot reach before the dormant keys are
        // back. Callers reload them before adding records (wakeBound), so this is a defect: the event goes to
        // the failed list (dead-lettered) rather than being matched out of order.
        const due = this.engine.nextDormantDue();
        this.out.failed.push({ raw: record.raw, position: record.position, error: new Error(`late event while keys with timers due at ${due} are not reloaded`) });
        return 'late_accepted';
      }
      this.advanceEngine();
      this.out.lateAccepted++;
      this.processEvent(item, record.raw);
      this.drain();
      return 'late_accepted';
    }
    this.drain();
    return 'buffered';
  }

  /**
   * For a partition merging several upstream partitions (a repartition topic): the upstream partitions
   * (`topic/partition`), each of which holds the watermark back until heard from or idle.
   */
  expectOrigins(origins: readonly string[], wallNow: number, options: { forgetOthers?: boolean } = {}): void {
    if (this.settings.timeMode === 'event') this.tracker.expectOrigins(origins, wallNow, options);
  }

  /** An upstream partition read events up to `time` (a watermark mark, sent without an event). */
  mark(origin: string, time: number, wallNow: number): void {
    this.engine.setActivityTime(wallNow);
    if (this.settings.timeMode !== 'event') return;
    this.tracker.mark(origin, time, wallNow);
    this.drain();
  }

  /** An upstream partition is caught up: it stops holding the watermark back until it sends again. */
  markIdle(origin: string, wallNow: number): void {
    this.engine.setActivityTime(wallNow);
    if (this.settings.timeMode !== 'event') return;
    this.tracker.markIdle(origin, wallNow);
    this.drain();
  }

  /**
   * Lets the wall clock move an idle partition's watermark (or a processing-time one). `quietUntil`: the
   * partition is known to have had nothing to read only up to then (see WatermarkTracker.tick).
   */
  tick(wallNow: number, quietUntil = wallNow): void {
    this.engine.setActivityTime(wallNow);
    if (this.tracker.tick(wallNow, quietUntil)) this.drain();
  }

  /** The partition could not be read until `wallNow` (see WatermarkTracker.resumeQuietTime). */
  resumeQuietTime(wallNow: number): void {
    this.tracker.resumeQuietTime(wallNow);
  }

  /** Whether tick() can ever do something for this partition. */
  get ticks(): boolean {
    return this.tracker.ticks;
  }

  // ---- Cold keys (eviction to the checkpoint store) ----

  /**
   * Per partitioned rule, the distinct keys of `events` that are not in memory: what must be reloaded from
   * the checkpoint store (where they may or may not be) before the events are added.
   */
  keysNotResident(events: Iterable<EventRecord>): Map<string, string[]> {
    const seen = new Map<string, Set<string>>();
    const out = new Map<string, string[]>();
    for (const event of events) {
      this.engine.partitionKeys(event, (rule, key) => {
        let s = seen.get(rule);
        if (s === undefined) seen.set(rule, (s = new Set()));
        if (s.has(key)) return;
        s.add(key);
        if (this.engine.isResident(rule, key)) return;
        let list = out.get(rule);
        if (list === undefined) out.set(rule, (list = []));
        list.push(key);
      });
    }
    return out;
  }

  /**
   * Whether the engine waits for evicted keys with timers (dormant keys): the watermark has reached the
   * earliest of their timers, so events from there on stay buffered and the clock stays put until
   * keysToWake() are reloaded and resume() is called.
   */
  get waitsForKeys(): boolean {
    return this.engine.nextDormantDue() <= this.tracker.watermark;
  }

  /**
   * Per rule, the dormant keys whose earliest timer is due by `bound` (default: the watermark): what must be
   * reloaded before the clock may get there.
   */
  keysToWake(bound = this.tracker.watermark): Map<string, string[]> {
    const out = new Map<string, string[]>();
    this.engine.dormantKeysDueBy(bound, (rule, key) => {
      let list = out.get(rule);
      if (list === undefined) out.set(rule, (list = []));
      list.push(key);
    });
    return out;
  }

  /**
   * How far the engine's clock can get while `events` and marks of `markTimes` are added at wall time
   * `wallNow`, without a tick: reloading the dormant keys due by then (keysToWake) before adding them means
   * no record waits. In processing time the clock is the wall clock, so this looks `processingAheadMs` ahead;
   * a batch that takes longer only makes events wait until the keys are reloaded (there are no late events).
   * `latest`: events later than this are rejected by the caller (EVENT_MAX_FUTURE) and do not count.
   */
  wakeBound(events: Iterable<EventRecord>, markTimes: Iterable<number>, wallNow: number, processingAheadMs: number, latest = Number.POSITIVE_INFINITY): number {
    if (this.settings.timeMode === 'processing') return this.tracker.processingTime(wallNow) + processingAheadMs;
    let bound = Math.max(this.tracker.heardMax, this.engine.now);
    for (const event of events) {
      // Records the batch will reject (no time, or later than `latest`: future_time) move no clock: one far in
      // the future must not bring every dormant key back. (Dormant keys need one time field: this is it.)
      const t = this.classifier.timeOf(event, latest);
      if (typeof t === 'number' && t > bound) bound = t;
    }
    for (const t of markTimes) if (t > bound) bound = t;
    return bound;
  }

  /** After the dormant keys were reloaded: processes what waited for them (see waitsForKeys). */
  resume(): void {
    this.drain();
  }

  /**
   * Whether a (rule, key) has an event waiting in the reorder buffer: such a key must stay in memory until the
   * event reaches the engine (batches only reload the keys of their own events). Computed once per call.
   */
  heldKeys(): (rule: string, key: string) => boolean {
    const held = new Set<string>();
    for (const b of this.tracker.pendingItems()) this.engine.partitionKeys(b.event, (rule, key) => held.add(`${rule}\u0000${key}`));
    return (rule, key) => held.size > 0 && held.has(`${rule}\u0000${key}`);
  }

  /**
   * Evicts cold keys as `evictor` decides at wall time `wallNow`, keeping the keys of buffered events. Call
   * it only when every change is in the checkpoint (right after a successful commit).
   */
  evictColdKeys(evictor: KeyEvictor, wallNow: number, force = false): EvictableKey[] {
    this.engine.setActivityTime(wallNow);
    return evictor.run(this.engine, wallNow, () => this.heldKeys(), force);
  }

  /** Whether take() has something (matches, late or failed events). */
  get hasOutput(): boolean {
    const o = this.out;
    return o.matches.length > 0 || o.lateDropped.length > 0 || o.lateAccepted > 0 || o.failed.length > 0;
  }

  /** Takes what was produced since the last call. */
  take(): PartitionOutput<R> {
    const out = this.out;
    this.out = emptyOutput();
    return out;
  }

  /** The stream side of the state (JSON-able), for a checkpoint next to the engine's keys. */
  streamState(): StreamState {
    return { v: 1, origins: Object.fromEntries(this.origins), watermark: this.tracker.snapshot() };
  }

  /**
   * Restores the stream side (the engine is restored separately, e.g. with restoreKey and setTime), at wall
   * time `wallNow`: the time the partition was not read is not quiet time (WatermarkTracker.restore).
   */
  restoreStreamState(s: StreamState, wallNow: number): void {
    this.origins.clear();
    for (const [p, o] of Object.entries(s.origins)) this.origins.set(p, o);
    this.tracker.restore(s.watermark, wallNow);
    for (const b of this.tracker.pendingItems()) this.options.remember?.(b.event, b.position);
  }

  /** The whole state as JSON-able data. */
  snapshot(): StreamPartitionSnapshot {
    const rules: StreamPartitionSnapshot['engine']['rules'] = {};
    for (const r of this.rules) {
      const id = r.definition.id;
      const keys: Array<[string | null, KeySnapshot]> = [];
      for (const k of this.engine.keys(id)) {
        const s = this.engine.snapshotKey(id, k);
        if (s) keys.push([k, s]);
      }
      rules[id] = keys;
    }
    return {
      v: 1,
      nextOffset: this.next,
      stream: this.streamState(),
      engine: { time: this.engine.isStarted ? this.engine.now : null, rules },
    };
  }

  /**
   * Restores a snapshot into this partition (created with the same rules). State of rules that no longer
   * exist is ignored; rules new since the snapshot start afresh.
   */
  restore(s: StreamPartitionSnapshot, wallNow: number): void {
    this.engine = this.newEngine();
    for (const r of this.rules) this.engine.addRule(r);
    for (const r of this.rules) {
      for (const [k, snap] of s.engine.rules[r.definition.id] ?? []) this.engine.restoreKey(r.definition.id, k, snap);
    }
    if (s.engine.time !== null) this.engine.setTime(s.engine.time);
    this.next = s.nextOffset;
    this.restoreStreamState(s.stream, wallNow);
  }

  private newEngine(): Engine {
    return new Engine({
      ...engineLimits(this.options),
      trackChanges: this.options.trackChanges,
      sequenceFastPath: this.options.sequenceFastPath,
      // Keys holding only what a new key would are freed (with changes tracked, deleted from the checkpoint too).
      reclaimFreshKeys: true,
    });
  }

  /** Processes every event the watermark has passed, then moves the engine's clock to the watermark. */
  private drain(): void {
    // Events and the clock stop short of a dormant key's timer (Infinity without one): see waitsForKeys.
    // Processing an event neither evicts nor reloads keys, so the limit holds for the whole drain.
    const limit = this.engine.nextDormantDue();
    // Item by item: processing an event does not touch the tracker, so this is release() then processing.
    for (let p = this.tracker.releaseNext(limit); p !== undefined; p = this.tracker.releaseNext(limit)) this.processEvent(p.item, undefined);
    this.advanceEngine();
  }

  private advanceEngine(): void {
    const wm = this.tracker.watermark;
    if (!this.engine.isStarted || !Number.isFinite(wm) || wm <= this.engine.now || wm >= this.engine.nextDormantDue()) return;
    try {
      this.collect(this.engine.advanceTo(wm));
    } catch (e) {
      // A defect in a timer's work: reported like a failed event (logged, counted) so that the partition goes
      // on. The timer that threw was taken off the queue, so the next move does not meet it again.
      this.out.failed.push({ raw: undefined, position: `timers up to ${wm}`, error: e });
    }
  }

  private processEvent(item: Buffered, raw: R | undefined): void {
    this.options.remember?.(item.event, item.position);
    let found: MatchRecord[];
    try {
      found = this.engine.process(item.event);
    } catch (e) {
      if (e instanceof InvalidEventError) return;
      this.out.failed.push({ raw, position: item.position, error: e });
      return;
    }
    this.collect(found);
  }

  private collect(found: MatchRecord[]): void {
    if (found.length === 0) return;
    const processing = this.settings.timeMode === 'processing';
    for (const m of found) {
      if (processing) m.events = this.withOriginals(m.events);
      this.out.matches.push(m);
    }
  }

  /**
   * Processing-time mode: the engine works on copies of the events whose time fields carry the processing
   * time, and alerts show the events as received. Checkpoints store how the two differ (through this), so
   * that alerts from restored partial matches show the events as received too. Undefined in event-time mode.
   */
  get originalEvents(): OriginalEvents | undefined {
    if (this.settings.timeMode !== 'processing') return undefined;
    const originals = this.originals;
    return { originalOf: (copy) => originals.get(copy), keepOriginal: (copy, original) => originals.set(copy, original) };
  }

  private withOriginals(events: MatchRecord['events']): MatchRecord['events'] {
    const out: MatchRecord['events'] = {};
    const orig = (e: EventRecord) => this.originals.get(e) ?? e;
    for (const [tag, v] of Object.entries(events)) out[tag] = v === null ? null : Array.isArray(v) ? v.map(orig) : orig(v);
    return out;
  }
}

function emptyOutput<R>(): PartitionOutput<R> {
  return { matches: [], lateDropped: [], lateAccepted: 0, failed: [] };
}
