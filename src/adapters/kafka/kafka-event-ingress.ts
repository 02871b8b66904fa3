/**
 * POST /events in Kafka mode: the events are produced to a source topic and acknowledged by Kafka before the
 * response, instead of being matched by an engine of the replica that happened to get the request. They are
 * then read like every other record of the topic: by the replica that owns their partition, checkpointed with
 * the offsets, with alert ids from their positions. So with several replicas behind a load balancer, a key's
 * events still meet in one engine, and a crash loses neither an event nor an alert.
 *
 * Events the topic's rules could not use (the checks of the consumer, which would dead-letter them) are
 * rejected in the response instead, and counted in cep_events_rejected_total.
 */
import type { Message } from 'kafkajs';
import { IngestTargetError } from '../../app/ingest/ingest-target-error';
import type { EventBatch, EventIngress, IngestTarget, IngressResult } from '../../core/ports/event-batch';
import { partitionKeyOf, type StreamRejectReason } from '../../core/stream/classify';
import type { KafkaMetrics } from './kafka-metrics';
import type { KafkaStreams } from './kafka-streams';

/** Marks records that came in over HTTP (for tracing; Cepheus reads them like any other record). */
export const INGRESS_HEADER = 'cepheus.ingress';

/**
 * Most value bytes per produce request: a request body of EVENTS_MAX_BODY_BYTES with every event in one
 * partition must not meet the broker's batch limit (message.max.bytes, 1 MB by default) in one record batch.
 */
export const PRODUCE_CHUNK_BYTES = 256 * 1024;

export class KafkaEventIngress implements EventIngress {
  constructor(
    private readonly streams: Pick<KafkaStreams, 'eventTarget' | 'produceEvents'>,
    /** maxEventFutureMs: EVENT_MAX_FUTURE (null: no bound). */
    private readonly options: { maxEventBytes: number; maxEventFutureMs?: number | null },
    private readonly metrics: Pick<KafkaMetrics, 'rejected'>,
  ) {}

  checkTarget(target?: IngestTarget): void {
    this.streams.eventTarget(target?.topic);
  }

  async ingest(batch: EventBatch, target?: IngestTarget): Promise<IngressResult> {
    const to = this.streams.eventTarget(target?.topic);
    const rejected: IngressResult['rejected'] = [];
    const counts = new Map<StreamRejectReason, number>();
    const reject = (index: number, reason: StreamRejectReason) => {
      rejected.push({ index, reason });
      counts.set(reason, (counts.get(reason) ?? 0) + 1);
    };
    const chunks: Message[][] = [[]];
    /** The request index of each chunk's first event. */
    const chunkStarts: number[] = [];
    let chunkBytes = 0;
    let accepted = 0;
    const headers = { [INGRESS_HEADER]: batch.source };
    const future = this.options.maxEventFutureMs;
    const latest = future === null || future === undefined ? Number.POSITIVE_INFINITY : Date.now() + future;
    batch.events.forEach((item, index) => {
      if (item.unparsable) return reject(index, 'invalid_json');
      if (item.tooDeep) return reject(index, 'too_deep');
      const c = to.classifier.classify(item.event, latest);
      if (!c.ok) return reject(index, c.reason);
      const value = JSON.stringify(c.event);
      const bytes = Buffer.byteLength(value);
      if (bytes > this.options.maxEventBytes) return reject(index, 'oversize');
      const key = to.keyField === null ? null : (partitionKeyOf(c.event, to.keyField) ?? null);
      if (chunkBytes + bytes > PRODUCE_CHUNK_BYTES && chunks[chunks.length - 1].length > 0) {
        chunks.push([]);
        chunkBytes = 0;
      }
      if (chunks[chunks.length - 1].length === 0) chunkStarts[chunks.length - 1] = index;
      chunks[chunks.length - 1].push({ key, value, headers });
      chunkBytes += bytes;
      accepted++;
    });
    if (counts.size > 0) this.metrics.rejected(counts);
    // In order, one acknowledged request after the other (the producer is idempotent, one request in flight).
    let written = 0;
    for (const [i, chunk] of chunks.entries()) {
      if (chunk.length === 0) continue;
      try {
        await this.streams.produceEvents(to.topic, chunk);
      } catch (e) {
        if (!(e instanceof IngestTargetError)) throw e;
        // Say how far the request got: a client retrying all of it would write the acknowledged events again
        // (new offsets, so their alerts would come again under new ids).
        const retryFrom = chunkStarts[i];
        throw new IngestTargetError(`${e.message}; the ${written} usable events before index ${retryFrom} were acknowledged: retry from index ${retryFrom}`, e.kind, {
          ...e.details,
          written,
          retryFrom,
        });
      }
      written += chunk.length;
    }
    return { topic: to.topic, accepted, rejected };
  }
}
