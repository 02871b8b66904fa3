/**
 * Moves one partition's alerts from the checkpoint store's outbox to Kafka: read the oldest pending alerts,
 * hand them to `publish` (the Kafka side's idempotent producer send), and ack them in the store only after
 * `publish` resolved. A crash between publish and ack re-sends those alerts on the next start, with the same
 * ids (at-least-once; consumers de-duplicate by id). Failures back off exponentially and retry; nothing is
 * dropped. The relay works with any CheckpointStore and knows nothing of kafkajs.
 *
 * Lifecycle: `start()` on partition assignment (after `load`), `notify()` after each commit that added alerts
 * (otherwise it polls every `idleMs`), `stop()` on revocation or shutdown: it lets the publish in flight
 * finish and ack, then ends. `drain()` waits until the outbox is empty (graceful shutdown).
 */
import type { Alert } from '../../core/ports/alert';
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
  readonly stats: OutboxRelayStats = { published: 0, acked: 0, failures: 0, consecutiveFailures: 0, lastError: undefined };
  private readonly batchSize: number;
  private readonly idleMs: number;
  private readonly initialBackoffMs: number;
  private readonly maxBackoffMs: number;

  constructor(private readonly o: OutboxRelayOptions) {
    this.batchSize = o.batchSize ?? 500;
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
    this.loop = this.run();
    return this;
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
      let alerts: Alert[];
      try {
        alerts = await store.pendingAlerts(partition, this.batchSize);
      } catch (err) {
        await this.sleep(this.failed(err, 'read'));
        continue;
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
      this.stats.consecutiveFailures = 0;
      try {
        this.o.onPublished?.(alerts, partition);
      } catch {
        // Ignore hook failures.
      }
    }
    this.wake = undefined;
  }

  /** Whether the last read found the outbox empty. */
  get idle(): boolean {
    return this.empty;
  }
}
