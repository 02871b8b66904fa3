/**
 * Kubernetes probes (@nestjs/terminus).
 * - live: the process answers.
 * - ready: the rules are loaded and the service is not shutting down; in Kafka/Redis mode (issues 4-5) also
 *   the consumer joined and Redis reachable.
 */
import { Controller, Get } from '@nestjs/common';
import { ApiOperation, ApiServiceUnavailableResponse, ApiTags } from '@nestjs/swagger';
import { HealthCheck, HealthCheckService, HealthIndicatorService } from '@nestjs/terminus';
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
  ) {}

  @Get('live')
  @HealthCheck()
  @ApiOperation({ summary: 'Liveness: the process answers' })
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
    ]);
  }
}
