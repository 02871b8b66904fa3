import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';

export class RuleProblemDto {
  @ApiProperty({ description: '1-based line in the text that was sent', example: 3 }) line!: number;
  @ApiProperty({ description: '1-based column', example: 1 }) column!: number;
  @ApiProperty({ example: "unknown key 'severty'; did you mean 'severity'?" }) message!: string;
  @ApiPropertyOptional({ description: 'The line of the text sent, and a caret line under the offending text', example: 'severty: warning\n^^^^^^^' })
  excerpt?: string;
}

class RuleEventShapeDto {
  @ApiProperty({ example: 'type' }) typeField!: string;
  @ApiProperty({ example: 'timestamp' }) timeField!: string;
}

class ShadowsDto {
  @ApiProperty({ enum: ['api'] }) origin!: string;
  @ApiProperty() version!: number;
}

export class RuleDto {
  @ApiProperty({ example: 'brute-force-login' }) id!: string;
  @ApiProperty({ description: 'Current version: REST writes, or file reloads that changed the rule', example: 1 }) version!: number;
  @ApiProperty({ enum: ['file', 'api'], description: 'Where the rule comes from: RULES_DIR or the REST API' }) origin!: string;
  @ApiPropertyOptional({ description: 'File rules: the file, relative to RULES_DIR' }) file?: string;
  @ApiProperty() enabled!: boolean;
  @ApiProperty({
    enum: ['running', 'disabled', 'shadowed'],
    description: 'shadowed: a REST rule whose id a rule file now defines (files win); it does not run',
  })
  status!: string;
  @ApiPropertyOptional() description?: string;
  @ApiProperty({ enum: ['info', 'warning', 'critical'] }) severity!: string;
  @ApiProperty({ description: 'Source topic (Kafka mode); HTTP events reach every rule', example: 'auth-events' }) source!: string;
  @ApiPropertyOptional() partitionBy?: string;
  @ApiPropertyOptional() keyedBy?: string;
  @ApiProperty({ example: 'every a=login_failed -> b=login_succeeded(user_id = a.user_id) where timer:within(5 min)' }) pattern!: string;
  @ApiProperty({ type: 'object', additionalProperties: { type: 'string' } }) emit!: Record<string, string>;
  @ApiProperty({ type: 'object', additionalProperties: { type: 'string' } }) labels!: Record<string, string>;
  @ApiProperty({ type: RuleEventShapeDto }) event!: RuleEventShapeDto;
  @ApiPropertyOptional({ enum: ['yaml', 'json', 'cep'], description: 'REST rules: the format the text was sent in' }) format?: string;
  @ApiPropertyOptional({ description: 'REST rules: the text as sent' }) text?: string;
  @ApiProperty({ description: 'When this version was written (REST) or loaded (file), ISO-8601' }) updatedAt!: string;
  @ApiProperty({ type: [RuleProblemDto], description: 'Compiler warnings' }) warnings!: RuleProblemDto[];
  @ApiPropertyOptional({ type: ShadowsDto, description: 'File rules: the REST rule with the same id that this file rule shadows' })
  shadows?: ShadowsDto;
}

export class RuleVersionDto {
  @ApiProperty() id!: string;
  @ApiProperty() version!: number;
  @ApiProperty() createdAt!: string;
  @ApiProperty({ enum: ['create', 'update', 'enable', 'disable', 'rollback', 'file'] }) change!: string;
  @ApiProperty() enabled!: boolean;
  @ApiPropertyOptional({ enum: ['yaml', 'json', 'cep'] }) format?: string;
  @ApiPropertyOptional() text?: string;
  @ApiPropertyOptional({ description: 'rollback: the version restored' }) restoredFrom?: number;
  @ApiPropertyOptional({ description: 'File rules: the file read' }) file?: string;
  @ApiPropertyOptional({ description: 'File rules: the definition read', type: 'object', additionalProperties: true })
  definition?: Record<string, unknown>;
}

export class RollbackDto {
  @ApiProperty({ description: 'The version to make current again (as a new version)', example: 1 }) version!: number;
}

export class ValidateResponseDto {
  @ApiProperty({ example: true }) valid!: boolean;
  @ApiProperty({ example: 'brute-force-login' }) id!: string;
  @ApiProperty({ type: [RuleProblemDto] }) warnings!: RuleProblemDto[];
}
