/**
 * The one path events take into the engine, whatever their source (HTTP now, Kafka batches later): run a
 * batch through the engine in order, turn the matches into alerts, publish them, count.
 *
 * A batch is processed synchronously, so batches never interleave and rule changes land between batches.
 * Rejected events are counted and never stop the others. Metrics are updated once per batch.
 */
import { Inject, Injectable } from '@nestjs/common';
import { eventTime, InvalidEventError } from '../../core/engine';
import type { MatchRecord } from '../../core/engine/api';
import type { EventRecord } from '../../core/expr/types';
import type { Alert } from '../../core/ports/alert';
import type { AlertSink } from '../../core/ports/alert-sink';
import type { EventBatch, EventIngress, IngestResult, IngestTarget, RejectReason } from '../../core/ports/event-batch';
import type { ServiceMetrics } from '../../core/ports/metrics';
import { AlertFactory } from '../alerts/alert-factory';
import { EngineHost } from '../engine/engine-host';
import type { Logger } from '../logging/logger';
import { ALERT_SINK, LOGGER, SERVICE_METRICS } from '../tokens';
import { IngestTargetError } from './ingest-target-error';

/** Thrown when a batch arrives after the service stopped taking input. */
export class IngestClosedError extends Error {
  constructor() {
    super('the service is shutting down and takes no more events');
    this.name = 'IngestClosedError';
  }
}

@Injectable()
export class IngestPipeline implements EventIngress {
  private closed = false;
  /** Publishing, in batch order. */
  private publishing: Promise<void> = Promise.resolve();

  constructor(
    private readonly host: EngineHost,
    private readonly alerts: AlertFactory,
    @Inject(ALERT_SINK) private readonly sink: AlertSink,
    @Inject(SERVICE_METRICS) private readonly metrics: ServiceMetrics,
    @Inject(LOGGER) private readonly logger: Logger,
  ) {}

  /** Stops taking batches (graceful shutdown); batches already being processed finish. */
  close(): void {
    this.closed = true;
  }

  /** Resolves once every alert published so far is durable in the sink. */
  async flush(): Promise<void> {
    await this.publishing;
    await this.sink.flush();
  }

  /** Embedded mode takes no target: every enabled rule processes every event. */
  checkTarget(target?: IngestTarget): void {
    if (target?.topic !== undefined) {
      throw new IngestTargetError(
        'topic names a Kafka source topic, and this service runs embedded (KAFKA_BROKERS unset): every enabled rule processes every event',
        'bad_request',
      );
    }
  }

  async ingest(batch: EventBatch, target?: IngestTarget): Promise<IngestResult> {
    if (this.closed) throw new IngestClosedError();
    this.checkTarget(target);
    const { alerts, result } = this.process(batch);
    if (alerts.length > 0) {
      const published = this.publishing.then(() => this.sink.publish(alerts));
      this.publishing = published.catch(() => undefined);
      await published;
      this.metrics.alertsProduced(alerts.length);
    }
    return result;
  }

  /** The synchronous part: the engine, the alerts, the counts. */
  private process(batch: EventBatch): { alerts: Alert[]; result: IngestResult } {
    const started = process.hrtime.bigint();
    const engine = this.host.engine;
    const timeFields = this.host.timeFields;
    const rejected: IngestResult['rejected'] = [];
    const rejectedCounts = new Map<RejectReason, number>();
    const reject = (index: number, reason: RejectReason) => {
      rejected.push({ index, reason });
      rejectedCounts.set(reason, (rejectedCounts.get(reason) ?? 0) + 1);
    };
    const matches: MatchRecord[] = [];
    const latest = this.host.maxEventFutureMs === null ? Number.POSITIVE_INFINITY : Date.now() + this.host.maxEventFutureMs;
    let accepted = 0;
    let late = 0;

    const items = batch.events;
    for (let i = 0; i < items.length; i++) {
      const item = items[i];
      if (item.unparsable) {
        reject(i, 'invalid_json');
        continue;
      }
      if (item.tooDeep) {
        reject(i, 'too_deep');
        continue;
      }
      const event = item.event;
      if (typeof event !== 'object' || event === null || Array.isArray(event)) {
        reject(i, 'not_an_object');
        continue;
      }
      const record = event as EventRecord;
      // One event far ahead would move the clock so far that every later one is late: any rule's time field.
      let future = false;
      let first: number | undefined;
      for (let f = 0; f < timeFields.length; f++) {
        const t = eventTime(record[timeFields[f]]);
        if (t === undefined) continue;
        if (t > latest) future = true;
        first ??= t;
      }
      if (future) {
        reject(i, 'future_time');
        continue;
      }
      if (first !== undefined && engine.isStarted && first < engine.now) late++;
      if (item.position !== undefined) this.alerts.remember(record, item.position);
      let found: MatchRecord[];
      try {
        found = engine.process(record);
      } catch (e) {
        if (e instanceof InvalidEventError) {
          reject(i, e.reason);
          continue;
        }
        // A defect, not a bad event: log it and go on with the others.
        this.logger.error({ err: e, source: batch.source, index: i }, 'processing an event failed');
        reject(i, 'processing_error');
        continue;
      }
      accepted++;
      for (let m = 0; m < found.length; m++) matches.push(found[m]);
    }

    const alerts = this.alerts.toAlerts(matches);
    const elapsed = Number(process.hrtime.bigint() - started) / 1e9;

    this.metrics.eventsReceived(batch.source, items.length);
    if (rejectedCounts.size > 0) this.metrics.eventsRejected(rejectedCounts);
    if (late > 0) this.metrics.eventsLate(batch.source, late);
    if (alerts.length > 0) {
      const byRule = new Map<string, { severity: string; count: number }>();
      for (const a of alerts) {
        const c = byRule.get(a.rule);
        if (c) c.count++;
        else byRule.set(a.rule, { severity: a.severity, count: 1 });
      }
      this.metrics.ruleMatches(byRule);
    }
    this.metrics.batchProcessed(elapsed);
    if (this.logger.isLevelEnabled('debug')) {
      this.logger.debug(
        { source: batch.source, events: items.length, accepted, rejected: rejected.length, late, alerts: alerts.length, seconds: elapsed },
        'batch processed',
      );
    }
    return { alerts, result: { accepted, rejected, alerts: alerts.length } };
  }
}
