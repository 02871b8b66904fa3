/**
 * Buffered, backpressure-aware output for the CLI: many small lines are joined into large writes, and the
 * producer waits for 'drain' when the consumer of stdout is slower than the engine.
 */
import type { Writable } from 'node:stream';

export class BufferedWriter {
  private chunks: string[] = [];
  private size = 0;
  private timer: NodeJS.Timeout | undefined;
  private failure: Error | undefined;

  /**
   * @param highWaterMark characters buffered before {@link full} says to flush
   * @param lingerMs how long a partly filled buffer may wait before it is written anyway, so that a slow
   *   stream of input (a pipe from a live source) still sees its matches promptly
   */
  constructor(
    private readonly stream: Writable,
    private readonly highWaterMark = 64 * 1024,
    private readonly lingerMs = 25,
  ) {
    stream.on('error', (e: Error) => (this.failure = e));
  }

  /** Appends text; call {@link flush} (and await it) when {@link full} turns true. */
  push(text: string): void {
    this.chunks.push(text);
    this.size += text.length;
    if (this.timer === undefined && this.lingerMs >= 0) {
      this.timer = setTimeout(() => {
        this.timer = undefined;
        this.writeOut();
      }, this.lingerMs);
      this.timer.unref();
    }
  }

  get full(): boolean {
    return this.size >= this.highWaterMark || this.stream.writableNeedDrain;
  }

  /** Writes what is buffered and resolves once the stream can take more. */
  async flush(): Promise<void> {
    this.writeOut();
    if (this.stream.writableNeedDrain) await waitForDrain(this.stream);
    if (this.failure) throw this.failure;
  }

  private writeOut(): void {
    if (this.timer !== undefined) {
      clearTimeout(this.timer);
      this.timer = undefined;
    }
    if (this.size === 0 || this.failure) return;
    const data = this.chunks.length === 1 ? this.chunks[0] : this.chunks.join('');
    this.chunks = [];
    this.size = 0;
    this.stream.write(data);
  }
}

function waitForDrain(stream: Writable): Promise<void> {
  return new Promise((resolve, reject) => {
    const done = (e?: Error) => {
      stream.off('drain', onDrain);
      stream.off('error', onError);
      stream.off('close', onClose);
      if (e) reject(e);
      else resolve();
    };
    const onDrain = () => done();
    const onError = (e: Error) => done(e);
    const onClose = () => done(new Error('output closed'));
    stream.on('drain', onDrain);
    stream.on('error', onError);
    stream.on('close', onClose);
  });
}
