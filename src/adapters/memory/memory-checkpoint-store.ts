/**
 * The checkpoint store in process memory: embedded mode (no Redis) and unit tests. It behaves like the Redis
 * store (same contract suite): values are kept as JSON strings, so a loaded snapshot never aliases the
 * engine's objects, and every commit is validated completely before anything changes.
 */
import type { KeySnapshot } from '../../core/engine/engine';
import type { Alert } from '../../core/ports/alert';
import {
  CheckpointCommit,
  CheckpointFencedError,
  CheckpointLimits,
  CheckpointLostError,
  CheckpointStore,
  DEFAULT_CHECKPOINT_LIMITS,
  DropPartitionResult,
  LoadedPartition,
  StoredKey,
  StoredPartition,
  TopicPartition,
  checkTopicPartition,
  encodeCommit,
  offsetOlder,
  outboxFull,
  partitionName,
} from '../../core/ports/checkpoint-store';

interface MemPartition {
  epoch: number;
  offset: string | null;
  clock: number | null;
  stream: string | null;
  /** Wall-clock ms of the last commit. */
  at: number | null;
  /** `rule \0 version` → key field → snapshot JSON. */
  versions: Map<string, Map<string, string>>;
  /** Alert id → JSON, in commit order (Map keeps insertion order; re-setting an id keeps its place). */
  outbox: Map<string, string>;
}

const versionId = (rule: string, version: number) => `${rule}\u0000${version}`;
const fieldOf = (key: string | null) => (key === null ? 'n' : `k${key}`);
const keyOf = (field: string) => (field === 'n' ? null : field.slice(1));

export class MemoryCheckpointStore implements CheckpointStore {
  private readonly partitions = new Map<string, MemPartition>();
  readonly limits: CheckpointLimits;

  /** `pageSize`: keys per page of a load's `keyPages` (the Redis store's HSCAN count). */
  constructor(
    limits: Partial<CheckpointLimits> = {},
    private readonly pageSize = 1000,
  ) {
    this.limits = { ...DEFAULT_CHECKPOINT_LIMITS, ...limits };
  }

  private part(tp: TopicPartition): MemPartition {
    checkTopicPartition(tp);
    const name = partitionName(tp);
    let p = this.partitions.get(name);
    if (!p) {
      p = { epoch: 0, offset: null, clock: null, stream: null, at: null, versions: new Map(), outbox: new Map() };
      this.partitions.set(name, p);
    }
    return p;
  }

  async load(tp: TopicPartition): Promise<LoadedPartition> {
    const p = this.part(tp);
    p.epoch++;
    const state =
      p.offset === null
        ? null
        : { clock: p.clock, stream: p.stream === null ? null : (JSON.parse(p.stream) as unknown), keyPages: () => this.keyPages(p) };
    return { epoch: p.epoch, nextOffset: p.offset, state, outboxSize: p.outbox.size };
  }

  /** Like the Redis store's HSCAN pages: at most `pageSize` parsed snapshots at a time. */
  private async *keyPages(p: MemPartition): AsyncGenerator<StoredKey[]> {
    for (const [vid, fields] of [...p.versions]) {
      const [rule, version] = vid.split('\u0000');
      let page: StoredKey[] = [];
      for (const [field, json] of [...fields]) {
        page.push({ rule, version: Number(version), key: keyOf(field), snapshot: JSON.parse(json) as KeySnapshot });
        if (page.length === this.pageSize) {
          yield page;
          page = [];
        }
      }
      if (page.length > 0) yield page;
    }
  }

  async loadKeys(tp: TopicPartition, rule: string, version: number, keys: ReadonlyArray<string | null>): Promise<Array<KeySnapshot | null>> {
    const fields = this.part(tp).versions.get(versionId(rule, version));
    return keys.map((k) => {
      const json = fields?.get(fieldOf(k));
      return json === undefined ? null : (JSON.parse(json) as KeySnapshot);
    });
  }

  async commit(tp: TopicPartition, c: CheckpointCommit): Promise<void> {
    const p = this.part(tp);
    // Everything that can fail happens before the first change.
    const enc = encodeCommit(c, this.limits);
    const lost = c.since != null && offsetOlder(p.offset, c.since);
    if (c.epoch !== p.epoch) {
      // No owner at all while this one had an acknowledged offset: the checkpoint was lost whole.
      if (p.epoch === 0 && lost) throw new CheckpointLostError(tp, c.since!, null);
      throw new CheckpointFencedError(tp, c.epoch, p.epoch === 0 ? null : p.epoch);
    }
    if (lost) throw new CheckpointLostError(tp, c.since!, p.offset);
    const fresh = new Set(enc.alerts.map((a) => a.id).filter((id) => !p.outbox.has(id)));
    // An empty outbox takes any one commit: a batch with more alerts than the bound would otherwise wait forever.
    if (p.outbox.size > 0 && p.outbox.size + fresh.size > this.limits.maxOutbox) throw outboxFull(tp, p.outbox.size, fresh.size, this.limits.maxOutbox);

    for (const d of c.dropVersions ?? []) p.versions.delete(versionId(d.rule, d.version));
    for (const k of enc.changed) {
      const vid = versionId(k.rule, k.version);
      let fields = p.versions.get(vid);
      if (!fields) p.versions.set(vid, (fields = new Map()));
      fields.set(fieldOf(k.key), k.json);
    }
    for (const d of c.deleted) {
      const vid = versionId(d.rule, d.version);
      const fields = p.versions.get(vid);
      if (!fields) continue;
      fields.delete(fieldOf(d.key));
      if (fields.size === 0) p.versions.delete(vid);
    }
    for (const a of enc.alerts) if (!p.outbox.has(a.id)) p.outbox.set(a.id, a.json);
    p.offset = c.nextOffset;
    p.clock = c.clock;
    p.at = Date.now();
    if (enc.streamJson !== undefined) p.stream = enc.streamJson;
  }

  async pendingAlerts(tp: TopicPartition, limit: number): Promise<Alert[]> {
    const out: Alert[] = [];
    if (limit <= 0) return out;
    for (const json of this.part(tp).outbox.values()) {
      out.push(JSON.parse(json) as Alert);
      if (out.length >= limit) break;
    }
    return out;
  }

  async ackAlerts(tp: TopicPartition, ids: readonly string[]): Promise<number> {
    const outbox = this.part(tp).outbox;
    let n = 0;
    for (const id of ids) if (outbox.delete(id)) n++;
    return n;
  }

  async outboxSize(tp: TopicPartition): Promise<number> {
    return this.part(tp).outbox.size;
  }

  async storedPartitions(): Promise<StoredPartition[]> {
    const out: StoredPartition[] = [];
    for (const [name, p] of this.partitions) {
      // Reads of a partition nobody took create its entry here; Redis has nothing for those.
      if (p.epoch === 0 && p.offset === null && p.outbox.size === 0) continue;
      const colon = name.lastIndexOf(':');
      out.push({ tp: { topic: name.slice(0, colon), partition: Number(name.slice(colon + 1)) }, lastCommitAt: p.at });
    }
    return out;
  }

  async dropPartition(tp: TopicPartition, epoch: number): Promise<DropPartitionResult> {
    const p = this.part(tp);
    if (p.epoch !== epoch) return 'fenced';
    if (p.outbox.size > 0) return 'outbox';
    this.partitions.delete(partitionName(tp));
    return 'dropped';
  }

  async ping(): Promise<void> {}

  async close(): Promise<void> {}
}
