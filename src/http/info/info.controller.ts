import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Controller, Get, Inject } from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiProperty, ApiTags } from '@nestjs/swagger';
import { RuleRegistry } from '../../app/rules/rule-registry';
import { serviceMode, type ServiceConfig, type ServiceMode } from '../../config/config';
import { SERVICE_CONFIG } from '../../config/config.module';

export class ServiceInfoDto {
  @ApiProperty({ example: 'cepheus' }) service!: string;
  @ApiProperty({ example: '0.1.0' }) version!: string;
  @ApiProperty({
    enum: ['embedded', 'kafka'],
    description: 'embedded: events over HTTP, state in memory; kafka: KAFKA_BROKERS is set, events come from Kafka topics (docs/kafka.md)',
  })
  mode!: ServiceMode;
  @ApiProperty({ description: 'Rules running' }) rules!: number;
  @ApiProperty({ example: '/docs' }) docs!: string;
}

let cachedVersion: string | undefined;
export function serviceVersion(): string {
  if (cachedVersion === undefined) {
    try {
      cachedVersion = (JSON.parse(readFileSync(join(__dirname, '..', '..', '..', 'package.json'), 'utf8')) as { version: string }).version;
    } catch {
      cachedVersion = 'unknown';
    }
  }
  return cachedVersion;
}

@ApiTags('service')
@Controller()
export class InfoController {
  constructor(
    private readonly registry: RuleRegistry,
    @Inject(SERVICE_CONFIG) private readonly config: ServiceConfig,
  ) {}

  @Get()
  @ApiOperation({ summary: 'What this service is, and where its API docs are' })
  @ApiOkResponse({ type: ServiceInfoDto })
  info(): ServiceInfoDto {
    return { service: 'cepheus', version: serviceVersion(), mode: serviceMode(this.config), rules: this.registry.counts().running, docs: '/docs' };
  }
}
