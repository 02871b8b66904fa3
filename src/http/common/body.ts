/**
 * Request bodies are read by the handlers themselves (Nest's body parsers are off), after authentication,
 * with a limit per route. A body past its limit is answered 413 once it has been read to the end (so the
 * client sees the status, not a reset connection), or at once from its Content-Length.
 *
 * Any answer given before the body was read to its end (401, 413, 415, other errors, and the answers of routes
 * that take no body: a GET carrying one) goes through settleUnreadBody, as its head is written
 * (settleBodyBeforeAnswer): a body within DRAIN_LIMIT is drained so that the keep-alive connection stays
 * usable; a larger one closes the connection once the answer is sent, instead of Node reading it to its end.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { BadRequestException, HttpException, PayloadTooLargeException, UnsupportedMediaTypeException } from '@nestjs/common';
import { formatBytes } from '../../core/text/sizes';
import { decodeUtf8Text, utf8Problem } from '../../core/text/utf8';

/** Past this many bytes of an oversized or unread body, the connection is dropped instead of drained. */
const DRAIN_LIMIT = 64 * 1024 * 1024;

/** How long, and for how many bytes, a dropped connection stays half-closed: the client reads the answer before the reset. */
const LINGER_MS = 1000;
const LINGER_BYTES = 1024 * 1024;

/** Body bytes readBody took before giving up on a request (past DRAIN_LIMIT). */
const bytesRead = new WeakMap<IncomingMessage, number>();
/** Requests whose unread body is already being drained or dropped. */
const settled = new WeakSet<IncomingMessage>();

/** Reads the whole body as UTF-8 text, or throws 413 past `limit` bytes and 400 when it is not UTF-8. */
export async function readBody(req: IncomingMessage, limit: number, what = 'request body'): Promise<string> {
  const decoded = decodeUtf8Text(await readBodyBytes(req, limit, what));
  if (!decoded.ok) throw new BadRequestException(`${what} is ${utf8Problem(decoded)}`);
  return decoded.text;
}

/** Reads the whole body as bytes, or throws 413 past `limit` bytes. */
export function readBodyBytes(req: IncomingMessage, limit: number, what = 'request body'): Promise<Buffer> {
  const tooLarge = () => new PayloadTooLargeException(`${what} is larger than ${formatBytes(limit)}`);
  const declared = Number(req.headers['content-length']);
  return new Promise<Buffer>((resolve, reject) => {
    if (req.readableEnded) {
      resolve(Buffer.alloc(0));
      return;
    }
    const chunks: Buffer[] = [];
    let size = 0;
    let over = Number.isFinite(declared) && declared > limit;
    const cleanup = () => {
      req.off('data', onData);
      req.off('end', onEnd);
      req.off('error', onError);
      req.off('aborted', onAborted);
    };
    const onData = (chunk: Buffer) => {
      size += chunk.length;
      if (size > limit) {
        over = true;
        chunks.length = 0;
        if (size > DRAIN_LIMIT && !bytesRead.has(req)) {
          // The 413 is sent, then the connection closed (settleUnreadBody). Until then this listener discards
          // what comes: unread bytes at the close would reset the connection before the client reads the 413.
          bytesRead.set(req, size);
          reject(tooLarge());
        }
        return;
      }
      if (!over) chunks.push(chunk);
    };
    const onEnd = () => {
      cleanup();
      if (over) reject(tooLarge());
      else resolve(Buffer.concat(chunks, size));
    };
    const onError = (e: Error) => {
      cleanup();
      reject(new BadRequestException(`reading the request body failed: ${e.message}`));
    };
    const onAborted = () => {
      cleanup();
      reject(new BadRequestException('the client aborted the request'));
    };
    if (over && declared > DRAIN_LIMIT) {
      // Not read at all: the 413 closes the connection (settleUnreadBody).
      reject(tooLarge());
      return;
    }
    req.on('data', onData);
    req.on('end', onEnd);
    req.on('error', onError);
    req.on('aborted', onAborted);
  });
}

/**
 * Before an answer to a request whose body has not been read to its end: drains a body known or found to be
 * within DRAIN_LIMIT (the keep-alive connection stays usable), and otherwise answers with `Connection: close`
 * and closes the connection once the answer is flushed. Without this, Node reads any unread body to its end
 * after the response, however large it is declared or however long it streams.
 */
function settleUnreadBody(req: IncomingMessage, res: ServerResponse): void {
  if (req.complete || req.destroyed || settled.has(req)) return;
  settled.add(req);
  let read = bytesRead.get(req) ?? 0;
  const declared = Number(req.headers['content-length']);
  if (read > DRAIN_LIMIT || (Number.isFinite(declared) && declared > DRAIN_LIMIT)) {
    closeAfterAnswer(req, res);
    return;
  }
  // Counted, since a chunked body declares no size: past the limit the connection is dropped after all.
  let dropping = false;
  const onData = (chunk: Buffer) => {
    read += chunk.length;
    if (read > DRAIN_LIMIT && !dropping) {
      dropping = true;
      closeAfterAnswer(req, res);
    }
  };
  req.on('data', onData);
  req.resume();
}

/**
 * Express middleware, ahead of every route: as the head of the answer is written, a body not read to its end
 * is settled (settleUnreadBody). Routes that take a body have read it by then, unless they refuse it; every
 * other answer would leave Node to read the body to its end after the response, without any bound.
 */
export function settleBodyBeforeAnswer(req: IncomingMessage, res: ServerResponse, next: () => void): void {
  const writeHead = res.writeHead;
  res.writeHead = function (this: ServerResponse, ...args: unknown[]) {
    settleUnreadBody(req, res);
    return (writeHead as (...a: unknown[]) => ServerResponse).apply(this, args);
  } as ServerResponse['writeHead'];
  next();
}

function closeAfterAnswer(req: IncomingMessage, res: ServerResponse): void {
  const socket = req.socket;
  // Tells the client not to reuse the connection (and Node to end it after the response).
  if (!res.headersSent) res.setHeader('Connection', 'close');
  // Consumed by us until the close: Node would otherwise dump the body after the answer, without any bound.
  // Before the answer ends, at most LINGER_BYTES more are read and dropped, then reading stops (TCP holds the
  // client back): an answer that does not end soon, the alert stream's, would otherwise read for ever.
  let lingered = -1;
  let beforeEnd = 0;
  req.on('data', (chunk: Buffer) => {
    if (lingered < 0) {
      beforeEnd += chunk.length;
      if (beforeEnd > LINGER_BYTES) req.pause();
      return;
    }
    lingered += chunk.length;
    if (lingered > LINGER_BYTES) socket.destroy();
  });
  req.resume();
  const close = () => {
    if (socket.destroyed) return;
    // Node destroys a `Connection: close` socket as soon as the answer is flushed: a client still writing then
    // gets a reset, often before it has read the answer. Instead: end it (FIN after the answer) and stop
    // reading, so a client still writing is held back by TCP instead of its data being read and dropped (a
    // fast client on loopback sent LINGER_BYTES within moments, and the reset came before it had read the
    // answer when the machine was busy); destroy it after LINGER_MS. LINGER_BYTES still bounds what is read.
    // (Node's destroySoon() waits for 'finish' with socket.destroy; if that ever changes, the close is just sooner.)
    socket.removeListener('finish', socket.destroy);
    lingered = 0;
    if (!socket.writableEnded) socket.end();
    socket.pause();
    setTimeout(() => socket.destroy(), LINGER_MS).unref();
  };
  if (res.writableFinished) close();
  else res.once('finish', close);
}

/** The media type of a request, lower case, without parameters; '' when absent. */
export function mediaType(req: IncomingMessage): string {
  const ct = req.headers['content-type'];
  return (ct ?? '').split(';')[0].trim().toLowerCase();
}

/**
 * application/json, or a structured `type/subtype+json` (RFC 6839: application/problem+json, ...); a bare
 * `+json` is no media type.
 */
export function isJsonMediaType(type: string): boolean {
  return type === 'application/json' || /^[a-z0-9!#$&^_.-]+\/[a-z0-9!#$&^_.-]+\+json$/.test(type);
}

/** Refuses a charset other than UTF-8 (415, with the usual error body). */
export function assertUtf8(req: IncomingMessage): void {
  const ct = req.headers['content-type'] ?? '';
  const m = /;\s*charset\s*=\s*"?([^";\s]+)/i.exec(ct);
  if (m && !/^utf-?8$/i.test(m[1])) {
    throw new UnsupportedMediaTypeException(`unsupported charset '${m[1]}': send UTF-8`);
  }
}

export function unsupportedMediaType(type: string, accepted: string[]): HttpException {
  // The Nest exception adds "error", as every other error body has.
  return new UnsupportedMediaTypeException(`unsupported Content-Type '${type || '(none)'}': send one of ${accepted.join(', ')}`);
}
