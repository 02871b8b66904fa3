/**
 * Startup and graceful shutdown of the application layer.
 *
 * Startup (before the HTTP server listens): the rule files are loaded and compiled (an invalid set stops the
 * startup), the REST rules are loaded from the rule store, the set is installed in the engine, and RULES_DIR
 * is watched.
 *
 * Shutdown (SIGTERM): stop taking input (new writes get 503, the watcher stops, live streams end), wait for
 * the requests in flight, flush the alert sink; then Nest closes the HTTP server and the process exits 0.
 */
import {
  BeforeApplicationShutdown,
  Inject,
  Injectable,
  OnApplicationBootstrap,
  OnApplicationShutdown,
  OnModuleDestroy,
} from '@nestjs/common';
import { IngestPipeline } from '../ingest/ingest-pipeline';
import type { Logger } from '../logging/logger';
import { FileRuleWatcher } from '../rules/file-rules';
import { RuleRegistry } from '../rules/rule-registry';
import { LOGGER } from '../tokens';
import { ServiceState } from './service-state';

@Injectable()
export class LifecycleService implements OnApplicationBootstrap, OnModuleDestroy, BeforeApplicationShutdown, OnApplicationShutdown {
  constructor(
    private readonly state: ServiceState,
    private readonly registry: RuleRegistry,
    private readonly files: FileRuleWatcher,
    private readonly pipeline: IngestPipeline,
    @Inject(LOGGER) private readonly logger: Logger,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    const fileRules = await this.files.loadInitial();
    await this.registry.init(fileRules);
    this.files.start();
  }

  onModuleDestroy(): void {
    if (!this.state.draining) this.logger.info({ inFlight: this.state.inFlightCount }, 'shutting down: no new input is taken');
    this.state.startDraining();
    this.files.stop();
  }

  async beforeApplicationShutdown(): Promise<void> {
    await this.state.idle();
    this.pipeline.close();
    await this.files.settled();
    await this.pipeline.flush();
  }

  onApplicationShutdown(signal?: string): void {
    this.logger.info({ signal }, 'stopped');
  }
}
