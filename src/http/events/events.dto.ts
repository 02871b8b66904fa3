import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';

export class RejectedEventDto {
  @ApiProperty({ description: '0-based position of the event in the request (array element, or non-blank NDJSON line)', example: 2 })
  index!: number;

  @ApiProperty({
    enum: ['invalid_json', 'too_deep', 'not_an_object', 'missing_type', 'missing_time', 'future_time', 'processing_error', 'oversize', 'missing_key'],
    description:
      'invalid_json: an NDJSON line that is not JSON; too_deep: arrays and objects nested more than 512 levels; ' +
      'missing_type / missing_time: no rule can read its type or time; future_time: a time more than EVENT_MAX_FUTURE ahead; ' +
      'Kafka mode: oversize (larger than KAFKA_MAX_EVENT_BYTES), missing_key (the partitioned rules find no key)',
  })
  reason!: string;
}

export class IngestResponseDto {
  @ApiProperty({ description: 'Embedded mode: events processed by the engine. Kafka mode: events acknowledged by Kafka on `topic`', example: 3 })
  accepted!: number;

  @ApiProperty({ type: [RejectedEventDto] })
  rejected!: RejectedEventDto[];

  @ApiPropertyOptional({ description: 'Kafka mode: the source topic the events were produced to', example: 'auth-events' })
  topic?: string;
}
