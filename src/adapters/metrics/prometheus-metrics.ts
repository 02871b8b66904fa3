/**
 * The service's Prometheus metrics (prom-client), on a registry of its own so that several service instances
 * (the e2e tests) can live in one process. The application reports per batch through the ServiceMetrics
 * port; engine gauges are read from the engine when metrics are scraped.
 *
 * No label carries an event's partition key: labels are rule ids, severities, reasons, sources, topics.
 */
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { RejectReason } from '../../core/ports/event-batch';
import type { EngineGaugeSource, ReloadResult, ServiceMetrics } from '../../core/ports/metrics';

export const REJECT_REASONS: readonly RejectReason[] = [
  'invalid_json',
  'too_deep',
  'not_an_object',
  'missing_type',
  'missing_time',
  'future_time',
  'processing_error',
];

/** Seconds; from 50 µs (a small batch) to 10 s (a very large one). */
export const BATCH_DURATION_BUCKETS = [0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

const NON_COUNTER_TOTALS = ['nodejs_active_handles_total', 'nodejs_active_requests_total', 'nodejs_active_resources_total'];

/**
 * Brings a counter's series up to a total the source keeps (monotonic, see EngineGaugeSource): adds what is
 * new since the last scrape. `seen`: the totals reached so far, by label values.
 */
function raiseTo(counter: Counter<string>, seen: Map<string, number>, labels: Record<string, string>, total: number): void {
  const id = Object.values(labels).join('\u0000');
  const prev = seen.get(id) ?? 0;
  if (total > prev) {
    counter.inc(labels, total - prev);
    seen.set(id, total);
  }
}

export class PrometheusMetrics implements ServiceMetrics {
  readonly registry = new Registry();
  private engine: EngineGaugeSource | undefined;

  private readonly received: Counter<'source'>;
  private readonly rejected: Counter<'reason'>;
  private readonly late: Counter<'source'>;
  private readonly matches: Counter<'rule' | 'severity'>;
  private readonly alerts: Counter;
  private readonly duration: Histogram;
  private readonly loaded: Gauge;
  private readonly reloads: Counter<'result'>;
  readonly kafkaConsumerLag: Gauge<'topic' | 'partition'>;
  readonly dependencyUp: Gauge<'dependency'>;

  constructor(options: { defaultMetrics?: boolean; sources?: string[] } = {}) {
    const registers = [this.registry];
    this.received = new Counter({
      name: 'cep_events_received_total',
      help: 'Events received, accepted or rejected, by source (http, or the Kafka topic).',
      labelNames: ['source'],
      registers,
    });
    this.rejected = new Counter({
      name: 'cep_events_rejected_total',
      help: 'Events rejected, by reason: invalid_json, too_deep, not_an_object, missing_type, missing_time, future_time, processing_error (Kafka mode also oversize, missing_key).',
      labelNames: ['reason'],
      registers,
    });
    this.late = new Counter({
      name: 'cep_events_late_total',
      help: "Events older than the engine's clock when they arrived (processed at the clock's time), by source.",
      labelNames: ['source'],
      registers,
    });
    this.matches = new Counter({
      name: 'cep_rule_matches_total',
      help: 'Completed pattern matches, by rule and severity.',
      labelNames: ['rule', 'severity'],
      registers,
    });
    this.alerts = new Counter({
      name: 'cep_alerts_produced_total',
      help: 'Alerts published to the alert sinks.',
      registers,
    });
    const self = this;
    /** A gauge per rule, read from the engine source at each scrape. */
    const ruleGauge = (name: string, help: string, read: (source: EngineGaugeSource) => Map<string, number>) =>
      new Gauge({
        name,
        help,
        labelNames: ['rule'],
        registers,
        collect() {
          this.reset();
          const source = self.engine;
          if (!source) return;
          for (const [rule, n] of read(source)) this.set({ rule }, n);
        },
      });
    ruleGauge('cep_partial_matches', 'Partial matches currently open, by rule.', (source) => source.partialMatches());
    ruleGauge(
      'cep_keys_in_memory',
      'Keys (instances of a partitioned rule, live or ended) held in memory, by rule. Keys holding only what a new key would are freed in sweeps (cep_keys_freed_total); with REDIS_URL cold keys are evicted too, and without it keys with state stay.',
      (source) => source.keysInMemory(),
    );
    const dropsSeen = new Map<string, number>();
    const freedSeen = new Map<string, number>();
    new Counter({
      name: 'cep_partial_matches_dropped_total',
      help: 'Partial matches dropped, by rule and reason (max_partial_matches_per_key: MAX_PARTIAL_MATCHES_PER_KEY reached; checkpoint_size_limit: a key over CHECKPOINT_MAX_SNAPSHOT_BYTES; timer_catch_up_limit: a key reset past TIMER_CATCH_UP_LIMIT or TIMER_MOVE_LIMIT timer firings).',
      labelNames: ['rule', 'reason'],
      registers,
      collect() {
        const source = self.engine;
        if (!source) return;
        for (const [rule, byReason] of source.droppedPartialMatches()) for (const [reason, total] of byReason) raiseTo(this, dropsSeen, { rule, reason }, total);
      },
    });
    new Counter({
      name: 'cep_keys_freed_total',
      help: "Keys freed because they held only what a new key would (no match can tell them from a new key), by rule: in sweeps, and with REDIS_URL when evicted (their stored state is deleted too).",
      labelNames: ['rule'],
      registers,
      collect() {
        const source = self.engine;
        if (!source) return;
        for (const [rule, total] of source.keysFreed()) raiseTo(this, freedSeen, { rule }, total);
      },
    });
    this.duration = new Histogram({
      name: 'cep_event_processing_duration_seconds',
      help: 'Time the engine took to process one batch of events (one POST /events, later one Kafka batch).',
      buckets: BATCH_DURATION_BUCKETS,
      registers,
    });
    this.loaded = new Gauge({
      name: 'cep_rules_loaded',
      help: 'Rules running in the engine (enabled rules from files and REST).',
      registers,
    });
    this.reloads = new Counter({
      name: 'cep_rule_reloads_total',
      help: 'Reloads of the rule files, by result (success, failure: the previous rules keep running).',
      labelNames: ['result'],
      registers,
    });
    this.kafkaConsumerLag = new Gauge({
      name: 'cep_kafka_consumer_lag',
      help: 'Records behind the end of each assigned partition (Kafka mode; absent in embedded mode).',
      labelNames: ['topic', 'partition'],
      registers,
    });
    this.dependencyUp = new Gauge({
      name: 'cep_dependency_up',
      help: 'Whether a dependency (kafka, redis) is reachable: 1 or 0 (absent in embedded mode).',
      labelNames: ['dependency'],
      registers,
    });

    // Series that should exist from the start, at 0.
    for (const source of options.sources ?? ['http']) {
      this.received.inc({ source }, 0);
      this.late.inc({ source }, 0);
    }
    for (const reason of REJECT_REASONS) this.rejected.inc({ reason }, 0);
    this.reloads.inc({ result: 'success' }, 0);
    this.reloads.inc({ result: 'failure' }, 0);
    this.alerts.inc(0);

    if (options.defaultMetrics ?? true) {
      collectDefaultMetrics({ register: this.registry });
      // prom-client also exports these sums as gauges named *_total, which promtool rejects (a gauge must not
      // end in _total); the same numbers stay available per type in nodejs_active_handles{type} etc.
      for (const name of NON_COUNTER_TOTALS) this.registry.removeSingleMetric(name);
    }
  }

  setEngineSource(source: EngineGaugeSource): void {
    this.engine = source;
  }

  eventsReceived(source: string, count: number): void {
    if (count > 0) this.received.inc({ source }, count);
  }

  eventsRejected(counts: ReadonlyMap<RejectReason, number>): void {
    for (const [reason, n] of counts) if (n > 0) this.rejected.inc({ reason }, n);
  }

  eventsLate(source: string, count: number): void {
    if (count > 0) this.late.inc({ source }, count);
  }

  ruleMatches(counts: ReadonlyMap<string, { severity: string; count: number }>): void {
    for (const [rule, { severity, count }] of counts) this.matches.inc({ rule, severity }, count);
  }

  alertsProduced(count: number): void {
    if (count > 0) this.alerts.inc(count);
  }

  batchProcessed(seconds: number): void {
    this.duration.observe(seconds);
  }

  rulesLoaded(count: number): void {
    this.loaded.set(count);
  }

  ruleReload(result: ReloadResult): void {
    this.reloads.inc({ result });
  }

  /** The text exposition format, for GET /metrics. */
  async text(): Promise<string> {
    return this.registry.metrics();
  }

  get contentType(): string {
    return this.registry.contentType;
  }
}
