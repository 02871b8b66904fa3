import { ApiProperty } from '@nestjs/swagger';

export class RejectedEventDto {
  @ApiProperty({ description: '0-based position of the event in the request (array element, or non-blank NDJSON line)', example: 2 })
  index!: number;

  @ApiProperty({
    enum: ['invalid_json', 'not_an_object', 'missing_type', 'missing_time', 'processing_error'],
    description: 'invalid_json: an NDJSON line that is not JSON; missing_type / missing_time: no rule can read its type or time',
  })
  reason!: string;
}

export class IngestResponseDto {
  @ApiProperty({ description: 'Events processed by the engine', example: 3 })
  accepted!: number;

  @ApiProperty({ type: [RejectedEventDto] })
  rejected!: RejectedEventDto[];
}
