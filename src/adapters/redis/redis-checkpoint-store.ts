/**
 * The checkpoint store in Redis (single node, Sentinel or Cluster). Layout, for partition P = `{topic:partition}`
 * (the hash tag, so every key of a partition lives on one Cluster slot), with the default prefix `cep`:
 *
 *   cep:{orders:3}:meta                     hash    epoch, offset, clock, stream, commits, outseq, at
 *   cep:{orders:3}:versions                 set     `<rule>:<version>` of every state hash below that exists
 *   cep:{orders:3}:state:<rule>:<version>   hash    key field → snapshot JSON (`T` = the ended tombstone)
 *   cep:{orders:3}:outbox                   zset    alert id → commit sequence (the outbox order)
 *   cep:{orders:3}:alerts                   hash    alert id → alert JSON
 *
 * `<rule>` is percent-encoded (encodeURIComponent), so `:` `{` `}` in a rule id cannot confuse a key. A key
 * field is `k<key>` for a partitioned rule's key and `n` for the single instance of an unpartitioned rule.
 *
 * A commit is one Lua script (checkpoint-scripts.ts COMMIT) over those keys: checked completely, then written.
 */
import type { KeySnapshot } from '../../core/engine/engine';
import type { Alert } from '../../core/ports/alert';
import {
  CheckpointCommit,
  CheckpointFencedError,
  CheckpointLimits,
  CheckpointLostError,
  CheckpointStore,
  CheckpointUnavailableError,
  DEFAULT_CHECKPOINT_LIMITS,
  DropPartitionResult,
  LoadedPartition,
  StoredKey,
  StoredPartition,
  TopicPartition,
  checkTopicPartition,
  encodeCommit,
  outboxFull,
  partitionName,
} from '../../core/ports/checkpoint-store';
import { ACK, CLAIM, COMMIT, DROP_PARTITION, LuaScript, PENDING } from './checkpoint-scripts';
import { Cluster } from 'ioredis';
import type { RedisClient } from './redis-connection';

/** The snapshot of a key whose instance ended, stored as `T` (tombstones are the most common cold state). */
const TOMBSTONE_JSON = JSON.stringify({ v: 1, ended: true, seq: 0, events: [], root: null });
const TOMBSTONE_FIELD_VALUE = 'T';

export const fieldOfKey = (key: string | null): string => (key === null ? 'n' : `k${key}`);
export const keyOfField = (field: string): string | null => (field === 'n' ? null : field.slice(1));
const encodeSnapshot = (json: string): string => (json === TOMBSTONE_JSON ? TOMBSTONE_FIELD_VALUE : json);
const decodeSnapshot = (value: string): KeySnapshot => JSON.parse(value === TOMBSTONE_FIELD_VALUE ? TOMBSTONE_JSON : value) as KeySnapshot;

/** Escapes glob characters for SCAN MATCH. */
const globEscape = (s: string): string => s.replace(/[*?[\]\\]/g, (c) => `\\${c}`);

/** Key names of the layout above. */
export class CheckpointKeys {
  constructor(readonly prefix = 'cep') {
    if (!/^[^{}\s*?[\]\\]+$/.test(prefix)) throw new TypeError(`invalid key prefix ${JSON.stringify(prefix)} (no braces, spaces or glob characters)`);
  }
  /** The hash tag `{topic:partition}`: the only part of a key Cluster hashes. */
  tag(tp: TopicPartition): string {
    return `{${partitionName(tp)}}`;
  }
  meta(tp: TopicPartition): string {
    return `${this.prefix}:${this.tag(tp)}:meta`;
  }
  versions(tp: TopicPartition): string {
    return `${this.prefix}:${this.tag(tp)}:versions`;
  }
  outbox(tp: TopicPartition): string {
    return `${this.prefix}:${this.tag(tp)}:outbox`;
  }
  alerts(tp: TopicPartition): string {
    return `${this.prefix}:${this.tag(tp)}:alerts`;
  }
  member(rule: string, version: number): string {
    return `${encodeURIComponent(rule)}:${version}`;
  }
  state(tp: TopicPartition, rule: string, version: number): string {
    return `${this.prefix}:${this.tag(tp)}:state:${this.member(rule, version)}`;
  }
  /** SCAN pattern for every partition's meta hash. */
  metaPattern(): string {
    return `${globEscape(this.prefix)}:{*}:meta`;
  }
  /** Parses a meta key back into its partition (undefined if it is not one of this prefix). */
  parseMeta(key: string): TopicPartition | undefined {
    const m = /^(.*):\{([a-zA-Z0-9._-]+):(\d+)\}:meta$/.exec(key);
    if (!m || m[1] !== this.prefix) return undefined;
    return { topic: m[2], partition: Number(m[3]) };
  }
  parseMember(member: string): { rule: string; version: number } {
    const colon = member.lastIndexOf(':');
    return { rule: decodeURIComponent(member.slice(0, colon)), version: Number(member.slice(colon + 1)) };
  }
  /** Every fixed key of a partition (state hashes come on top). */
  partitionKeys(tp: TopicPartition): string[] {
    return [this.meta(tp), this.versions(tp), this.outbox(tp), this.alerts(tp)];
  }
}

/** Replies that mean "not now" (failover, loading, cluster reconfiguring), not "wrong". */
const TRANSIENT_REPLY = /^(LOADING|READONLY|MASTERDOWN|CLUSTERDOWN|TRYAGAIN|BUSY|NOREPLICAS|MOVED|ASK)\b/;

/** ioredis reply errors have this name; everything else (closed socket, timeout, offline) is a connection problem. */
const isReplyError = (err: unknown): err is Error => err instanceof Error && err.name === 'ReplyError';

export interface RedisCheckpointStoreOptions {
  /** Key prefix, default `cep`. */
  prefix?: string;
  limits?: Partial<CheckpointLimits>;
  /** Called with every connection-level failure (e.g. RedisAvailability.reportFailure). */
  onUnavailable?: (err: Error) => void;
  /** HSCAN batch size when loading (default 1000). */
  scanCount?: number;
}

export class RedisCheckpointStore implements CheckpointStore {
  readonly keys: CheckpointKeys;
  readonly limits: CheckpointLimits;
  private readonly scanCount: number;

  constructor(
    private readonly client: RedisClient,
    private readonly options: RedisCheckpointStoreOptions = {},
  ) {
    this.keys = new CheckpointKeys(options.prefix);
    this.limits = { ...DEFAULT_CHECKPOINT_LIMITS, ...options.limits };
    this.scanCount = options.scanCount ?? 1000;
  }

  /** Maps ioredis failures: connection problems → CheckpointUnavailableError; script refusals → their errors. */
  private fail(err: unknown, what: string, tp?: TopicPartition, epoch?: number): never {
    if (isReplyError(err)) {
      const msg = err.message;
      if (msg.startsWith('CEPFENCED ') && tp && epoch !== undefined) {
        const cur = msg.slice('CEPFENCED '.length);
        throw new CheckpointFencedError(tp, epoch, cur === 'none' ? null : Number(cur));
      }
      if (msg.startsWith('CEPLOST ') && tp) {
        const [stored, since] = msg.split(' ').slice(1);
        throw new CheckpointLostError(tp, since, stored === 'none' ? null : stored);
      }
      if (msg.startsWith('CEPOUTBOXFULL ') && tp) {
        const [size, fresh] = msg.split(' ').slice(1).map(Number);
        throw outboxFull(tp, size, fresh, this.limits.maxOutbox);
      }
      if (!TRANSIENT_REPLY.test(msg)) throw err;
    }
    const cause = err instanceof Error ? err : new Error(String(err));
    this.options.onUnavailable?.(cause);
    throw new CheckpointUnavailableError(`redis unavailable during ${what}${tp ? ` of ${partitionName(tp)}` : ''}: ${cause.message}`, { cause });
  }

  private async run(script: LuaScript, keys: string[], args: Array<string | number>, what: string, tp?: TopicPartition, epoch?: number) {
    try {
      return await script.run(this.client, keys, args);
    } catch (err) {
      this.fail(err, what, tp, epoch);
    }
  }

  private async call<T>(what: string, tp: TopicPartition | undefined, f: () => Promise<T>): Promise<T> {
    try {
      return await f();
    } catch (err) {
      this.fail(err, what, tp);
    }
  }

  async load(tp: TopicPartition): Promise<LoadedPartition> {
    checkTopicPartition(tp);
    const k = this.keys;
    const [epoch, header, members, outboxSize] = (await this.run(CLAIM, [k.meta(tp), k.versions(tp), k.outbox(tp)], [], 'load', tp)) as [
      number,
      [string | null, string | null, string | null],
      string[],
      number,
    ];
    const [offset, clock, stream] = header;
    const state =
      offset === null
        ? null
        : {
            clock: clock === null || clock === '' ? null : Number(clock),
            stream: stream === null ? null : (JSON.parse(stream) as unknown),
            keyPages: () => this.scanKeys(tp, members),
          };
    return { epoch: Number(epoch), nextOffset: offset, state, outboxSize: Number(outboxSize) };
  }

  /**
   * The stored keys of `members` (rule versions), one HSCAN reply per page: only one page of snapshots is
   * parsed at a time. Later commits of this partition are fenced by the load, so reading the hashes one by one
   * is consistent. No set of the fields seen is kept (it would grow with the partition): HSCAN returns a field
   * twice only when the hash shrank during the scan, which takes deletions, and the fence stops those. Were a
   * field returned twice anyway (fields deleted by hand), restoring it again gives the same state; only the
   * gauge of evicted partial matches would count that key twice until it is reloaded.
   */
  private async *scanKeys(tp: TopicPartition, members: readonly string[]): AsyncGenerator<StoredKey[]> {
    const k = this.keys;
    for (const member of [...members].sort()) {
      const { rule, version } = k.parseMember(member);
      const hash = k.state(tp, rule, version);
      let cursor = '0';
      do {
        const [next, flat] = await this.call('load', tp, () => this.client.hscan(hash, cursor, 'COUNT', this.scanCount));
        const page: StoredKey[] = [];
        for (let i = 0; i < flat.length; i += 2) page.push({ rule, version, key: keyOfField(flat[i]), snapshot: decodeSnapshot(flat[i + 1]) });
        if (page.length > 0) yield page;
        cursor = next;
      } while (cursor !== '0');
    }
  }

  async loadKeys(tp: TopicPartition, rule: string, version: number, keys: ReadonlyArray<string | null>): Promise<Array<KeySnapshot | null>> {
    checkTopicPartition(tp);
    if (keys.length === 0) return [];
    const values = await this.call('loadKeys', tp, () => this.client.hmget(this.keys.state(tp, rule, version), ...keys.map(fieldOfKey)));
    return values.map((v) => (v === null ? null : decodeSnapshot(v)));
  }

  async commit(tp: TopicPartition, c: CheckpointCommit): Promise<void> {
    checkTopicPartition(tp);
    const enc = encodeCommit(c, this.limits);
    const k = this.keys;

    // One operation per state hash: drop it whole, set fields, delete fields (in that order, like the memory store).
    interface Op {
      member: string;
      drop: boolean;
      set: string[];
      del: string[];
    }
    const ops = new Map<string, Op>();
    const op = (rule: string, version: number): Op => {
      const key = k.state(tp, rule, version);
      let o = ops.get(key);
      if (!o) ops.set(key, (o = { member: k.member(rule, version), drop: false, set: [], del: [] }));
      return o;
    };
    for (const d of c.dropVersions ?? []) op(d.rule, d.version).drop = true;
    for (const ch of enc.changed) op(ch.rule, ch.version).set.push(fieldOfKey(ch.key), encodeSnapshot(ch.json));
    for (const d of c.deleted) op(d.rule, d.version).del.push(fieldOfKey(d.key));

    const keys = [...k.partitionKeys(tp), ...ops.keys()];
    const args: Array<string | number> = [
      c.epoch,
      c.nextOffset,
      c.clock === null ? '' : c.clock,
      enc.streamJson === undefined ? '0' : '1',
      enc.streamJson ?? '',
      this.limits.maxOutbox,
      Date.now(),
      c.since ?? '',
    ];
    for (const o of ops.values()) {
      args.push(o.member, o.drop ? '1' : '0', o.set.length / 2, o.del.length);
      for (const v of o.set) args.push(v);
      for (const v of o.del) args.push(v);
    }
    args.push(enc.alerts.length);
    for (const a of enc.alerts) args.push(a.id, a.json);
    await this.run(COMMIT, keys, args, 'commit', tp, c.epoch);
  }

  async pendingAlerts(tp: TopicPartition, limit: number): Promise<Alert[]> {
    checkTopicPartition(tp);
    if (limit <= 0) return [];
    const flat = (await this.run(PENDING, [this.keys.outbox(tp), this.keys.alerts(tp)], [Math.floor(limit)], 'pendingAlerts', tp)) as string[];
    const out: Alert[] = [];
    for (let i = 0; i < flat.length; i += 2) out.push(JSON.parse(flat[i + 1]) as Alert);
    return out;
  }

  async ackAlerts(tp: TopicPartition, ids: readonly string[]): Promise<number> {
    checkTopicPartition(tp);
    if (ids.length === 0) return 0;
    return Number(await this.run(ACK, [this.keys.outbox(tp), this.keys.alerts(tp)], [...ids], 'ackAlerts', tp));
  }

  async outboxSize(tp: TopicPartition): Promise<number> {
    checkTopicPartition(tp);
    return this.call('outboxSize', tp, () => this.client.zcard(this.keys.outbox(tp)));
  }

  async storedPartitions(): Promise<StoredPartition[]> {
    const nodes = this.client instanceof Cluster ? this.client.nodes('master') : [this.client];
    const metas = new Set<string>();
    for (const node of nodes) {
      let cursor = '0';
      do {
        const [next, keys] = await this.call('storedPartitions', undefined, () => node.scan(cursor, 'MATCH', this.keys.metaPattern(), 'COUNT', 1000));
        for (const key of keys) metas.add(key);
        cursor = next;
      } while (cursor !== '0');
    }
    // One HGET per partition, all in flight at once (the keys are on different Cluster slots: no pipeline).
    const found = [...metas].flatMap((key) => {
      const tp = this.keys.parseMeta(key);
      return tp ? [{ key, tp }] : [];
    });
    return Promise.all(
      found.map(async ({ key, tp }) => {
        const at = await this.call('storedPartitions', tp, () => this.client.hget(key, 'at'));
        return { tp, lastCommitAt: at === null || at === '' ? null : Number(at) };
      }),
    );
  }

  async dropPartition(tp: TopicPartition, epoch: number): Promise<DropPartitionResult> {
    checkTopicPartition(tp);
    const k = this.keys;
    // The versions set is read first (a script may only touch the keys it is given); the script refuses when it
    // changed meanwhile, which only a commit of the same epoch can do.
    for (let attempt = 1; ; attempt++) {
      const members = await this.call('dropPartition', tp, () => this.client.smembers(k.versions(tp)));
      const states = members.map((m) => {
        const { rule, version } = k.parseMember(m);
        return k.state(tp, rule, version);
      });
      const result = String(await this.run(DROP_PARTITION, [...k.partitionKeys(tp), ...states], [epoch, ...members], 'dropPartition', tp));
      if (result !== 'changed') return result as DropPartitionResult;
      if (attempt === 5) throw new Error(`the rule versions of ${partitionName(tp)} keep changing under epoch ${epoch}`);
    }
  }

  async ping(): Promise<void> {
    await this.call('ping', undefined, () => this.client.ping());
  }

  /** The store does not own the client (the availability guard and others share it); close it separately. */
  async close(): Promise<void> {}
}
