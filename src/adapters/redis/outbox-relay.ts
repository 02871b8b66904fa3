/**
 * Moves one partition's alerts from the checkpoint store's outbox to Kafka: read the oldest pending alerts,
 * hand them to `publish` (the Kafka side's idempotent producer send), and ack them in the store only after
 * `publish` resolved. A crash between publish and ack re-sends those alerts on the next start, with the same
 * ids (at-least-once; consumers de-duplicate by id). Failures back off exponentially and retry; nothing is
 * dropped. The relay works with any CheckpointStore and knows nothing of kafkajs.
 *
 * Lifecycle: `start()` on partition assignment (after `load`), `committed(alerts)` after each commit that added
 * alerts (otherwise it polls every `idleMs`), `stop()` on revocation or shutdown: it lets the publish in flight
 * finish and ack, then ends. `drain()` waits until the outbox is empty (graceful shutdown).
 *
 * Reading back what this process just wrote costs a round trip and a parse per alert, so the relay also keeps
 * the alerts handed to `committed()` in memory. Once a read returned less than a batch (it saw the whole
 * outbox, and what it returned was dropped from memory), memory holds exactly the rest of the outbox, in
 * order, and the relay publishes from there; it reads the store again whenever memory is empty. A commit's
 * reply and a read's can reach the event loop in either order, so alerts the last read returned are not
 * queued again by a late `committed()`. Acks still go to the store, which stays the only truth: a crash loses
 * the memory copy, not an alert. The copy is bounded (maxInMemoryBytes); past it, the relay reads the store.
 */
import { alertJson, type Alert } from '../../core/ports/alert';
import type { CheckpointStore, TopicPartition } from '../../core/ports/checkpoint-store';

export interface OutboxRelayOptions {
  store: CheckpointStore;
  partition: TopicPartition;
  /** Publishes the alerts in order; resolves once the broker acknowledged all of them. */
  publish: (alerts: Alert[], partition: TopicPartition) => Promise<void>;
  /** Alerts per publish (default 500). */
  batchSize?: number;
  /** Poll period while the outbox is empty and nobody called notify() (default 1000 ms). */
  idleMs?: number;
  /**
   * Most alert JSON kept in memory for publishing (default 8 MiB). Past it (Kafka slow or down while commits
   * go on) the memory copy is dropped and the relay reads the store again, as after a start.
   */
  maxInMemoryBytes?: number;
  /** First retry delay (default 100 ms), doubled per consecutive failure up to maxBackoffMs (default 5000 ms). */
  initialBackoffMs?: number;
  maxBackoffMs?: number;
  /** Called on each failure (the relay retries regardless); e.g. log and count. */
  onError?: (err: unknown, stage: 'read' | 'publish' | 'ack', partition: TopicPartition) => void;
  /** Called after each acknowledged batch. */
  onPublished?: (alerts: readonly Alert[], partition: TopicPartition) => void;
}

export interface OutboxRelayStats {
  published: number;
  acked: number;
  failures: number;
  consecutiveFailures: number;
  lastError: string | undefined;
}

export class OutboxRelay {
  private running = false;
  private loop: Promise<void> | undefined;
  private wake: (() => void) | undefined;
  private pendingNotify = false;
  /** Bumped by notify()/drain(); a read that started at generation g proves the outbox empty up to g. */
  private generation = 0;
  private idleWaiters: Array<{ gen: number; resolve: () => void }> = [];
  private empty = false;
  /** Alerts committed since start() and not yet acked, in commit order (see the header). */
  private inMemory: Alert[] = [];
  private inMemoryBytes = 0;
  /** Whether `inMemory` is the whole outbox: set by a read that returned less than a batch. */
  private synced = false;
  /** Ids of the last store read: published from that read, so a late committed() must not queue them. */
  private lastRead: Set<string> | undefined;
  private lastReadAt = 0;
  readonly stats: OutboxRelayStats = { published: 0, acked: 0, failures: 0, consecutiveFailures: 0, lastError: undefined };
  private readonly batchSize: number;
  private readonly maxInMemoryBytes: number;
  private readonly idleMs: number;
  private readonly initialBackoffMs: number;
  private readonly maxBackoffMs: number;

  constructor(private readonly o: OutboxRelayOptions) {
    this.batchSize = o.batchSize ?? 500;
    this.maxInMemoryBytes = o.maxInMemoryBytes ?? 8 * 1024 * 1024;
    this.idleMs = o.idleMs ?? 1000;
    this.initialBackoffMs = o.initialBackoffMs ?? 100;
    this.maxBackoffMs = o.maxBackoffMs ?? 5000;
  }

  get partition(): TopicPartition {
    return this.o.partition;
  }

  get isRunning(): boolean {
    return this.running;
  }

  start(): this {
    if (this.running) return this;
    this.running = true;
    this.forgetMemory();
    this.lastRead = undefined;
    this.loop = this.run();
    return this;
  }

  /** These alerts were just committed to the outbox (in this order): publish them, without reading them back. */
  committed(alerts: readonly Alert[]): void {
    if (alerts.length === 0) return;
    if (this.running) {
      // A read can return a commit's alerts before its committer got here (replies race on the event loop).
      for (const a of alerts) {
        if (this.lastRead?.has(a.id)) continue;
        this.inMemory.push(a);
        this.inMemoryBytes += alertJson(a).length;
      }
      if (this.inMemoryBytes > this.maxInMemoryBytes) this.forgetMemory();
    }
    this.notify();
  }

  /** New alerts were committed: look now instead of at the next poll. */
  notify(): void {
    this.generation++;
    this.pendingNotify = true;
    this.empty = false;
    this.wake?.();
  }

  /** Stops after the batch in flight (if any) was published and acked, or abandoned after a failure. */
  async stop(): Promise<void> {
    if (!this.running) return this.loop;
    this.running = false;
    this.wake?.();
    await this.loop;
    for (const w of this.idleWaiters.splice(0)) w.resolve();
  }

  /**
   * Resolves once the relay found the outbox empty after this call (everything committed before it was
   * published and acked), or when the relay stops. Bound it with a timeout on shutdown.
   */
  drain(): Promise<void> {
    if (!this.running) return Promise.resolve();
    this.notify();
    const gen = this.generation;
    return new Promise((resolve) => this.idleWaiters.push({ gen, resolve }));
  }

  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const t = setTimeout(done, ms);
      function done() {
        clearTimeout(t);
        resolve();
      }
      this.wake = () => {
        this.wake = undefined;
        done();
      };
    });
  }

  private failed(err: unknown, stage: 'read' | 'publish' | 'ack'): number {
    this.stats.failures++;
    this.stats.consecutiveFailures++;
    this.stats.lastError = `${stage}: ${err instanceof Error ? err.message : String(err)}`;
    try {
      this.o.onError?.(err, stage, this.o.partition);
    } catch {
      // A failing error hook must not stop the relay.
    }
    const exp = Math.min(this.stats.consecutiveFailures - 1, 20);
    return Math.min(this.initialBackoffMs * 2 ** exp, this.maxBackoffMs);
  }

  private async run(): Promise<void> {
    const { store, partition } = this.o;
    while (this.running) {
      this.pendingNotify = false;
      const gen = this.generation;
      // The store is read at least every idleMs even under load: an alert whose commit reply was lost (the
      // commit went through, its committer saw an error) is only in the store.
      const fromMemory = this.synced && this.inMemory.length > 0 && Date.now() - this.lastReadAt < this.idleMs;
      let alerts: Alert[];
      if (fromMemory) {
        alerts = this.inMemory.slice(0, this.batchSize);
      } else {
        try {
          this.lastReadAt = Date.now();
          alerts = await store.pendingAlerts(partition, this.batchSize);
        } catch (err) {
          await this.sleep(this.failed(err, 'read'));
          continue;
        }
        this.forgetRead(alerts);
        // Less than a batch: the read saw the whole outbox, so memory now holds exactly what came after it.
        if (alerts.length < this.batchSize) this.synced = true;
      }
      if (alerts.length === 0) {
        this.empty = true;
        this.stats.consecutiveFailures = 0;
        const done = this.idleWaiters.filter((w) => w.gen <= gen);
        this.idleWaiters = this.idleWaiters.filter((w) => w.gen > gen);
        for (const w of done) w.resolve();
        if (!this.pendingNotify) await this.sleep(this.idleMs);
        continue;
      }
      this.empty = false;
      try {
        await this.o.publish(alerts, partition);
        this.stats.published += alerts.length;
      } catch (err) {
        // Read alerts that failed go again before anything newer: read them again (memory holds only newer).
        if (!fromMemory) this.synced = false;
        await this.sleep(this.failed(err, 'publish'));
        continue;
      }
      // Published: ack even when stop() was called meanwhile, so a clean stop leaves no duplicate behind.
      let acked = false;
      while (!acked) {
        try {
          this.stats.acked += await store.ackAlerts(
            partition,
            alerts.map((a) => a.id),
          );
          acked = true;
        } catch (err) {
          if (!this.running) break; // Stopping: the alerts stay pending and are re-sent (same ids) later.
          await this.sleep(this.failed(err, 'ack'));
        }
      }
      if (!acked) break;
      if (fromMemory && this.inMemory[0] === alerts[0]) {
        for (const a of this.inMemory.splice(0, alerts.length)) this.inMemoryBytes -= alertJson(a).length;
      }
      this.stats.consecutiveFailures = 0;
      try {
        this.o.onPublished?.(alerts, partition);
      } catch {
        // Ignore hook failures.
      }
    }
    this.wake = undefined;
  }

  /** Alerts a store read returned are published from that read: memory must not send them again. */
  private forgetRead(read: readonly Alert[]): void {
    this.lastRead = read.length === 0 ? undefined : new Set(read.map((a) => a.id));
    if (!this.lastRead || this.inMemory.length === 0) return;
    this.inMemory = this.inMemory.filter((a) => !this.lastRead!.has(a.id));
    this.inMemoryBytes = this.inMemory.reduce((n, a) => n + alertJson(a).length, 0);
  }

  /** Drops the memory copy: the store is read again until a read returns less than a batch. */
  private forgetMemory(): void {
    this.inMemory = [];
    this.inMemoryBytes = 0;
    this.synced = false;
  }

  /** Whether the last read found the outbox empty. */
  get idle(): boolean {
    return this.empty;
  }
}
