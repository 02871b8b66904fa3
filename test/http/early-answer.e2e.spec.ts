/**
 * Early answers (401, 413, 415, and answers of routes that take no body) to a request whose body is still
 * coming, driven over a raw socket: the service answers, then closes the connection instead of reading a huge
 * or endless body, and drains a small body so that the keep-alive connection stays usable.
 */
import { connect, type Socket } from 'node:net';
import { startService, type RunningService } from './harness';

const TOKEN = 'e2e-secret-token-0123456789';
/** The service's DRAIN_LIMIT (src/http/common/body.ts). */
const DRAIN_LIMIT = 64 * 1024 * 1024;

interface Streamed {
  /** The status of the first response, if one arrived. */
  status?: number;
  /** The response as received (its head, at least). */
  response: string;
  /** Whether the server closed the connection (close, EPIPE, ECONNRESET) within the time allowed. */
  closed: boolean;
  /** Body bytes the client got into the socket: the server read at most this many. */
  written: number;
}

function port(svc: RunningService): number {
  return Number(new URL(svc.url).port);
}

/**
 * Sends `head` then body bytes as fast as the server takes them (forever, or chunked forever), and waits
 * up to `ms` after the response for the server to close the connection.
 */
function streamForever(svc: RunningService, head: string, { chunked = false, ms = 2000 } = {}): Promise<Streamed> {
  return new Promise((resolve) => {
    // Half-open allowed: the client goes on writing after the server's FIN, as a client busy sending would.
    const socket: Socket = connect({ port: port(svc), host: '127.0.0.1', allowHalfOpen: true });
    const piece = Buffer.alloc(64 * 1024, 'x');
    const frame = chunked ? Buffer.concat([Buffer.from(`${piece.length.toString(16)}\r\n`), piece, Buffer.from('\r\n')]) : piece;
    let text = '';
    let status: number | undefined;
    let stopped = false;
    let timer: NodeJS.Timeout | undefined;
    const finish = (closed: boolean) => {
      if (stopped) return;
      stopped = true;
      if (timer) clearTimeout(timer);
      const written = Math.max(0, socket.bytesWritten - head.length);
      socket.destroy();
      resolve({ status, response: text, closed, written });
    };
    const pump = () => {
      while (!stopped && !socket.destroyed && socket.write(frame));
      if (!stopped && !socket.destroyed) socket.once('drain', pump);
    };
    socket.on('connect', () => {
      socket.write(head);
      pump();
    });
    socket.on('data', (d: Buffer) => {
      text += d.toString('latin1');
      if (status !== undefined) return;
      const m = /^HTTP\/1\.1 (\d{3}) /.exec(text);
      if (m) {
        status = Number(m[1]);
        // The response is there; from now on the server has `ms` to close the connection.
        timer = setTimeout(() => finish(false), ms);
      }
    });
    // The server's FIN ('end') is not enough: the client writes on until the server resets the connection.
    socket.on('close', () => finish(true));
    socket.on('error', () => finish(true));
    // No response at all: give up after a while (a reset before any response is `closed` without a status).
    setTimeout(() => finish(false), ms + 10000).unref();
  });
}

const huge = (path: string, headers: string[], method = 'POST') =>
  [`${method} ${path} HTTP/1.1`, 'Host: cepheus', 'Content-Length: 100000000000', ...headers, '', ''].join('\r\n');
const chunkedHead = (path: string, headers: string[], method = 'POST') =>
  [`${method} ${path} HTTP/1.1`, 'Host: cepheus', 'Transfer-Encoding: chunked', ...headers, '', ''].join('\r\n');

/** Reads responses off a keep-alive socket, one at a time. */
class Client {
  private buf = Buffer.alloc(0);
  private waiting: (() => void) | undefined;
  closed = false;
  constructor(readonly socket: Socket) {
    socket.on('data', (d: Buffer) => {
      this.buf = Buffer.concat([this.buf, d]);
      this.waiting?.();
    });
    socket.on('close', () => {
      this.closed = true;
      this.waiting?.();
    });
    socket.on('error', () => undefined);
  }
  static open(svc: RunningService): Promise<Client> {
    return new Promise((resolve, reject) => {
      const socket = connect(port(svc), '127.0.0.1', () => resolve(new Client(socket)));
      socket.once('error', reject);
    });
  }
  /** The next complete response (Content-Length framed), or undefined once the connection closed. */
  async response(ms = 5000): Promise<{ status: number; headers: string; body: string } | undefined> {
    const deadline = Date.now() + ms;
    for (;;) {
      const end = this.buf.indexOf('\r\n\r\n');
      if (end >= 0) {
        const headers = this.buf.subarray(0, end).toString('latin1');
        const length = Number(/\r\ncontent-length:\s*(\d+)/i.exec(headers)?.[1] ?? 0);
        if (this.buf.length >= end + 4 + length) {
          const body = this.buf.subarray(end + 4, end + 4 + length).toString('utf8');
          this.buf = this.buf.subarray(end + 4 + length);
          return { status: Number(headers.split(' ')[1]), headers, body };
        }
      }
      if (this.closed) return undefined;
      if (Date.now() > deadline) throw new Error('no response in time');
      await new Promise<void>((resolve) => {
        this.waiting = resolve;
        setTimeout(resolve, 50);
      });
      this.waiting = undefined;
    }
  }
}

describe('early answers to a body still coming', () => {
  let svc: RunningService;
  beforeAll(async () => {
    svc = await startService({ apiToken: TOKEN, limits: { eventsBodyBytes: 4096, eventsPerRequest: 10, rulesBodyBytes: 64 * 1024 } });
  });
  afterAll(async () => {
    await svc.close();
  });

  it('401 without a token for a huge declared Content-Length: the server answers, then closes instead of reading the body', async () => {
    const r = await streamForever(svc, huge('/events', ['Content-Type: application/json']));
    expect(r.status).toBe(401);
    expect(r.response).toMatch(/\r\nconnection: close\r\n/i);
    expect(r.closed).toBe(true);
    expect(r.written).toBeLessThan(DRAIN_LIMIT);
  });

  it('413 with a valid token for a Content-Length past the limit: answered, then the connection is closed', async () => {
    const r = await streamForever(svc, huge('/events', ['Content-Type: application/json', `Authorization: Bearer ${TOKEN}`]));
    expect(r.status).toBe(413);
    expect(r.response).toMatch(/larger than 4 KiB/);
    expect(r.response).toMatch(/\r\nconnection: close\r\n/i);
    expect(r.closed).toBe(true);
    expect(r.written).toBeLessThan(DRAIN_LIMIT);
  });

  it('415 for a wrong Content-Type with a huge body: answered, then the connection is closed', async () => {
    const r = await streamForever(svc, huge('/events', ['Content-Type: text/csv', `Authorization: Bearer ${TOKEN}`]));
    expect(r.status).toBe(415);
    expect(r.response).toMatch(/\r\nconnection: close\r\n/i);
    expect(r.closed).toBe(true);
    expect(r.written).toBeLessThan(DRAIN_LIMIT);
    const rule = await streamForever(svc, huge('/rules', ['Content-Type: text/csv', `Authorization: Bearer ${TOKEN}`]));
    expect(rule.status).toBe(415);
    expect(rule.closed).toBe(true);
  });

  it('any other early error (404 for an unknown route) with a huge body: answered, then the connection is closed', async () => {
    const r = await streamForever(svc, huge('/nowhere', ['Content-Type: application/json', `Authorization: Bearer ${TOKEN}`]));
    expect(r.status).toBe(404);
    expect(r.closed).toBe(true);
    expect(r.written).toBeLessThan(DRAIN_LIMIT);
  });

  it('401 for an endless chunked body: drained at most DRAIN_LIMIT bytes, then the connection is closed', async () => {
    const r = await streamForever(svc, chunkedHead('/events', ['Content-Type: application/json']), { chunked: true, ms: 5000 });
    expect(r.status).toBe(401);
    expect(r.closed).toBe(true);
    // More than DRAIN_LIMIT may sit in socket buffers, but nowhere near what an endless drain would take.
    expect(r.written).toBeLessThan(2 * DRAIN_LIMIT);
  });

  it('413 for an endless chunked body past the limit: the client gets the 413, then the connection is closed', async () => {
    const r = await streamForever(svc, chunkedHead('/events', ['Content-Type: application/json', `Authorization: Bearer ${TOKEN}`]), { chunked: true, ms: 5000 });
    expect(r.status).toBe(413);
    expect(r.response).toMatch(/\r\nconnection: close\r\n/i);
    expect(r.closed).toBe(true);
    expect(r.written).toBeLessThan(2 * DRAIN_LIMIT);
  });

  it('400 for ?topic= in embedded mode: answered before the body arrives (it was read and parsed first)', async () => {
    const c = await Client.open(svc);
    // The head only: the body (Content-Length: 100) never comes. The answer must not wait for it.
    c.socket.write(
      ['POST /events?topic=auth HTTP/1.1', 'Host: cepheus', 'Content-Type: application/json', `Authorization: Bearer ${TOKEN}`, 'Content-Length: 100', '', ''].join('\r\n'),
    );
    const r = await c.response(3000);
    expect(r?.status).toBe(400);
    expect(JSON.parse(r!.body)).toMatchObject({ error: 'Bad Request', message: expect.stringMatching(/runs embedded \(KAFKA_BROKERS unset\)/) });
    c.socket.destroy();
  });

  it('a successful answer of a route that takes no body, with a huge declared body: answered, then the connection is closed (it was read to the end)', async () => {
    const r = await streamForever(svc, huge('/health/live', [], 'GET'));
    expect(r.status).toBe(200);
    expect(r.response).toMatch(/\r\nconnection: close\r\n/i);
    expect(r.closed).toBe(true);
    expect(r.written).toBeLessThan(DRAIN_LIMIT);
    const disable = await streamForever(svc, huge('/rules/nope/disable', [`Authorization: Bearer ${TOKEN}`]));
    expect(disable.status).toBe(404);
    expect(disable.closed).toBe(true);
  });

  it('a successful answer with an endless chunked body: drained at most DRAIN_LIMIT bytes, then the connection is closed', async () => {
    const r = await streamForever(svc, chunkedHead('/rules', [], 'GET'), { chunked: true, ms: 5000 });
    expect(r.status).toBe(200);
    expect(r.closed).toBe(true);
    expect(r.written).toBeLessThan(2 * DRAIN_LIMIT);
  });

  it('the alert stream with an endless chunked body: reads at most DRAIN_LIMIT and a little more, though the answer never ends (it read gigabytes)', async () => {
    const r = await streamForever(svc, chunkedHead('/alerts/stream', [], 'GET'), { chunked: true, ms: 3000 });
    expect(r.status).toBe(200);
    expect(r.written).toBeLessThan(2 * DRAIN_LIMIT);
  });

  it('a small body on a route that takes none is drained: the keep-alive connection answers the next request', async () => {
    const c = await Client.open(svc);
    const body = 'x'.repeat(100 * 1024);
    c.socket.write(['GET /health/live HTTP/1.1', 'Host: cepheus', `Content-Length: ${body.length}`, '', ''].join('\r\n') + body);
    const first = await c.response();
    expect(first?.status).toBe(200);
    expect(first?.headers).not.toMatch(/\r\nconnection: close/i);
    c.socket.write(['GET /rules HTTP/1.1', 'Host: cepheus', '', ''].join('\r\n'));
    expect((await c.response())?.status).toBe(200);
    expect(c.closed).toBe(false);
    c.socket.destroy();
  });

  it('a small rejected body is drained: the keep-alive connection answers the next request', async () => {
    const c = await Client.open(svc);
    const body = 'x'.repeat(100 * 1024);
    // 401, answered before the body is sent; the body follows, then a second request on the same connection.
    c.socket.write(['POST /events HTTP/1.1', 'Host: cepheus', 'Content-Type: application/json', `Content-Length: ${body.length}`, '', ''].join('\r\n'));
    const first = await c.response();
    expect(first?.status).toBe(401);
    expect(first?.headers).not.toMatch(/\r\nconnection: close/i);
    c.socket.write(body);
    // 415 with a token, the same way.
    c.socket.write(
      ['POST /events HTTP/1.1', 'Host: cepheus', 'Content-Type: text/csv', `Authorization: Bearer ${TOKEN}`, `Content-Length: ${body.length}`, '', ''].join('\r\n'),
    );
    const second = await c.response();
    expect(second?.status).toBe(415);
    c.socket.write(body);
    c.socket.write(['GET /health/live HTTP/1.1', 'Host: cepheus', '', ''].join('\r\n'));
    const third = await c.response();
    expect(third?.status).toBe(200);
    expect(c.closed).toBe(false);
    c.socket.destroy();
  });
});
