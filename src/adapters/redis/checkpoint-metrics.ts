/**
 * What checkpointing reports (REDIS_URL set), on the service's Prometheus registry:
 *
 * - cep_checkpoint_commits_total{result}: checkpoint writes by outcome — ok, unavailable (Redis away: the
 *   partition pauses), fenced (another replica took the partition), limit (a size bound refused it), error;
 * - cep_checkpoint_commit_duration_seconds: time of one checkpoint write (the Lua script's round trip);
 * - cep_checkpoint_shed_total{kind,rule}: state or alerts cut so a refused checkpoint fits — `snapshot`: a key
 *   whose state outgrew the snapshot bound lost its oldest partial matches (or all of them); `alert`: an alert
 *   was stored without its events;
 * - cep_checkpoint_stream_released_total: buffered events processed before the watermark reached them, because
 *   the reorder buffer outgrew the stream-state bound of a checkpoint;
 * - cep_outbox_alerts_published_total: alerts the outbox relay sent and Kafka acknowledged;
 * - cep_outbox_relay_failures_total{stage}: relay failures (read, publish, ack), each retried.
 */
import { Counter, Histogram, type Registry } from 'prom-client';

export type CommitResult = 'ok' | 'unavailable' | 'fenced' | 'limit' | 'error';

export interface CheckpointMetrics {
  commit(result: CommitResult, seconds: number): void;
  shed(kind: 'snapshot' | 'alert', rule: string): void;
  streamReleased(events: number): void;
  relayPublished(count: number): void;
  relayFailed(stage: 'read' | 'publish' | 'ack'): void;
}

const COMMIT_SECONDS_BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5];

export class PrometheusCheckpointMetrics implements CheckpointMetrics {
  private readonly commits: Counter<'result'>;
  private readonly commitSeconds: Histogram;
  private readonly sheds: Counter<'kind' | 'rule'>;
  private readonly released: Counter;
  private readonly published: Counter;
  private readonly relayFailures: Counter<'stage'>;

  constructor(registry: Registry) {
    const registers = [registry];
    const existing = <T>(name: string) => registry.getSingleMetric(name) as T | undefined;
    this.commits =
      existing<Counter<'result'>>('cep_checkpoint_commits_total') ??
      new Counter({ name: 'cep_checkpoint_commits_total', help: 'Checkpoint writes to Redis, by result.', labelNames: ['result'], registers });
    this.commitSeconds =
      existing<Histogram>('cep_checkpoint_commit_duration_seconds') ??
      new Histogram({ name: 'cep_checkpoint_commit_duration_seconds', help: 'Time of one checkpoint write.', buckets: COMMIT_SECONDS_BUCKETS, registers });
    this.sheds =
      existing<Counter<'kind' | 'rule'>>('cep_checkpoint_shed_total') ??
      new Counter({
        name: 'cep_checkpoint_shed_total',
        help: 'Key states trimmed or reset (snapshot) or alerts stored without their events (alert) because a checkpoint exceeded a size bound.',
        labelNames: ['kind', 'rule'],
        registers,
      });
    this.released =
      existing<Counter>('cep_checkpoint_stream_released_total') ??
      new Counter({
        name: 'cep_checkpoint_stream_released_total',
        help: 'Buffered events processed before the watermark reached them because the reorder buffer outgrew the checkpoint bound.',
        registers,
      });
    this.published =
      existing<Counter>('cep_outbox_alerts_published_total') ??
      new Counter({ name: 'cep_outbox_alerts_published_total', help: 'Alerts the outbox relay published and Kafka acknowledged.', registers });
    this.relayFailures =
      existing<Counter<'stage'>>('cep_outbox_relay_failures_total') ??
      new Counter({ name: 'cep_outbox_relay_failures_total', help: 'Outbox relay failures by stage (each is retried).', labelNames: ['stage'], registers });
    for (const result of ['ok', 'unavailable', 'fenced', 'limit', 'error']) this.commits.inc({ result }, 0);
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
}
