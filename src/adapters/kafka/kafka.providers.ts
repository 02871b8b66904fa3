/**
 * Kafka mode's NestJS wiring: the KafkaStreams runtime (a provider, not a @nestjs/microservices transport:
 * that transport has no eachBatch), the ingress of POST /events (to a source topic), and the lifecycle that
 * feeds it the running rules and stops it gracefully.
 */
import { BeforeApplicationShutdown, Inject, Injectable, OnApplicationBootstrap, OnApplicationShutdown, Optional, type Provider } from '@nestjs/common';
import { AlertFactory } from '../../app/alerts/alert-factory';
import { EngineHost } from '../../app/engine/engine-host';
import type { Logger } from '../../app/logging/logger';
import { EVENT_INGRESS, LOGGER } from '../../app/tokens';
import type { EngineLimits, EvictionSettings } from '../../core/engine';
import type { CheckpointLimits } from '../../core/ports/checkpoint-store';
import { sumByRule, sumByRuleAndReason, type EngineGaugeSource } from '../../core/ports/metrics';
import type { MemoryAlertStore } from '../memory/memory-alert-store';
import type { PrometheusMetrics } from '../metrics/prometheus-metrics';
import { PrometheusCheckpointMetrics } from '../redis/checkpoint-metrics';
import { RedisAvailability } from '../redis/redis-availability';
import { RedisCheckpointStore } from '../redis/redis-checkpoint-store';
import { closeRedisClient, createRedisClient, type RedisClient } from '../redis/redis-connection';
import { KafkaEventIngress } from './kafka-event-ingress';
import { PrometheusKafkaMetrics } from './kafka-metrics';
import type { KafkaOptions } from './kafka-options';
import { KafkaStreams, type KafkaCheckpointing } from './kafka-streams';

/**
 * Redis state (REDIS_URL): the client, its availability guard (readiness, pause/resume) and the checkpoint
 * store. Created with the streams, closed after them.
 */
export class RedisState {
  readonly client: RedisClient;
  readonly guard: RedisAvailability;
  readonly store: RedisCheckpointStore;
  private readonly metrics: PrometheusCheckpointMetrics;

  /** Keys are `cep:<group id>:{topic:partition}:…`: the state belongs to the consumer group (the deployment). */
  constructor(
    url: string,
    groupId: string,
    logger: Logger,
    metrics: PrometheusMetrics,
    private readonly eviction?: EvictionSettings,
    limits?: Partial<CheckpointLimits>,
    private readonly orphanAfterMs: number | null = null,
  ) {
    const log = logger.child({ component: 'redis' });
    this.client = createRedisClient(url, { log });
    this.guard = new RedisAvailability(this.client, { log });
    this.store = new RedisCheckpointStore(this.client, { prefix: `cep:${groupId}`, limits, onUnavailable: (e) => this.guard.reportFailure(e) });
    this.metrics = new PrometheusCheckpointMetrics(metrics.registry);
    metrics.dependencyUp.set({ dependency: 'redis' }, this.guard.ready ? 1 : 0);
    this.guard.onChange((up) => metrics.dependencyUp.set({ dependency: 'redis' }, up ? 1 : 0));
  }

  checkpointing(): KafkaCheckpointing {
    return {
      store: this.store,
      guard: this.guard,
      metrics: this.metrics,
      ...(this.eviction ? { eviction: this.eviction } : {}),
      ...(this.orphanAfterMs !== null ? { orphanAfterMs: this.orphanAfterMs } : {}),
    };
  }

  async close(): Promise<void> {
    this.guard.stop();
    await closeRedisClient(this.client);
  }
}

/** Engine gauges over the engine host (every running rule; idle in Kafka mode) and every partition's engine. */
export class CombinedEngineGauges implements EngineGaugeSource {
  constructor(private readonly sources: EngineGaugeSource[]) {}

  partialMatches(): Map<string, number> {
    return sumByRule(this.sources.map((s) => s.partialMatches()));
  }

  keysInMemory(): Map<string, number> {
    return sumByRule(this.sources.map((s) => s.keysInMemory()));
  }

  droppedPartialMatches(): Map<string, Map<string, number>> {
    return sumByRuleAndReason(this.sources.map((s) => s.droppedPartialMatches()));
  }

  keysFreed(): Map<string, number> {
    return sumByRule(this.sources.map((s) => s.keysFreed()));
  }
}

/** Feeds KafkaStreams the running rules, starts it after the rules are installed, stops it on shutdown. */
@Injectable()
export class KafkaLifecycle implements OnApplicationBootstrap, BeforeApplicationShutdown, OnApplicationShutdown {
  private unsubscribe: (() => void) | undefined;

  constructor(
    private readonly streams: KafkaStreams,
    private readonly host: EngineHost,
    @Inject(LOGGER) private readonly logger: Logger,
    @Optional() private readonly redis?: RedisState,
  ) {}

  onApplicationBootstrap(): void {
    this.unsubscribe = this.host.onApply((running) => this.streams.setRules(running));
    this.streams.setRules(this.host.runningRules());
    // Not awaited: while Kafka is unreachable the service runs (liveness) and is not ready (readiness).
    this.streams.start().catch((e) => this.logger.error({ err: e }, 'starting Kafka mode failed'));
  }

  /** Stop consuming first: the batch in flight finishes, its effects are produced and its offsets committed. */
  async beforeApplicationShutdown(): Promise<void> {
    this.unsubscribe?.();
    await this.streams.stopConsuming();
  }

  async onApplicationShutdown(): Promise<void> {
    await this.streams.stop();
    await this.redis?.close().catch((e) => this.logger.warn({ err: e }, 'closing the Redis connection failed'));
  }
}

export interface KafkaWiring {
  providers: Provider[];
  exports: Array<string | symbol | (abstract new (...args: never[]) => unknown)>;
}

/** The providers of Kafka mode; EVENT_INGRESS replaces the engine of embedded mode for POST /events. */
export function kafkaProviders(
  options: KafkaOptions,
  deps: {
    metrics: PrometheusMetrics;
    feed: MemoryAlertStore;
    /** The engines' limits (MAX_PARTIAL_MATCHES_PER_KEY, TIMER_CATCH_UP_LIMIT, TIMER_MOVE_LIMIT). */
    limits: EngineLimits;
    /** EVENT_MAX_FUTURE (null or absent: no bound). */
    maxEventFutureMs?: number | null;
    redis?: { url: string; eviction?: EvictionSettings; limits?: Partial<CheckpointLimits>; orphanAfterMs?: number | null } | null;
  },
): KafkaWiring {
  const redis = deps.redis;
  const kafkaMetrics = new PrometheusKafkaMetrics(deps.metrics);
  return {
    providers: [
      ...(redis ? [{ provide: RedisState, useFactory: (logger: Logger) => new RedisState(redis.url, options.groupId, logger, deps.metrics, redis.eviction, redis.limits, redis.orphanAfterMs ?? null), inject: [LOGGER] }] : []),
      {
        provide: KafkaStreams,
        useFactory: (alerts: AlertFactory, logger: Logger, host: EngineHost, state?: RedisState) => {
          const streams = new KafkaStreams({
            options,
            logger,
            alerts,
            feed: deps.feed,
            metrics: kafkaMetrics,
            limits: deps.limits,
            maxEventFutureMs: deps.maxEventFutureMs ?? null,
            ...(state ? { checkpointing: state.checkpointing() } : {}),
          });
          deps.metrics.setEngineSource(new CombinedEngineGauges([host, streams]));
          return streams;
        },
        inject: [AlertFactory, LOGGER, EngineHost, ...(redis ? [RedisState] : [])],
      },
      {
        provide: EVENT_INGRESS,
        useFactory: (streams: KafkaStreams) => new KafkaEventIngress(streams, { maxEventBytes: options.maxEventBytes, maxEventFutureMs: deps.maxEventFutureMs ?? null }, kafkaMetrics),
        inject: [KafkaStreams],
      },
      KafkaLifecycle,
    ],
    exports: [KafkaStreams, ...(redis ? [RedisState] : [])],
  };
}
