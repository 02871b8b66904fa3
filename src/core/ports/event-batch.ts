/**
 * Ingest contract shared by every event source: HTTP today, Kafka consumer groups later (issue 4). A source
 * hands the ingest pipeline a batch of received items; the pipeline runs the events through the engine in
 * order and answers, per item, whether it was accepted.
 */

/**
 * Why an event was rejected: not JSON, nested deeper than MAX_EVENT_DEPTH, not a JSON object, no usable type
 * or time field for any rule, a time too far ahead of the wall clock (EVENT_MAX_FUTURE), or an unexpected
 * error while processing it (logged).
 */
export type RejectReason = 'invalid_json' | 'too_deep' | 'not_an_object' | 'missing_type' | 'missing_time' | 'future_time' | 'processing_error';

/** One item as received, with where it came from when the source can tell. */
export interface SourcedEvent {
  /** The parsed JSON value (the engine accepts objects only). Ignored when `unparsable` is set. */
  event?: unknown;
  /** The item could not be parsed as JSON (a bad NDJSON line, a Kafka record that is not JSON). */
  unparsable?: true;
  /** The item nests arrays and objects deeper than MAX_EVENT_DEPTH (its `event` is not kept). */
  tooDeep?: true;
  /**
   * The event's position in its source, used for deterministic alert ids: `topic/partition/offset` for
   * Kafka. Absent: the position is the sha256 of the event's canonical JSON (sorted keys), computed lazily
   * for the events that end up in a match.
   */
  position?: string;
}

export interface EventBatch {
  /** Label of `cep_events_received_total{source}` and `cep_events_late_total{source}`: `http`, later the topic. */
  source: string;
  /** The items in order; a rejection's `index` is the position in this array. */
  events: readonly SourcedEvent[];
  /** For a partition-aware source: the partition the batch came from (per-partition checkpoints, issue 5). */
  partition?: string;
}

/** Why an event handed to an ingress was rejected: the engine's reasons, and those of a Kafka source topic. */
export type IngressRejectReason = RejectReason | 'oversize' | 'missing_key';

/** Where a batch should go; `topic` names a Kafka source topic (Kafka mode). */
export interface IngestTarget {
  topic?: string;
}

export interface IngressResult {
  /** Embedded mode: events processed by the engine. Kafka mode: events Kafka acknowledged on `topic`. */
  accepted: number;
  rejected: Array<{ index: number; reason: IngressRejectReason }>;
  /** Kafka mode: the source topic the events were produced to. */
  topic?: string;
}

/** What the engine made of a batch (embedded mode). */
export interface IngestResult extends IngressResult {
  rejected: Array<{ index: number; reason: RejectReason }>;
  /** Alerts produced by this batch (published before the result is returned). */
  alerts: number;
}

/**
 * The way in for events that do not come from a source topic (POST /events): the engine itself in embedded
 * mode; in Kafka mode a source topic, so they are partitioned, checkpointed and matched like every other
 * record of that topic, by whichever replica owns their partition.
 */
export interface EventIngress {
  /**
   * Checks, before the request body is read, that a batch could go to `target`: throws the error `ingest`
   * would throw for this target (a `topic` in embedded mode; in Kafka mode a topic no running rule reads, ...).
   * `ingest` checks again, since the rules may change while the body arrives.
   */
  checkTarget(target?: IngestTarget): void;
  ingest(batch: EventBatch, target?: IngestTarget): Promise<IngressResult>;
}
