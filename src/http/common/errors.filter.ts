/**
 * Maps the application's errors to HTTP: an invalid rule → 422 with the list of problems
 * (`[{"line","column","message"}]`), an unknown rule → 404, a conflicting id → 409, ingest after shutdown
 * began → 503, events that cannot go where they were sent → by IngestTargetError's kind. Everything else goes to Nest's own handling (HttpExceptions as they are, 500 otherwise).
 *
 * A request no route took (Nest's not-found handler, so no `req.route`): 405 with `Allow` when routes take
 * the path with other methods (OPTIONS: 204 with `Allow`), 404 otherwise; both with the usual error body.
 *
 * An error answered before the request body was read (401, 415, a 413 from Content-Length...) leaves that body
 * to settleUnreadBody as the answer's head is written (settleBodyBeforeAnswer): drained when small, the
 * connection closed after the answer otherwise.
 */
import { ArgumentsHost, Catch, HttpStatus, NotFoundException } from '@nestjs/common';
import { BaseExceptionFilter } from '@nestjs/core';
import type { Request, Response } from 'express';
import { IngestClosedError } from '../../app/ingest/ingest-pipeline';
import { IngestTargetError, type IngestTargetErrorKind } from '../../app/ingest/ingest-target-error';
import { RuleConflictError, RuleInvalidError, RuleNotFoundError } from '../../app/rules/rule-errors';
import { allowedMethods } from './allowed-methods';

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
    const req = host.switchToHttp().getRequest<Request>();
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
    } else if (exception instanceof NotFoundException && !req.route) {
      const allow = allowedMethods(req.app, req.path);
      if (allow.length === 0) {
        send(HttpStatus.NOT_FOUND, 'Not Found', `no route ${req.method} ${req.path}`);
      } else {
        res.setHeader('Allow', allow.join(', '));
        if (req.method === 'OPTIONS') res.status(HttpStatus.NO_CONTENT).end();
        else send(HttpStatus.METHOD_NOT_ALLOWED, 'Method Not Allowed', `${req.method} is not allowed on ${req.path}; it takes ${allow.join(', ')}`);
      }
    } else {
      // Nest logs unexpected errors (500) itself.
      super.catch(exception, host);
    }
  }
}
