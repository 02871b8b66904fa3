/**
 * Per-partition checkpoints of the engine state, and the alert outbox (issue 5).
 *
 * A replica that owns a Kafka topic-partition keeps that partition's engine state in memory and, once per
 * processed batch, writes one checkpoint in a single atomic step: the snapshots of the (rule, key) instances
 * the batch changed, the deletions of discarded keys, the partition's next offset, the engine clock, the
 * opaque stream state of the Kafka side (watermark, reorder buffer) and the batch's alerts (the outbox).
 * Either all of it is stored or none of it.
 *
 * Ownership is fenced: `load` takes the partition (it bumps the partition's owner epoch) and every `commit`
 * carries the epoch its `load` returned. A commit from an earlier owner (a zombie replica that lost the
 * partition in a rebalance but still finishes its batch) is refused with `CheckpointFencedError` and writes
 * nothing.
 *
 * Alerts leave through the outbox: a relay reads `pendingAlerts`, publishes them, and only then `ackAlerts`.
 * An alert id committed twice is stored once (its first position is kept).
 *
 * State is stored per rule *state version*: the caller passes, per rule, the version at which the rule's state
 * shape last changed (pattern, partitionBy, event fields). A metadata-only change (severity, labels, emit) keeps
 * the engine state (Engine.updateRule returns true) and must keep the state version, otherwise the unchanged
 * keys would be left behind under the old version. A changed pattern starts a new version; the old version's
 * keys are removed by `dropVersions` in the owner's next commit. A partition nobody reads any more (its topic
 * left the rules) is found with `storedPartitions` and removed whole with `dropPartition`.
 *
 * Pure TypeScript: implementations live in src/adapters (memory, Redis).
 */
import type { KeyChange, KeySnapshot } from '../engine/engine';
import { alertJson, type Alert } from './alert';

/** A Kafka topic-partition. Topic names are Kafka's: `[a-zA-Z0-9._-]+` (no braces, so hash tags stay exact). */
export interface TopicPartition {
  topic: string;
  partition: number;
}

/** A (rule, state version, key) instance; `key` null is the single instance of an unpartitioned rule. */
export interface StoredKeyRef {
  rule: string;
  version: number;
  key: string | null;
}

export interface StoredKey extends StoredKeyRef {
  snapshot: KeySnapshot;
}

export interface RuleVersionRef {
  rule: string;
  version: number;
}

/** What a checkpoint holds besides the offset. */
export interface PartitionState {
  /** The engine clock (epoch ms) at the checkpoint; null when the engine had not started. */
  clock: number | null;
  /** The Kafka side's opaque JSON state (watermark, reorder buffer); null when never given. */
  stream: unknown;
  /**
   * Every stored (rule, version, key) snapshot of the partition, all versions (filter by the current ones), a
   * page at a time: a partition may hold more keys than fit in memory at once, so the caller restores (and
   * evicts) page by page. Each call reads the store again; each key comes once per call.
   */
  keyPages(): AsyncIterable<readonly StoredKey[]>;
}

/** Every stored key of a loaded partition in one array (small partitions, tests). */
export async function allStoredKeys(state: PartitionState): Promise<StoredKey[]> {
  const all: StoredKey[] = [];
  for await (const page of state.keyPages()) all.push(...page);
  return all;
}

export interface LoadedPartition {
  /** The owner epoch this load took; pass it to every `commit` of this ownership. */
  epoch: number;
  /** The next offset to consume (Kafka offsets are decimal strings); null when never committed. */
  nextOffset: string | null;
  /** null when nothing was ever committed for the partition. */
  state: PartitionState | null;
  /** Alerts still in the outbox (committed, not yet acknowledged by the relay). */
  outboxSize: number;
}

/** A partition with something stored (see CheckpointStore.storedPartitions). */
export interface StoredPartition {
  tp: TopicPartition;
  /** When its last commit was written (the committing client's wall clock, ms); null when never committed. */
  lastCommitAt: number | null;
}

export type DropPartitionResult = 'dropped' | 'fenced' | 'outbox';

export interface CheckpointCommit {
  /** The epoch returned by the `load` that took the partition. */
  epoch: number;
  /** The offset after the batch's last record. */
  nextOffset: string;
  /** `engine.isStarted ? engine.now : null`. */
  clock: number | null;
  /** The Kafka side's stream state; `undefined` keeps the stored value, anything else (JSON) replaces it. */
  stream?: unknown;
  /** New snapshots (live instances and `ended` tombstones). */
  changed: readonly StoredKey[];
  /** Keys whose state was discarded. */
  deleted: readonly StoredKeyRef[];
  /** Whole rule versions to remove from this partition (a changed pattern's old version, a deleted rule). */
  dropVersions?: readonly RuleVersionRef[];
  /** The batch's alerts, in match order; appended to the outbox (ids already there are not added again). */
  alerts: readonly Alert[];
  /**
   * The offset the owner last saw the store acknowledge (its load's `nextOffset`, then each written commit's).
   * The commit is refused with CheckpointLostError when the store holds an older offset: it lost writes it
   * had acknowledged (e.g. Redis restarted from an older save), so the keys those writes held are stale and
   * the owner must reload. null or absent: no check.
   */
  since?: string | null;
}

export interface CheckpointStore {
  /**
   * Takes the partition (bumps its owner epoch, fencing earlier owners) and reads its checkpoint. After this,
   * commits carrying an older epoch are refused.
   */
  load(tp: TopicPartition): Promise<LoadedPartition>;
  /** Reads single snapshots (lazy reload of keys evicted from memory); null for keys with no stored state. */
  loadKeys(tp: TopicPartition, rule: string, version: number, keys: ReadonlyArray<string | null>): Promise<Array<KeySnapshot | null>>;
  /**
   * Writes one batch's checkpoint atomically. Throws CheckpointFencedError (another owner loaded the partition),
   * CheckpointLimitError (a bound was exceeded; nothing written) or CheckpointUnavailableError (the store is
   * unreachable; the commit may or may not have been applied — retry the same commit, it is idempotent).
   */
  commit(tp: TopicPartition, commit: CheckpointCommit): Promise<void>;
  /** The oldest `limit` alerts of the partition's outbox, in commit order. */
  pendingAlerts(tp: TopicPartition, limit: number): Promise<Alert[]>;
  /** Removes these alerts from the outbox (after the publisher acknowledged them); returns how many were there. */
  ackAlerts(tp: TopicPartition, ids: readonly string[]): Promise<number>;
  outboxSize(tp: TopicPartition): Promise<number>;
  /** Every partition the store holds a checkpoint or an owner epoch of (to find partitions nobody reads). */
  storedPartitions(): Promise<StoredPartition[]>;
  /**
   * Removes everything stored for the partition (offset, epoch, stream state, every rule version's keys, the
   * emptied outbox) when `epoch` is still its owner epoch (the caller took it with `load`) and its outbox is
   * empty (publish and ack the alerts first). 'fenced': another load took it since; 'outbox': alerts are
   * still pending. Nothing is removed in either case.
   */
  dropPartition(tp: TopicPartition, epoch: number): Promise<DropPartitionResult>;
  /** Resolves when the store answers; throws CheckpointUnavailableError otherwise. */
  ping(): Promise<void>;
  close(): Promise<void>;
}

/** Size bounds, checked before anything is written. */
export interface CheckpointLimits {
  /** Bytes of one snapshot's JSON (default 1 MiB). */
  maxSnapshotBytes: number;
  /** Bytes of one alert's JSON (default 1 MiB, Kafka's default max message size). */
  maxAlertBytes: number;
  /** Bytes of the stream state's JSON (default 8 MiB). */
  maxStreamBytes: number;
  /** Alerts in one partition's outbox (default 100 000): a commit that would exceed it is refused. */
  maxOutbox: number;
}

export const DEFAULT_CHECKPOINT_LIMITS: Readonly<CheckpointLimits> = Object.freeze({
  maxSnapshotBytes: 1024 * 1024,
  maxAlertBytes: 1024 * 1024,
  maxStreamBytes: 8 * 1024 * 1024,
  maxOutbox: 100_000,
});

/** The partition was taken by a later `load` (another replica owns it now). Nothing was written. */
export class CheckpointFencedError extends Error {
  constructor(
    readonly tp: TopicPartition,
    readonly epoch: number,
    readonly currentEpoch: number | null,
  ) {
    super(`partition ${tp.topic}:${tp.partition} is owned by epoch ${currentEpoch ?? 'none'}, not ${epoch}; commit refused`);
    this.name = 'CheckpointFencedError';
  }
}

/**
 * The store holds an older checkpoint than one it acknowledged to this owner (it lost writes: a restart from
 * an older save, a failover to a replica that had not caught up). Nothing was written; the owner must drop its
 * state and load the partition again, which re-reads the records after what the store still holds (or, when
 * it holds nothing, `stored` null, after `since`: the state is gone, the records are not skipped).
 */
export class CheckpointLostError extends Error {
  constructor(
    readonly tp: TopicPartition,
    readonly since: string,
    readonly stored: string | null,
  ) {
    super(`partition ${tp.topic}:${tp.partition}: the store holds offset ${stored ?? 'none'}, older than ${since} it acknowledged; commit refused`);
    this.name = 'CheckpointLostError';
  }
}

/** Whether a stored offset is older than `since` (both canonical decimal strings; exact beyond 2^53). */
export function offsetOlder(stored: string | null, since: string): boolean {
  if (stored === null) return true;
  return stored.length !== since.length ? stored.length < since.length : stored < since;
}

export type CheckpointLimitKind = 'snapshot' | 'alert' | 'stream' | 'outbox';

/** A bound of CheckpointLimits was exceeded. Nothing was written. */
export class CheckpointLimitError extends Error {
  constructor(
    readonly kind: CheckpointLimitKind,
    message: string,
    /** The offending instance (snapshot) or alert id (alert). */
    readonly ref?: StoredKeyRef | { alertId: string },
    /** The offending item's JSON size and the bound it exceeded (snapshot, alert, stream). */
    readonly size?: { bytes: number; limit: number },
  ) {
    super(message);
    this.name = 'CheckpointLimitError';
  }
}

/** The store cannot be reached (connection lost, timeout, failover in progress). Retry when it is back. */
export class CheckpointUnavailableError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'CheckpointUnavailableError';
  }
}

/** `topic:partition`, the partition's name in errors and in the Redis hash tag. */
export function partitionName(tp: TopicPartition): string {
  return `${tp.topic}:${tp.partition}`;
}

/** Throws on topic names that are not Kafka's, or partitions that are not non-negative integers. */
export function checkTopicPartition(tp: TopicPartition): void {
  if (typeof tp.topic !== 'string' || !/^[a-zA-Z0-9._-]{1,249}$/.test(tp.topic)) {
    throw new TypeError(`invalid topic name ${JSON.stringify(tp.topic)} (Kafka topics are [a-zA-Z0-9._-]{1,249})`);
  }
  if (!Number.isSafeInteger(tp.partition) || tp.partition < 0) throw new TypeError(`invalid partition ${tp.partition}`);
}

const OFFSET = /^(0|[1-9][0-9]{0,18})$/;

/** A commit's JSON encodings, with every bound checked (throws CheckpointLimitError / TypeError). */
export interface EncodedCommit {
  changed: Array<StoredKey & { json: string }>;
  alerts: Array<{ id: string; json: string }>;
  /** undefined: keep the stored stream state. */
  streamJson: string | undefined;
}

/** Validates a commit and serializes its values once; shared by every implementation so they agree. */
export function encodeCommit(c: CheckpointCommit, limits: CheckpointLimits): EncodedCommit {
  if (!Number.isSafeInteger(c.epoch)) throw new TypeError(`invalid epoch ${c.epoch}`);
  if (typeof c.nextOffset !== 'string' || !OFFSET.test(c.nextOffset)) throw new TypeError(`invalid offset ${JSON.stringify(c.nextOffset)}`);
  if (c.since !== undefined && c.since !== null && (typeof c.since !== 'string' || !OFFSET.test(c.since))) throw new TypeError(`invalid since offset ${JSON.stringify(c.since)}`);
  if (c.clock !== null && !Number.isFinite(c.clock)) throw new TypeError(`invalid clock ${c.clock} (use null before the engine started)`);
  for (const r of [...c.changed, ...c.deleted, ...(c.dropVersions ?? [])]) {
    if (typeof r.rule !== 'string' || r.rule.length === 0) throw new TypeError(`invalid rule id ${JSON.stringify(r.rule)}`);
    if (!Number.isSafeInteger(r.version) || r.version < 0) throw new TypeError(`invalid version ${r.version} of rule '${r.rule}'`);
  }
  const changed = c.changed.map((k) => {
    const json = JSON.stringify(k.snapshot);
    if (json === undefined) throw new TypeError(`snapshot of ${k.rule}/${k.key} is not JSON`);
    const bytes = Buffer.byteLength(json);
    if (bytes > limits.maxSnapshotBytes) {
      throw new CheckpointLimitError(
        'snapshot',
        `snapshot of rule '${k.rule}' v${k.version} key ${JSON.stringify(k.key)} is ${bytes} bytes (limit ${limits.maxSnapshotBytes})`,
        { rule: k.rule, version: k.version, key: k.key },
        { bytes, limit: limits.maxSnapshotBytes },
      );
    }
    return { ...k, json };
  });
  const alerts = c.alerts.map((a) => {
    if (typeof a.id !== 'string' || a.id.length === 0) throw new TypeError('alert without id');
    const json = alertJson(a);
    const bytes = Buffer.byteLength(json);
    if (bytes > limits.maxAlertBytes) {
      throw new CheckpointLimitError('alert', `alert ${a.id} is ${bytes} bytes (limit ${limits.maxAlertBytes})`, { alertId: a.id }, { bytes, limit: limits.maxAlertBytes });
    }
    return { id: a.id, json };
  });
  let streamJson: string | undefined;
  if (c.stream !== undefined) {
    streamJson = JSON.stringify(c.stream);
    const bytes = Buffer.byteLength(streamJson);
    if (bytes > limits.maxStreamBytes) {
      throw new CheckpointLimitError('stream', `stream state is ${bytes} bytes (limit ${limits.maxStreamBytes})`);
    }
  }
  return { changed, alerts, streamJson };
}

/** The outbox-full error both implementations throw. */
export function outboxFull(tp: TopicPartition, size: number, adding: number, max: number): CheckpointLimitError {
  return new CheckpointLimitError(
    'outbox',
    `outbox of ${partitionName(tp)} holds ${size} alerts; adding ${adding} would exceed ${max} (is the relay publishing?)`,
  );
}

// ---- Wiring helpers between the engine and a checkpoint (pure) ----

/**
 * Splits `engine.drainChanges()` into a commit's `changed` and `deleted`, stamping each rule's state version.
 * Changes of rules `versionOf` does not know (removed meanwhile) are left out.
 */
export function splitChanges(
  changes: readonly KeyChange[],
  versionOf: (rule: string) => number | undefined,
): { changed: StoredKey[]; deleted: StoredKeyRef[] } {
  const changed: StoredKey[] = [];
  const deleted: StoredKeyRef[] = [];
  for (const c of changes) {
    const version = versionOf(c.rule);
    if (version === undefined) continue;
    if (c.snapshot === null) deleted.push({ rule: c.rule, version, key: c.key });
    else changed.push({ rule: c.rule, version, key: c.key, snapshot: c.snapshot });
  }
  return { changed, deleted };
}

/** The part of Engine that restoring needs (structural, so this file stays free of the engine's classes). */
export interface RestorableEngine {
  restoreKey(ruleId: string, key: string | null, snapshot: KeySnapshot): void;
  setTime(time: number): void;
}

/**
 * Restores a loaded checkpoint into an engine that already runs the current rules: the keys whose stored
 * version is the rule's current state version are restored, then the clock is set. Returns the stored versions
 * that are not current (to pass as `dropVersions` in the next commit) and the number of keys restored.
 */
export async function restoreState(
  engine: RestorableEngine,
  state: PartitionState | null,
  versionOf: (rule: string) => number | undefined,
): Promise<{ restored: number; stale: RuleVersionRef[] }> {
  if (state === null) return { restored: 0, stale: [] };
  let restored = 0;
  const stale = new Map<string, RuleVersionRef>();
  for await (const page of state.keyPages()) {
    for (const k of page) {
      if (versionOf(k.rule) === k.version) {
        engine.restoreKey(k.rule, k.key, k.snapshot);
        restored++;
      } else {
        stale.set(`${k.rule}\u0000${k.version}`, { rule: k.rule, version: k.version });
      }
    }
  }
  if (state.clock !== null) engine.setTime(state.clock);
  return { restored, stale: [...stale.values()] };
}
