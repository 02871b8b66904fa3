/**
 * Writes need `Authorization: Bearer <API_TOKEN>` when API_TOKEN is set; reads stay open. A write is any
 * POST, PUT, PATCH or DELETE, except the routes marked @ReadOnlyRoute() (POST /rules/validate saves nothing).
 *
 * The guard also refuses new writes with 503 once the service is shutting down, and counts the writes in
 * flight so that shutdown can wait for them.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import {
  CallHandler,
  CanActivate,
  ExecutionContext,
  Inject,
  Injectable,
  NestInterceptor,
  ServiceUnavailableException,
  SetMetadata,
  UnauthorizedException,
} from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import type { Request, Response } from 'express';
import { finalize, type Observable } from 'rxjs';
import { ServiceState } from '../../app/lifecycle/service-state';
import type { ServiceConfig } from '../../config/config';
import { SERVICE_CONFIG } from '../../config/config.module';

const READ_ONLY = 'cepheus:read-only-route';

/** Marks a POST route that changes nothing: open without a token, and allowed while shutting down. */
export const ReadOnlyRoute = () => SetMetadata(READ_ONLY, true);

const READ_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);

function isWrite(context: ExecutionContext, reflector: Reflector): boolean {
  const req = context.switchToHttp().getRequest<Request>();
  if (READ_METHODS.has(req.method)) return false;
  return !reflector.getAllAndOverride<boolean>(READ_ONLY, [context.getHandler(), context.getClass()]);
}

@Injectable()
export class WriteAuthGuard implements CanActivate {
  private readonly tokenDigest: Buffer | null;

  constructor(
    @Inject(SERVICE_CONFIG) config: ServiceConfig,
    private readonly reflector: Reflector,
  ) {
    this.tokenDigest = config.apiToken === null ? null : digest(config.apiToken);
  }

  canActivate(context: ExecutionContext): boolean {
    if (this.tokenDigest === null || !isWrite(context, this.reflector)) return true;
    const req = context.switchToHttp().getRequest<Request>();
    const header = req.headers.authorization ?? '';
    const m = /^Bearer[ \t]+(\S+)[ \t]*$/i.exec(header);
    if (m && timingSafeEqual(digest(m[1]), this.tokenDigest)) return true;
    context.switchToHttp().getResponse<Response>().setHeader('WWW-Authenticate', 'Bearer realm="cepheus"');
    throw new UnauthorizedException(
      header === '' ? 'this write needs Authorization: Bearer <API_TOKEN>' : 'the bearer token is not valid',
    );
  }
}

function digest(token: string): Buffer {
  return createHash('sha256').update(token).digest();
}

@Injectable()
export class WriteTrackingInterceptor implements NestInterceptor {
  constructor(
    private readonly state: ServiceState,
    private readonly reflector: Reflector,
  ) {}

  intercept(context: ExecutionContext, next: CallHandler): Observable<unknown> {
    if (context.getType() !== 'http' || !isWrite(context, this.reflector)) return next.handle();
    if (this.state.draining) {
      context.switchToHttp().getResponse<Response>().setHeader('Connection', 'close');
      throw new ServiceUnavailableException('the service is shutting down');
    }
    const done = this.state.begin();
    return next.handle().pipe(finalize(done));
  }
}
