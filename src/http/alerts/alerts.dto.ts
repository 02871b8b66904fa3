import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';

export class AlertDto {
  @ApiProperty({ description: 'Deterministic id: the same match always gets the same id', example: '3f1c9a0d2b7e4f5a8c6d1e2f3a4b5c6d' })
  id!: string;

  @ApiProperty({ example: 'brute-force-login' })
  rule!: string;

  @ApiProperty({ nullable: true, type: String, description: 'Partition key of a partitioned rule, else null', example: 'u1' })
  key!: string | null;

  @ApiProperty({ description: 'Epoch ms at which the match completed (event time)', example: 1700000300000 })
  time!: number;

  @ApiProperty({
    description: 'Each tag of the pattern → its event, an array of events for a repeated tag, or null when unbound',
    type: 'object',
    additionalProperties: true,
  })
  events!: Record<string, unknown>;

  @ApiProperty({ description: "The rule's emit fields", type: 'object', additionalProperties: true })
  fields!: Record<string, unknown>;

  @ApiProperty({ description: 'Version of the rule that matched', example: 1 })
  ruleVersion!: number;

  @ApiProperty({ enum: ['info', 'warning', 'critical'] })
  severity!: string;

  @ApiPropertyOptional({ type: 'object', additionalProperties: { type: 'string' } })
  labels!: Record<string, string>;
}
