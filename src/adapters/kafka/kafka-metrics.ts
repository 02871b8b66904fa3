/**
 * What Kafka mode reports, and its Prometheus implementation on the service's registry.
 *
 * Shared with embedded mode: cep_events_received_total{source} (source = the source topic; records read back
 * from repartition topics are not counted again), cep_events_rejected_total{reason}, cep_events_late_total,
 * cep_rule_matches_total, cep_alerts_produced_total, cep_event_processing_duration_seconds.
 * Kafka only: cep_kafka_consumer_lag{topic,partition}, cep_dependency_up{dependency="kafka"},
 * cep_kafka_batch_records, cep_kafka_dead_letters_total{reason}, cep_kafka_repartitioned_total{topic}.
 * With REDIS_URL (state checkpoints, eviction of cold keys): cep_state_resident_keys{topic,partition},
 * cep_state_dormant_keys{topic,partition},
 * cep_state_evictions_total, cep_state_reloads_total{result}.
 */
import type { Counter, Gauge, Histogram } from 'prom-client';
import { registeredMetrics } from '../metrics/registered-metrics';
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
  /** Keys (live and ended, partitioned rules) a partition's engine holds in memory; null: none (dropped). */
  residentKeys(topic: string, partition: number, count: number | null): void;
  /** Of the evicted keys, those with a pending timer (reloaded as it comes due); null: none (dropped). */
  dormantKeys(topic: string, partition: number, count: number | null): void;
  /** Keys evicted from memory (their state stays in Redis). */
  keysEvicted(count: number): void;
  /**
   * Keys looked up in Redis: restored for a batch's events, absent (new keys), timer (evicted with a timer that
   * came due: restored so it fires on time), lost (such a key whose state Redis no longer had).
   */
  keysReloaded(r: { restored: number; absent: number; timer: number; lost: number }): void;
}

/** Records per consumed batch. */
export const BATCH_RECORD_BUCKETS = [1, 5, 10, 50, 100, 500, 1000, 5000, 10000];

export class PrometheusKafkaMetrics implements KafkaMetrics {
  private readonly batchRecords: Histogram;
  private readonly dead: Counter<'reason'>;
  private readonly repart: Counter<'topic'>;
  private readonly resident: Gauge<'topic' | 'partition'>;
  private readonly dormant: Gauge<'topic' | 'partition'>;
  private readonly evictions: Counter;
  private readonly reloads: Counter<'result'>;

  constructor(private readonly m: PrometheusMetrics) {
    const { counter, gauge, histogram } = registeredMetrics(m.registry);
    this.batchRecords = histogram('cep_kafka_batch_records', 'Records per consumed Kafka batch.', BATCH_RECORD_BUCKETS);
    this.dead = counter('cep_kafka_dead_letters_total', 'Records produced to the dead-letter topic, by reason (the rejection reasons, and late).', ['reason']);
    this.repart = counter('cep_kafka_repartitioned_total', 'Events re-produced to an internal repartition topic, by that topic.', ['topic']);
    this.resident = gauge(
      'cep_state_resident_keys',
      "Keys (live and ended, partitioned rules) a partition's engine holds in memory, after its last checkpoint and eviction (REDIS_URL).",
      ['topic', 'partition'],
    );
    this.dormant = gauge(
      'cep_state_dormant_keys',
      "Keys a partition evicted with a time still to come, about 200 B of heap each: a pending timer (the key is reloaded as it comes due) or the deadline that ends a sequence key's runs (it is deleted from Redis then) (REDIS_URL).",
      ['topic', 'partition'],
    );
    this.evictions = counter('cep_state_evictions_total', 'Keys evicted from memory after a checkpoint (their state stays in Redis).');
    this.reloads = counter(
      'cep_state_reloads_total',
      'Keys not in memory looked up in Redis, by result: restored (evicted earlier, wanted by a batch), absent (a new key), timer (evicted with a timer that came due), lost (evicted with a timer, gone from Redis).',
      ['result'],
    );
    this.dead.inc({ reason: 'late' }, 0);
    this.evictions.inc(0);
    for (const result of ['restored', 'absent', 'timer', 'lost']) this.reloads.inc({ result }, 0);
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
  residentKeys(topic: string, partition: number, count: number | null): void {
    if (count === null) this.resident.remove({ topic, partition: String(partition) });
    else this.resident.set({ topic, partition: String(partition) }, count);
  }
  dormantKeys(topic: string, partition: number, count: number | null): void {
    if (count === null) this.dormant.remove({ topic, partition: String(partition) });
    else this.dormant.set({ topic, partition: String(partition) }, count);
  }
  keysEvicted(count: number): void {
    if (count > 0) this.evictions.inc(count);
  }
  keysReloaded(r: { restored: number; absent: number; timer: number; lost: number }): void {
    for (const result of ['restored', 'absent', 'timer', 'lost'] as const) if (r[result] > 0) this.reloads.inc({ result }, r[result]);
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
  residentKeys(_topic: string, _partition: number, _count: number | null): void {}
  dormantKeys(_topic: string, _partition: number, _count: number | null): void {}
  keysEvicted(_count: number): void {}
  keysReloaded(_r: { restored: number; absent: number; timer: number; lost: number }): void {}
}
