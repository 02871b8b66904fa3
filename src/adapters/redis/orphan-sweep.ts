/**
 * Removes the checkpoints of partitions nobody reads any more (STATE_ORPHAN_AFTER).
 *
 * A partition's checkpoint normally changes only through its owner: rule versions its engine stopped running
 * leave with the owner's next commit. A topic that left the rules (a rule removed, or moved to another stream
 * by `keyedBy`) has no owner any more, so its checkpoint, its rule versions' keys and any alerts still in its
 * outbox would stay in Redis forever, and those alerts would never be published.
 *
 * A stored partition is an orphan when this replica does not read its topic, no member of the consumer group
 * has it assigned (the group is stable, so the assignment is complete), and its last commit is older than
 * `afterMs` (a rollback within that time finds its state). Then the sweep takes it like a new owner (`load`
 * fences any earlier owner still running), checks the assignment again (a member that got it between the two
 * looks keeps it: the fence only makes that member reload), publishes the alerts left in its outbox, and
 * removes the partition with `dropPartition`, which refuses when another load took it meanwhile.
 */
import type { Alert } from '../../core/ports/alert';
import { partitionName, type CheckpointStore, type TopicPartition } from '../../core/ports/checkpoint-store';
import { OutboxRelay } from './outbox-relay';

export interface OrphanSweepOptions {
  store: CheckpointStore;
  /**
   * The partitions (`topic/partition`) assigned to members of the consumer group, or null when that is not
   * known now (the group is rebalancing, or Kafka did not answer): the sweep then decides nothing.
   */
  assigned: () => Promise<ReadonlySet<string> | null>;
  /** The topics this replica reads now. */
  reading: () => ReadonlySet<string>;
  /** Publishes an orphan's pending alerts (the Kafka side's idempotent producer); resolves once acknowledged. */
  publish: (alerts: Alert[], tp: TopicPartition) => Promise<void>;
  /** How long after its last commit an unread partition is removed. */
  afterMs: number;
  /** Most time spent publishing one orphan's outbox per sweep (default 10 s; the rest waits for the next). */
  drainTimeoutMs?: number;
  now?: () => number;
  /** Whether the service is stopping: the sweep ends before the next partition. */
  stopped?: () => boolean;
  onPublished?: (alerts: readonly Alert[], tp: TopicPartition) => void;
}

export interface OrphanSweepReport {
  /** Partitions removed. */
  dropped: TopicPartition[];
  /** Orphans left for a later sweep, and why. */
  kept: Array<{ tp: TopicPartition; reason: 'assigned' | 'outbox' | 'fenced' | 'unknown_assignment' | 'error'; error?: unknown }>;
  /** Alerts published from orphans' outboxes. */
  published: number;
}

const keyOf = (tp: TopicPartition) => `${tp.topic}/${tp.partition}`;

export class OrphanSweep {
  constructor(private readonly o: OrphanSweepOptions) {}

  async run(): Promise<OrphanSweepReport> {
    const report: OrphanSweepReport = { dropped: [], kept: [], published: 0 };
    const now = (this.o.now ?? Date.now)();
    const reading = this.o.reading();
    const candidates = (await this.o.store.storedPartitions()).filter(
      (p) => !reading.has(p.tp.topic) && (p.lastCommitAt === null || now - p.lastCommitAt >= this.o.afterMs),
    );
    if (candidates.length === 0) return report;
    const assigned = await this.o.assigned();
    if (assigned === null) {
      for (const c of candidates) report.kept.push({ tp: c.tp, reason: 'unknown_assignment' });
      return report;
    }
    for (const { tp } of candidates) {
      if (this.o.stopped?.()) break;
      if (assigned.has(keyOf(tp))) {
        report.kept.push({ tp, reason: 'assigned' });
        continue;
      }
      try {
        await this.sweep(tp, report);
      } catch (error) {
        report.kept.push({ tp, reason: 'error', error });
      }
    }
    return report;
  }

  private async sweep(tp: TopicPartition, report: OrphanSweepReport): Promise<void> {
    const taken = await this.o.store.load(tp);
    const assigned = await this.o.assigned();
    if (assigned === null || assigned.has(keyOf(tp))) {
      report.kept.push({ tp, reason: assigned === null ? 'unknown_assignment' : 'assigned' });
      return;
    }
    if (taken.outboxSize > 0) report.published += await this.publishOutbox(tp);
    const result = await this.o.store.dropPartition(tp, taken.epoch);
    if (result === 'dropped') report.dropped.push(tp);
    else report.kept.push({ tp, reason: result });
  }

  /** Publishes the outbox through a relay of its own, for at most drainTimeoutMs; returns how many went out. */
  private async publishOutbox(tp: TopicPartition): Promise<number> {
    let published = 0;
    let failure: unknown;
    const relay = new OutboxRelay({
      store: this.o.store,
      partition: tp,
      publish: (alerts) => this.o.publish(alerts, tp),
      idleMs: 50,
      maxBackoffMs: 1000,
      onPublished: (alerts) => {
        published += alerts.length;
        this.o.onPublished?.(alerts, tp);
      },
      onError: (err) => {
        failure = err;
      },
    }).start();
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<void>((resolve) => {
      timer = setTimeout(resolve, this.o.drainTimeoutMs ?? 10_000);
      timer.unref?.();
    });
    try {
      await Promise.race([relay.drain(), timeout]);
    } finally {
      clearTimeout(timer);
      await relay.stop();
    }
    if (failure !== undefined && (await this.o.store.outboxSize(tp)) > 0) {
      throw new Error(`publishing the outbox of ${partitionName(tp)} failed: ${(failure as Error)?.message ?? String(failure)}`);
    }
    return published;
  }
}
