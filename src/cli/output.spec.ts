import { Writable } from 'node:stream';
import { BufferedWriter } from './output';

/** A sink that takes `capacity` bytes before it asks writers to wait, and drains only when told. */
function slowSink(capacity: number) {
  const received: string[] = [];
  const pending: Array<() => void> = [];
  const stream = new Writable({
    highWaterMark: capacity,
    write(chunk: Buffer, _enc, done) {
      received.push(chunk.toString());
      pending.push(done);
    },
  });
  const release = () => {
    while (pending.length > 0) pending.shift()!();
  };
  return { stream, received, release };
}

describe('BufferedWriter', () => {
  it('joins small pieces into one write when flushed', async () => {
    const sink = slowSink(1 << 20);
    const out = new BufferedWriter(sink.stream, 1024, -1);
    out.push('a\n');
    out.push('b\n');
    expect(sink.received).toEqual([]);
    const flushed = out.flush();
    sink.release();
    await flushed;
    expect(sink.received).toEqual(['a\nb\n']);
  });

  it('says it is full at the high-water mark', () => {
    const out = new BufferedWriter(slowSink(1 << 20).stream, 4, -1);
    out.push('abc');
    expect(out.full).toBe(false);
    out.push('d');
    expect(out.full).toBe(true);
  });

  it('makes flush wait until a slow consumer drains', async () => {
    const sink = slowSink(8);
    const out = new BufferedWriter(sink.stream, 4, -1);
    out.push('0123456789');
    let done = false;
    const flushed = out.flush().then(() => (done = true));
    await new Promise((r) => setTimeout(r, 20));
    expect(done).toBe(false);
    sink.release();
    await flushed;
    expect(done).toBe(true);
  });

  it('writes a partly filled buffer on its own after the linger time', async () => {
    const sink = slowSink(1 << 20);
    const out = new BufferedWriter(sink.stream, 1024, 5);
    out.push('late\n');
    await new Promise((r) => setTimeout(r, 30));
    expect(sink.received).toEqual(['late\n']);
  });
});
