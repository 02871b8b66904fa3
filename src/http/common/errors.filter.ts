/**
 * Maps the application's errors to HTTP: an invalid rule → 422 with the list of problems
 * (`[{"line","column","message"}]`), an unknown rule → 404, a conflicting id → 409, ingest after shutdown
 * began → 503, events that cannot go where they were sent → by IngestTargetError's kind. Everything else goes to Nest's own handling (HttpExceptions as they are, 500 otherwise).
 *
 * An error answered before the request body was read (401, 415, a 413 from Content-Length...) leaves that body
 * to settleUnreadBody: drained when small, the connection closed after the answer otherwise.
 */
import { ArgumentsHost, Catch, HttpStatus } from '@nestjs/common';
import { BaseExceptionFilter } from '@nestjs/core';
import type { Request, Response } from 'express';
import { IngestClosedError } from '../../app/ingest/ingest-pipeline';
import { IngestTargetError, type IngestTargetErrorKind } from '../../app/ingest/ingest-target-error';
import { RuleConflictError, RuleInvalidError, RuleNotFoundError } from '../../app/rules/rule-errors';
import { settleUnreadBody } from './body';

const TARGET_STATUS: Record<IngestTargetErrorKind, [number, string]> = {
  bad_request: [HttpStatus.BAD_REQUEST, 'Bad Request'],
  not_found: [HttpStatus.NOT_FOUND, 'Not Found'],
  conflict: [HttpStatus.CONFLICT, 'Conflict'],
  too_large: [HttpStatus.PAYLOAD_TOO_LARGE, 'Payload Too Large'],
  unavailable: [HttpStatus.SERVICE_UNAVAILABLE, 'Service Unavailable'],
};

@Catch()
export class ServiceErrorsFilter extends BaseExceptionFilter {
  override catch(exception: unknown, host: ArgumentsHost): void {
    if (host.getType() !== 'http') return super.catch(exception, host);
    const res = host.switchToHttp().getResponse<Response>();
    if (res.headersSent) {
      // A streamed response (the alert stream) failed after its headers: nothing more can be said to the client.
      res.end();
      return;
    }
    settleUnreadBody(host.switchToHttp().getRequest<Request>(), res);
    const send = (status: number, error: string, message: string, details?: Readonly<Record<string, unknown>>) =>
      res.status(status).json({ ...details, statusCode: status, error, message });
    if (exception instanceof RuleInvalidError) {
      res.status(HttpStatus.UNPROCESSABLE_ENTITY).json(exception.problems);
    } else if (exception instanceof RuleNotFoundError) {
      send(HttpStatus.NOT_FOUND, 'Not Found', exception.message);
    } else if (exception instanceof RuleConflictError) {
      send(HttpStatus.CONFLICT, 'Conflict', exception.message);
    } else if (exception instanceof IngestClosedError) {
      send(HttpStatus.SERVICE_UNAVAILABLE, 'Service Unavailable', exception.message);
    } else if (exception instanceof IngestTargetError) {
      const [status, error] = TARGET_STATUS[exception.kind];
      send(status, error, exception.message, exception.details);
    } else {
      // Nest logs unexpected errors (500) itself.
      super.catch(exception, host);
    }
  }
}
