/**
 * Event time of one partition: the watermark, and the events waiting for it.
 *
 * - The watermark is the largest event time seen minus `maxOutOfOrderness`; it never goes back.
 * - An event at or after the watermark is buffered and released, in (time, arrival) order, once the
 *   watermark reaches its time. With `maxOutOfOrderness: 0` every in-time event is released at once.
 * - An event before the watermark is late. Within `allowedLateness` it is handed back to be processed at
 *   once (the engine processes it at its clock, which never goes back); beyond it, it is dropped (the
 *   caller sends it to the dead-letter topic).
 * - A partition that received nothing for `idleTimeout` (wall clock) lets its watermark follow the wall
 *   clock from its last record: watermark = (largest event time - maxOutOfOrderness) + (wall time since that
 *   record). So timers (absence, `within`) still fire on a quiet partition, about as long after the last
 *   record as they would have in event time.
 * - In processing-time mode an event's time is the wall clock when it arrives (never earlier than the
 *   previous one): nothing is ever late or buffered, and the watermark follows the wall clock.
 *
 * A partition fed by several upstream partitions (a repartition topic: each source partition's records are
 * merged in whatever order the repartitioning consumer read them) tracks event time per origin, as stream
 * processors merge input watermarks: the watermark is the smallest of the origins' (largest event time -
 * maxOutOfOrderness). Origins also announce their progress without events (watermark marks) and that they
 * are caught up (idle marks, repeated while they stay caught up); an idle origin stops holding the watermark
 * back until it sends again. An origin that is merely silent keeps holding it: its reader may have died, and
 * its records come once another replica reads them (leaving it out made them late). The wall-clock rule
 * applies to a merging partition only when every origin is idle. So merging source partitions read at
 * different moments adds no disorder.
 *
 * Pure and deterministic: the wall clock is passed in. The state is JSON-able (snapshot/restore) as long as
 * the buffered items are.
 */
import type { StreamSettings } from './settings';

export type Admission =
  /** Buffered; released by release() once the watermark reaches it. */
  | { kind: 'buffered' }
  /** Late but within allowedLateness: process it now. */
  | { kind: 'late_accepted'; lateBy: number }
  /** Late beyond allowedLateness: not processed. */
  | { kind: 'late_dropped'; lateBy: number };

interface Pending<T> {
  time: number;
  seq: number;
  item: T;
  /** Merging partitions: the origin and its offset, which order events of equal time (see order()). */
  origin?: string;
  originOffset?: number;
}

interface Origin {
  /** Largest event time (or mark) from the origin; -Infinity before any. */
  max: number;
  /** Wall time of its last record or mark, or of when it was expected. */
  last: number;
  /** The origin said it has nothing more for now: it does not hold the watermark back until it sends again. */
  idle: boolean;
}

export interface WatermarkSnapshot<T> {
  v: 1;
  watermark: number | null;
  maxEventTime: number | null;
  lastArrival: number | null;
  seq: number;
  buffer: Array<{ time: number; seq: number; item: T; origin?: string; originOffset?: number }>;
  origins?: Record<string, { max: number | null; last: number; idle?: boolean }>;
}

const finite = (n: number) => (Number.isFinite(n) ? n : null);

/** offer()'s answer for an event it buffered: one shared object, never mutated. */
const BUFFERED: Admission = Object.freeze({ kind: 'buffered' });

export class WatermarkTracker<T> {
  private wm = Number.NEGATIVE_INFINITY;
  private maxTime = Number.NEGATIVE_INFINITY;
  /** Wall time of the last record (ms), or -Infinity before the first. */
  private lastArrival = Number.NEGATIVE_INFINITY;
  private seq = 0;
  private readonly heap: Array<Pending<T>> = [];
  /** Per-origin event time, when the partition merges several upstream partitions; null otherwise. */
  private origins: Map<string, Origin> | null = null;
  /** Progress that relies on caught-up origins, waiting out `idleGrace` (wall ms since `at`). */
  private held: Array<{ at: number; value: number; excluded: string[] }> = [];
  private readonly idleGrace: number;
  /** Items raiseToRelease asked for, which the next release() gives whatever mayStillPrecede says. */
  private forced = 0;

  /**
   * `idleGrace`: how long progress that leaves caught-up origins out waits before it counts (wall ms). An
   * origin that was caught up and receives new records in the same burst as the others shows up within it
   * (the time records take through the repartition topic), so its events are not made late by the others'.
   */
  constructor(
    private settings: StreamSettings,
    options: { idleGrace?: number } = {},
  ) {
    this.idleGrace = options.idleGrace ?? 0;
  }

  /** Current watermark (ms), -Infinity before the first event. */
  get watermark(): number {
    return this.wm;
  }

  get maxEventTime(): number {
    return this.maxTime;
  }

  /**
   * The largest event time or origin mark offered so far. In event time, offer(), mark() and markIdle() never
   * move the watermark past it (only tick() does, by the wall clock).
   */
  get heardMax(): number {
    let max = Math.max(this.wm, this.maxTime);
    if (this.origins !== null) for (const o of this.origins.values()) if (o.max > max) max = o.max;
    return max;
  }

  /** Events waiting for the watermark. */
  get buffered(): number {
    return this.heap.length;
  }

  /** The buffered items (in no particular order), e.g. to find the oldest offset still needed. */
  pendingItems(): T[] {
    return this.heap.map((p) => p.item);
  }

  /** New settings apply from now on (the watermark never goes back). */
  updateSettings(settings: StreamSettings): void {
    this.settings = settings;
  }

  get timeMode(): StreamSettings['timeMode'] {
    return this.settings.timeMode;
  }

  /**
   * Declares the upstream partitions this partition merges (switching to per-origin event time). An origin
   * not heard from yet holds the watermark back until it says it is caught up. With `forgetOthers` (the
   * caller knows the current partitions), origins not listed are forgotten: one of a source topic recreated
   * with fewer partitions would hold the watermark back for good.
   */
  expectOrigins(origins: readonly string[], wallNow: number, options: { forgetOthers?: boolean } = {}): void {
    if (this.origins === null) this.origins = new Map();
    if (options.forgetOthers) {
      const listed = new Set(origins);
      for (const name of [...this.origins.keys()]) if (!listed.has(name)) this.origins.delete(name);
    }
    for (const o of origins) if (!this.origins.has(o)) this.origins.set(o, { max: Number.NEGATIVE_INFINITY, last: wallNow, idle: false });
  }

  /**
   * The time to give an event that arrives at `wallNow` in processing-time mode: the wall clock, never
   * earlier than the previous event's.
   */
  processingTime(wallNow: number): number {
    return Math.max(wallNow, this.maxTime, this.wm);
  }

  /**
   * Takes an event with event time `time`, arriving at wall time `wallNow` (from `origin`, for a merging
   * partition). Then call release().
   */
  offer(item: T, time: number, wallNow: number, origin?: string, originOffset?: number): Admission {
    this.lastArrival = Math.max(this.lastArrival, wallNow);
    if (origin !== undefined) this.heard(origin, time, wallNow);
    if (time < this.wm) {
      const lateBy = this.wm - time;
      return lateBy <= this.settings.allowedLateness ? { kind: 'late_accepted', lateBy } : { kind: 'late_dropped', lateBy };
    }
    if (time > this.maxTime) this.maxTime = time;
    this.advance(wallNow);
    const seq = this.seq++;
    // One object per event, of one of two shapes (a spread of the origin fields cost a copy per event).
    this.push(originOffset !== undefined && origin !== undefined ? { time, seq, item, origin, originOffset } : { time, seq, item });
    return BUFFERED;
  }

  /** An origin's progress without an event: it has seen events up to `time`. Then call release(). */
  mark(origin: string, time: number, wallNow: number): void {
    this.lastArrival = Math.max(this.lastArrival, wallNow);
    this.heard(origin, time, wallNow);
    this.advance(wallNow);
  }

  /**
   * An origin has read everything there was for now (its partition is caught up): until it sends again it
   * does not hold the watermark back. Then call release().
   */
  markIdle(origin: string, wallNow: number): void {
    if (this.origins === null) this.origins = new Map();
    const o = this.origins.get(origin);
    if (o) {
      o.idle = true;
      o.last = Math.max(o.last, wallNow);
    } else this.origins.set(origin, { max: Number.NEGATIVE_INFINITY, last: wallNow, idle: true });
    this.advance(wallNow);
  }

  /**
   * Advances the watermark with the wall clock: idle origins stop holding it back, an idle partition
   * follows the wall clock, a processing-time one is the wall clock. Returns whether it moved; then call
   * release(). The idle rule counts quiet time only up to `quietUntil`: the last moment the partition is known
   * to have had nothing to read (a consumer that stalls reads nothing while records pile up).
   */
  tick(wallNow: number, quietUntil = wallNow): boolean {
    if (this.settings.timeMode === 'processing') {
      if (this.maxTime === Number.NEGATIVE_INFINITY) return false;
      return this.raise(wallNow);
    }
    let moved = this.origins !== null && this.advance(wallNow);
    const idle = this.settings.idleTimeout;
    if (this.maxTime === Number.NEGATIVE_INFINITY || idle === null) return moved;
    // Merging: nothing arriving means nothing is coming only when every origin said it is caught up.
    if (this.origins !== null) for (const o of this.origins.values()) if (!o.idle) return moved;
    const quiet = Math.min(wallNow, quietUntil) - this.lastArrival;
    if (quiet >= idle) moved = this.raise(this.maxTime - this.settings.maxOutOfOrderness + quiet) || moved;
    return moved;
  }

  /**
   * The partition could not be read until `wallNow` (Kafka did not answer): that time is not quiet time, as
   * after a restore. The quiet time the watermark already holds stays counted.
   */
  resumeQuietTime(wallNow: number): void {
    if (!Number.isFinite(this.lastArrival)) return;
    const counted = this.countedQuiet();
    this.lastArrival = Math.max(this.lastArrival, wallNow - counted);
    if (this.origins) for (const o of this.origins.values()) o.last = Math.max(o.last, wallNow);
  }

  /** Whether tick() could move the watermark (idle timeouts configured, or processing time). */
  get ticks(): boolean {
    return this.settings.timeMode === 'processing' || this.settings.idleTimeout !== null;
  }

  /**
   * Moves the watermark up to the event time of the `count`-th oldest buffered event, so that at least that
   * many are released (for a buffer that has grown past what may be stored). Later events older than the new
   * watermark are late. Returns whether it moved; then call release().
   */
  raiseToRelease(count: number): boolean {
    if (this.heap.length === 0 || count <= 0) return false;
    const times = this.heap.map((p) => p.time).sort((a, b) => a - b);
    const moved = this.raise(times[Math.min(count, times.length) - 1]);
    this.forced = Math.min(count, this.heap.length);
    return moved || this.forced > 0;
  }

  /**
   * Removes and returns the buffered items the watermark has reached, in (time, arrival) order; on a merging
   * partition in (time, origin, origin offset) order. There an item at exactly the watermark also waits while
   * an origin that comes before its own may still send an item of that time. So events of equal time from
   * different origins reach the engine in one order, whichever arrived first.
   */
  release(): Array<{ item: T; time: number }> {
    const out: Array<{ item: T; time: number }> = [];
    for (let p = this.releaseNext(); p !== undefined; p = this.releaseNext()) out.push({ item: p.item, time: p.time });
    return out;
  }

  /**
   * release() one item at a time, without an array (the batch loop releases every event as it comes):
   * removes and returns the next item release() would return, or undefined when release() would stop there.
   * Calling it until undefined releases what release() does, in the same order. The result is only read.
   * Items at or after `before` stay buffered.
   */
  releaseNext(before = Number.POSITIVE_INFINITY): { readonly item: T; readonly time: number } | undefined {
    const h = this.heap;
    // `before`: the caller cannot take items of that time or later yet (StreamPartition: a dormant key's timer).
    if (h.length > 0 && h[0].time >= before) return undefined;
    // A forced release (raiseToRelease) takes its items in order even past mayStillPrecede: the buffer must shrink.
    if (this.forced > 0) {
      if (h.length > 0 && h[0].time <= this.wm) {
        this.forced--;
        return this.pop();
      }
      this.forced = 0;
    }
    if (h.length > 0 && h[0].time <= this.wm && !this.mayStillPrecede(h[0])) return this.pop();
    return undefined;
  }

  /** Whether an origin ordered before `p`'s, not caught up, may still send an item of `p`'s time. */
  private mayStillPrecede(p: Pending<T>): boolean {
    if (p.time < this.wm || p.origin === undefined || this.origins === null) return false;
    const ooo = this.settings.maxOutOfOrderness;
    for (const [name, o] of this.origins) if (!o.idle && name < p.origin && o.max - ooo <= p.time) return true;
    return false;
  }

  snapshot(): WatermarkSnapshot<T> {
    const s: WatermarkSnapshot<T> = {
      v: 1,
      watermark: finite(this.wm),
      maxEventTime: finite(this.maxTime),
      lastArrival: finite(this.lastArrival),
      seq: this.seq,
      buffer: [...this.heap].sort(order).map((p) => ({ time: p.time, seq: p.seq, item: p.item, ...originFields(p) })),
    };
    if (this.origins) s.origins = Object.fromEntries([...this.origins].map(([k, o]) => [k, { max: finite(o.max), last: o.last, idle: o.idle }]));
    return s;
  }

  /**
   * Restores a snapshot. `wallNow` (a restore by another process, or after a restart): the wall-clock times of
   * the last records and marks become `wallNow`, so the time the partition was not read (a crash, a
   * rebalance) does not count as quiet time; otherwise the first tick would move the watermark by the whole
   * downtime and make the backlog late.
   */
  restore(s: WatermarkSnapshot<T>, wallNow?: number): void {
    this.wm = s.watermark ?? Number.NEGATIVE_INFINITY;
    this.maxTime = s.maxEventTime ?? Number.NEGATIVE_INFINITY;
    // The watermark may already hold quiet time the wall clock added (maxTime - bound + quiet): that much
    // stays counted, so the watermark goes on from there instead of freezing for as long again.
    const counted = this.countedQuiet();
    this.lastArrival = s.lastArrival === null ? Number.NEGATIVE_INFINITY : wallNow !== undefined ? wallNow - counted : s.lastArrival;
    this.seq = s.seq;
    this.heap.length = 0;
    for (const p of s.buffer) this.push({ time: p.time, seq: p.seq, item: p.item, ...originFields(p) });
    this.origins = s.origins
      ? new Map(Object.entries(s.origins).map(([k, o]) => [k, { max: o.max ?? Number.NEGATIVE_INFINITY, last: wallNow ?? o.last, idle: o.idle ?? false }]))
      : null;
  }

  private heard(origin: string, time: number, wallNow: number): void {
    if (this.origins === null) this.origins = new Map();
    const o = this.origins.get(origin);
    if (o) {
      if (time > o.max) o.max = time;
      if (wallNow > o.last) o.last = wallNow;
      o.idle = false;
    } else this.origins.set(origin, { max: time, last: wallNow, idle: false });
    // Progress held back on the assumption that it had nothing more is void now (also for an origin forgotten
    // and heard again).
    if (this.held.length > 0) this.held = this.held.filter((h) => !h.excluded.includes(origin));
  }

  /**
   * Moves the watermark as far as the event times allow. Single origin: largest event time - bound. Several:
   * the smallest of the origins' largest event times - bound. Origins that said they are caught up are left
   * out, but only after `idleGrace`: if one of them sends within it
   * (a burst reaching every source partition), the progress made without it is void. When every origin left
   * is caught up, everything read counts (all that exists has arrived). Nothing at all: tick()'s
   * wall-clock rule.
   */
  private advance(wallNow: number): boolean {
    if (this.settings.timeMode === 'processing') return this.raise(this.maxTime);
    const ooo = this.settings.maxOutOfOrderness;
    if (this.origins === null || this.origins.size === 0) return this.raise(this.maxTime - ooo);
    let strict = Number.POSITIVE_INFINITY;
    let relaxed = Number.POSITIVE_INFINITY;
    let caughtUp = Number.NEGATIVE_INFINITY;
    const excluded: string[] = [];
    for (const [name, o] of this.origins) {
      if (o.max < strict) strict = o.max;
      if (o.idle) {
        excluded.push(name);
        if (o.max > caughtUp) caughtUp = o.max;
      } else if (o.max < relaxed) relaxed = o.max;
    }
    let moved = strict !== Number.POSITIVE_INFINITY && this.raise(strict - ooo);
    if (excluded.length > 0) {
      const value = (relaxed !== Number.POSITIVE_INFINITY ? relaxed : caughtUp) - ooo;
      const last = this.held[this.held.length - 1];
      const same = last !== undefined && last.excluded.join() === excluded.join();
      if (value > this.wm && (!same || value > last.value)) {
        // Progress within a sixteenth of the grace of the last entry joins it (one entry per event made a long
        // catch-up next to an idle origin quadratic). The entry keeps its first time and counts a sixteenth
        // of the grace later than that, so no progress in it counts before its own grace.
        if (same && wallNow - last.at < this.idleGrace / 16) last.value = value;
        else this.held.push({ at: wallNow, value, excluded });
      }
    }
    while (this.held.length > 0 && this.held[0].at + this.idleGrace + this.idleGrace / 16 <= wallNow) {
      const h = this.held.shift()!;
      moved = this.raise(h.value) || moved;
    }
    this.held = this.held.filter((h) => h.value > this.wm);
    return moved;
  }

  /** The quiet time the wall-clock rule has already added to the watermark (watermark - (largest time - bound)). */
  private countedQuiet(): number {
    return Number.isFinite(this.wm) && Number.isFinite(this.maxTime) ? Math.max(0, this.wm - (this.maxTime - this.settings.maxOutOfOrderness)) : 0;
  }

  private raise(candidate: number): boolean {
    if (candidate > this.wm) {
      this.wm = candidate;
      return true;
    }
    return false;
  }

  private push(p: Pending<T>): void {
    const h = this.heap;
    h.push(p);
    let i = h.length - 1;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (order(h[i], h[parent]) >= 0) break;
      [h[i], h[parent]] = [h[parent], h[i]];
      i = parent;
    }
  }

  private pop(): Pending<T> {
    const h = this.heap;
    const top = h[0];
    const last = h.pop()!;
    if (h.length > 0) {
      h[0] = last;
      let i = 0;
      for (;;) {
        const l = 2 * i + 1;
        const r = l + 1;
        let m = i;
        if (l < h.length && order(h[l], h[m]) < 0) m = l;
        if (r < h.length && order(h[r], h[m]) < 0) m = r;
        if (m === i) break;
        [h[i], h[m]] = [h[m], h[i]];
        i = m;
      }
    }
    return top;
  }
}

/** A buffered item's origin and origin offset, when it has them (merging partitions), for a copy of it. */
function originFields(p: { origin?: string; originOffset?: number }): { origin?: string; originOffset?: number } {
  return p.origin !== undefined ? { origin: p.origin, originOffset: p.originOffset } : {};
}

function order(a: Pending<unknown>, b: Pending<unknown>): number {
  if (a.time !== b.time) return a.time - b.time;
  // Items restored from a checkpoint written before origins were kept have none: they come first, so the
  // order stays a total order when both kinds are buffered at the same time.
  if (a.origin !== undefined || b.origin !== undefined) {
    if (a.origin === undefined) return -1;
    if (b.origin === undefined) return 1;
    if (a.origin !== b.origin) return a.origin < b.origin ? -1 : 1;
    if (a.originOffset !== b.originOffset) return a.originOffset! - b.originOffset!;
  }
  return a.seq - b.seq;
}
