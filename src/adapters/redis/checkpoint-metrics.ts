/**
 * What checkpointing reports (REDIS_URL set), on the service's Prometheus registry:
 *
 * - cep_checkpoint_commits_total{result}: checkpoint writes by outcome — ok, unavailable (Redis away: the
 *   partition pauses), fenced (another replica took the partition), lost (Redis holds an older checkpoint than
 *   it acknowledged: the partition reloads), limit (a size bound refused it), error;
 * - cep_checkpoint_commit_duration_seconds: time of one checkpoint write (the Lua script's round trip);
 * - cep_checkpoint_shed_total{kind,rule}: state or alerts cut so a refused checkpoint fits — `snapshot`: a key
 *   whose state outgrew the snapshot bound lost its oldest partial matches (or all of them); `alert`: an alert
 *   was stored without its events;
 * - cep_checkpoint_stream_released_total: buffered events processed before the watermark reached them, because
 *   the reorder buffer outgrew the stream-state bound of a checkpoint;
 * - cep_outbox_alerts_published_total: alerts the outbox relay sent and Kafka acknowledged;
 * - cep_outbox_relay_failures_total{stage}: relay failures (read, publish, ack), each retried;
 * - cep_orphaned_partitions_dropped_total: checkpoints of partitions nobody reads any more, removed after their
 *   alerts were published (STATE_ORPHAN_AFTER).
 */
import type { Counter, Histogram, Registry } from 'prom-client';
import { registeredMetrics } from '../metrics/registered-metrics';

export type CommitResult = 'ok' | 'unavailable' | 'fenced' | 'lost' | 'limit' | 'error';

export interface CheckpointMetrics {
  commit(result: CommitResult, seconds: number): void;
  shed(kind: 'snapshot' | 'alert', rule: string): void;
  streamReleased(events: number): void;
  relayPublished(count: number): void;
  relayFailed(stage: 'read' | 'publish' | 'ack'): void;
  orphansDropped(count: number): void;
}

const COMMIT_SECONDS_BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5];

export class PrometheusCheckpointMetrics implements CheckpointMetrics {
  private readonly commits: Counter<'result'>;
  private readonly commitSeconds: Histogram;
  private readonly sheds: Counter<'kind' | 'rule'>;
  private readonly released: Counter;
  private readonly published: Counter;
  private readonly relayFailures: Counter<'stage'>;
  private readonly orphans: Counter;

  constructor(registry: Registry) {
    const { counter, histogram } = registeredMetrics(registry);
    this.commits = counter('cep_checkpoint_commits_total', 'Checkpoint writes to Redis, by result.', ['result']);
    this.commitSeconds = histogram('cep_checkpoint_commit_duration_seconds', 'Time of one checkpoint write.', COMMIT_SECONDS_BUCKETS);
    this.sheds = counter(
      'cep_checkpoint_shed_total',
      'Key states trimmed or reset (snapshot) or alerts stored without their events (alert) because a checkpoint exceeded a size bound.',
      ['kind', 'rule'],
    );
    this.released = counter(
      'cep_checkpoint_stream_released_total',
      'Buffered events processed before the watermark reached them because the reorder buffer outgrew the checkpoint bound.',
    );
    this.published = counter('cep_outbox_alerts_published_total', 'Alerts the outbox relay published and Kafka acknowledged.');
    this.relayFailures = counter('cep_outbox_relay_failures_total', 'Outbox relay failures by stage (each is retried).', ['stage']);
    this.orphans = counter('cep_orphaned_partitions_dropped_total', 'Checkpoints of partitions no rule reads any more, removed after their alerts were published.');
    for (const result of ['ok', 'unavailable', 'fenced', 'lost', 'limit', 'error']) this.commits.inc({ result }, 0);
    for (const stage of ['read', 'publish', 'ack']) this.relayFailures.inc({ stage }, 0);
  }

  commit(result: CommitResult, seconds: number): void {
    this.commits.inc({ result });
    this.commitSeconds.observe(seconds);
  }
  shed(kind: 'snapshot' | 'alert', rule: string): void {
    this.sheds.inc({ kind, rule });
  }
  streamReleased(events: number): void {
    if (events > 0) this.released.inc(events);
  }
  relayPublished(count: number): void {
    if (count > 0) this.published.inc(count);
  }
  relayFailed(stage: 'read' | 'publish' | 'ack'): void {
    this.relayFailures.inc({ stage });
  }
  orphansDropped(count: number): void {
    if (count > 0) this.orphans.inc(count);
  }
}
