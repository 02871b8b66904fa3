/**
 * Rule management. Bodies are one rule as YAML (application/yaml), JSON (application/json) or .cep text
 * (text/plain), parsed and validated exactly like rule files; problems come back as 422 with
 * `[{"line","column","message","excerpt"}]` in the coordinates of the text sent.
 */
import { applyDecorators, BadRequestException, Controller, Delete, Get, HttpCode, Inject, Param, Post, Put, Query, Req, Res } from '@nestjs/common';
import {
  ApiBadRequestResponse,
  ApiBearerAuth,
  ApiBody,
  ApiConflictResponse,
  ApiConsumes,
  ApiCreatedResponse,
  ApiNoContentResponse,
  ApiNotFoundResponse,
  ApiOkResponse,
  ApiOperation,
  ApiParam,
  ApiPayloadTooLargeResponse,
  ApiQuery,
  ApiServiceUnavailableResponse,
  ApiTags,
  ApiUnauthorizedResponse,
  ApiUnprocessableEntityResponse,
  ApiUnsupportedMediaTypeResponse,
} from '@nestjs/swagger';
import type { Request, Response } from 'express';
import { RuleRegistry, type RuleVersionView, type RuleView } from '../../app/rules/rule-registry';
import type { ServiceConfig } from '../../config/config';
import { SERVICE_CONFIG } from '../../config/config.module';
import { RULE_VERSIONS_KEPT, type StoredRuleFormat } from '../../core/ports/rule-store';
import { assertUtf8, isJsonMediaType, mediaType, readBody, unsupportedMediaType } from '../common/body';
import { formatBytes } from '../../core/text/sizes';
import { ErrorDto } from '../common/error.dto';
import { positiveIntegerParam } from '../common/query';
import { ReadOnlyRoute } from '../common/write-access';
import { RollbackDto, RuleDto, RuleProblemDto, RuleVersionDto, ValidateResponseDto } from './rules.dto';

/** The largest rollback body: `{"version": n}` needs a few bytes. */
const ROLLBACK_BODY_BYTES = 4096;

/** Versions in one page of GET /rules/{id}/versions, unless `limit` says otherwise. */
const DEFAULT_VERSIONS_LIMIT = 20;

const YAML_TYPES = ['application/yaml', 'application/x-yaml', 'text/yaml', 'text/x-yaml'];
const CEP_TYPES = ['text/plain', 'text/x-cep', 'application/x-cep'];

/** Every type a rule body may have; a structured `type/subtype+json` is JSON too. */
const RULE_BODY_TYPES = [...YAML_TYPES, 'application/json', ...CEP_TYPES];
const ruleBody = () =>
  ApiBody({
    description:
      'One rule: YAML (application/yaml, application/x-yaml, text/yaml, text/x-yaml), JSON with the same keys ' +
      '(application/json, or any type/subtype+json), or a .cep statement (text/plain, text/x-cep, application/x-cep). ' +
      'At most RULES_MAX_BODY_BYTES (64 KiB); patterns nest at most 64 deep.',
    schema: {
      type: 'string',
      example:
        'id: brute-force-login\nseverity: critical\npartitionBy: user_id\npattern: |\n  every ([5] failed=login_failed -> success=login_succeeded) where timer:within(10 min)\nemit:\n  user: success.user_id\n',
    },
  });
const invalidRule = () =>
  ApiUnprocessableEntityResponse({ type: [RuleProblemDto], description: 'The rule is invalid: every problem with its line, column and the line with a caret' });
/** What any route reading a body may answer about it. */
const bodyErrors = (limit: string, badRequest = 'The body is not valid UTF-8') =>
  applyDecorators(
    ApiBadRequestResponse({ type: ErrorDto, description: badRequest }),
    ApiPayloadTooLargeResponse({ type: ErrorDto, description: `Body larger than ${limit}` }),
    ApiUnsupportedMediaTypeResponse({ type: ErrorDto, description: 'Another Content-Type, or a charset other than UTF-8' }),
  );
/** A route taking one rule as its body. */
const ruleBodyRoute = () => applyDecorators(ApiConsumes(...RULE_BODY_TYPES), ruleBody(), invalidRule(), bodyErrors('RULES_MAX_BODY_BYTES (64 KiB)'));
/** A write: the bearer token when API_TOKEN is set, refused once shutdown began. */
const writeRoute = () =>
  applyDecorators(
    ApiBearerAuth(),
    ApiUnauthorizedResponse({ type: ErrorDto, description: 'API_TOKEN is set and the bearer token is missing or wrong' }),
    ApiServiceUnavailableResponse({ type: ErrorDto, description: 'The service is shutting down' }),
  );
const idParam = () => ApiParam({ name: 'id', description: 'Rule id', example: 'brute-force-login' });
const fileRuleConflict = () => ApiConflictResponse({ type: ErrorDto, description: 'The rule comes from a rule file' });

@ApiTags('rules')
@Controller('rules')
export class RulesController {
  constructor(
    private readonly registry: RuleRegistry,
    @Inject(SERVICE_CONFIG) private readonly config: ServiceConfig,
  ) {}

  @Get()
  @ApiOperation({ summary: 'Every rule (from files and REST), one per id' })
  @ApiOkResponse({ type: [RuleDto] })
  list(): RuleView[] {
    return this.registry.list();
  }

  @Post('validate')
  @HttpCode(200)
  @ReadOnlyRoute()
  @ApiOperation({ summary: 'Check a rule without saving it (open without a token, and while shutting down: it changes nothing)' })
  @ruleBodyRoute()
  @ApiOkResponse({ type: ValidateResponseDto })
  async validate(@Req() req: Request): Promise<ValidateResponseDto> {
    const { text, format } = await this.ruleText(req);
    const { id, warnings } = this.registry.validate(text, format);
    return { valid: true, id, warnings };
  }

  @Get(':id')
  @idParam()
  @ApiOperation({ summary: 'One rule' })
  @ApiOkResponse({ type: RuleDto })
  @ApiNotFoundResponse({ type: ErrorDto })
  get(@Param('id') id: string): RuleView {
    return this.registry.get(id);
  }

  @Get(':id/versions')
  @idParam()
  @ApiOperation({
    summary: "A rule's versions, newest first, a page at a time",
    description:
      `The newest ${RULE_VERSIONS_KEPT} versions of each rule are kept. A page holds \`limit\` versions ` +
      `(default ${DEFAULT_VERSIONS_LIMIT}); \`before\` pages back. When older versions are kept, a \`Link: <...>; rel="next"\` header gives the next page.`,
  })
  @ApiQuery({ name: 'limit', required: false, description: `How many versions (default ${DEFAULT_VERSIONS_LIMIT}, at most ${RULE_VERSIONS_KEPT}; larger values are capped)` })
  @ApiQuery({ name: 'before', required: false, description: 'Only versions numbered below this one (the last version of the previous page)' })
  @ApiOkResponse({
    type: [RuleVersionDto],
    headers: { Link: { description: 'When older versions are kept: `</rules/{id}/versions?limit=n&before=v>; rel="next"`', schema: { type: 'string' } } },
  })
  @ApiBadRequestResponse({ type: ErrorDto, description: '`limit` or `before` is not a positive integer, or is given more than once' })
  @ApiNotFoundResponse({ type: ErrorDto })
  async versions(
    @Param('id') id: string,
    @Res({ passthrough: true }) res: Response,
    @Query('limit') rawLimit?: unknown,
    @Query('before') rawBefore?: unknown,
  ): Promise<RuleVersionView[]> {
    const limit = positiveIntegerParam('limit', rawLimit, RULE_VERSIONS_KEPT) ?? DEFAULT_VERSIONS_LIMIT;
    const before = positiveIntegerParam('before', rawBefore);
    const page = await this.registry.versions(id, { limit, before });
    const last = page.versions[page.versions.length - 1];
    if (page.more && last) res.setHeader('Link', `</rules/${encodeURIComponent(id)}/versions?limit=${limit}&before=${last.version}>; rel="next"`);
    return page.versions;
  }

  @Post()
  @writeRoute()
  @ApiOperation({ summary: 'Create a rule (version 1); it runs at once when enabled' })
  @ruleBodyRoute()
  @ApiCreatedResponse({ type: RuleDto })
  @ApiConflictResponse({ type: ErrorDto, description: 'The id exists (over REST or in a rule file)' })
  async create(@Req() req: Request): Promise<RuleView> {
    const { text, format } = await this.ruleText(req);
    return this.registry.create(text, format);
  }

  @Put(':id')
  @idParam()
  @writeRoute()
  @ApiOperation({
    summary: 'Replace a rule: a new version',
    description:
      "A changed pattern, partitionBy or event mapping starts the rule's state afresh; a change of metadata only " +
      '(severity, labels, emit, description) keeps its partial matches. The id in the body must be the one in the path. ' +
      'The text already stored (same text, format and enabled state) adds no version: 200 with the rule as it is.',
  })
  @ruleBodyRoute()
  @ApiOkResponse({ type: RuleDto })
  @ApiNotFoundResponse({ type: ErrorDto })
  @ApiConflictResponse({ type: ErrorDto, description: 'The rule comes from a rule file, or changed meanwhile' })
  async update(@Param('id') id: string, @Req() req: Request): Promise<RuleView> {
    const { text, format } = await this.ruleText(req);
    return this.registry.update(id, text, format);
  }

  @Delete(':id')
  @HttpCode(204)
  @idParam()
  @writeRoute()
  @ApiOperation({ summary: 'Delete a REST rule and its history; its state is dropped' })
  @ApiNoContentResponse()
  @ApiNotFoundResponse({ type: ErrorDto })
  @fileRuleConflict()
  async remove(@Param('id') id: string): Promise<void> {
    await this.registry.remove(id);
  }

  @Post(':id/enable')
  @HttpCode(200)
  @idParam()
  @writeRoute()
  @ApiOperation({ summary: 'Enable a rule (a new version unless already enabled); it starts with fresh state' })
  @ApiOkResponse({ type: RuleDto })
  @ApiNotFoundResponse({ type: ErrorDto })
  @fileRuleConflict()
  enable(@Param('id') id: string): Promise<RuleView> {
    return this.registry.setEnabled(id, true);
  }

  @Post(':id/disable')
  @HttpCode(200)
  @idParam()
  @writeRoute()
  @ApiOperation({ summary: 'Disable a rule (a new version unless already disabled); its state is dropped' })
  @ApiOkResponse({ type: RuleDto })
  @ApiNotFoundResponse({ type: ErrorDto })
  @fileRuleConflict()
  disable(@Param('id') id: string): Promise<RuleView> {
    return this.registry.setEnabled(id, false);
  }

  @Post(':id/rollback')
  @HttpCode(200)
  @idParam()
  @writeRoute()
  @ApiOperation({
    summary: "Make an earlier version current again, as a new version with that version's text and enabled state",
    description: 'No new version when the current one already has that text and state: 200 with the rule as it is.',
  })
  @ApiConsumes('application/json')
  @ApiBody({ type: RollbackDto, description: `{"version": n}, at most ${formatBytes(ROLLBACK_BODY_BYTES)} (application/json, or any type/subtype+json)` })
  @ApiOkResponse({ type: RuleDto })
  @bodyErrors(formatBytes(ROLLBACK_BODY_BYTES), 'The body is not {"version": n} with n a positive integer and no other key, not JSON, or not valid UTF-8')
  @ApiNotFoundResponse({ type: ErrorDto, description: 'No such rule, or no such version kept (the message says which are)' })
  @fileRuleConflict()
  @ApiUnprocessableEntityResponse({ type: [RuleProblemDto], description: "The version's text no longer compiles (the compiler changed since it was stored)" })
  async rollback(@Param('id') id: string, @Req() req: Request): Promise<RuleView> {
    const type = mediaType(req);
    if (!isJsonMediaType(type)) throw unsupportedMediaType(type, ['application/json']);
    assertUtf8(req);
    const text = await readBody(req, ROLLBACK_BODY_BYTES, 'the rollback body');
    let body: unknown;
    try {
      body = JSON.parse(text);
    } catch (e) {
      throw new BadRequestException(`the request body is not valid JSON: ${(e as Error).message}`);
    }
    const version = (body as { version?: unknown } | null)?.version;
    const keys = body !== null && typeof body === 'object' && !Array.isArray(body) ? Object.keys(body) : [];
    // Unknown keys are refused as in rule bodies: a typo must not pass unnoticed.
    if (typeof version !== 'number' || !Number.isInteger(version) || version < 1 || keys.length !== 1) {
      throw new BadRequestException('expected {"version": n} with n a positive integer, and no other key');
    }
    return this.registry.rollback(id, version);
  }

  private async ruleText(req: Request): Promise<{ text: string; format: StoredRuleFormat }> {
    const type = mediaType(req);
    let format: StoredRuleFormat;
    if (YAML_TYPES.includes(type)) format = 'yaml';
    else if (isJsonMediaType(type)) format = 'json';
    else if (CEP_TYPES.includes(type)) format = 'cep';
    else throw unsupportedMediaType(type, ['application/yaml', 'application/json', 'text/plain (.cep)']);
    assertUtf8(req);
    const text = await readBody(req, this.config.limits.rulesBodyBytes, 'the rule body');
    return { text, format };
  }
}
