/**
 * GET /alerts: the most recent alerts (newest last) from the ring buffer.
 * GET /alerts/stream: the same records live, as server-sent events (`id:` the alert id, `data:` the alert as
 * JSON). A client that reconnects with `Last-Event-ID` first gets the alerts it missed, if they are still in
 * the buffer. A comment line every 15 s keeps idle connections open through proxies.
 */
import { Controller, Get, Headers, Inject, Query, Res, ServiceUnavailableException } from '@nestjs/common';
import { ApiBadRequestResponse, ApiOkResponse, ApiOperation, ApiProduces, ApiQuery, ApiServiceUnavailableResponse, ApiTags } from '@nestjs/swagger';
import type { Response } from 'express';
import { ServiceState } from '../../app/lifecycle/service-state';
import { ALERT_FEED } from '../../app/tokens';
import type { Alert } from '../../core/ports/alert';
import type { AlertFeed } from '../../core/ports/alert-sink';
import { ErrorDto } from '../common/error.dto';
import { positiveIntegerParam, singleQueryValue } from '../common/query';
import { AlertDto } from './alerts.dto';

export const DEFAULT_ALERTS_LIMIT = 100;
const HEARTBEAT_MS = 15_000;
/** A subscriber this far behind (unsent bytes) is disconnected rather than buffered without bound. */
const MAX_PENDING_BYTES = 8 * 1024 * 1024;

@ApiTags('alerts')
@Controller('alerts')
export class AlertsController {
  constructor(
    @Inject(ALERT_FEED) private readonly feed: AlertFeed,
    private readonly state: ServiceState,
  ) {}

  @Get()
  @ApiOperation({ summary: 'Most recent alerts, newest last (bounded by ALERTS_BUFFER_SIZE)' })
  @ApiQuery({ name: 'rule', required: false, description: 'Only alerts of this rule' })
  @ApiQuery({ name: 'limit', required: false, description: `How many (default ${DEFAULT_ALERTS_LIMIT}, at most ALERTS_BUFFER_SIZE)` })
  @ApiOkResponse({ type: [AlertDto] })
  @ApiBadRequestResponse({ type: ErrorDto, description: '`limit` is not a positive integer, or a parameter is given more than once' })
  list(@Query('rule') rule?: unknown, @Query('limit') limit?: unknown): Alert[] {
    return this.feed.recent({ rule: ruleParam(rule), limit: this.limitParam(limit) });
  }

  @Get('stream')
  @ApiOperation({
    summary: 'Live alerts as server-sent events',
    description:
      'Each event: `id: <alert id>` and `data: <alert JSON>` (the same record as GET /alerts). Send `Last-Event-ID` on ' +
      'reconnect to receive the alerts missed meanwhile (while still buffered).',
  })
  @ApiQuery({ name: 'rule', required: false, description: 'Only alerts of this rule' })
  @ApiProduces('text/event-stream')
  @ApiOkResponse({ description: 'A text/event-stream that stays open', schema: { type: 'string' } })
  @ApiBadRequestResponse({ type: ErrorDto, description: '`rule` is given more than once' })
  @ApiServiceUnavailableResponse({ type: ErrorDto, description: 'The service is shutting down' })
  stream(@Res() res: Response, @Query('rule') ruleQuery?: unknown, @Headers('last-event-id') lastEventId?: string): void {
    const rule = ruleParam(ruleQuery);
    if (this.state.draining) throw new ServiceUnavailableException('the service is shutting down');
    res.status(200);
    res.setHeader('Content-Type', 'text/event-stream; charset=utf-8');
    res.setHeader('Cache-Control', 'no-cache, no-transform');
    res.setHeader('X-Accel-Buffering', 'no');
    // HEAD (which Express routes here too) gets the head only: there is no body to stream, nothing to subscribe.
    if (res.req.method === 'HEAD') {
      res.end();
      return;
    }
    // The connection ends with the stream: nothing keeps it around once the stream is over (e.g. at shutdown).
    res.shouldKeepAlive = false;
    res.flushHeaders();
    res.socket?.setNoDelay(true);
    res.socket?.setKeepAlive(true);
    let open = true;
    const write = (text: string) => {
      if (!open) return;
      if (res.writableLength > MAX_PENDING_BYTES) {
        close();
        return;
      }
      res.write(text);
    };
    const send = (alerts: readonly Alert[]) => {
      let out = '';
      for (const a of alerts) {
        if (rule === undefined || a.rule === rule) out += `id: ${a.id}\ndata: ${JSON.stringify(a)}\n\n`;
      }
      if (out) write(out);
    };
    write('retry: 2000\n: connected\n\n');
    if (lastEventId) {
      const missed = this.feed.after(lastEventId.trim(), rule);
      if (missed) send(missed);
    }
    const unsubscribe = this.feed.subscribe(send);
    const heartbeat = setInterval(() => write(': keep-alive\n\n'), HEARTBEAT_MS);
    heartbeat.unref();
    let stopOnDrain = () => {};
    function close() {
      if (!open) return;
      open = false;
      unsubscribe();
      clearInterval(heartbeat);
      stopOnDrain();
      res.end();
    }
    stopOnDrain = this.state.onDrain(() => close());
    res.on('close', close);
  }

  private limitParam(raw: unknown): number {
    return positiveIntegerParam('limit', raw, this.feed.capacity) ?? Math.min(DEFAULT_ALERTS_LIMIT, this.feed.capacity);
  }
}

function ruleParam(raw: unknown): string | undefined {
  const rule = singleQueryValue('rule', raw);
  return rule === '' ? undefined : rule;
}
