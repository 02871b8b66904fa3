/**
 * scripts/patch-dependencies.js (npm's postinstall) replaces a few kafkajs 2.2.4 files with faster ones. Each
 * patched file must do exactly what its original does: proven here against the originals the script keeps
 * beside them (`<file>.orig`), on generated inputs — produce requests byte for byte, fetched batches record for
 * record, checksums, varlongs and the producer's grouping. The script refuses files it was not written for.
 */
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import fc from 'fast-check';

const ROOT = resolve(__dirname, '..', '..');
const SCRIPT = join(ROOT, 'scripts', 'patch-dependencies.js');
const KAFKAJS = join(ROOT, 'node_modules', 'kafkajs');
// eslint-disable-next-line @typescript-eslint/no-require-imports
const { FILES, PATCHES, copyOriginalKafkajs } = require(SCRIPT) as { FILES: Record<string, string>; PATCHES: string; copyOriginalKafkajs: (dir: string) => string };

const sha256 = (text: string | Buffer) => createHash('sha256').update(text).digest('hex');
const run = (...args: string[]) => spawnSync(process.execPath, [SCRIPT, ...args], { encoding: 'utf8' });

/** A copy of the installed kafkajs with every patched file put back to its original. */
let originalTree: string;
beforeAll(() => {
  originalTree = copyOriginalKafkajs(mkdtempSync(join(tmpdir(), 'cepheus-kafkajs-original-')));
});
afterAll(() => rmSync(originalTree, { recursive: true, force: true }));

/* eslint-disable @typescript-eslint/no-explicit-any, @typescript-eslint/no-require-imports */
const both = (module: string): { original: any; patched: any } => ({
  original: require(join(originalTree, module)),
  patched: require(join(KAFKAJS, module)),
});
/* eslint-enable @typescript-eslint/no-explicit-any, @typescript-eslint/no-require-imports */

const bytes = fc.uint8Array({ maxLength: 300 }).map((a) => Buffer.from(a));
const text = fc.oneof(fc.string({ maxLength: 60 }), fc.string({ unit: 'grapheme', maxLength: 40 }));
const headerKey = fc.oneof(fc.constantFrom('rule', 'severity', '', '__proto__', 'toString', 'constructor'), fc.string({ maxLength: 8 }));
const headerValue = fc.oneof(text, bytes);
/** kafkajs' int64 range, and the numbers around 2^53 where exact doubles end. */
const int64 = fc.oneof(
  fc.bigInt({ min: -(2n ** 63n), max: 2n ** 63n - 1n }),
  fc.bigInt({ min: -(2n ** 54n), max: 2n ** 54n }),
  fc.bigInt({ min: 0n, max: 2n ** 42n }),
);

/**
 * A decoded batch with each record's headers as [key, value] entries plus their prototype: jest's strict
 * equality would read a header named "constructor" as the object's type.
 */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
const comparable = (batch: any) => ({
  ...batch,
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  records: batch.records.map((r: any) => ({ ...r, headers: [Object.getPrototypeOf(r.headers), Object.entries(r.headers)] })),
});

describe('patch-dependencies (kafkajs 2.2.4)', () => {
  it('the installed kafkajs is patched, each original kept beside its file', () => {
    const check = run('--check');
    expect({ status: check.status, stderr: check.stderr }).toEqual({ status: 0, stderr: '' });
    for (const [file, originalSha256] of Object.entries(FILES)) {
      expect(readFileSync(join(KAFKAJS, file), 'utf8')).toBe(readFileSync(join(PATCHES, file), 'utf8'));
      expect([file, sha256(readFileSync(join(KAFKAJS, `${file}.orig`)))]).toEqual([file, originalSha256]);
    }
  });

  it('encodes produce requests byte for byte like the original (keys, values, headers, timestamps, gzip)', async () => {
    const { original, patched } = both('src/protocol/requests/produce/v7/request.js');
    const Long = require(join(KAFKAJS, 'src/utils/long')); // eslint-disable-line @typescript-eslint/no-require-imports
    const now = jest.spyOn(Date, 'now').mockReturnValue(1_764_000_000_000);
    const message = fc.record(
      {
        key: fc.option(fc.oneof(text, bytes)),
        value: fc.option(fc.oneof(text, bytes)),
        headers: fc.dictionary(headerKey, fc.oneof(headerValue, fc.array(headerValue, { minLength: 1, maxLength: 3 })), { maxKeys: 4 }),
        timestamp: fc.oneof(fc.integer({ min: 0, max: 2 ** 45 }), fc.integer({ min: 1_763_999_000_000, max: 1_764_001_000_000 })),
      },
      { requiredKeys: ['key', 'value'] },
    );
    try {
      await fc.assert(
        fc.asyncProperty(
          fc.array(fc.array(message, { maxLength: 40 }), { minLength: 1, maxLength: 3 }),
          fc.constantFrom(0, 1),
          fc.bigInt({ min: 0n, max: 2n ** 63n - 1n }),
          fc.nat({ max: 2 ** 31 - 1 }),
          async (partitions, compression, producerId, firstSequence) => {
            const args = {
              acks: -1,
              timeout: 30000,
              transactionalId: null,
              producerId: Long.fromValue(producerId),
              producerEpoch: 3,
              compression,
              topicData: [{ topic: 'alerts', partitions: partitions.map((messages, partition) => ({ partition, firstSequence, messages })) }],
            };
            const a = (await original(args).encode()).buffer as Buffer;
            const b = (await patched(args).encode()).buffer as Buffer;
            expect(b.equals(a)).toBe(true);
          },
        ),
        { numRuns: 300 },
      );
    } finally {
      now.mockRestore();
    }
  });

  it('decodes fetched record batches to the same records as the original (offsets and timestamps past 2^53, repeated headers, log-append time)', async () => {
    const { RecordBatch } = require(join(originalTree, 'src/protocol/recordBatch/v0')); // eslint-disable-line @typescript-eslint/no-require-imports
    const Record = require(join(originalTree, 'src/protocol/recordBatch/record/v0')); // eslint-disable-line @typescript-eslint/no-require-imports
    const Long = require(join(originalTree, 'src/utils/long')); // eslint-disable-line @typescript-eslint/no-require-imports
    const decoders = both('src/protocol/recordBatch/v0/decoder.js');
    const Decoders = both('src/protocol/decoder.js');
    const record = fc.record({
      timestampDelta: fc.oneof(fc.integer({ min: -1000, max: 100_000 }), int64),
      key: fc.option(fc.oneof(text, bytes)),
      value: fc.option(fc.oneof(text, bytes)),
      headers: fc.array(fc.tuple(headerKey, headerValue), { maxLength: 5 }),
    });
    await fc.assert(
      fc.asyncProperty(
        fc.array(record, { maxLength: 30 }),
        int64,
        fc.oneof(int64, fc.integer({ min: 0, max: 2 ** 42 }).map(BigInt)),
        fc.boolean(),
        async (records, firstOffset, firstTimestamp, logAppendTime) => {
          const encoded = (
            await RecordBatch({
              firstOffset: Long.fromValue(firstOffset),
              firstTimestamp: Long.fromValue(firstTimestamp),
              maxTimestamp: Long.fromValue(firstTimestamp).add(7),
              lastOffsetDelta: Math.max(0, records.length - 1),
              records: records.map((r, i) =>
                Record({
                  offsetDelta: i * 3,
                  timestampDelta: typeof r.timestampDelta === 'bigint' ? Long.fromValue(r.timestampDelta) : r.timestampDelta,
                  key: r.key,
                  value: r.value,
                  // A repeated header key is sent once per value, as kafkajs sends an array header.
                  headers: r.headers.reduce<Record<string, unknown[]>>((o, [k, v]) => {
                    if (!Object.prototype.hasOwnProperty.call(o, k)) Object.defineProperty(o, k, { value: [], enumerable: true });
                    o[k].push(v);
                    return o;
                  }, {}),
                }),
              ),
            })
          ).buffer as Buffer;
          // The attributes' timestamp-type bit (int16 after offset, length, epoch, magic and CRC).
          if (logAppendTime) encoded[22] |= 0x8;
          const a = await decoders.original(new Decoders.original(Buffer.from(encoded)));
          const b = await decoders.patched(new Decoders.patched(Buffer.from(encoded)));
          expect(comparable(b)).toStrictEqual(comparable(a));
        },
      ),
      { numRuns: 300 },
    );
  });

  it('computes the same CRC-32C as the original (and the standard check value)', () => {
    const { original, patched } = both('src/protocol/recordBatch/crc32C/index.js');
    expect(patched(Buffer.from('123456789')).toString(16)).toBe('e3069283');
    fc.assert(fc.property(fc.uint8Array({ maxLength: 3000 }), fc.nat({ max: 7 }), (array, skip) => {
      const buffer = Buffer.from(array).subarray(Math.min(skip, array.length));
      expect(patched(buffer)).toBe(original(buffer));
    }), { numRuns: 500 });
  });

  it('writes and sizes varints and varlongs like the original (numbers, bigints, Longs, strings)', () => {
    const { original, patched } = both('src/protocol/encoder.js');
    const Long = require(join(KAFKAJS, 'src/utils/long')); // eslint-disable-line @typescript-eslint/no-require-imports
    const value = fc.oneof(
      fc.integer(),
      fc.constantFrom(2 ** 52 - 1, 2 ** 52, -(2 ** 52), -(2 ** 52) + 1, 2 ** 53 - 1, -(2 ** 53) + 1, 0, -1),
      fc.maxSafeInteger(),
      int64.map((v) => Long.fromValue(v)),
      int64.map((v) => String(v)),
    );
    fc.assert(
      fc.property(fc.array(value, { maxLength: 20 }), fc.array(fc.integer({ min: -(2 ** 31), max: 2 ** 31 - 1 }), { maxLength: 20 }), (longs, ints) => {
        const write = (Encoder: any) => { // eslint-disable-line @typescript-eslint/no-explicit-any
          const e = new Encoder(1);
          for (const v of longs) e.writeVarLong(v);
          for (const v of ints) e.writeVarInt(v).writeUVarInt(v >>> 0);
          return e.buffer as Buffer;
        };
        expect(write(patched).equals(write(original))).toBe(true);
        for (const v of longs) expect(patched.sizeOfVarLong(v)).toBe(original.sizeOfVarLong(v));
      }),
    );
  });

  it("keeps a fetch's messages from the fetched offset on like the original (offsets past 2^53, control records)", () => {
    const { original, patched } = both('src/consumer/batch.js');
    const offset = fc.oneof(int64.map(String), fc.integer({ min: -1, max: 2000 }).map(String));
    fc.assert(
      fc.property(offset, fc.array(fc.tuple(offset, fc.boolean()), { maxLength: 30 }), (fetchedOffset, rows) => {
        const messages = rows.map(([o, control]) => ({ offset: o, isControlRecord: control, key: null }));
        const partitionData = { partition: 2, highWatermark: '99', abortedTransactions: [], messages };
        const a = new original('t', fetchedOffset, partitionData);
        const b = new patched('t', fetchedOffset, partitionData);
        expect(b.messagesWithinOffset).toEqual(a.messagesWithinOffset);
        expect(b.messages).toEqual(a.messages);
        expect([b.firstOffset(), b.lastOffset(), b.isEmpty()]).toEqual([a.firstOffset(), a.lastOffset(), a.isEmpty()]);
      }),
      { numRuns: 500 },
    );
  });

  it('hashes message keys for the default partitioner like the original murmur2 (strings, buffers, numbers)', () => {
    const { original, patched } = both('src/producer/partitioners/default/murmur2.js');
    fc.assert(
      fc.property(fc.oneof(text, bytes, fc.integer(), fc.double()), (key) => {
        expect(patched(key)).toBe(original(key));
      }),
      { numRuns: 2000 },
    );
  });

  it("groups a send's messages per partition like the original (same partitions, same order, same objects)", () => {
    const { original, patched } = both('src/producer/groupMessagesPerPartition.js');
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 5 }), fc.array(fc.nat({ max: 7 }), { maxLength: 200 }), (partitions, targets) => {
        const partitionMetadata = Array.from({ length: partitions }, (_, i) => ({ partitionId: i }));
        const messages = targets.map((t, i) => ({ key: `m${i}`, partition: t % Math.max(1, partitions) }));
        const args = { topic: 't', partitionMetadata, messages, partitioner: ({ message }: { message: { partition: number } }) => message.partition };
        const a = original(args);
        const b = patched(args);
        expect(Object.keys(b)).toEqual(Object.keys(a));
        for (const p of Object.keys(a)) {
          expect(b[p]).toHaveLength(a[p].length);
          a[p].forEach((m: unknown, i: number) => expect(b[p][i]).toBe(m));
        }
      }),
    );
  });

  describe('the script', () => {
    /** A node_modules/kafkajs holding the originals, with one file changed by `edit`. */
    function fakeInstall(version: string, edit: (file: string, source: string) => string = (_, s) => s): string {
      const dir = mkdtempSync(join(tmpdir(), 'cepheus-patch-'));
      const kafkajs = join(dir, 'node_modules', 'kafkajs');
      mkdirSync(kafkajs, { recursive: true });
      writeFileSync(join(kafkajs, 'package.json'), JSON.stringify({ name: 'kafkajs', version }));
      for (const file of Object.keys(FILES)) {
        mkdirSync(dirname(join(kafkajs, file)), { recursive: true });
        writeFileSync(join(kafkajs, file), edit(file, readFileSync(join(KAFKAJS, `${file}.orig`), 'utf8')));
      }
      return dir;
    }
    const contents = (dir: string) =>
      Object.keys(FILES).flatMap((f) => [f, f + '.orig']).map((f) => {
        const p = join(dir, 'node_modules', 'kafkajs', f);
        return existsSync(p) ? readFileSync(p, 'utf8') : null;
      });

    it('patches the 2.2.4 originals once, keeps them as .orig, and leaves a patched install alone', () => {
      const dir = fakeInstall('2.2.4');
      try {
        expect(run('--check', '--root', dir).status).toBe(1);
        const first = run('--root', dir);
        expect(first.status).toBe(0);
        for (const file of Object.keys(FILES)) {
          const target = join(dir, 'node_modules', 'kafkajs', file);
          expect(readFileSync(target, 'utf8')).toBe(readFileSync(join(PATCHES, file), 'utf8'));
          expect(sha256(readFileSync(`${target}.orig`))).toBe(FILES[file]);
        }
        const patched = contents(dir);
        expect(run('--root', dir).status).toBe(0);
        expect(contents(dir)).toEqual(patched);
        expect(run('--check', '--root', dir).status).toBe(0);
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    });

    it('fails the install loudly and writes nothing on a file it was not written for (another version, a changed file)', () => {
      const changed = Object.keys(FILES)[3];
      for (const dir of [fakeInstall('2.3.0'), fakeInstall('2.2.4', (f, s) => (f === changed ? s + '\n' : s))]) {
        try {
          const before = contents(dir);
          const r = run('--root', dir);
          expect(r.status).toBe(1);
          expect(r.stderr).toContain('is not the 2.2.4 original');
          expect(contents(dir)).toEqual(before);
        } finally {
          rmSync(dir, { recursive: true, force: true });
        }
      }
    });

    it('refuses a patched file whose original is gone (reinstall needed)', () => {
      const dir = fakeInstall('2.2.4');
      try {
        expect(run('--root', dir).status).toBe(0);
        const file = Object.keys(FILES)[1];
        rmSync(join(dir, 'node_modules', 'kafkajs', `${file}.orig`));
        const r = run('--root', dir);
        expect(r.status).toBe(1);
        expect(r.stderr).toContain('its original (.orig) is missing');
        expect(run('--check', '--root', dir).status).toBe(1);
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    });
  });
});
