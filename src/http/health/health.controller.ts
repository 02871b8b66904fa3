/**
 * Kubernetes probes (@nestjs/terminus).
 * - live: the process answers.
 * - ready: the rules are loaded and the service is not shutting down; in Kafka mode also the consumer joined
 *   its group, and with REDIS_URL Redis answers (while it does not, partitions pause and nothing is committed).
 */
import { Controller, Get, Optional } from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiServiceUnavailableResponse, ApiTags } from '@nestjs/swagger';
import { HealthCheck, HealthCheckService, HealthIndicatorService } from '@nestjs/terminus';
import { KafkaStreams } from '../../adapters/kafka/kafka-streams';
import { ServiceState } from '../../app/lifecycle/service-state';
import { RuleRegistry } from '../../app/rules/rule-registry';

@ApiTags('health')
@Controller('health')
export class HealthController {
  constructor(
    private readonly health: HealthCheckService,
    private readonly indicators: HealthIndicatorService,
    private readonly registry: RuleRegistry,
    private readonly state: ServiceState,
    /** Kafka mode only. */
    @Optional() private readonly kafka?: KafkaStreams,
  ) {}

  @Get('live')
  // Documented here: @HealthCheck's own documentation adds a 503, which liveness never answers.
  @HealthCheck({ noCache: true, swaggerDocumentation: false })
  @ApiOperation({ summary: 'Liveness: the process answers' })
  @ApiOkResponse({
    description: 'The process answers (always 200)',
    schema: { type: 'object', example: { status: 'ok', info: { process: { status: 'up', uptimeSeconds: 42 } }, error: {}, details: { process: { status: 'up', uptimeSeconds: 42 } } } },
  })
  live() {
    return this.health.check([() => this.indicators.check('process').up({ uptimeSeconds: Math.round(process.uptime()) })]);
  }

  @Get('ready')
  @HealthCheck()
  @ApiOperation({ summary: 'Readiness: rules loaded and not shutting down (503 otherwise)' })
  @ApiServiceUnavailableResponse({ description: 'Not ready' })
  ready() {
    return this.health.check([
      () => {
        const rules = this.indicators.check('rules');
        const counts = this.registry.counts();
        return this.registry.ready ? rules.up({ running: counts.running }) : rules.down({ message: 'rules not loaded yet' });
      },
      () => {
        const input = this.indicators.check('input');
        return this.state.draining ? input.down({ message: 'shutting down' }) : input.up();
      },
      ...(this.kafka ? [() => this.kafkaIndicator(this.kafka!)] : []),
      ...(this.kafka?.status().checkpoints ? [() => this.redisIndicator(this.kafka!)] : []),
    ]);
  }

  /** Redis state: the checkpoint store answers; paused partitions wait for it. */
  private redisIndicator(kafka: KafkaStreams) {
    const check = this.indicators.check('redis');
    const c = kafka.status().checkpoints!;
    const details = { pausedPartitions: c.paused.length, relaysWithPendingAlerts: c.pendingOutbox };
    return c.available ? check.up(details) : check.down({ ...details, message: 'Redis not reachable: checkpoints and consumption paused' });
  }

  /** Kafka mode: connected, and the consumer joined its group (when the rules have topics to read). */
  private kafkaIndicator(kafka: KafkaStreams) {
    const kafkaCheck = this.indicators.check('kafka');
    const s = kafka.status();
    const details = { state: s.state, topics: s.topics.length, partitions: Object.values(s.assigned).reduce((n, p) => n + p.length, 0), ...(s.missing.length > 0 ? { missingTopics: s.missing } : {}) };
    if (s.ready) return kafkaCheck.up(details);
    const message =
      s.state === 'connecting' ? 'Kafka not reachable yet' : s.state === 'joining' ? 'Kafka consumer not joined yet' : `Kafka consumer ${s.state}`;
    return kafkaCheck.down({ ...details, message, ...(s.lastError ? { lastError: s.lastError } : {}) });
  }
}
