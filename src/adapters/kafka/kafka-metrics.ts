/**
 * What Kafka mode reports, and its Prometheus implementation on the service's registry.
 *
 * Shared with embedded mode: cep_events_received_total{source} (source = the source topic; records read back
 * from repartition topics are not counted again), cep_events_rejected_total{reason}, cep_events_late_total,
 * cep_rule_matches_total, cep_alerts_produced_total, cep_event_processing_duration_seconds.
 * Kafka only: cep_kafka_consumer_lag{topic,partition}, cep_dependency_up{dependency="kafka"},
 * cep_kafka_batch_records, cep_kafka_dead_letters_total{reason}, cep_kafka_repartitioned_total{topic}.
 */
import { Counter, Histogram } from 'prom-client';
import type { RejectReason } from '../../core/ports/event-batch';
import type { DeadLetterReason, StreamRejectReason } from '../../core/stream/classify';
import type { PrometheusMetrics } from '../metrics/prometheus-metrics';

export interface KafkaMetrics {
  received(source: string, count: number): void;
  rejected(counts: ReadonlyMap<StreamRejectReason | 'processing_error', number>): void;
  late(source: string, count: number): void;
  deadLetters(counts: ReadonlyMap<DeadLetterReason, number>): void;
  repartitioned(topic: string, count: number): void;
  ruleMatches(counts: ReadonlyMap<string, { severity: string; count: number }>): void;
  alertsProduced(count: number): void;
  /** One consumed batch: its records and the processing time (engine and effects). */
  batch(records: number, seconds: number): void;
  lag(topic: string, partition: number, lag: number): void;
  clearLag(topic: string, partition: number): void;
  kafkaUp(up: boolean): void;
}

/** Records per consumed batch. */
export const BATCH_RECORD_BUCKETS = [1, 5, 10, 50, 100, 500, 1000, 5000, 10000];

export class PrometheusKafkaMetrics implements KafkaMetrics {
  private readonly batchRecords: Histogram;
  private readonly dead: Counter<'reason'>;
  private readonly repart: Counter<'topic'>;

  constructor(private readonly m: PrometheusMetrics) {
    const registers = [m.registry];
    const existing = <T>(name: string) => m.registry.getSingleMetric(name) as T | undefined;
    this.batchRecords =
      existing<Histogram>('cep_kafka_batch_records') ??
      new Histogram({ name: 'cep_kafka_batch_records', help: 'Records per consumed Kafka batch.', buckets: BATCH_RECORD_BUCKETS, registers });
    this.dead =
      existing<Counter<'reason'>>('cep_kafka_dead_letters_total') ??
      new Counter({
        name: 'cep_kafka_dead_letters_total',
        help: 'Records produced to the dead-letter topic, by reason (the rejection reasons, and late).',
        labelNames: ['reason'],
        registers,
      });
    this.repart =
      existing<Counter<'topic'>>('cep_kafka_repartitioned_total') ??
      new Counter({
        name: 'cep_kafka_repartitioned_total',
        help: 'Events re-produced to an internal repartition topic, by that topic.',
        labelNames: ['topic'],
        registers,
      });
    this.dead.inc({ reason: 'late' }, 0);
    // Series of Kafka mode that exist from the start, at 0.
    const rejected = m.registry.getSingleMetric('cep_events_rejected_total') as Counter<'reason'> | undefined;
    for (const reason of ['oversize', 'missing_key']) rejected?.inc({ reason }, 0);
    m.dependencyUp.set({ dependency: 'kafka' }, 0);
  }

  received(source: string, count: number): void {
    this.m.eventsReceived(source, count);
  }
  rejected(counts: ReadonlyMap<StreamRejectReason | 'processing_error', number>): void {
    this.m.eventsRejected(counts as ReadonlyMap<RejectReason, number>);
  }
  late(source: string, count: number): void {
    this.m.eventsLate(source, count);
  }
  deadLetters(counts: ReadonlyMap<DeadLetterReason, number>): void {
    for (const [reason, n] of counts) if (n > 0) this.dead.inc({ reason }, n);
  }
  repartitioned(topic: string, count: number): void {
    if (count > 0) this.repart.inc({ topic }, count);
  }
  ruleMatches(counts: ReadonlyMap<string, { severity: string; count: number }>): void {
    this.m.ruleMatches(counts);
  }
  alertsProduced(count: number): void {
    this.m.alertsProduced(count);
  }
  batch(records: number, seconds: number): void {
    this.batchRecords.observe(records);
    this.m.batchProcessed(seconds);
  }
  lag(topic: string, partition: number, lag: number): void {
    this.m.kafkaConsumerLag.set({ topic, partition: String(partition) }, Math.max(0, lag));
  }
  clearLag(topic: string, partition: number): void {
    this.m.kafkaConsumerLag.remove({ topic, partition: String(partition) });
  }
  kafkaUp(up: boolean): void {
    this.m.dependencyUp.set({ dependency: 'kafka' }, up ? 1 : 0);
  }
}

/** Does nothing: for tests and embedding. */
export class NoKafkaMetrics implements KafkaMetrics {
  received(_source: string, _count: number): void {}
  rejected(_counts: ReadonlyMap<StreamRejectReason | 'processing_error', number>): void {}
  late(_source: string, _count: number): void {}
  deadLetters(_counts: ReadonlyMap<DeadLetterReason, number>): void {}
  repartitioned(_topic: string, _count: number): void {}
  ruleMatches(_counts: ReadonlyMap<string, { severity: string; count: number }>): void {}
  alertsProduced(_count: number): void {}
  batch(_records: number, _seconds: number): void {}
  lag(_topic: string, _partition: number, _lag: number): void {}
  clearLag(_topic: string, _partition: number): void {}
  kafkaUp(_up: boolean): void {}
}
