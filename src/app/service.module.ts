/**
 * The application layer, wired for the configured mode. Embedded mode (this issue): in-memory rule store and
 * alert buffer; Kafka and Redis implementations of the same ports plug in here (issues 4 and 5).
 */
import { DynamicModule, Module } from '@nestjs/common';
import { loadRuleFiles } from '../adapters/files/rule-files';
import { kafkaProviders } from '../adapters/kafka/kafka.providers';
import { MemoryAlertStore } from '../adapters/memory/memory-alert-store';
import { MemoryRuleStore } from '../adapters/memory/memory-rule-store';
import { PrometheusMetrics } from '../adapters/metrics/prometheus-metrics';
import type { ServiceConfig } from '../config/config';
import { engineLimits } from '../core/engine';
import type { RuleFileReader } from '../core/ports/rule-files';
import { AlertFactory } from './alerts/alert-factory';
import { EngineHost } from './engine/engine-host';
import { IngestPipeline } from './ingest/ingest-pipeline';
import { LifecycleService } from './lifecycle/lifecycle.service';
import { ServiceState } from './lifecycle/service-state';
import type { Logger } from './logging/logger';
import { FileRuleWatcher } from './rules/file-rules';
import { RuleRegistry } from './rules/rule-registry';
import { ALERT_FEED, ALERT_SINK, EVENT_INGRESS, LOGGER, RULE_FILES, RULE_STORE, SERVICE_METRICS } from './tokens';

@Module({})
export class ServiceModule {
  static forRoot(config: ServiceConfig, logger: Logger): DynamicModule {
    const metrics = new PrometheusMetrics();
    const alerts = new MemoryAlertStore(config.alertsBufferSize);
    const ruleFiles: RuleFileReader = { load: (path) => loadRuleFiles(path) };
    // Kafka mode: events from the rules' source topics (POST /events produces to one), alerts to ALERTS_TOPIC.
    const kafka = config.kafka
      ? kafkaProviders(config.kafka, {
          metrics,
          feed: alerts,
          limits: engineLimits(config),
          maxEventFutureMs: config.maxEventFutureMs,
          redis: config.redis,
        })
      : undefined;
    return {
      module: ServiceModule,
      global: true,
      providers: [
        { provide: LOGGER, useValue: logger },
        { provide: PrometheusMetrics, useValue: metrics },
        { provide: SERVICE_METRICS, useValue: metrics },
        { provide: MemoryAlertStore, useValue: alerts },
        { provide: ALERT_SINK, useValue: alerts },
        { provide: ALERT_FEED, useValue: alerts },
        { provide: RULE_STORE, useFactory: () => new MemoryRuleStore() },
        { provide: RULE_FILES, useValue: ruleFiles },
        {
          provide: EngineHost,
          useFactory: () => {
            const host = new EngineHost(config);
            metrics.setEngineSource(host);
            return host;
          },
        },
        AlertFactory,
        IngestPipeline,
        ...(kafka ? [] : [{ provide: EVENT_INGRESS, useExisting: IngestPipeline }]),
        RuleRegistry,
        FileRuleWatcher,
        ServiceState,
        LifecycleService,
        ...(kafka?.providers ?? []),
      ],
      exports: [
        LOGGER,
        PrometheusMetrics,
        SERVICE_METRICS,
        ALERT_SINK,
        ALERT_FEED,
        RULE_STORE,
        EngineHost,
        AlertFactory,
        IngestPipeline,
        EVENT_INGRESS,
        RuleRegistry,
        FileRuleWatcher,
        ServiceState,
        ...(kafka?.exports ?? []),
      ],
    };
  }
}
