import { BadRequestException, Controller, HttpCode, Inject, Post, Query, Req } from '@nestjs/common';
import {
  ApiBadRequestResponse,
  ApiBearerAuth,
  ApiBody,
  ApiConsumes,
  ApiOperation,
  ApiConflictResponse,
  ApiNotFoundResponse,
  ApiPayloadTooLargeResponse,
  ApiQuery,
  ApiResponse,
  ApiServiceUnavailableResponse,
  ApiTags,
  ApiUnauthorizedResponse,
  ApiUnsupportedMediaTypeResponse,
} from '@nestjs/swagger';
import type { Request } from 'express';
import { EVENT_INGRESS } from '../../app/tokens';
import type { EventIngress } from '../../core/ports/event-batch';
import type { ServiceConfig } from '../../config/config';
import { SERVICE_CONFIG } from '../../config/config.module';
import { assertUtf8, mediaType, readBody, readBodyBytes } from '../common/body';
import { ErrorDto } from '../common/error.dto';
import { singleQueryValue } from '../common/query';
import { IngestResponseDto } from './events.dto';
import { eventsBodyKind, NDJSON_TYPES, parseEventsBody, parseNdjsonBytes } from './events-body';

@ApiTags('events')
@Controller('events')
export class EventsController {
  constructor(
    @Inject(EVENT_INGRESS) private readonly ingress: EventIngress,
    @Inject(SERVICE_CONFIG) private readonly config: ServiceConfig,
  ) {}

  @Post()
  @HttpCode(202)
  @ApiOperation({
    summary: 'Ingest events',
    description:
      'One JSON event or a JSON array of events (application/json, or any type/subtype+json), or JSON lines ' +
      '(application/x-ndjson, application/ndjson, application/jsonl, application/x-jsonlines, application/jsonlines). ' +
      'A charset other than UTF-8 is refused (415); in embedded mode `topic` is refused (400) before the body is read. Embedded mode: events are processed ' +
      'in order by every enabled rule (whatever its `source`), exactly as `cepheus replay` does. Kafka mode: they are ' +
      'produced, in order, to a source topic (`topic`, or the only source of the running rules), keyed as its rules ' +
      'declare (`keyedBy`), and answered once Kafka acknowledged them; the replica owning their partition matches them ' +
      'with checkpoints like any other record. Rejected events are listed and counted; they never stop the others. ' +
      'Limits: EVENTS_MAX_BODY_BYTES (1 MiB) and EVENTS_MAX_PER_REQUEST (10000).',
  })
  @ApiConsumes('application/json', ...NDJSON_TYPES)
  @ApiQuery({
    name: 'topic',
    required: false,
    description: "Kafka mode: the source topic to produce to, one a running rule reads. Not needed when the rules read one topic; refused in embedded mode.",
  })
  @ApiBody({
    schema: {
      oneOf: [
        { type: 'object', additionalProperties: true, example: { type: 'login_failed', user_id: 'u1', timestamp: 1700000000000 } },
        { type: 'array', items: { type: 'object', additionalProperties: true } },
        { type: 'string', description: 'JSON lines: one event per line' },
      ],
    },
  })
  @ApiResponse({
    status: 202,
    type: IngestResponseDto,
    description: 'Embedded mode: processed, matches are in GET /alerts. Kafka mode: acknowledged by Kafka on `topic`; matches follow on the alerts topic and in GET /alerts',
  })
  @ApiBadRequestResponse({
    type: ErrorDto,
    description:
      'The body is empty, not valid JSON or not valid UTF-8 (application/json); `topic` is empty or given more than once, ' +
      'given in embedded mode, or missing while the rules read several topics (Kafka mode)',
  })
  @ApiNotFoundResponse({ type: ErrorDto, description: 'Kafka mode: no running rule reads `topic`' })
  @ApiConflictResponse({ type: ErrorDto, description: 'Kafka mode: the topic does not exist, no rule is running, or its rules expect different record keys' })
  @ApiUnauthorizedResponse({ type: ErrorDto, description: 'API_TOKEN is set and the bearer token is missing or wrong' })
  @ApiPayloadTooLargeResponse({
    type: ErrorDto,
    description: 'Body or event count past its limit; Kafka mode: events the broker refused as too large (with `written` and `retryFrom` when earlier events of the request were acknowledged)',
  })
  @ApiUnsupportedMediaTypeResponse({ type: ErrorDto, description: 'Another Content-Type, or a charset other than UTF-8' })
  @ApiServiceUnavailableResponse({
    type: ErrorDto,
    description:
      'Shutting down; Kafka mode: Kafka unreachable or did not acknowledge. Kafka mode adds `written` (usable events acknowledged) and `retryFrom` (request index of the first event not acknowledged): retry from there',
  })
  @ApiBearerAuth()
  async ingest(@Req() req: Request, @Query('topic') rawTopic?: unknown): Promise<IngestResponseDto> {
    const topic = singleQueryValue('topic', rawTopic);
    if (topic === '') throw new BadRequestException('topic must not be empty');
    const target = topic === undefined ? undefined : { topic };
    // The type and the target are checked before the body is read: a wrong client is told at once.
    const kind = eventsBodyKind(mediaType(req));
    assertUtf8(req);
    this.ingress.checkTarget(target);
    const { eventsBodyBytes: limit, eventsPerRequest: max } = this.config.limits;
    const events =
      kind === 'json'
        ? parseEventsBody(await readBody(req, limit, 'the events body'), kind, max)
        : parseNdjsonBytes(await readBodyBytes(req, limit, 'the events body'), max);
    const result = await this.ingress.ingest({ source: 'http', events }, target);
    return { accepted: result.accepted, rejected: result.rejected, ...(result.topic !== undefined ? { topic: result.topic } : {}) };
  }
}
