/**
 * Kafka mode's event path: one kafkajs consumer group over the rules' source topics (and the internal
 * repartition topics), one engine per assigned topic-partition, alerts and dead letters produced with an
 * idempotent producer, offsets committed once a batch's effects are acknowledged.
 *
 * Per batch of one topic-partition (kafkajs `eachBatch`, offsets resolved as records are processed and a
 * heartbeat every few hundred records):
 *
 * 1. each record of a source topic is size-checked, parsed and validated against every rule reading the
 *    topic; a bad one goes to the dead-letter topic (`cepheus.reason`, source topic/partition/offset,
 *    original bytes) and never stops the partition;
 * 2. a valid record is re-produced, keyed by the field, to each repartition topic of the source, and offered
 *    to the partition's engine when rules read the topic directly (StreamPartition: watermark, reorder
 *    buffer, late events); records of a repartition topic go to their partition's engine;
 * 3. matches become alerts (deterministic ids from `topic/partition/offset` of the source records);
 * 4. alerts, dead letters and re-produced records are sent and acknowledged (acks=all, idempotent), the
 *    alerts reach GET /alerts, and only then the offset is committed: the next offset to read, or the
 *    oldest event still waiting in the reorder buffer (it is read again after a restart).
 *
 * Partitions are worked on one at a time per partition (a lane): batches, idle ticks (the wall clock moves
 * quiet partitions' watermarks, so absence and `within` timers fire), rule changes and revocations never
 * interleave. Outputs that failed to send stay in the partition's outbox and are sent before anything is
 * committed; the batch is retried by kafkajs.
 *
 * Rule changes that add or remove topics restart the consumer with the new subscription (no service
 * restart); other rule changes reach the partitions' engines between batches.
 */
import {
  AssignerProtocol,
  Kafka,
  Partitioners,
  type Admin,
  type Consumer,
  type EachBatchPayload,
  type Message,
  type Producer,
  type TopicMessages,
} from 'kafkajs';
import type { Logger } from 'pino';
import { stateRuntimeMarker, type CompiledRule, type EngineLimits, type EvictionSettings } from '../../core/engine';
import type { MatchRecord } from '../../core/engine/api';
import type { EventRecord } from '../../core/expr/types';
import type { Alert } from '../../core/ports/alert';
import { CheckpointLimitError, type CheckpointStore, type RuleVersionRef } from '../../core/ports/checkpoint-store';
import { addByRuleAndReason, addCounts, sumByRule, sumByRuleAndReason } from '../../core/ports/metrics';
import { EventClassifier, partitionKeyOf, type DeadLetterReason, type StreamRejectReason } from '../../core/stream/classify';
import { StreamPartition } from '../../core/stream/stream-partition';
import { declaredKeyField, planTopology, subscribedTopics, type StreamPlan, type Topology } from '../../core/stream/topology';
import { sha256Hex } from '../../app/common/sha256';
import { IngestTargetError } from '../../app/ingest/ingest-target-error';
import { OrphanSweep } from '../redis/orphan-sweep';
import { OutboxRelay } from '../redis/outbox-relay';
import type { CheckpointMetrics, CommitResult } from '../redis/checkpoint-metrics';
import { isFenced, isLost, isOutboxFull, isUnavailable, PartitionCheckpoint, ruleStateVersion } from '../redis/partition-checkpoint';
import { kafkaLogCreator, kafkaLogLevel } from './kafka-log';
import { NoKafkaMetrics, type KafkaMetrics } from './kafka-metrics';
import { kafkaClientConfig, type KafkaOptions } from './kafka-options';
import {
  alertMessage,
  eventsOf,
  markTimesOf,
  parseBatch,
  parseValue,
  type ParsedValue,
  deadLetterMessage,
  positionString,
  rawRecord,
  repartitionMessage,
  truncatedAlertMessage,
  watermarkMark,
  idleMark,
  IDLE_HEADER,
  WATERMARK_HEADER,
  headerString,
  type RawRecord,
} from './kafka-records';

/** A source topic as a producer of events must write to it (POST /events in Kafka mode). */
export interface EventTarget {
  topic: string;
  /** The field its records are keyed by (`keyedBy`); null: the rules need no key. */
  keyField: string | null;
  /** The checks the topic's rules make on each record (a rejected one would be dead-lettered). */
  classifier: EventClassifier;
}

/** A running rule as the streams need it. */
export interface StreamRule {
  id: string;
  compiled: CompiledRule;
}

export interface AlertBuilder {
  /** The alerts of one batch of matches, in order (ids may depend on the batch: see AlertFactory). */
  toAlerts(matches: readonly MatchRecord[]): Alert[];
  /** Records an event's source position before it is processed (alert ids). */
  remember(event: object, position: string): void;
  /** The position remembered for an event (checkpoints store them with the engine's snapshots). */
  positionOf?(event: unknown): string;
}

/**
 * Checkpointing of the owned partitions' state (REDIS_URL, issue 5). With it, each partition with an engine
 * is loaded from the store on assignment (state restored, consumer seeked to the checkpoint), checkpointed
 * once per batch in one atomic step together with its alerts (the outbox), and its alerts reach Kafka only
 * through an outbox relay. While the store is unavailable the partition is paused and nothing is committed.
 */
export interface KafkaCheckpointing {
  store: CheckpointStore;
  /** RedisAvailability: readiness, and when to retry. */
  guard: { readonly ready: boolean; whenAvailable(): Promise<void>; onChange(listener: (available: boolean, reason: string) => void): () => void };
  /** OutboxRelay tuning (tests). */
  relayIdleMs?: number;
  relayBatchSize?: number;
  /** How long a graceful stop waits for the outboxes to empty (default 5000 ms). */
  drainTimeoutMs?: number;
  metrics?: CheckpointMetrics;
  /**
   * Eviction of cold keys (STATE_EVICT_IDLE, STATE_EVICT_MAX_KEYS): after each successful checkpoint, keys
   * idle that long, or the least recently active above the cap (the replica's, shared equally by its
   * partitions with an engine), leave memory; a batch reloads those it needs first. Absent: every key of an
   * owned partition stays in memory.
   */
  eviction?: EvictionSettings;
  /**
   * STATE_ORPHAN_AFTER: the checkpoints of partitions no member reads any more are removed this long after
   * their last commit, once their outboxes are published (OrphanSweep). Absent: they stay.
   */
  orphanAfterMs?: number;
}

export interface KafkaStreamsDeps {
  options: KafkaOptions;
  /** The partitions' engines' limits (MAX_PARTIAL_MATCHES_PER_KEY, TIMER_CATCH_UP_LIMIT, TIMER_MOVE_LIMIT). */
  limits?: EngineLimits;
  logger: Logger;
  alerts: AlertBuilder;
  metrics?: KafkaMetrics;
  /** Where acknowledged alerts also go (the in-memory feed of GET /alerts). */
  feed?: { publish(alerts: readonly Alert[]): Promise<void> };
  /** EVENT_MAX_FUTURE: source events whose time is further ahead of the wall clock are dead-lettered (future_time). */
  maxEventFutureMs?: number | null;
  /** State checkpoints (Redis); absent = state in memory only (at-least-once from Kafka offsets). */
  checkpointing?: KafkaCheckpointing;
  /** Injectable for tests. */
  kafka?: Kafka;
  now?: () => number;
}

export type KafkaState = 'stopped' | 'connecting' | 'idle' | 'joining' | 'joined' | 'rebalancing' | 'down';

export interface KafkaStatus {
  state: KafkaState;
  /** Connected, and joined to the group when there is anything to consume. */
  ready: boolean;
  /** Subscribed topics: sources and internal repartition topics. */
  topics: string[];
  /** Source topics of enabled rules that do not exist (their rules wait for them). */
  missing: string[];
  /** Assigned partitions per topic (this member). */
  assigned: Record<string, number[]>;
  /** With checkpointing: whether the store answers, and the partitions paused waiting for it. */
  checkpoints?: { available: boolean; paused: string[]; pendingOutbox: number };
  memberId?: string;
  generation: number;
  lastError?: string;
}

class Lane {
  private tail: Promise<unknown> = Promise.resolve();
  run<T>(fn: () => Promise<T> | T): Promise<T> {
    const next = this.tail.then(fn);
    this.tail = next.catch(() => undefined);
    return next;
  }
  idle(): Promise<void> {
    return this.tail.then(() => undefined);
  }
}

interface Outbox {
  alerts: Alert[];
  dlq: Message[];
  repartition: Map<string, Message[]>;
}

class PartitionTask {
  readonly lane = new Lane();
  /** Next offset to read. */
  next = 0;
  /** Last committed offset, -1 before any. */
  committed = -1;
  stream: StreamPartition<RawRecord> | undefined;
  outbox: Outbox = { alerts: [], dlq: [], repartition: new Map() };
  tickQueued = false;
  dropped = false;
  /** Whether a record was read since the task was created (before that, `next` is not a real position). */
  started = false;
  /** Source partitions: the largest event time read (announced to repartition topics with marks). */
  sourceMax = Number.NEGATIVE_INFINITY;
  /** Wall time of the last batch (or of the assignment, before any). */
  lastActive: number;
  /** The last batch read up to the partition's end. */
  caughtUp = true;
  /** The high watermark of the last batch (-1 before any). */
  highWatermark = -1;
  /**
   * The broker's last confirmation that nothing is left to read here (KafkaStreams.confirmEnds): when it was
   * asked (it holds from then) and when it was answered (its age, so a slow answer does not lapse it).
   */
  endConfirmedAt = Number.NEGATIVE_INFINITY;
  endAnsweredAt = Number.NEGATIVE_INFINITY;
  /** Whether that confirmation lapsed (Kafka did not answer): the next one resumes the quiet time. */
  endUnconfirmed = false;
  /** Wall time of the last idle mark since the last batch with records (-Infinity: none yet). */
  idleAnnouncedAt = Number.NEGATIVE_INFINITY;
  /** Checkpointing: the partition's checkpoint (loaded on assignment) and its outbox relay. */
  checkpoint: PartitionCheckpoint | undefined;
  relay: OutboxRelay | undefined;
  /** Checkpointing: paused until the store (or the outbox) lets the pending commit through. */
  paused = false;
  /**
   * The state version of each rule the partition's engine runs. It follows setRules only when refreshTask
   * gives the engine the new rules, so checkpoints and reloads always name the version of the state they hold.
   */
  versions = new Map<string, number>();
  /** Checkpointing: the first offset read since the partition was loaded. */
  readFrom: number | undefined;
  /**
   * Checkpointing: the store lost the partition whole (its checkpoint gone); the next load, finding nothing,
   * reads again from here instead of going on after the refused batches.
   */
  resumeAt: number | undefined;
  /**
   * Not started yet: the offset the group committed, asked once per ownership (-1: none; undefined: not
   * asked). Nobody else commits while this replica owns the partition, and it commits only once started;
   * cleared whenever the task goes back to not started or is kept across a rebalance.
   */
  groupCommitted: number | undefined;

  constructor(
    readonly topic: string,
    readonly partition: number,
    now: number,
  ) {
    this.lastActive = now;
  }

  get key(): string {
    return `${this.topic}/${this.partition}`;
  }

  outboxEmpty(): boolean {
    return this.outbox.alerts.length === 0 && this.outbox.dlq.length === 0 && this.outbox.repartition.size === 0;
  }

  safeOffset(): number {
    if (!this.stream) return this.next;
    return Math.min(this.stream.safeOffset(), this.next);
  }
}

const HEARTBEAT_EVERY = 200;
/**
 * Processing time: before a batch, keys evicted with timers due within this much wall time are reloaded (the
 * clock is the wall clock; a longer batch only holds events until the keys are back).
 */
const PROCESSING_WAKE_AHEAD_MS = 5000;
/**
 * How often a caught-up source partition repeats its idle mark: merging partitions wait for an origin that
 * has not said it is caught up (it may only be unread), so a partition of a repartition topic created or
 * started afresh after the first mark must get another one.
 */
const IDLE_MARK_EVERY_MS = 5000;
/** How long the broker's "nothing left to read" stays good for the wall-clock rule (confirmEnds asks every second). */
const END_CONFIRMED_FOR_MS = 3000;
/** The same for an idle mark, which leaves the partition out downstream at once (ticks come every 250 ms). */
const IDLE_MARK_CONFIRMED_WITHIN_MS = 1500;
/** Oversize items a single checkpoint may shed before it counts as failing (see writeCheckpoint). */
const MAX_SHEDS_PER_COMMIT = 10_000;

/** Why a checkpoint write (or a load) failed: the one classification behind the metric, the pause and the retry. */
type CheckpointFailure = 'fenced' | 'lost' | 'unavailable' | 'outbox' | 'limit' | 'error';
function checkpointFailure(e: unknown): CheckpointFailure {
  if (isFenced(e)) return 'fenced';
  if (isLost(e)) return 'lost';
  if (isUnavailable(e)) return 'unavailable';
  if (isOutboxFull(e)) return 'outbox';
  return e instanceof CheckpointLimitError ? 'limit' : 'error';
}
/** The metric counts a full outbox as a refused size, like any other bound. */
const commitResultOf = (f: CheckpointFailure): CommitResult => (f === 'outbox' ? 'limit' : f);
/**
 * A bound still exceeded after shedding is retried like any other failure. Lost writes are handled like a
 * fence: the state is dropped and the partition loaded again from what the store holds.
 */
const pauseReasonOf = (f: CheckpointFailure): PauseReason => (f === 'limit' ? 'error' : f === 'lost' ? 'fenced' : f);

export class KafkaStreams {
  private readonly kafka: Kafka;
  private readonly producer: Producer;
  private readonly admin: Admin;
  private consumer: Consumer | undefined;
  private readonly metrics: KafkaMetrics;
  private readonly now: () => number;
  private readonly logger: Logger;

  private rules = new Map<string, StreamRule>();
  private topology: Topology = { sources: new Map(), streams: new Map(), internal: [], missing: [] };
  private sourceClassifiers = new Map<string, EventClassifier>();
  /** Actual partition counts of the repartition topics. */
  private internalPartitions = new Map<string, number>();
  private subscribed: string[] = [];
  private readonly tasks = new Map<string, PartitionTask>();
  private assigned: Record<string, number[]> = {};

  private state: KafkaState = 'stopped';
  private connected = false;
  private stopping = false;
  private memberId: string | undefined;
  private generation = 0;
  private lastError: string | undefined;

  private reconcileWanted = false;
  private reconcileLoop: Promise<void> | undefined;
  private starting: Promise<void> | undefined;
  /** Resolves when stopConsuming begins, cutting short the wait between connection attempts. */
  private stopSignal: Promise<void> = Promise.resolve();
  private signalStop: () => void = () => undefined;
  private stopped: Promise<void> = Promise.resolve();
  private ticker: NodeJS.Timeout | undefined;
  private recheck: NodeJS.Timeout | undefined;
  private orphanTimer: NodeJS.Timeout | undefined;
  private partitionWatch: NodeJS.Timeout | undefined;
  /** The source topics' partition counts the topology was planned with (watchPartitions compares). */
  private plannedPartitions = new Map<string, number>();
  /** confirmEnds: topics with a request in flight, and when each was last answered. */
  private readonly endsAsked = new Set<string>();
  private readonly endsAt = new Map<string, number>();
  private orphanSweeping: Promise<void> | undefined;
  private readonly retiredDrops = new Map<string, Map<string, number>>();
  private readonly retiredFreed = new Map<string, number>();
  /** The state version of each rule of `rules` (the latest setRules). */
  private stateVersions = new Map<string, number>();

  constructor(private readonly deps: KafkaStreamsDeps) {
    const o = deps.options;
    this.logger = deps.logger.child({ component: 'kafka' });
    this.metrics = deps.metrics ?? new NoKafkaMetrics();
    this.now = deps.now ?? Date.now;
    this.kafka =
      deps.kafka ??
      new Kafka({ ...kafkaClientConfig(o), logLevel: kafkaLogLevel(deps.logger), logCreator: kafkaLogCreator(deps.logger) });
    this.producer = this.kafka.producer({
      idempotent: true,
      maxInFlightRequests: 1,
      allowAutoTopicCreation: false,
      createPartitioner: Partitioners.DefaultPartitioner,
    });
    this.admin = this.kafka.admin();
  }

  // ------------------------------------------------------------------------------------------
  // Public
  // ------------------------------------------------------------------------------------------

  /** Makes `rules` (enabled, in order) the running set; topics are (re)subscribed in the background. */
  setRules(rules: readonly StreamRule[]): void {
    this.rules = new Map(rules.map((r) => [r.id, r]));
    this.stateVersions = new Map(rules.map((r) => [r.id, ruleStateVersion(r.compiled.definition, stateRuntimeMarker(r.compiled.pattern))]));
    this.requestReconcile();
  }

  /** Connects (retrying until Kafka answers), then subscribes to the rules' topics. Resolves once connected. */
  start(): Promise<void> {
    if (this.starting) return this.starting;
    this.stopping = false;
    this.stopSignal = new Promise((resolve) => (this.signalStop = resolve));
    this.state = 'connecting';
    this.starting = this.connect();
    return this.starting;
  }

  /**
   * Stops consuming: the batch in flight finishes, its outputs are produced and its offset committed, and
   * the group is left (its partitions go to the other members). publish() keeps working until stop().
   */
  async stopConsuming(): Promise<void> {
    if (this.stopping) return this.stopped;
    this.stopping = true;
    this.signalStop();
    this.stopped = (async () => {
      if (this.ticker) clearInterval(this.ticker);
      if (this.recheck) clearTimeout(this.recheck);
      if (this.orphanTimer) clearTimeout(this.orphanTimer);
      if (this.partitionWatch) clearTimeout(this.partitionWatch);
      this.ticker = this.recheck = this.orphanTimer = this.partitionWatch = undefined;
      // The sweep checks `stopping` between partitions; its removals are fenced, so leaving one half done is safe.
      await Promise.race([this.orphanSweeping, sleep(2000)]);
      await this.reconcileLoop?.catch(() => undefined);
      // Not connected yet: a connection attempt may be retrying inside kafkajs for tens of seconds with
      // nothing in flight to finish, so shutdown does not wait for it (stop() disconnects the clients).
      if (this.connected) await this.starting?.catch(() => undefined);
      const consumer = this.consumer;
      this.consumer = undefined;
      if (consumer) await consumer.disconnect().catch((e) => this.logger.warn({ err: e }, 'leaving the consumer group failed'));
      await Promise.all([...this.tasks.values()].map((t) => t.lane.idle()));
      await this.stopRelays(true);
      this.state = 'stopped';
    })();
    return this.stopped;
  }

  /** Graceful stop: stopConsuming(), then the clients disconnect. */
  async stop(): Promise<void> {
    await this.stopConsuming();
    const wasConnected = this.connected;
    this.connected = false;
    const disconnected = Promise.all([this.producer.disconnect().catch(() => undefined), this.admin.disconnect().catch(() => undefined)]);
    // Never connected: nothing was produced, and a broker that took the connection but never answers keeps
    // kafkajs' disconnect waiting on its request, so shutdown waits a second at most.
    if (wasConnected) await disconnected;
    else await Promise.race([disconnected, sleep(1000)]);
  }

  status(): KafkaStatus {
    // A member that joined stays ready through rebalances; with nothing to consume, ready once the rules'
    // topics are known to be none (no subscription change pending).
    const settled = !this.reconcileWanted && this.reconcileLoop === undefined;
    const ready =
      this.connected &&
      !this.stopping &&
      (this.state === 'joined' || this.state === 'rebalancing' || (this.state === 'idle' && this.subscribed.length === 0 && settled));
    return {
      state: this.state,
      ready,
      topics: [...this.subscribed],
      missing: [...this.topology.missing],
      assigned: structuredClone(this.assigned),
      ...(this.deps.checkpointing
        ? {
            checkpoints: {
              available: this.deps.checkpointing.guard.ready,
              paused: [...this.tasks.values()].filter((t) => t.paused).map((t) => t.key),
              pendingOutbox: [...this.tasks.values()].filter((t) => t.relay && !t.relay.idle).length,
            },
          }
        : {}),
      ...(this.memberId ? { memberId: this.memberId } : {}),
      generation: this.generation,
      ...(this.lastError ? { lastError: this.lastError } : {}),
    };
  }

  /** Produces alerts to the alerts topic (the outbox relays' publish). */
  async publish(alerts: readonly Alert[]): Promise<void> {
    if (alerts.length === 0) return;
    await this.send([{ topic: this.deps.options.alertsTopic, messages: alerts.map(alertMessage) }], alerts);
  }

  /**
   * Where events from outside Kafka go: the source topic `requested`, or the only source topic of the running
   * rules when none is named. Throws IngestTargetError when the topic is not a running rule's source, does not
   * exist, or its rules disagree on the record key.
   */
  eventTarget(requested: string | undefined): EventTarget {
    const rules = [...this.rules.values()].map((r) => r.compiled.definition);
    const sources = [...new Set(rules.map((r) => r.source))].sort();
    const list = sources.map((t) => JSON.stringify(t)).join(', ');
    let topic: string;
    if (requested !== undefined) {
      if (!sources.includes(requested)) {
        throw new IngestTargetError(
          `no running rule reads topic ${JSON.stringify(requested)}; ` + (sources.length > 0 ? `the source topics are ${list}` : 'no rule is running'),
          'not_found',
        );
      }
      topic = requested;
    } else if (sources.length === 1) {
      topic = sources[0];
    } else if (sources.length === 0) {
      throw new IngestTargetError('no rule is running, so no source topic would read these events', 'conflict');
    } else {
      throw new IngestTargetError(`the running rules read several topics (${list}): name one with ?topic=`, 'bad_request');
    }
    if (!this.connected) throw new IngestTargetError('not connected to Kafka yet', 'unavailable');
    if (this.topology.missing.includes(topic)) {
      throw new IngestTargetError(`the source topic ${JSON.stringify(topic)} does not exist in Kafka; its rules start once it does`, 'conflict');
    }
    const classifier = this.sourceClassifiers.get(topic);
    if (!classifier) throw new IngestTargetError(`the source topic ${JSON.stringify(topic)} is being subscribed; retry shortly`, 'unavailable');
    const key = declaredKeyField(rules, this.deps.options.sources, topic);
    if ('conflict' in key) {
      const claims = key.conflict.map((c) => `${c.rule}: ${c.field}`).join(', ');
      throw new IngestTargetError(
        `the rules of topic ${JSON.stringify(topic)} expect its records keyed by different fields (${claims}); no producer can satisfy them all`,
        'conflict',
      );
    }
    return { topic, keyField: key.field, classifier };
  }

  /** Produces events to a source topic with the idempotent producer; resolves once Kafka acknowledged them all. */
  async produceEvents(topic: string, messages: Message[]): Promise<void> {
    try {
      await this.producer.send({ topic, messages, acks: -1 });
      this.metrics.kafkaUp(true);
    } catch (e) {
      const message = e instanceof Error ? e.message : String(e);
      if (isTooLarge(e)) throw new IngestTargetError(`Kafka refused the events as too large for topic ${JSON.stringify(topic)}: ${message}`, 'too_large');
      throw new IngestTargetError(`Kafka did not acknowledge the events (some may have been written): ${message}`, 'unavailable');
    }
  }

  /** Active partial matches per rule, over every partition's engine. */
  partialMatches(): Map<string, number> {
    return sumByRule([...this.streams()].map((s) => s.engineView.stats().partialMatches));
  }

  /** Keys in memory per partitioned rule, over every partition's engine (evicted keys are not in memory). */
  keysInMemory(): Map<string, number> {
    return sumByRule([...this.streams()].map((s) => s.engineView.residentKeysByRule()));
  }

  /** The owned partitions' streams. */
  private *streams(): Iterable<StreamPartition<RawRecord>> {
    for (const t of this.tasks.values()) if (t.stream) yield t.stream;
  }

  /** Dropped partial matches per rule and reason, cumulative (partitions given away included). */
  droppedPartialMatches(): Map<string, Map<string, number>> {
    return sumByRuleAndReason([this.retiredDrops, ...[...this.streams()].map((s) => s.engineView.stats().dropped)]);
  }

  /** Keys freed in a new key's state per rule, cumulative (partitions given away included). */
  keysFreed(): Map<string, number> {
    return sumByRule([this.retiredFreed, ...[...this.streams()].map((s) => s.engineView.reclaimedKeysByRule())]);
  }

  /** The partitions this instance works on, with their stream state (diagnostics and tests). */
  partitions(): Array<{ topic: string; partition: number; next: number; committed: number; watermark: number | null; buffered: number }> {
    return [...this.tasks.values()].map((t) => ({
      topic: t.topic,
      partition: t.partition,
      next: t.next,
      committed: t.committed,
      watermark: t.stream && Number.isFinite(t.stream.watermark) ? t.stream.watermark : null,
      buffered: t.stream?.bufferedCount ?? 0,
    }));
  }

  // ------------------------------------------------------------------------------------------
  // Connecting and subscribing
  // ------------------------------------------------------------------------------------------

  private async connect(): Promise<void> {
    let delay = 500;
    while (!this.stopping) {
      try {
        await this.admin.connect();
        await this.producer.connect();
        await this.ensureOutputTopics();
        this.connected = true;
        this.metrics.kafkaUp(true);
        this.logger.info({ brokers: this.deps.options.brokers, groupId: this.deps.options.groupId }, 'connected to Kafka');
        break;
      } catch (e) {
        this.fail(e, 'connecting to Kafka failed; retrying');
        await Promise.race([sleep(delay), this.stopSignal]);
        delay = Math.min(delay * 2, 10_000);
      }
    }
    if (this.stopping) return;
    this.state = 'idle';
    this.ticker = setInterval(() => this.tick(), this.deps.options.tickMs);
    this.ticker.unref?.();
    this.scheduleOrphanSweep();
    this.scheduleWatch();
    this.requestReconcile();
    await this.reconcileLoop;
  }

  private async ensureOutputTopics(): Promise<void> {
    const { alertsTopic, dlqTopic } = this.deps.options;
    const existing = new Set(await this.admin.listTopics());
    const missing = [alertsTopic, dlqTopic].filter((t) => !existing.has(t));
    if (missing.length === 0) return;
    try {
      await this.admin.createTopics({ topics: missing.map((topic) => ({ topic })), waitForLeaders: true });
      this.logger.info({ topics: missing }, 'created the output topics');
    } catch (e) {
      this.logger.warn({ err: e, topics: missing }, 'the output topics do not exist and could not be created; create them');
    }
  }

  private requestReconcile(): void {
    this.reconcileWanted = true;
    if (this.reconcileLoop || !this.connected || this.stopping) return;
    this.reconcileLoop = (async () => {
      while (this.reconcileWanted && !this.stopping) {
        this.reconcileWanted = false;
        try {
          await this.reconcile();
        } catch (e) {
          this.fail(e, 'updating the Kafka subscription failed; retrying');
          this.scheduleRecheck(1000);
        }
      }
    })().finally(() => {
      this.reconcileLoop = undefined;
      // A change requested after the loop's last check and before this point would be lost otherwise.
      if (this.reconcileWanted) this.requestReconcile();
    });
  }

  private scheduleRecheck(ms: number): void {
    if (this.recheck || this.stopping) return;
    this.recheck = setTimeout(() => {
      this.recheck = undefined;
      this.requestReconcile();
    }, ms);
    this.recheck.unref?.();
  }

  /** Plans the topology for the current rules, creates internal topics, updates partitions and the subscription. */
  private async reconcile(): Promise<void> {
    const o = this.deps.options;
    const rules = [...this.rules.values()];
    const sources = [...new Set(rules.map((r) => r.compiled.definition.source))];
    const { existing, partitions } = await this.partitionCounts(sources);
    const topology = planTopology(
      rules.map((r) => r.compiled.definition),
      { groupId: o.groupId, settings: o.sources, partitions, hash: sha256Hex },
    );
    const toCreate = topology.internal.filter((t) => !existing.has(t.topic));
    if (toCreate.length > 0) {
      await this.admin.createTopics({
        topics: toCreate.map((t) => ({ topic: t.topic, numPartitions: t.partitions, replicationFactor: o.repartitionReplicationFactor })),
        waitForLeaders: true,
      });
      this.logger.info({ topics: toCreate.map((t) => t.topic) }, 'created repartition topics');
    }
    const internalMeta = topology.internal.length > 0 ? await this.admin.fetchTopicMetadata({ topics: topology.internal.map((t) => t.topic) }) : { topics: [] };
    const internalPartitions = new Map(internalMeta.topics.map((t) => [t.name, t.partitions.length]));
    if (topology.missing.length > 0) {
      this.logger.warn({ topics: topology.missing }, 'source topics do not exist; their rules start once they do');
      this.scheduleRecheck(o.topicRecheckMs);
    }

    this.topology = topology;
    this.plannedPartitions = partitions;
    this.internalPartitions = internalPartitions;
    this.sourceClassifiers = new Map(
      [...topology.sources.values()].map((s) => [
        s.topic,
        new EventClassifier(
          s.rules.map((id) => this.rules.get(id)!.compiled.definition),
          s.settings.timeMode,
        ),
      ]),
    );
    // Rule and settings changes reach the partitions between their batches.
    await Promise.all([...this.tasks.values()].map((t) => t.lane.run(() => this.refreshTask(t))));

    const topics = subscribedTopics(topology);
    if (topics.join('\n') !== this.subscribed.join('\n') || (!this.consumer && topics.length > 0)) await this.resubscribe(topics);
  }

  /** Every topic that exists, and the partition count of each of `topics` that does. */
  private async partitionCounts(topics: string[]): Promise<{ existing: Set<string>; partitions: Map<string, number> }> {
    const existing = new Set(await this.admin.listTopics());
    const partitions = new Map<string, number>();
    // A missing topic would fail the metadata request for all: ask only for the ones there.
    const present = topics.filter((t) => existing.has(t));
    if (present.length > 0) for (const t of (await this.admin.fetchTopicMetadata({ topics: present })).topics) partitions.set(t.name, t.partitions.length);
    return { existing, partitions };
  }

  /** Runs watchPartitions every `topicRecheckMs`, one check at a time. */
  private scheduleWatch(): void {
    if (this.stopping) return;
    this.partitionWatch = setTimeout(() => void this.watchPartitions().finally(() => this.scheduleWatch()), this.deps.options.topicRecheckMs);
    this.partitionWatch.unref?.();
  }

  /**
   * A source topic's partition count changed (partitions added, or the topic deleted or recreated): the
   * topology is planned again, so that repartitioned streams expect exactly its partitions and a topic grown
   * from one partition is repartitioned. (The consumer itself rejoins the group when its metadata, refreshed
   * every `topicRecheckMs`, shows new partitions: kafkajs' stale-assignment check.)
   */
  private async watchPartitions(): Promise<void> {
    if (this.stopping || !this.connected || this.reconcileLoop || this.plannedPartitions.size === 0) return;
    try {
      const planned = [...this.plannedPartitions.keys()];
      const { partitions } = await this.partitionCounts(planned);
      // A deleted topic is planned as missing, like any source that does not exist yet.
      const changed = planned.filter((t) => partitions.get(t) !== this.plannedPartitions.get(t));
      if (changed.length === 0 || this.stopping) return;
      this.logger.info(
        { topics: Object.fromEntries(changed.map((t) => [t, { from: this.plannedPartitions.get(t), to: partitions.get(t) ?? 'deleted' }])) },
        'source topics changed their partition count: planning again',
      );
      this.requestReconcile();
    } catch (e) {
      // The broker away: the consumer reports that; this runs again in topicRecheckMs.
      this.logger.debug({ err: e }, 'checking the source topics\' partition counts failed');
    }
  }

  private refreshTask(task: PartitionTask): void {
    const before = task.versions;
    const plan = this.topology.streams.get(task.topic);
    if (!plan) {
      this.retireStream(task);
    } else if (task.stream) {
      task.stream.updateSettings(plan.settings);
      task.stream.setRules(this.compiledOf(plan));
      task.versions = this.versionsOf(plan);
      // Right after a reconcile read the partition counts: origins the plan no longer has are forgotten.
      if (plan.kind === 'repartitioned') task.stream.expectOrigins(this.originsOf(plan), this.now(), { forgetOthers: true });
    }
    // The versions the engine no longer runs here (a changed pattern, a rule removed or moved to another
    // stream) leave the store with the next commit. Compared per partition, with what its engine ran: a rule
    // changed and changed back before the partition saw it keeps its state.
    const drops: RuleVersionRef[] = [];
    for (const [rule, version] of before) if (task.versions.get(rule) !== version) drops.push({ rule, version });
    if (drops.length > 0) task.checkpoint?.dropVersions(drops);
  }

  /** The source partitions a repartitioned stream merges. */
  private originsOf(plan: StreamPlan): string[] {
    return Array.from({ length: plan.sourcePartitions }, (_, i) => `${plan.source}/${i}`);
  }

  /** The state versions of a stream's rules, as compiledOf gives them to its engine. */
  private versionsOf(plan: StreamPlan): Map<string, number> {
    return new Map(plan.rules.map((id) => [id, this.stateVersions.get(id)!]));
  }

  private compiledOf(plan: StreamPlan): CompiledRule[] {
    return plan.rules.map((id) => this.rules.get(id)!.compiled);
  }

  private async resubscribe(topics: string[]): Promise<void> {
    const o = this.deps.options;
    const old = this.consumer;
    this.consumer = undefined;
    if (old) {
      this.logger.info({ from: this.subscribed, to: topics }, 'the rules changed the topics: re-subscribing');
      await this.settleLeaving([...this.tasks.values()].filter((t) => !topics.includes(t.topic)));
      await old.disconnect().catch((e) => this.logger.warn({ err: e }, 'leaving the consumer group failed'));
    }
    this.subscribed = topics;
    if (topics.length === 0) {
      this.state = 'idle';
      this.onAssignment({});
      return;
    }
    this.state = 'joining';
    const consumer = this.kafka.consumer({
      groupId: o.groupId,
      sessionTimeout: o.sessionTimeoutMs,
      heartbeatInterval: o.heartbeatIntervalMs,
      maxWaitTimeInMs: o.maxWaitMs,
      allowAutoTopicCreation: false,
      retry: { retries: 10, initialRetryTime: 200 },
      // kafkajs rejoins the group when its metadata shows partitions added to a subscribed topic; by default
      // it refreshes that only every 5 minutes.
      metadataMaxAge: Math.max(1000, o.topicRecheckMs),
    });
    consumer.on(consumer.events.GROUP_JOIN, (e) => {
      if (this.consumer !== consumer) return;
      this.memberId = e.payload.memberId;
      this.generation++;
      this.state = 'joined';
      this.metrics.kafkaUp(true);
      this.onAssignment(e.payload.memberAssignment);
    });
    consumer.on(consumer.events.REBALANCING, () => {
      if (this.consumer === consumer && this.state === 'joined') this.state = 'rebalancing';
    });
    // A batch of transaction markers only never reaches eachBatch; when nothing follows them, the
    // partition is caught up (see processBatch for markers at the end of a batch with records).
    consumer.on(consumer.events.END_BATCH_PROCESS, (e) => {
      if (this.consumer !== consumer || e.payload.batchSize !== 0 || e.payload.offsetLag !== '0') return;
      const task = this.tasks.get(`${e.payload.topic}/${e.payload.partition}`);
      if (!task) return;
      task.caughtUp = true;
      // confirmEnds compares the topic's end offset with this (the end, past the markers).
      task.highWatermark = Number(e.payload.highWatermark);
    });
    consumer.on(consumer.events.CRASH, (e) => {
      if (this.consumer !== consumer) return;
      const err = e.payload.error;
      this.lastError = err?.message;
      this.state = e.payload.restart ? 'joining' : 'down';
      this.metrics.kafkaUp(false);
      this.logger.error({ err, restart: e.payload.restart }, 'the Kafka consumer crashed');
      if (!e.payload.restart && !this.stopping) {
        // kafkajs gives up on non-retriable errors: start a fresh consumer.
        this.consumer = undefined;
        void consumer.disconnect().catch(() => undefined);
        this.subscribed = [];
        this.scheduleRecheck(1000);
      }
    });
    this.consumer = consumer;
    try {
      await consumer.connect();
      const internal = new Set(this.topology.internal.map((t) => t.topic));
      const sourceTopics = topics.filter((t) => !internal.has(t));
      const internalTopics = topics.filter((t) => internal.has(t));
      if (sourceTopics.length > 0) await consumer.subscribe({ topics: sourceTopics, fromBeginning: o.fromBeginning });
      if (internalTopics.length > 0) await consumer.subscribe({ topics: internalTopics, fromBeginning: true });
      await consumer.run({
        autoCommit: false,
        eachBatchAutoResolve: false,
        eachBatch: (payload) => this.onBatch(payload),
      });
    } catch (e) {
      // Otherwise the retry would find the same topics and this consumer, which never runs, and stop there.
      if (this.consumer === consumer) {
        this.consumer = undefined;
        this.subscribed = [];
      }
      await consumer.disconnect().catch(() => undefined);
      throw e;
    }
  }

  /** A new assignment: partitions no longer ours are dropped (their uncommitted records are read by the new owner). */
  private onAssignment(assignment: Record<string, number[]>): void {
    this.assigned = structuredClone(assignment);
    const keep = new Set<string>();
    for (const [topic, parts] of Object.entries(assignment)) for (const p of parts) keep.add(`${topic}/${p}`);
    for (const task of [...this.tasks.values()]) {
      if (keep.has(task.key)) continue;
      this.tasks.delete(task.key);
      task.dropped = true;
      void task.lane.run(() => this.releaseTask(task));
      this.metrics.clearLag(task.topic, task.partition);
    }
    // Another member may have read and committed a kept partition that this one had not started.
    for (const t of this.tasks.values()) if (!t.started) t.groupCommitted = undefined;
    const kept = [...this.tasks.values()].filter((t) => t.started);
    for (const key of keep) if (!this.tasks.has(key)) this.taskFor(key.slice(0, key.lastIndexOf('/')), Number(key.slice(key.lastIndexOf('/') + 1)));
    this.logger.info({ memberId: this.memberId, assigned: assignment }, 'partitions assigned');
    if (this.deps.checkpointing) {
      // Checkpointed partitions load their state (and seek) before their first batch; kept ones keep theirs:
      // if another member owned one meanwhile, its load fenced this member's epoch, and the next commit reloads.
      for (const task of this.tasks.values()) if (!task.checkpoint) void task.lane.run(() => this.prepareTask(task)).catch(() => undefined);
    } else if (kept.length > 0) this.checkKept(kept);
  }

  /**
   * Partitions kept across a rebalance keep their engines, unless another member committed past the records
   * this one read (it owned the partition in between and read further): then the state is stale and starts
   * afresh from the group's offset. Queued on the partitions' lanes, so before their next batch.
   */
  private checkKept(kept: PartitionTask[]): void {
    const byTopic = new Map<string, PartitionTask[]>();
    for (const t of kept) byTopic.set(t.topic, [...(byTopic.get(t.topic) ?? []), t]);
    for (const [topic, tasks] of byTopic) {
      const offsets = this.admin.fetchOffsets({ groupId: this.deps.options.groupId, topics: [topic] }).catch((e) => {
        this.logger.warn({ err: e, topic }, 'reading the committed offsets failed; keeping the partitions\' state');
        return undefined;
      });
      for (const task of tasks) {
        void task.lane.run(async () => {
          const got = await offsets;
          const entry = got?.[0]?.partitions.find((p) => p.partition === task.partition);
          const committed = entry ? Number(entry.offset) : -1;
          if (committed > task.next) {
            this.logger.info({ topic, partition: task.partition, committed, ours: task.committed }, 'another member worked on this partition meanwhile: its state starts afresh');
            this.retireStream(task);
            task.outbox = { alerts: [], dlq: [], repartition: new Map() };
            task.next = 0;
            task.committed = -1;
            task.started = false;
            task.groupCommitted = undefined;
          }
        });
      }
    }
  }

  private taskFor(topic: string, partition: number): PartitionTask {
    const key = `${topic}/${partition}`;
    let t = this.tasks.get(key);
    if (!t) {
      t = new PartitionTask(topic, partition, this.now());
      this.tasks.set(key, t);
    }
    return t;
  }

  private retireStream(task: PartitionTask): void {
    task.versions = new Map();
    if (!task.stream) return;
    this.metrics.residentKeys(task.topic, task.partition, null);
    this.metrics.dormantKeys(task.topic, task.partition, null);
    addByRuleAndReason(this.retiredDrops, task.stream.engineView.stats().dropped);
    addCounts(this.retiredFreed, task.stream.engineView.reclaimedKeysByRule());
    task.stream = undefined;
  }

  private streamFor(task: PartitionTask, plan: StreamPlan): StreamPartition<RawRecord> {
    if (!task.stream) {
      task.stream = new StreamPartition<RawRecord>({
        settings: plan.settings,
        rules: this.compiledOf(plan),
        ...this.deps.limits,
        remember: (event, position) => this.deps.alerts.remember(event, position),
        // Records of a burst on several source partitions reach a repartition topic within a few fetches.
        idleGrace: Math.max(1000, 4 * this.deps.options.maxWaitMs),
        trackChanges: this.deps.checkpointing !== undefined,
      });
      task.versions = this.versionsOf(plan);
      task.stream.nextOffset = task.next;
      if (plan.kind === 'repartitioned') {
        task.stream.expectOrigins(this.originsOf(plan), this.now());
      }
    }
    return task.stream;
  }

  // ------------------------------------------------------------------------------------------
  // Batches
  // ------------------------------------------------------------------------------------------

  private async onBatch(payload: EachBatchPayload): Promise<void> {
    const { batch } = payload;
    const task = this.taskFor(batch.topic, batch.partition);
    await task.lane.run(() => this.processBatch(task, payload));
  }

  private async processBatch(task: PartitionTask, payload: EachBatchPayload): Promise<void> {
    const started = process.hrtime.bigint();
    const { batch } = payload;
    const o = this.deps.options;
    if (this.deps.checkpointing) {
      // Not loaded yet (the store was away at assignment), or paused until a pending checkpoint goes through:
      // leave the records unresolved, they are fetched again after the resume.
      if (task.paused || !(await this.prepareTask(task))) {
        if (task.paused) this.consumer?.pause([{ topic: task.topic, partitions: [task.partition] }]);
        return;
      }
      if (payload.isStale()) return;
    }
    const source = this.topology.sources.get(batch.topic);
    const plan = this.topology.streams.get(batch.topic);
    const repartitioned = plan?.kind === 'repartitioned';
    const stream = plan ? this.streamFor(task, plan) : undefined;
    const classifier = this.sourceClassifiers.get(batch.topic);
    // With evicted keys, the values are parsed before the loop (to find the keys to reload) and reused in it.
    let parsedValues: Array<ParsedValue | undefined> | undefined;
    if (stream && task.checkpoint?.mayHaveColdKeys) {
      parsedValues = parseBatch(batch.messages, task.next, repartitioned, o.maxEventBytes);
      const events = eventsOf(parsedValues);
      // Keys evicted with timers come back too when this batch can take the clock to their timers.
      const marks = repartitioned ? markTimesOf(batch.messages, task.next) : [];
      const now = this.now();
      const wakeBound = stream.wakeBound(events, marks, now, PROCESSING_WAKE_AHEAD_MS, now + (this.deps.maxEventFutureMs ?? Number.POSITIVE_INFINITY));
      if (!(await this.reloadColdKeys(task, stream, events, wakeBound))) return;
    }

    let received = 0;
    let seen = 0;
    const rejected = new Map<StreamRejectReason | 'processing_error', number>();
    const repartitionCounts = new Map<string, number>();
    let heartbeatError: unknown;
    let lastValid: RawRecord['source'] | undefined;

    // The loop only yields at heartbeats, so a stop or a seek (isRunning / isStale) can only happen there; and
    // kafkajs needs the resolved offset only where the loop may stop. Checking both per record cost more than
    // the engine on small events.
    let resolved: string | undefined;
    const maxFuture = this.deps.maxEventFutureMs ?? Number.POSITIVE_INFINITY;
    let running = payload.isRunning() && !payload.isStale();
    const messages = running ? batch.messages : [];
    const nextBefore = task.next;
    // positionString of a record read from this partition (not a repartition topic's: its source is the origin).
    const positionPrefix = `${batch.topic}/${batch.partition}/`;
    for (let i = 0; i < messages.length; i++) {
      const m = messages[i];
      const offset = Number(m.offset);
      resolved = m.offset;
      if (offset < task.next) continue;
      seen++;
      const wall = this.now();
      const raw = rawRecord(batch.topic, batch.partition, m, repartitioned);
      const position = repartitioned ? positionString(raw.source) : positionPrefix + m.offset;
      if (source && !repartitioned) {
        received++;
        const parsed = parsedValues?.[i] ?? parseValue(m, false, o.maxEventBytes);
        // The classification without a result object: the event time, or why the record is rejected.
        const time = parsed.ok ? classifier!.timeOf(parsed.value, wall + maxFuture) : parsed.reason;
        if (typeof time !== 'number') {
          rejected.set(time, (rejected.get(time) ?? 0) + 1);
          task.outbox.dlq.push(deadLetterMessage(raw, time));
        } else {
          const event = (parsed as { value: EventRecord }).value;
          for (const target of source.targets) {
            const key = target.field === null ? null : partitionKeyOf(event, target.field);
            if (key === undefined) continue;
            let list = task.outbox.repartition.get(target.topic);
            if (!list) task.outbox.repartition.set(target.topic, (list = []));
            list.push(repartitionMessage(raw, key));
            repartitionCounts.set(target.topic, (repartitionCounts.get(target.topic) ?? 0) + 1);
          }
          if (stream) stream.add({ offset, position, event, raw }, wall);
          if (time > task.sourceMax) task.sourceMax = time;
          lastValid = raw.source;
        }
      } else if (stream && repartitioned && headerString(m.headers, IDLE_HEADER) !== undefined) {
        stream.markIdle(`${raw.source.topic}/${raw.source.partition}`, wall);
      } else if (stream && repartitioned && headerString(m.headers, WATERMARK_HEADER) !== undefined) {
        const time = Number(headerString(m.headers, WATERMARK_HEADER));
        if (Number.isFinite(time)) stream.mark(`${raw.source.topic}/${raw.source.partition}`, time, wall);
      } else if (stream) {
        const parsed = parsedValues?.[i] ?? parseValue(m, true, o.maxEventBytes);
        if (parsed.ok && parsed.value !== null && typeof parsed.value === 'object' && !Array.isArray(parsed.value)) {
          stream.add(
            {
              offset,
              position,
              origin: { partition: `${raw.source.topic}/${raw.source.partition}`, offset: Number(raw.source.offset) },
              event: parsed.value as Record<string, unknown>,
              raw,
            },
            wall,
          );
        }
      }
      task.next = offset + 1;
      task.started = true;
      if (stream && stream.nextOffset < task.next) stream.nextOffset = task.next;
      if (seen % HEARTBEAT_EVERY === 0) {
        payload.resolveOffset(resolved);
        try {
          await payload.heartbeat();
        } catch (e) {
          heartbeatError = e;
          break;
        }
        running = payload.isRunning() && !payload.isStale();
        if (!running) break;
      }
    }
    if (resolved !== undefined) payload.resolveOffset(resolved);
    // Once per ownership, not per record: the first offset read since the load.
    if (task.readFrom === undefined && seen > 0) task.readFrom = Number(messages.find((m) => Number(m.offset) >= nextBefore)!.offset);

    // Tell every partition of the repartition topics how far this source partition got in event time.
    if (source && lastValid && Number.isFinite(task.sourceMax) && source.settings.timeMode === 'event') {
      for (const target of source.targets) {
        const parts = this.internalPartitions.get(target.topic) ?? target.partitions;
        let list = task.outbox.repartition.get(target.topic);
        if (!list) task.outbox.repartition.set(target.topic, (list = []));
        for (let p = 0; p < parts; p++) list.push(watermarkMark(lastValid, task.sourceMax, p));
      }
    }
    // In processing time, a batch that outlasted PROCESSING_WAKE_AHEAD_MS (event time reloads them all above).
    // If Redis cannot be read the partition pauses, and what was processed is still staged below: a later tick
    // reloads the keys.
    if (stream?.waitsForKeys && task.checkpoint) await this.reloadColdKeys(task, stream, []);
    this.collect(task, plan);
    if (received > 0) this.metrics.received(batch.topic, received);
    if (rejected.size > 0) this.metrics.rejected(rejected);
    for (const [topic, n] of repartitionCounts) this.metrics.repartitioned(topic, n);
    await this.flush(task);
    this.metrics.lag(batch.topic, batch.partition, Number(batch.highWatermark) - task.next);
    task.lastActive = this.now();
    // Read to the end, or to the end but for transaction markers (kafkajs leaves control records out of the
    // messages; its offsetLag counts them): a transactionally written partition would otherwise never be
    // caught up, and would hold its repartition topics back for good.
    const readAll = messages.length === batch.messages.length && resolved === batch.messages[batch.messages.length - 1]?.offset;
    task.caughtUp = Number(batch.highWatermark) <= task.next || (readAll && batch.offsetLag() === '0');
    task.highWatermark = Number(batch.highWatermark);
    if (seen > 0) task.idleAnnouncedAt = Number.NEGATIVE_INFINITY;
    this.metrics.batch(seen, Number(process.hrtime.bigint() - started) / 1e9);
    if (heartbeatError !== undefined) throw heartbeatError;
  }

  /** Moves what the partition's engine produced into its outbox. */
  private collect(task: PartitionTask, plan: StreamPlan | undefined): void {
    if (!task.stream) return;
    const out = task.stream.take();
    const source = plan?.source ?? task.topic;
    const late = out.lateDropped.length + out.lateAccepted;
    if (late > 0) this.metrics.late(source, late);
    if (out.lateDropped.length > 0) {
      for (const l of out.lateDropped) task.outbox.dlq.push(deadLetterMessage(l.raw, 'late', `event time ${l.time} is before the watermark ${l.watermark}`));
      this.metrics.deadLetters(new Map([['late', out.lateDropped.length]]));
    }
    if (out.failed.length > 0) {
      for (const f of out.failed) {
        this.logger.error({ err: f.error, position: f.position }, 'processing an event failed');
        if (f.raw) task.outbox.dlq.push(deadLetterMessage(f.raw, 'processing_error', String((f.error as Error)?.message ?? f.error)));
      }
      this.metrics.rejected(new Map([['processing_error', out.failed.length]]));
    }
    if (out.matches.length > 0) {
      const byRule = new Map<string, { severity: string; count: number }>();
      for (const alert of this.deps.alerts.toAlerts(out.matches)) {
        task.outbox.alerts.push(alert);
        const c = byRule.get(alert.rule);
        if (c) c.count++;
        else byRule.set(alert.rule, { severity: alert.severity, count: 1 });
      }
      this.metrics.ruleMatches(byRule);
    }
  }

  /** Sends the partition's outbox, then commits its offset. Throws (keeping the outbox) when sending fails. */
  private async flush(task: PartitionTask): Promise<void> {
    if (this.deps.checkpointing && task.checkpoint) return this.flushCheckpointed(task, task.checkpoint);
    const o = this.deps.options;
    if (!task.outboxEmpty()) {
      const { alerts, dlq, repartition } = task.outbox;
      const topicMessages: TopicMessages[] = [];
      if (repartition.size > 0) for (const [topic, messages] of repartition) topicMessages.push({ topic, messages });
      if (alerts.length > 0) topicMessages.push({ topic: o.alertsTopic, messages: alerts.map(alertMessage) });
      if (dlq.length > 0) topicMessages.push({ topic: o.dlqTopic, messages: dlq });
      await this.send(topicMessages, alerts);
      task.outbox = { alerts: [], dlq: [], repartition: new Map() };
      if (dlq.length > 0) {
        const byReason = new Map<DeadLetterReason, number>();
        for (const m of dlq) {
          const r = String(m.headers?.['cepheus.reason']) as DeadLetterReason;
          if (r !== 'late') byReason.set(r, (byReason.get(r) ?? 0) + 1);
        }
        this.metrics.deadLetters(byReason);
      }
      if (alerts.length > 0) {
        this.metrics.alertsProduced(alerts.length);
        await this.deps.feed?.publish(alerts).catch((e) => this.logger.warn({ err: e }, 'publishing alerts to the in-memory feed failed'));
      }
    }
    await this.commit(task);
  }

  /**
   * With checkpoints: dead letters and re-partitioned records are sent first (a re-sent copy is dropped
   * downstream by its source position), then the batch's state changes, next offset, stream state and alerts
   * are written in one atomic checkpoint, the relay is told, and only then the Kafka offset is committed.
   * The alerts reach Kafka through the outbox relay only.
   */
  private async flushCheckpointed(task: PartitionTask, checkpoint: PartitionCheckpoint): Promise<void> {
    const o = this.deps.options;
    const { alerts, dlq, repartition } = task.outbox;
    if (dlq.length > 0 || repartition.size > 0) {
      const topicMessages: TopicMessages[] = [];
      for (const [topic, messages] of repartition) topicMessages.push({ topic, messages });
      if (dlq.length > 0) topicMessages.push({ topic: o.dlqTopic, messages: dlq });
      await this.send(topicMessages, []);
      task.outbox = { alerts, dlq: [], repartition: new Map() };
      if (dlq.length > 0) {
        const byReason = new Map<DeadLetterReason, number>();
        for (const m of dlq) {
          const r = String(m.headers?.['cepheus.reason']) as DeadLetterReason;
          if (r !== 'late') byReason.set(r, (byReason.get(r) ?? 0) + 1);
        }
        this.metrics.deadLetters(byReason);
      }
    }
    task.outbox = { alerts: [], dlq: [], repartition: new Map() };
    // Nothing read yet and no checkpoint loaded: `next` is no position (0), and a checkpoint at 0 would send
    // the next owner to the partition's start instead of the group's offset. There is no state to keep either
    // (no record reached the engine), so there is nothing to write; idle marks above went out all the same.
    if (!task.started && alerts.length === 0 && !checkpoint.hasPending) return;
    checkpoint.stage(task.stream, task.next, alerts);
    try {
      await this.writeCheckpoint(task, checkpoint);
    } catch (e) {
      this.checkpointFailed(task, e);
      return;
    }
    this.evictColdKeys(task, checkpoint);
    // The deletions of keys that eviction freed: written now, so that the offset commit is not held back.
    if (checkpoint.hasPending) {
      try {
        await this.writeCheckpoint(task, checkpoint);
      } catch (e) {
        this.checkpointFailed(task, e);
        return;
      }
    }
    await this.commit(task);
  }

  /**
   * Writes the pending checkpoint and wakes the relay. A commit refused for size is made to fit (the
   * offending key's state is reset, or the alert is stored without its events) and written again, so no
   * input can stall the partition; other failures are thrown to the caller (pause and retry).
   */
  private async writeCheckpoint(task: PartitionTask, checkpoint: PartitionCheckpoint): Promise<void> {
    const metrics = this.deps.checkpointing?.metrics;
    for (let sheds = 0; ; sheds++) {
      const started = process.hrtime.bigint();
      try {
        const committed = await checkpoint.flush();
        metrics?.commit('ok', Number(process.hrtime.bigint() - started) / 1e9);
        task.relay?.committed(committed);
        return;
      } catch (e) {
        metrics?.commit(commitResultOf(checkpointFailure(e)), Number(process.hrtime.bigint() - started) / 1e9);
        if (sheds < MAX_SHEDS_PER_COMMIT && this.shrinkStreamState(task, checkpoint, e)) continue;
        // Each shed removes one oversize item; the bound stops a store that refuses everything from looping.
        const shed = sheds < MAX_SHEDS_PER_COMMIT ? checkpoint.shed(e, task.stream) : undefined;
        if (!shed) throw e;
        metrics?.shed(shed.kind, shed.rule);
        this.logger.warn(
          { topic: task.topic, partition: task.partition, ...shed, limit: (e as Error).message },
          shed.kind === 'snapshot' ? 'a key\'s state is larger than a checkpoint may hold: its oldest partial matches are dropped' : 'an alert is larger than a checkpoint may hold: it is kept without its events',
        );
      }
    }
  }

  /**
   * The stream state (mostly the reorder buffer) is over its checkpoint bound: process the older half of the
   * buffered events now, as if the watermark had reached them, and stage what that produced. Later events
   * older than them count as late (dead-lettered beyond allowedLateness): nothing is lost, the partition
   * goes on. Returns false when this is not that case.
   */
  private shrinkStreamState(task: PartitionTask, checkpoint: PartitionCheckpoint, e: unknown): boolean {
    const stream = task.stream;
    if (!(e instanceof CheckpointLimitError) || e.kind !== 'stream' || !stream || stream.bufferedCount === 0) return false;
    const released = stream.releaseBuffered(Math.ceil(stream.bufferedCount / 2));
    // Nothing released: retrying would meet the same refusal; the caller sheds or pauses instead.
    if (released === 0) return false;
    this.collect(task, this.topology.streams.get(task.topic));
    const alerts = task.outbox.alerts;
    task.outbox.alerts = [];
    checkpoint.stage(stream, task.next, alerts);
    this.deps.checkpointing?.metrics?.streamReleased(released);
    this.logger.warn(
      { topic: task.topic, partition: task.partition, released, buffered: stream.bufferedCount, watermark: stream.watermark, limit: e.message },
      'the reorder buffer is larger than a checkpoint may hold: its oldest events are processed now',
    );
    return true;
  }

  /**
   * After a checkpoint went through: cold keys leave memory (Redis has their state). Keys in a new key's state
   * are deleted instead (Engine.evictKey): their deletions are staged at once, so that the next tick writes
   * them even if no record comes.
   */
  private evictColdKeys(task: PartitionTask, checkpoint: PartitionCheckpoint): void {
    if (!task.stream) return;
    this.metrics.keysEvicted(checkpoint.evict(task.stream, this.now()));
    if (task.started && task.stream.engineView.hasChanges) checkpoint.stage(task.stream, task.next, []);
    this.metrics.residentKeys(task.topic, task.partition, task.stream.engineView.residentKeyCount());
    this.metrics.dormantKeys(task.topic, task.partition, dormantOf(task.stream.engineView));
  }

  /**
   * Before a batch of a partition that evicted keys: restores those the batch's events need from Redis. When
   * Redis cannot be read, the partition pauses (as for a failed checkpoint) and the batch is left unread.
   */
  private async reloadColdKeys(task: PartitionTask, stream: StreamPartition<RawRecord>, events: EventRecord[], wakeBound?: number): Promise<boolean> {
    try {
      const r = await task.checkpoint!.reload(stream, events, wakeBound);
      this.metrics.keysReloaded({ restored: r.restored - r.woken, absent: r.looked - r.restored - r.lost, timer: r.woken, lost: r.lost });
      this.metrics.dormantKeys(task.topic, task.partition, dormantOf(stream.engineView));
      return true;
    } catch (e) {
      this.checkpointFailed(task, e);
      return false;
    }
  }

  /** A checkpoint (or a load) failed: pause the partition until it can go on; nothing is committed meanwhile. */
  private checkpointFailed(task: PartitionTask, e: unknown): void {
    if (task.dropped) return;
    const reason = pauseReasonOf(checkpointFailure(e));
    if (reason === 'fenced') {
      void this.dropState(task, e);
    } else if (reason === 'error') {
      this.logger.error({ topic: task.topic, partition: task.partition, err: e }, 'writing the checkpoint failed; retrying');
    }
    this.pauseTask(task, reason, reason === 'fenced' ? undefined : e);
  }

  private pauseTask(task: PartitionTask, reason: PauseReason, err?: unknown): void {
    if (task.paused) return;
    task.paused = true;
    this.consumer?.pause([{ topic: task.topic, partitions: [task.partition] }]);
    this.logger.warn(
      { topic: task.topic, partition: task.partition, reason, ...(err ? { err: (err as Error)?.message ?? String(err) } : {}) },
      'partition paused: its checkpoint cannot be written now',
    );
    void this.resumeWhenPossible(task, reason);
  }

  private async resumeWhenPossible(task: PartitionTask, reason: PauseReason): Promise<void> {
    const cp = this.deps.checkpointing!;
    let why: PauseReason | 'done' = reason;
    while (why !== 'done') {
      if (task.dropped || this.stopping) return;
      if (why === 'unavailable') await cp.guard.whenAvailable().catch(() => sleep(1000));
      else if (why === 'outbox') await Promise.race([task.relay?.drain() ?? Promise.resolve(), sleep(5000)]);
      await sleep(why === 'fenced' ? 3000 : why === 'error' ? 1000 : 50);
      if (task.dropped || this.stopping) return;
      why = await task.lane.run(async (): Promise<PauseReason | 'done'> => {
        if (task.dropped || this.stopping) return 'done';
        try {
          if (!task.checkpoint) await this.loadTask(task);
          else await this.writeCheckpoint(task, task.checkpoint);
        } catch (e) {
          const reason = pauseReasonOf(checkpointFailure(e));
          if (reason === 'fenced') await this.dropState(task, e);
          return reason;
        }
        task.paused = false;
        this.consumer?.resume([{ topic: task.topic, partitions: [task.partition] }]);
        this.logger.info({ topic: task.topic, partition: task.partition }, 'partition resumed');
        await this.commit(task).catch(() => undefined);
        return 'done';
      });
    }
  }

  /** Before a partition's first batch (checkpointing): load its state, or pause it until the store answers. */
  private async prepareTask(task: PartitionTask): Promise<boolean> {
    if (task.checkpoint) return true;
    if (task.dropped || task.paused || this.stopping) return false;
    try {
      await this.loadTask(task);
      return true;
    } catch (e) {
      this.checkpointFailed(task, e);
      return false;
    }
  }

  /**
   * STATE_EVICT_MAX_KEYS bounds the replica, not each partition: a replica that takes over more partitions
   * (a peer died) must not grow past its memory limit. Each partition with an engine gets an equal share,
   * read at every eviction pass, so shares follow rebalances.
   */
  private evictionShare(settings: EvictionSettings): EvictionSettings {
    const replicaMax = settings.maxKeys;
    const tasks = this.tasks;
    return {
      idleMs: settings.idleMs,
      get maxKeys() {
        if (replicaMax === null) return null;
        let engines = 0;
        for (const t of tasks.values()) if (t.stream) engines++;
        return Math.max(1, Math.floor(replicaMax / Math.max(1, engines)));
      },
    };
  }

  /**
   * Takes the partition in the store (fencing its previous owner), restores its engine and stream state,
   * seeks the consumer to the checkpointed offset and starts the partition's outbox relay.
   */
  private async loadTask(task: PartitionTask): Promise<void> {
    const cp = this.deps.checkpointing!;
    const plan = this.topology.streams.get(task.topic);
    this.retireStream(task);
    task.outbox = { alerts: [], dlq: [], repartition: new Map() };
    const stream = plan ? this.streamFor(task, plan) : undefined;
    const tp = { topic: task.topic, partition: task.partition };
    const alerts = this.deps.alerts;
    const checkpoint = new PartitionCheckpoint({
      store: cp.store,
      tp,
      versionOf: (rule) => task.versions.get(rule),
      positionOf: (e) => (alerts.positionOf ? alerts.positionOf(e) : ''),
      remember: (e, p) => alerts.remember(e, p),
      ...(cp.eviction ? { eviction: this.evictionShare(cp.eviction) } : {}),
    });
    const loaded = await checkpoint.load(stream, this.now());
    // The checkpoint's origins replaced the plan's: a source partition added since must be waited for too.
    if (stream && plan?.kind === 'repartitioned') stream.expectOrigins(this.originsOf(plan), this.now());
    task.checkpoint = checkpoint;
    task.readFrom = undefined;
    const resumeAt = task.resumeAt;
    task.resumeAt = undefined;
    if (loaded.nextOffset === null && resumeAt !== undefined) {
      this.logger.error(
        { topic: task.topic, partition: task.partition, offset: resumeAt },
        'the checkpoint store holds nothing for this partition any more: it starts with no state, reading again from the last acknowledged offset',
      );
      loaded.nextOffset = String(resumeAt);
    }
    this.metrics.keysEvicted(loaded.evicted);
    if (stream) {
      this.metrics.residentKeys(task.topic, task.partition, stream.engineView.residentKeyCount());
      this.metrics.dormantKeys(task.topic, task.partition, dormantOf(stream.engineView));
    }
    if (loaded.nextOffset !== null) {
      task.next = Number(loaded.nextOffset);
      if (stream) stream.nextOffset = task.next;
      task.started = true;
      task.committed = -1;
      try {
        this.consumer?.seek({ topic: task.topic, partition: task.partition, offset: loaded.nextOffset });
      } catch (e) {
        // The consumer is being replaced: the records below the checkpoint are skipped by offset instead.
        this.logger.warn({ err: e, topic: task.topic, partition: task.partition }, 'seeking to the checkpoint failed');
      }
    }
    // Its records come now: a load that took long is no quiet time (an idle mark would leave it out downstream).
    task.lastActive = this.now();
    if (!task.relay) {
      task.relay = new OutboxRelay({
        store: cp.store,
        partition: tp,
        publish: (list) => this.publish(list),
        idleMs: cp.relayIdleMs,
        batchSize: cp.relayBatchSize,
        onPublished: (list) => this.outboxPublished(list),
        onError: (err, stage) => {
          cp.metrics?.relayFailed(stage);
          this.logger.warn({ err, stage, topic: task.topic, partition: task.partition }, 'the outbox relay failed; retrying');
        },
      }).start();
    }
    this.logger.info(
      {
        topic: task.topic,
        partition: task.partition,
        epoch: loaded.epoch,
        nextOffset: loaded.nextOffset,
        restoredKeys: loaded.restored,
        evictedKeys: loaded.evicted,
        staleVersions: loaded.stale.length,
        outbox: loaded.outboxSize,
      },
      'partition state loaded',
    );
  }

  /**
   * After a fenced or lost commit: the partition's state cannot be written on, so it is dropped; the partition
   * loads again from the store when it resumes (if it is still assigned here).
   */
  private dropState(task: PartitionTask, e: unknown): Promise<void> {
    const where = { topic: task.topic, partition: task.partition, err: e };
    // No checkpoint left at all (no owner epoch): after the reload, read again what was not acknowledged.
    if ((isLost(e) && e.stored === null) || (isFenced(e) && e.currentEpoch === null)) {
      task.resumeAt = isLost(e) ? Number(e.since) : task.readFrom;
    }
    if (isLost(e)) {
      this.logger.error(
        where,
        'the checkpoint store lost commits it had acknowledged (restarted from an older save?): the partition state is dropped and loaded again from what it holds',
      );
    } else {
      this.logger.warn(where, 'another member took this partition: its state is dropped and reloaded if it stays here');
    }
    return this.resetTask(task);
  }

  /** Forgets the partition's state (fenced): its checkpoint, engine, outputs and relay. */
  private async resetTask(task: PartitionTask): Promise<void> {
    task.checkpoint?.abandon();
    task.checkpoint = undefined;
    this.retireStream(task);
    task.outbox = { alerts: [], dlq: [], repartition: new Map() };
    task.next = 0;
    task.committed = -1;
    task.started = false;
    task.groupCommitted = undefined;
    const relay = task.relay;
    task.relay = undefined;
    if (relay) await Promise.race([relay.stop(), sleep(5000)]);
  }

  /**
   * Partitions of topics the rules no longer read, before the group is left: no other member will take them,
   * so their pending checkpoint is written and their outboxes are published now (bounded by drainTimeoutMs).
   * What does not make it (Redis or Kafka away) stays in Redis for the orphan sweep.
   */
  private async settleLeaving(leaving: PartitionTask[]): Promise<void> {
    const cp = this.deps.checkpointing;
    if (!cp || leaving.length === 0) return;
    await Promise.all(
      leaving.map((task) =>
        task.lane.run(async () => {
          if (task.dropped || task.paused || !task.checkpoint?.hasPending) return;
          await this.writeCheckpoint(task, task.checkpoint).catch((e) =>
            this.logger.warn({ err: e, topic: task.topic, partition: task.partition }, 'the last checkpoint of a partition no rule reads failed; the orphan sweep publishes what it holds'),
          );
        }),
      ),
    );
    const relays = leaving.map((t) => t.relay).filter((r): r is OutboxRelay => r !== undefined);
    if (relays.length > 0) await Promise.race([Promise.all(relays.map((r) => r.drain())), sleep(cp.drainTimeoutMs ?? 5000)]);
  }

  /** Runs the orphan sweep every quarter of STATE_ORPHAN_AFTER (at least 1 s, at most 10 min), jittered. */
  private scheduleOrphanSweep(): void {
    const afterMs = this.deps.checkpointing?.orphanAfterMs;
    if (afterMs === undefined || this.stopping) return;
    const every = Math.min(Math.max(afterMs / 4, 1000), 10 * 60_000);
    this.orphanTimer = setTimeout(() => {
      this.orphanSweeping = this.sweepOrphans(afterMs).finally(() => {
        this.orphanSweeping = undefined;
        this.scheduleOrphanSweep();
      });
    }, every * (0.8 + 0.4 * Math.random()));
    this.orphanTimer.unref?.();
  }

  private async sweepOrphans(afterMs: number): Promise<void> {
    const cp = this.deps.checkpointing!;
    const sweep = new OrphanSweep({
      store: cp.store,
      afterMs,
      assigned: () => this.groupAssignment(),
      reading: () => this.wantedTopics(),
      publish: (alerts) => this.publish(alerts),
      drainTimeoutMs: cp.drainTimeoutMs ?? 5000,
      stopped: () => this.stopping,
      onPublished: (alerts) => this.outboxPublished(alerts),
    });
    try {
      const report = await sweep.run();
      for (const tp of report.dropped) this.logger.info({ topic: tp.topic, partition: tp.partition }, 'removed the checkpoint of a partition no rule reads any more');
      if (report.published > 0) this.logger.info({ alerts: report.published }, 'published the alerts left in partitions no rule reads any more');
      for (const k of report.kept) {
        if (k.reason === 'error') this.logger.warn({ err: k.error, topic: k.tp.topic, partition: k.tp.partition }, 'removing an orphaned checkpoint failed; retrying at the next sweep');
      }
      cp.metrics?.orphansDropped(report.dropped.length);
    } catch (e) {
      this.logger.warn({ err: e }, 'looking for orphaned checkpoints failed; retrying at the next sweep');
    }
  }

  /** Alerts an outbox relay (a partition's, or the orphan sweep's) got acknowledged by Kafka: count, feed. */
  private outboxPublished(alerts: readonly Alert[]): void {
    this.metrics.alertsProduced(alerts.length);
    this.deps.checkpointing?.metrics?.relayPublished(alerts.length);
    void this.deps.feed?.publish(alerts).catch((e) => this.logger.warn({ err: e }, 'publishing alerts to the in-memory feed failed'));
  }

  /** Every topic the rules name (sources, missing ones included, and repartition topics), subscribed or not. */
  private wantedTopics(): ReadonlySet<string> {
    const t = this.topology;
    return new Set([
      ...[...this.rules.values()].map((r) => r.compiled.definition.source),
      ...t.sources.keys(),
      ...t.streams.keys(),
      ...t.internal.map((i) => i.topic),
      ...t.missing,
    ]);
  }

  /**
   * The partitions (`topic/partition`) assigned to the members of this consumer group, or null when that is
   * not known for sure: during a rebalance (the assignment is not complete), and until this replica is itself
   * a member of the stable group (a replica that cannot join, e.g. its topics cannot be created, must not
   * take an empty group for "nobody reads").
   */
  private async groupAssignment(): Promise<ReadonlySet<string> | null> {
    try {
      const { groups } = await this.admin.describeGroups([this.deps.options.groupId]);
      const group = groups.find((g) => g.groupId === this.deps.options.groupId);
      // A replica without rules does not decide either: one started with a broken RULES_DIR while the others
      // are down would otherwise see an empty group and remove everything they left.
      if (!group || this.rules.size === 0) return null;
      if (this.state !== 'joined' || group.state !== 'Stable' || !group.members.some((m) => m.memberId === this.memberId)) return null;
      const out = new Set<string>();
      for (const member of group.members) {
        const decoded = AssignerProtocol.MemberAssignment.decode(member.memberAssignment);
        if (decoded === null) return null;
        for (const [topic, partitions] of Object.entries(decoded.assignment)) for (const p of partitions) out.add(`${topic}/${p}`);
      }
      return out;
    } catch (e) {
      this.logger.warn({ err: e }, 'describing the consumer group failed');
      return null;
    }
  }

  /** A revoked partition: the batch in flight finished (its checkpoint written or abandoned); stop its relay. */
  private async releaseTask(task: PartitionTask): Promise<void> {
    if (task.paused) {
      task.paused = false;
      this.consumer?.resume([{ topic: task.topic, partitions: [task.partition] }]);
    }
    await this.resetTask(task);
  }

  /** Stops every relay; with `drain`, first lets them empty their outboxes (bounded). */
  private async stopRelays(drain: boolean): Promise<void> {
    const relays = [...this.tasks.values()].map((t) => t.relay).filter((r): r is OutboxRelay => r !== undefined);
    if (relays.length === 0) return;
    const timeout = this.deps.checkpointing?.drainTimeoutMs ?? 5000;
    if (drain) await Promise.race([Promise.all(relays.map((r) => r.drain())), sleep(timeout)]);
    await Promise.race([Promise.all(relays.map((r) => r.stop())), sleep(5000)]);
  }

  private async commit(task: PartitionTask): Promise<void> {
    const safe = task.safeOffset();
    const consumer = this.consumer;
    if (!task.started || safe <= task.committed || !consumer || task.dropped) return;
    // Checkpointing: the Kafka offset never passes the checkpoint written to the store.
    if (this.deps.checkpointing && (!task.checkpoint || task.checkpoint.hasPending)) return;
    try {
      await consumer.commitOffsets([{ topic: task.topic, partition: task.partition, offset: String(safe) }]);
      task.committed = safe;
    } catch (e) {
      // Typically a rebalance took the partition: its new owner reads from the last commit (at-least-once).
      this.logger.warn({ err: e, topic: task.topic, partition: task.partition, offset: safe }, 'committing the offset failed');
      throw e;
    }
  }

  /**
   * Sends with acks=all. A record larger than the broker accepts would block the partition forever: such
   * records are sent one by one and replaced (an alert without its events, a dead letter without its value).
   */
  private async send(topicMessages: TopicMessages[], alerts: readonly Alert[]): Promise<void> {
    try {
      await this.producer.sendBatch({ topicMessages, acks: -1 });
      this.metrics.kafkaUp(true);
    } catch (e) {
      if (!isTooLarge(e)) {
        this.fail(e, 'producing to Kafka failed; the batch is retried');
        this.metrics.kafkaUp(false);
        throw e;
      }
      const alertById = new Map(alerts.map((a) => [a.id, a]));
      for (const tm of topicMessages) {
        for (const message of tm.messages) {
          try {
            await this.producer.send({ topic: tm.topic, messages: [message], acks: -1 });
          } catch (err) {
            if (!isTooLarge(err)) throw err;
            const replacement = this.shrink(tm.topic, message, alertById);
            this.logger.warn({ topic: tm.topic, bytes: byteLength(message.value) }, 'a record is larger than the topic accepts: sending it truncated');
            await this.producer.send({ topic: tm.topic, messages: [replacement], acks: -1 });
          }
        }
      }
    }
  }

  private shrink(topic: string, message: Message, alertById: Map<string, Alert>): Message {
    if (topic === this.deps.options.alertsTopic) {
      const id = (JSON.parse(String(message.value)) as { id: string }).id;
      const alert = alertById.get(id);
      if (alert) return truncatedAlertMessage(alert);
    }
    return {
      key: message.key,
      value: null,
      headers: { ...message.headers, 'cepheus.truncated': String(byteLength(message.value)) },
      ...(message.partition !== undefined ? { partition: message.partition } : {}),
    };
  }

  // ------------------------------------------------------------------------------------------
  // Ticks: idle watermarks, pending outputs
  // ------------------------------------------------------------------------------------------

  private tick(): void {
    if (this.stopping) return;
    const now = this.now();
    const idleAfter = Math.max(1000, 3 * this.deps.options.maxWaitMs);
    for (const task of this.tasks.values()) {
      if (task.tickQueued || task.paused || (this.deps.checkpointing && !task.checkpoint)) continue;
      const pending = !task.outboxEmpty() || (task.started && task.safeOffset() > task.committed) || task.checkpoint?.hasPending === true;
      const announce =
        task.caughtUp &&
        now - task.lastActive >= idleAfter &&
        now - task.idleAnnouncedAt >= IDLE_MARK_EVERY_MS &&
        this.repartitionsInEventTime(task.topic) &&
        this.readToEnd(task, now);
      const evict = task.checkpoint?.evictionDue(now) === true;
      // waitsForKeys: keys to reload; hasOutput: what a rule change released (StreamPartition.setRules).
      if (!pending && !announce && !task.stream?.ticks && !evict && !task.stream?.waitsForKeys && !task.stream?.hasOutput) continue;
      task.tickQueued = true;
      const activeAt = task.lastActive;
      void task.lane
        .run(async () => {
          task.tickQueued = false;
          if (task.dropped || this.stopping) return;
          // Not after a batch (or a load) that ran in the lane since: what it read may not have been the end.
          if (announce && task.lastActive === activeAt) this.announceIdle(task);
          if (task.stream) {
            // The wall-clock rule only while the broker confirms there is nothing left to read: a partition that
            // gets nothing because Kafka does not answer (or because it is behind) is not idle, and the time
            // Kafka did not answer is not quiet time.
            if (task.stream.timeMode === 'processing') task.stream.tick(this.now());
            else if (task.stream.ticks) {
              this.confirmEnds(task.topic);
              const fresh = this.now() - task.endAnsweredAt <= END_CONFIRMED_FOR_MS;
              if (!fresh) task.endUnconfirmed = true;
              else {
                if (task.endUnconfirmed) task.stream.resumeQuietTime(task.endConfirmedAt);
                task.endUnconfirmed = false;
                // Quiet only up to the confirmation: records may have come since (a stalled consumer, e.g. in a
                // rebalance, reads nothing while they pile up), and counting that time made them late.
                task.stream.tick(this.now(), task.endConfirmedAt);
              }
            }
            // The clock reached a timer of a key evicted with it (or did so before a failed reload): bring the key
            // back. If Redis cannot be read, the partition pauses (checked below) and a later tick tries again.
            if (task.stream.waitsForKeys && task.checkpoint) await this.reloadColdKeys(task, task.stream, []);
            this.collect(task, this.topology.streams.get(task.topic));
          }
          if (task.paused) return;
          if (!task.outboxEmpty() || (task.started && task.safeOffset() > task.committed) || task.checkpoint?.hasPending) await this.flush(task);
          // A quiet partition's keys go cold too (keys the tick changed are not evicted before their checkpoint).
          else if (task.checkpoint) this.evictColdKeys(task, task.checkpoint);
        })
        .catch(() => {
          task.tickQueued = false;
        });
    }
  }

  /**
   * Asks the broker for the topic's end offsets (at most once a second per topic) and records, for each owned
   * partition with nothing left to read, when that was confirmed. A partition with no position yet (nothing
   * read since its assignment, no checkpoint) starts where the group committed, so its end is compared with
   * that. A failed request confirms nothing.
   */
  private confirmEnds(topic: string): void {
    // The answer holds from the moment of asking: nothing was past the end offset then.
    const askedAt = this.now();
    if (this.endsAsked.has(topic) || askedAt - (this.endsAt.get(topic) ?? Number.NEGATIVE_INFINITY) < 1000) return;
    this.endsAsked.add(topic);
    // The task objects asked for, in this generation: an answer must not fill a task of a later assignment.
    const generation = this.generation;
    const unasked = new Set([...this.tasks.values()].filter((t) => t.topic === topic && !t.started && t.groupCommitted === undefined));
    const { groupId, fromBeginning } = this.deps.options;
    // Settled apart: the group coordinator failing over must not stop the confirmations of started partitions.
    const committedOffsets = unasked.size > 0 ? this.admin.fetchOffsets({ groupId, topics: [topic] }).catch(() => undefined) : undefined;
    Promise.all([this.admin.fetchTopicOffsets(topic), committedOffsets])
      .then(([ends, group]) => {
        const answeredAt = this.now();
        this.endsAt.set(topic, answeredAt);
        // Where a partition with nothing committed starts (internal topics always from their beginning).
        const startsAtLogStart = fromBeginning || this.topology.internal.some((t) => t.topic === topic);
        for (const p of group?.[0]?.partitions ?? []) {
          const task = this.tasks.get(`${topic}/${p.partition}`);
          if (task && unasked.has(task) && generation === this.generation && !task.started && task.groupCommitted === undefined) {
            task.groupCommitted = Number(p.offset);
          }
        }
        for (const e of ends) {
          const task = this.tasks.get(`${topic}/${e.partition}`);
          if (!task) continue;
          const end = Number(e.high);
          // Records below the log start are gone: a position under it reads from the start.
          const low = Number(e.low);
          let readTo: number;
          if (task.started) readTo = task.next;
          else if (task.groupCommitted === undefined) continue;
          else if (task.groupCommitted >= 0) readTo = task.groupCommitted;
          else if (startsAtLogStart) readTo = low;
          // `latest` with nothing committed: the consumer starts at the end as of its first fetch. Records that
          // came between that fetch and this answer count as read although they are still to come: a window
          // of milliseconds unless the consumer stalls right after its assignment (docs/kafka.md).
          else readTo = end;
          // Read to the end, or only transaction markers after what was read at the last batch.
          if (end <= Math.max(readTo, low) || (task.caughtUp && end === task.highWatermark)) {
            task.endConfirmedAt = askedAt;
            task.endAnsweredAt = answeredAt;
          }
        }
      })
      .catch(() => undefined)
      .finally(() => this.endsAsked.delete(topic));
  }

  /**
   * Whether a source partition may say it is caught up (an idle mark): the broker must have confirmed, since
   * its last batch (or its assignment or load) and lately, that nothing is left to read. A consumer stalled
   * by a rebalance or a broker outage reads nothing while records pile up, and a partition just assigned may
   * have a backlog; a mark then made their events late downstream.
   */
  private readToEnd(task: PartitionTask, now: number): boolean {
    this.confirmEnds(task.topic);
    return task.endConfirmedAt >= task.lastActive && now - task.endAnsweredAt <= IDLE_MARK_CONFIRMED_WITHIN_MS;
  }

  private repartitionsInEventTime(topic: string): boolean {
    const source = this.topology.sources.get(topic);
    return source !== undefined && source.targets.length > 0 && source.settings.timeMode === 'event';
  }

  /**
   * A source partition with nothing new to read (caught up at its last batch, or never given any, and no
   * batch since) tells every partition of its repartition topics, so that it does not hold their watermarks
   * back until `idleTimeout`. Its next record makes it count again.
   */
  private announceIdle(task: PartitionTask): void {
    const source = this.topology.sources.get(task.topic);
    if (!source) return;
    const position = { topic: task.topic, partition: task.partition, offset: String(Math.max(0, task.next - 1)) };
    for (const target of source.targets) {
      const parts = this.internalPartitions.get(target.topic) ?? target.partitions;
      let list = task.outbox.repartition.get(target.topic);
      if (!list) task.outbox.repartition.set(target.topic, (list = []));
      for (let p = 0; p < parts; p++) list.push(idleMark(position, p));
    }
    task.idleAnnouncedAt = this.now();
  }

  private fail(e: unknown, message: string): void {
    this.lastError = (e as Error)?.message ?? String(e);
    this.logger.warn({ err: e }, message);
  }
}

type PauseReason = 'unavailable' | 'outbox' | 'fenced' | 'error';

function isTooLarge(e: unknown): boolean {
  for (let c: unknown = e; c; c = (c as { cause?: unknown; originalError?: unknown }).originalError ?? (c as { cause?: unknown }).cause) {
    if ((c as { type?: string }).type === 'MESSAGE_TOO_LARGE' || (c as { type?: string }).type === 'RECORD_LIST_TOO_LARGE') return true;
  }
  return false;
}

function byteLength(v: Message['value']): number {
  return v === null || v === undefined ? 0 : typeof v === 'string' ? Buffer.byteLength(v) : v.length;
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms).unref?.());
}

/**
 * cep_state_dormant_keys: the evicted keys the engine keeps a time for, a pending timer (reloaded when due) or
 * the end of a sequence key's runs (deleted then).
 */
function dormantOf(engine: { dormantCount: number; expiringEvictedCount: number }): number {
  return engine.dormantCount + engine.expiringEvictedCount;
}
