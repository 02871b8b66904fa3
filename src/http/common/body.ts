/**
 * Request bodies are read by the handlers themselves (Nest's body parsers are off), after authentication,
 * with a limit per route. A body past its limit is answered 413 once it has been read to the end (so the
 * client sees the status, not a reset connection), or at once from its Content-Length.
 */
import type { IncomingMessage } from 'node:http';
import { BadRequestException, HttpException, HttpStatus, PayloadTooLargeException } from '@nestjs/common';

/** Past this many bytes of an oversized body, the connection is dropped instead of drained. */
const DRAIN_LIMIT = 64 * 1024 * 1024;

export function formatSize(n: number): string {
  if (n % (1024 * 1024) === 0) return `${n / 1024 / 1024} MiB`;
  if (n % 1024 === 0) return `${n / 1024} KiB`;
  return `${n} bytes`;
}

/** Reads the whole body as UTF-8 text, or throws 413 past `limit` bytes. */
export function readBody(req: IncomingMessage, limit: number, what = 'request body'): Promise<string> {
  const tooLarge = () => new PayloadTooLargeException(`${what} is larger than ${formatSize(limit)}`);
  const declared = Number(req.headers['content-length']);
  return new Promise<string>((resolve, reject) => {
    if (req.readableEnded) {
      resolve('');
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
        if (size > DRAIN_LIMIT) {
          cleanup();
          req.destroy();
          reject(tooLarge());
        }
        return;
      }
      if (!over) chunks.push(chunk);
    };
    const onEnd = () => {
      cleanup();
      if (over) reject(tooLarge());
      else resolve(decodeUtf8(Buffer.concat(chunks, size)));
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
      req.resume();
      reject(tooLarge());
      return;
    }
    req.on('data', onData);
    req.on('end', onEnd);
    req.on('error', onError);
    req.on('aborted', onAborted);
  });
}

function decodeUtf8(buf: Buffer): string {
  const text = buf.toString('utf8');
  return text.charCodeAt(0) === 0xfeff ? text.slice(1) : text;
}

/** The media type of a request, lower case, without parameters; '' when absent. */
export function mediaType(req: IncomingMessage): string {
  const ct = req.headers['content-type'];
  return (ct ?? '').split(';')[0].trim().toLowerCase();
}

/** Refuses a charset other than UTF-8 (415). */
export function assertUtf8(req: IncomingMessage): void {
  const ct = req.headers['content-type'] ?? '';
  const m = /;\s*charset\s*=\s*"?([^";\s]+)/i.exec(ct);
  if (m && !/^utf-?8$/i.test(m[1])) {
    throw new HttpException(`unsupported charset '${m[1]}': send UTF-8`, HttpStatus.UNSUPPORTED_MEDIA_TYPE);
  }
}

export function unsupportedMediaType(type: string, accepted: string[]): HttpException {
  return new HttpException(
    `unsupported Content-Type '${type || '(none)'}': send one of ${accepted.join(', ')}`,
    HttpStatus.UNSUPPORTED_MEDIA_TYPE,
  );
}
