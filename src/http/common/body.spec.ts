import type { IncomingMessage } from 'node:http';
import { PassThrough } from 'node:stream';
import { readBody } from './body';

/** A request whose body is `bytes`. */
function request(bytes: Buffer): IncomingMessage {
  const req = Object.assign(new PassThrough(), { headers: {} });
  req.end(bytes);
  return req as unknown as IncomingMessage;
}

describe('readBody', () => {
  it('reads UTF-8 and drops its byte-order mark', async () => {
    await expect(readBody(request(Buffer.from('\ufeffid: é', 'utf8')), 1024, 'the rule body')).resolves.toBe('id: é');
  });

  it.each([
    ['Latin-1 as not UTF-8', Buffer.from('id: é', 'latin1'), 'the rule body is not valid UTF-8'],
    ['UTF-16 by its byte-order mark', Buffer.from('\ufeffid: x', 'utf16le'), 'the rule body is UTF-16 (it starts with a UTF-16 byte-order mark), not UTF-8'],
  ])('refuses %s with 400, in the words used for rule files', async (_name, bytes, message) => {
    await expect(readBody(request(bytes), 1024, 'the rule body')).rejects.toMatchObject({ status: 400, message });
  });
});
