import { Controller, HttpCode, Inject, Post, Req } from '@nestjs/common';
import {
  ApiBadRequestResponse,
  ApiBearerAuth,
  ApiBody,
  ApiConsumes,
  ApiOperation,
  ApiPayloadTooLargeResponse,
  ApiResponse,
  ApiServiceUnavailableResponse,
  ApiTags,
  ApiUnauthorizedResponse,
  ApiUnsupportedMediaTypeResponse,
} from '@nestjs/swagger';
import type { Request } from 'express';
import { IngestPipeline } from '../../app/ingest/ingest-pipeline';
import type { ServiceConfig } from '../../config/config';
import { SERVICE_CONFIG } from '../../config/config.module';
import { assertUtf8, mediaType, readBody } from '../common/body';
import { ErrorDto } from '../common/error.dto';
import { IngestResponseDto } from './events.dto';
import { eventsBodyKind, parseEventsBody } from './events-body';

@ApiTags('events')
@Controller('events')
export class EventsController {
  constructor(
    private readonly pipeline: IngestPipeline,
    @Inject(SERVICE_CONFIG) private readonly config: ServiceConfig,
  ) {}

  @Post()
  @HttpCode(202)
  @ApiOperation({
    summary: 'Ingest events',
    description:
      'One JSON event, a JSON array of events, or JSON lines (application/x-ndjson). Events are processed in order by ' +
      'every enabled rule (whatever its `source`), exactly as `cepheus replay` does. Rejected events are listed and ' +
      'counted; they never stop the others. Limits: EVENTS_MAX_BODY_BYTES (1 MiB) and EVENTS_MAX_PER_REQUEST (10000).',
  })
  @ApiConsumes('application/json', 'application/x-ndjson')
  @ApiBody({
    schema: {
      oneOf: [
        { type: 'object', additionalProperties: true, example: { type: 'login_failed', user_id: 'u1', timestamp: 1700000000000 } },
        { type: 'array', items: { type: 'object', additionalProperties: true } },
        { type: 'string', description: 'JSON lines: one event per line' },
      ],
    },
  })
  @ApiResponse({ status: 202, type: IngestResponseDto, description: 'Processed; matches are in GET /alerts' })
  @ApiBadRequestResponse({ type: ErrorDto, description: 'The body is not valid JSON (application/json)' })
  @ApiUnauthorizedResponse({ type: ErrorDto })
  @ApiPayloadTooLargeResponse({ type: ErrorDto, description: 'Body or event count past its limit' })
  @ApiUnsupportedMediaTypeResponse({ type: ErrorDto })
  @ApiServiceUnavailableResponse({ type: ErrorDto, description: 'Shutting down' })
  @ApiBearerAuth()
  async ingest(@Req() req: Request): Promise<IngestResponseDto> {
    // The type is checked before the body is read: a wrong client is told at once.
    const kind = eventsBodyKind(mediaType(req));
    assertUtf8(req);
    const text = await readBody(req, this.config.limits.eventsBodyBytes, 'the events body');
    const events = parseEventsBody(text, kind, this.config.limits.eventsPerRequest);
    const { accepted, rejected } = await this.pipeline.ingest({ source: 'http', events });
    return { accepted, rejected };
  }
}
