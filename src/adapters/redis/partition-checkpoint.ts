/**
 * The consumer side of per-partition checkpoints (issue 5): what one owned topic-partition keeps between
 * batches when REDIS_URL is set, independent of kafkajs.
 *
 * - `load()` takes the partition in the store (fencing earlier owners), restores the engine's keys of the
 *   rules' current state versions, the engine clock and the stream state (watermark, reorder buffer, seen
 *   origins) into a fresh partition, and returns the offset to seek to.
 * - `stage()` after a batch (or an idle tick) drains the engine's changed keys and the batch's alerts into
 *   the pending commit; `flush()` writes it in one atomic step. A commit that failed stays pending and is
 *   merged with the next batch's changes (later snapshots win), so nothing is lost while Redis is away.
 *
 * Alert ids depend on the source positions (`topic/partition/offset`) of the matched events, which the
 * service remembers per event object. The engine's snapshots hold the event objects, not their positions,
 * so each stored snapshot carries them next to its events (`pos`, `spos`), and restoring remembers them for
 * the restored objects (Engine.restoreKey keeps the identity of the snapshot's event objects). A partial
 * match that completes after a restore therefore has the same alert id as without the restart.
 *
 * State versions: a rule's state version is derived from what shapes its state (pattern, partitionBy and the
 * event type/time fields: exactly what makes Engine.updateRule start a rule afresh), so every replica and
 * every restart agrees on it without coordination, and a metadata-only change (severity, labels, emit) keeps
 * it. A changed pattern gets a new version; the old one is dropped by the owner's next commit.
 *
 * Cold keys (the `eviction` option): after each successful commit, `evict()` frees keys that have been idle
 * (or the least recently active ones above a cap); the store holds their latest state. Before a batch's
 * events are added, `reload()` reads the keys they need that are not in memory (one `loadKeys` per rule) and
 * restores them. A load restores every stored key and evicts the idle ones right away (docs/redis.md).
 */
import { createHash } from 'node:crypto';
import { KeyEvictor, type EvictableKey, type EvictionSettings } from '../../core/engine';
import type { KeyChange, KeySnapshot } from '../../core/engine/engine';
import type { EventRecord } from '../../core/expr/types';
import type { OriginalEvents } from '../../core/stream/stream-partition';
import { truncateAlert, type Alert } from '../../core/ports/alert';
import {
  CheckpointFencedError,
  CheckpointLostError,
  CheckpointLimitError,
  CheckpointUnavailableError,
  splitChanges,
  type CheckpointCommit,
  type CheckpointStore,
  type RuleVersionRef,
  type StoredKey,
  type StoredKeyRef,
  type TopicPartition,
} from '../../core/ports/checkpoint-store';

/** The fields of a rule definition that shape its engine state (see Engine.updateRule). */
export interface StateShape {
  pattern: string;
  partitionBy?: string;
  event: { typeField: string; timeField: string };
}

/**
 * The state version of a rule: 48 bits of sha256 over its state shape (a safe integer). Equal on every
 * replica and across restarts; unchanged by metadata-only edits. `runtime` (stateRuntimeMarker): '' for
 * almost every rule, which keeps the versions of before; otherwise it makes a rule whose runtime changed
 * between versions a new state version.
 */
export function ruleStateVersion(def: StateShape, runtime = ''): number {
  const shape: unknown[] = [def.pattern, def.partitionBy ?? null, def.event.typeField, def.event.timeField];
  if (runtime !== '') shape.push(runtime);
  const h = createHash('sha256').update(JSON.stringify(shape)).digest('hex');
  return parseInt(h.slice(0, 12), 16);
}

/**
 * Where a processing-time event as received differs from the engine's copy of it (its time fields): the
 * fields it had with their values (`set`) and the fields it did not have (`unset`).
 */
export interface OriginalDelta {
  set?: Record<string, unknown>;
  unset?: string[];
}

/**
 * A snapshot as stored: the engine's, plus the source positions of its events and, in processing-time mode,
 * how each event as received differs from the engine's copy (null: it does not).
 */
export type PositionedSnapshot = KeySnapshot & { pos?: string[]; spos?: string[]; orig?: Array<OriginalDelta | null>; sorig?: Array<OriginalDelta | null> };

function deltaOf(copy: EventRecord, original: EventRecord): OriginalDelta | null {
  const delta: OriginalDelta = {};
  for (const [k, v] of Object.entries(original)) if (!Object.prototype.hasOwnProperty.call(copy, k) || copy[k] !== v) (delta.set ??= {})[k] = v;
  for (const k of Object.keys(copy)) if (!Object.prototype.hasOwnProperty.call(original, k)) (delta.unset ??= []).push(k);
  return delta.set || delta.unset ? delta : null;
}

function applyDelta(copy: EventRecord, delta: OriginalDelta): EventRecord {
  const original: EventRecord = { ...copy };
  if (delta.set) Object.assign(original, delta.set);
  for (const k of delta.unset ?? []) delete original[k];
  return original;
}

/**
 * Adds the positions of the snapshot's events (`positionOf` is the service's AlertFactory.positionOf) and, with
 * `originals` (a processing-time partition), how the events as received differ from the engine's copies.
 */
export function withPositions(snapshot: KeySnapshot, positionOf: (event: unknown) => string, originals?: OriginalEvents): PositionedSnapshot {
  const out: PositionedSnapshot = { ...snapshot };
  const deltas = (events: unknown[]) => {
    let any = false;
    const list = events.map((e) => {
      const original = e !== null && typeof e === 'object' ? originals!.originalOf(e) : undefined;
      const d = original ? deltaOf(e as EventRecord, original) : null;
      any ||= d !== null;
      return d;
    });
    return any ? list : undefined;
  };
  if (snapshot.events.length > 0) {
    out.pos = snapshot.events.map(positionOf);
    if (originals) out.orig = deltas(snapshot.events);
  }
  const seq = snapshot.sequence?.events;
  if (seq && seq.length > 0) {
    out.spos = seq.map(positionOf);
    if (originals) out.sorig = deltas(seq);
  }
  return out;
}

/**
 * Remembers the stored positions for the snapshot's event objects (and gives `originals` the events as
 * received behind them) and returns the engine's snapshot.
 */
export function rememberPositions(stored: KeySnapshot, remember: (event: object, position: string) => void, originals?: OriginalEvents): KeySnapshot {
  const s = stored as PositionedSnapshot;
  const mark = (events: unknown[] | undefined, pos: string[] | undefined, deltas: Array<OriginalDelta | null> | undefined) => {
    if (!events) return;
    for (let i = 0; i < events.length; i++) {
      const e = events[i];
      if (e === null || typeof e !== 'object') continue;
      const position = pos && typeof pos[i] === 'string' ? pos[i] : undefined;
      if (position !== undefined) remember(e, position);
      const d = deltas?.[i];
      if (d && originals) {
        const original = applyDelta(e as EventRecord, d);
        if (position !== undefined) remember(original, position);
        originals.keepOriginal(e, original);
      }
    }
  };
  mark(s.events, s.pos, s.orig);
  mark(s.sequence?.events, s.spos, s.sorig);
  if (s.pos === undefined && s.spos === undefined && s.orig === undefined && s.sorig === undefined) return stored;
  const { pos: _p, spos: _s, orig: _o, sorig: _so, ...engineSnapshot } = s;
  return engineSnapshot;
}

const refKey = (r: StoredKeyRef) => `${r.rule}\u0000${r.version}\u0000${r.key === null ? '\u0001' : `k${r.key}`}`;

/** Folds `next` into `prev` (both for the same partition and epoch): later snapshots and offsets win. */
export function mergeCommits(prev: CheckpointCommit, next: CheckpointCommit): CheckpointCommit {
  // A version dropped by `next` loses what `prev` wrote for it (the script drops before it writes).
  const droppedNow = new Set((next.dropVersions ?? []).map((d) => `${d.rule}\u0000${d.version}`));
  const live = (r: StoredKeyRef) => !droppedNow.has(`${r.rule}\u0000${r.version}`);
  const changed = new Map<string, StoredKey>();
  const deleted = new Map<string, StoredKeyRef>();
  for (const c of prev.changed) if (live(c)) changed.set(refKey(c), c);
  for (const d of prev.deleted) if (live(d)) deleted.set(refKey(d), d);
  for (const c of next.changed) {
    const k = refKey(c);
    deleted.delete(k);
    changed.set(k, c);
  }
  for (const d of next.deleted) {
    const k = refKey(d);
    changed.delete(k);
    deleted.set(k, d);
  }
  const drops = new Map<string, RuleVersionRef>();
  for (const d of [...(prev.dropVersions ?? []), ...(next.dropVersions ?? [])]) drops.set(`${d.rule}\u0000${d.version}`, d);
  const seen = new Set<string>();
  const alerts: Alert[] = [];
  for (const a of [...prev.alerts, ...next.alerts]) {
    if (seen.has(a.id)) continue;
    seen.add(a.id);
    alerts.push(a);
  }
  return {
    epoch: next.epoch,
    nextOffset: BigInt(next.nextOffset) >= BigInt(prev.nextOffset) ? next.nextOffset : prev.nextOffset,
    clock: next.clock ?? prev.clock,
    ...(next.stream !== undefined ? { stream: next.stream } : prev.stream !== undefined ? { stream: prev.stream } : {}),
    changed: [...changed.values()],
    deleted: [...deleted.values()],
    ...(drops.size > 0 ? { dropVersions: [...drops.values()] } : {}),
    alerts,
  };
}

/** The parts of a stream partition (StreamPartition) that checkpointing needs. */
export interface CheckpointablePartition {
  readonly engineView: {
    readonly isStarted: boolean;
    readonly now: number;
    readonly hasChanges: boolean;
    drainChanges(): KeyChange[];
    restoreKey(ruleId: string, key: string | null, snapshot: KeySnapshot): void;
    resetKey(ruleId: string, key: string | null, reason: 'checkpoint_size_limit'): number;
    trimKey(ruleId: string, key: string | null, keep: number, reason: 'checkpoint_size_limit'): number;
    partialMatchesOf(ruleId: string, key: string | null): number;
    setTime(time: number): void;
    reloadKeys(ruleId: string, entries: ReadonlyArray<readonly [string, KeySnapshot]>): void;
    forgetDormant(ruleId: string, key: string): void;
    isDormant(ruleId: string, key: string): boolean;
    evictKey(ruleId: string, key: string): boolean;
    compactEvicted(): void;
    residentKeyCount(): number;
  };
  streamState(): unknown;
  restoreStreamState(state: never, wallNow: number): void;
  keysNotResident(events: Iterable<EventRecord>): Map<string, string[]>;
  keysToWake(bound?: number): Map<string, string[]>;
  readonly waitsForKeys: boolean;
  resume(): void;
  heldKeys(): (rule: string, key: string) => boolean;
  /** Processing-time mode: the events as received behind the engine's copies. */
  readonly originalEvents?: OriginalEvents;
  evictColdKeys(evictor: KeyEvictor, wallNow: number, force?: boolean): EvictableKey[];
}

export interface PartitionCheckpointOptions {
  store: CheckpointStore;
  tp: TopicPartition;
  /** The state version of each running rule of the partition (undefined: not running here). */
  versionOf: (rule: string) => number | undefined;
  /** AlertFactory.positionOf / remember: source positions of events (alert ids). */
  positionOf: (event: unknown) => string;
  remember: (event: object, position: string) => void;
  /** Evict cold keys (see evict/reload); absent: every key of the partition stays in memory. */
  eviction?: EvictionSettings;
}

/** What shed() did to make a refused commit fit. */
export type ShedAction =
  | { kind: 'snapshot'; rule: string; key: string | null; dropped: number; kept: number }
  | { kind: 'alert'; rule: string; alertId: string };

export interface LoadResult {
  epoch: number;
  /** Where to read from; null when the partition was never checkpointed (use the group's offset). */
  nextOffset: string | null;
  restored: number;
  /** Of the restored keys, those evicted again right away (eviction: idle since they cannot be known active). */
  evicted: number;
  /** Old rule versions found (dropped by the next commit). */
  stale: RuleVersionRef[];
  outboxSize: number;
}

export interface ReloadResult {
  /** Keys looked up in the store (not in memory: wanted by the events, or evicted with a timer now due). */
  looked: number;
  /** Of those, found and restored (the others are new keys, or lost ones). */
  restored: number;
  /** Of the restored, keys evicted with a timer that came due (also when an event wanted them too). */
  woken: number;
  /** Keys evicted with a timer whose stored state was gone (Redis lost it): the clock no longer waits for them. */
  lost: number;
}

/** One owned partition's checkpoint state: its epoch and the commit not yet written. */
export class PartitionCheckpoint {
  private epoch = -1;
  /** The offset the store last acknowledged to this owner (load, then each commit): see CheckpointCommit.since. */
  private acked: string | null = null;
  private pending: CheckpointCommit | undefined;
  private deletionsOf: { commit: CheckpointCommit; keys: Set<string> } | undefined;
  private drops: RuleVersionRef[] = [];
  private readonly evictor: KeyEvictor | undefined;
  /**
   * Some stored key may not be in memory (a key was evicted since the load): only then do batches look their
   * keys up in the store. No set of the evicted keys is kept: memory stays bounded by the resident keys.
   */
  private cold = false;
  /** Commits written (tests, metrics). */
  commits = 0;

  constructor(private readonly o: PartitionCheckpointOptions) {
    this.evictor = o.eviction && (o.eviction.idleMs !== null || o.eviction.maxKeys !== null) ? new KeyEvictor(o.eviction) : undefined;
  }

  /** Whether batches look up their non-resident keys in the store (something was evicted). */
  get mayHaveColdKeys(): boolean {
    return this.cold;
  }

  get tp(): TopicPartition {
    return this.o.tp;
  }

  get loaded(): boolean {
    return this.epoch >= 0;
  }

  /** Whether a commit is waiting to be written. */
  get hasPending(): boolean {
    return this.pending !== undefined;
  }

  /** The offset the pending (or last) commit advances to; undefined when nothing is pending. */
  get pendingOffset(): string | undefined {
    return this.pending?.nextOffset;
  }

  /**
   * Takes the partition and restores its checkpoint into `partition` (created with the current rules and
   * `trackChanges`). Throws CheckpointUnavailableError when the store is unreachable.
   */
  async load(partition: CheckpointablePartition | undefined, wallNow = Date.now()): Promise<LoadResult> {
    const loaded = await this.o.store.load(this.o.tp);
    this.epoch = loaded.epoch;
    this.acked = loaded.nextOffset;
    this.pending = undefined;
    this.cold = false;
    let restored = 0;
    let evicted = 0;
    const stale = new Map<string, RuleVersionRef>();
    const state = loaded.state;
    if (state) {
      // The stream first: the keys of the events in its reorder buffer stay in memory.
      if (partition && state.stream !== null && state.stream !== undefined) partition.restoreStreamState(state.stream as never, wallNow);
      // With idle eviction, a restored key is evicted again at once (nothing says it is active): what stays
      // is what must (timers, buffered events) and what a batch reloads. Page by page, so neither the stored
      // snapshots nor the restored keys of a large partition are ever in memory whole: without idle eviction,
      // the cap applies after each page.
      const held = partition && this.evictor && this.o.eviction!.idleMs !== null ? partition.heldKeys() : undefined;
      const originals = partition?.originalEvents;
      /** Keys the evictions freed (held in a new key's state): their deletions, written with the next commit. */
      const freed: KeyChange[] = [];
      for await (const page of state.keyPages()) {
        let evictedInPage = 0;
        for (const k of page) {
          const current = this.o.versionOf(k.rule);
          if (partition && current === k.version) {
            const engine = partition.engineView;
            engine.restoreKey(k.rule, k.key, rememberPositions(k.snapshot, this.o.remember, originals));
            restored++;
            if (held && k.key !== null && !held(k.rule, k.key) && engine.evictKey(k.rule, k.key)) evictedInPage++;
          } else if (current !== k.version) {
            stale.set(`${k.rule}\u0000${k.version}`, { rule: k.rule, version: k.version });
          }
        }
        if (!partition) continue;
        // Restoring is not a change; freeing a key is (its deletion; the cap's below are drained with the next page).
        for (const c of partition.engineView.drainChanges()) if (c.snapshot === null) freed.push(c);
        if (evictedInPage > 0) partition.engineView.compactEvicted();
        evicted += evictedInPage;
        if (this.evictor && !held) evicted += partition.evictColdKeys(this.evictor, wallNow).length;
      }
      if (partition) {
        if (state.clock !== null) partition.engineView.setTime(state.clock);
        // The cap (without idle eviction, restored keys stay up to it).
        if (this.evictor) evicted += partition.evictColdKeys(this.evictor, wallNow, true).length;
        this.cold = evicted > 0;
        if (loaded.nextOffset !== null && (freed.length > 0 || partition.engineView.hasChanges)) {
          // Staged at once: a partition that gets no record writes the deletions at its next tick.
          this.stageChanges(partition, [...freed, ...partition.engineView.drainChanges()], Number(loaded.nextOffset), []);
        }
      }
    }
    this.drops = [...stale.values()];
    return { epoch: loaded.epoch, nextOffset: loaded.nextOffset, restored, evicted, stale: this.drops, outboxSize: loaded.outboxSize };
  }

  /**
   * Before a batch's events are added to `partition`: restores the keys they need that are not in memory
   * but stored (evicted earlier), with one `loadKeys` per rule. Nothing to do (and no store access) until a
   * key has been evicted. Throws what the store throws (CheckpointUnavailableError): then nothing was
   * restored, and the batch must not be processed.
   */
  async reload(partition: CheckpointablePartition, events: Iterable<EventRecord>, wakeBound?: number): Promise<ReloadResult> {
    if (!this.cold) return { looked: 0, restored: 0, woken: 0, lost: 0 };
    const wanted = partition.keysNotResident(events);
    // Keys evicted with timers due by the time these events can take the clock to (see StreamPartition.wakeBound).
    const due = new Set<string>();
    for (const [rule, keys] of partition.keysToWake(wakeBound)) {
      let list = wanted.get(rule);
      if (list === undefined) wanted.set(rule, (list = []));
      const listed = new Set(list);
      for (const key of keys) {
        due.add(`${rule}\u0000${key}`);
        if (!listed.has(key)) list.push(key);
      }
    }
    const engine = partition.engineView;
    // A key whose deletion is staged and not written yet (freed in a new key's state, or reset) starts afresh:
    // its stored copy is a state it no longer has, and its partial matches no longer count.
    const deleting = this.pendingDeletions();
    const lookups: Array<{ rule: string; keys: string[]; found: Promise<Array<KeySnapshot | null>> }> = [];
    for (const [rule, wantedKeys] of wanted) {
      const version = this.o.versionOf(rule);
      if (version === undefined) {
        // No state version here (the engine and the versions change together, so this should not happen): a
        // dormant key that cannot be looked up must not hold the partition's clock for ever.
        for (const key of wantedKeys) engine.forgetDormant(rule, key);
        continue;
      }
      let keys = wantedKeys;
      if (deleting.size > 0) {
        const prefix = `${rule}\u0000${version}\u0000`;
        keys = [];
        for (const key of wantedKeys) {
          if (!deleting.has(prefix + key)) keys.push(key);
          else engine.forgetDormant(rule, key);
        }
      }
      if (keys.length > 0) lookups.push({ rule, keys, found: this.o.store.loadKeys(this.o.tp, rule, version, keys) });
    }
    const snapshots = await Promise.all(lookups.map((l) => l.found));
    let looked = 0;
    let restored = 0;
    let woken = 0;
    let lost = 0;
    const originals = partition.originalEvents;
    lookups.forEach(({ rule, keys }, i) => {
      const entries: Array<[string, KeySnapshot]> = [];
      snapshots[i].forEach((s, j) => {
        if (s !== null) {
          entries.push([keys[j], rememberPositions(s, this.o.remember, originals)]);
          if (due.has(`${rule}\u0000${keys[j]}`)) woken++;
        } else {
          // Its stored state is gone (Redis lost it, or a new key): a dormant key must not hold the clock for ever
          // (this holds for one an event wanted too, not only for those that came due), and no entry may free a
          // key evicted waiting under `within` later.
          if (engine.isDormant(rule, keys[j])) lost++;
          engine.forgetDormant(rule, keys[j]);
        }
      });
      engine.reloadKeys(rule, entries);
      looked += keys.length;
      restored += entries.length;
    });
    // What waited for the dormant keys goes on (their timers fire in order as the clock moves).
    if (due.size > 0 || lost > 0) partition.resume();
    return { looked, restored, woken, lost };
  }

  /** `rule \0 version \0 key` of the deletions in the pending commit (cached per pending commit). */
  private pendingDeletions(): ReadonlySet<string> {
    const c = this.pending;
    if (c === undefined || c.deleted.length === 0) return EMPTY_SET;
    if (this.deletionsOf?.commit !== c) this.deletionsOf = { commit: c, keys: new Set(c.deleted.map((d) => `${d.rule}\u0000${d.version}\u0000${d.key}`)) };
    return this.deletionsOf.keys;
  }

  /** Whether evict() would scan for idle keys at `wallNow` (for partitions without batches). */
  evictionDue(wallNow: number): boolean {
    return this.evictor !== undefined && this.pending === undefined && this.evictor.scanDue(wallNow);
  }

  /**
   * After a successful flush: evicts the keys the policy picks (the store holds their latest state, so the
   * engine drops them without recording a change). Does nothing while a commit is pending, or without the
   * `eviction` option. Returns how many keys were evicted.
   */
  evict(partition: CheckpointablePartition | undefined, wallNow: number): number {
    if (!this.evictor || !partition || this.pending !== undefined) return 0;
    const n = partition.evictColdKeys(this.evictor, wallNow).length;
    if (n > 0) this.cold = true;
    return n;
  }

  /** Rule versions to remove from this partition with the next commit (a changed pattern, a removed rule). */
  dropVersions(refs: readonly RuleVersionRef[]): void {
    this.drops.push(...refs);
  }

  /**
   * Adds what happened since the last stage to the pending commit: the engine's changed keys, the alerts,
   * the next offset and the stream state. Cheap; call it once per batch or tick.
   */
  stage(partition: CheckpointablePartition | undefined, nextOffset: number, alerts: readonly Alert[]): void {
    this.stageChanges(partition, partition ? partition.engineView.drainChanges() : [], nextOffset, alerts);
  }

  /** stage() with the engine's changes given (a load adds the deletions it drained page by page). */
  private stageChanges(partition: CheckpointablePartition | undefined, changes: readonly KeyChange[], nextOffset: number, alerts: readonly Alert[]): void {
    const { changed, deleted } = splitChanges(changes, this.o.versionOf);
    const originals = partition?.originalEvents;
    for (let i = 0; i < changed.length; i++) changed[i].snapshot = withPositions(changed[i].snapshot, this.o.positionOf, originals);
    const engine = partition?.engineView;
    const commit: CheckpointCommit = {
      epoch: this.epoch,
      nextOffset: String(nextOffset),
      clock: engine && engine.isStarted ? engine.now : null,
      ...(partition ? { stream: partition.streamState() } : {}),
      changed,
      deleted,
      ...(this.drops.length > 0 ? { dropVersions: this.drops } : {}),
      alerts,
    };
    this.drops = [];
    this.pending = this.pending ? mergeCommits(this.pending, commit) : commit;
  }

  /**
   * Writes the pending commit (no-op when none). Throws CheckpointUnavailableError (kept pending: retry),
   * CheckpointFencedError (another replica took the partition: drop it), CheckpointLostError (the store lost
   * acknowledged writes: drop the state and load again) or CheckpointLimitError.
   * Returns the alerts the written commit added to the outbox, in order (as written: truncated ones truncated).
   */
  async flush(): Promise<readonly Alert[]> {
    const c = this.pending;
    if (!c) return [];
    if (!this.loaded) throw new Error(`partition ${this.o.tp.topic}:${this.o.tp.partition} was not loaded`);
    await this.o.store.commit(this.o.tp, { ...c, since: this.acked });
    this.acked = c.nextOffset;
    if (this.pending === c) this.pending = undefined;
    this.commits++;
    return c.alerts;
  }

  /**
   * Makes the pending commit fit after the store refused it for size, so a client's input can never stall
   * the partition: an oversize snapshot's key drops its oldest partial matches (counted) until it fits, or is
   * reset when even one is too large (its stored state deleted; its next event starts it afresh), an
   * oversize alert is kept without its events
   * (and without its fields if that is not enough; `truncated: true`, same id). Returns what was done, or
   * undefined when the error is not one this can fix (the stream state or the outbox over its bound).
   */
  shed(e: unknown, partition: CheckpointablePartition | undefined): ShedAction | undefined {
    const c = this.pending;
    if (!c || !(e instanceof CheckpointLimitError) || e.ref === undefined) return undefined;
    if (e.kind === 'snapshot' && partition && 'rule' in e.ref) {
      const { rule, key } = e.ref;
      const engine = partition.engineView;
      // Keep the newest partial matches, as the per-key cap does, sized to fit with a margin (the snapshot
      // shrinks about in proportion); a key that cannot keep even one is reset.
      const open = engine.partialMatchesOf(rule, key);
      const keep = e.size ? Math.floor((open * e.size.limit * 0.8) / e.size.bytes) : 0;
      const dropped = keep >= 1 && keep < open ? engine.trimKey(rule, key, keep, 'checkpoint_size_limit') : engine.resetKey(rule, key, 'checkpoint_size_limit');
      this.stage(partition, Number(c.nextOffset), []);
      return { kind: 'snapshot', rule, key, dropped, kept: engine.partialMatchesOf(rule, key) };
    }
    if (e.kind === 'alert' && 'alertId' in e.ref) {
      const id = e.ref.alertId;
      const i = c.alerts.findIndex((a) => a.id === id);
      if (i < 0) return undefined;
      const current = c.alerts[i];
      if (current.truncated && current.fields === null) return undefined; // nothing left to cut
      const alerts = [...c.alerts];
      alerts[i] = truncateAlert(current, current.truncated ? 'events+fields' : 'events');
      this.pending = { ...c, alerts };
      return { kind: 'alert', rule: alerts[i].rule, alertId: id };
    }
    return undefined;
  }

  /** Forgets the pending commit (the partition is dropped: its new owner replays from the last checkpoint). */
  abandon(): void {
    this.pending = undefined;
    this.drops = [];
  }
}

export function isUnavailable(e: unknown): e is CheckpointUnavailableError {
  return e instanceof CheckpointUnavailableError;
}

export function isFenced(e: unknown): e is CheckpointFencedError {
  return e instanceof CheckpointFencedError;
}

export function isLost(e: unknown): e is CheckpointLostError {
  return e instanceof CheckpointLostError;
}

export function isOutboxFull(e: unknown): boolean {
  return e instanceof CheckpointLimitError && e.kind === 'outbox';
}

const EMPTY_SET: ReadonlySet<string> = new Set();
