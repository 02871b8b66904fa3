/**
 * npm run bench:kafkajs — what the kafkajs patches (scripts/patch-dependencies.js) save: µs per record to
 * encode a produce request of alerts and to decode a fetched batch of stock events, with the installed
 * (patched) kafkajs and with its 2.2.4 originals (the `.orig` files the script keeps), in one process.
 * No broker: only the protocol code runs.
 */
/* eslint-disable @typescript-eslint/no-require-imports, @typescript-eslint/no-explicit-any */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { loadStocks } from './stocks';

const ROOT = resolve(__dirname, '..', '..');
const KAFKAJS = join(ROOT, 'node_modules', 'kafkajs');
const { copyOriginalKafkajs } = require(join(ROOT, 'scripts', 'patch-dependencies.js')) as { copyOriginalKafkajs: (dir: string) => string };

const ALERTS_PER_REQUEST = 2000;
const RECORDS_PER_BATCH = 8000;
const ROUNDS = 200;

/** Mean µs per record of `work` (which handles `records` records), after a warm-up. */
async function perRecord(records: number, work: () => Promise<unknown>): Promise<number> {
  for (let i = 0; i < ROUNDS / 4; i++) await work();
  const start = process.hrtime.bigint();
  for (let i = 0; i < ROUNDS; i++) await work();
  return Number(process.hrtime.bigint() - start) / 1e3 / ROUNDS / records;
}

async function measure(tree: string, stocks: ReturnType<typeof loadStocks>) {
  const ProduceRequest = require(join(tree, 'src/protocol/requests/produce/v7/request.js'));
  const Long = require(join(tree, 'src/utils/long'));
  const { RecordBatch } = require(join(tree, 'src/protocol/recordBatch/v0'));
  const Record = require(join(tree, 'src/protocol/recordBatch/record/v0'));
  const Decoder = require(join(tree, 'src/protocol/decoder'));
  const decodeBatch = require(join(tree, 'src/protocol/recordBatch/v0/decoder'));

  // Alerts like the e2e benchmark's: ~360 bytes of JSON, the rule key, two headers, 4 partitions.
  const alerts = stocks.slice(0, ALERTS_PER_REQUEST).map((e, i) => ({
    key: e.symbol,
    value: JSON.stringify({ id: i.toString(16).padStart(32, '0'), rule: 'every-every-bounded', key: e.symbol, time: e.timestamp, events: { a: e, b: stocks[i + 1] }, fields: {}, ruleVersion: 1, severity: 'warning', labels: {} }),
    headers: { rule: 'every-every-bounded', severity: 'warning' },
  }));
  const quarter = ALERTS_PER_REQUEST / 4;
  const produce = () =>
    ProduceRequest({
      acks: -1,
      timeout: 30000,
      transactionalId: null,
      producerId: Long.fromNumber(7),
      producerEpoch: 0,
      compression: 0,
      topicData: [{ topic: 'alerts', partitions: [0, 1, 2, 3].map((p) => ({ partition: p, firstSequence: p * 100, messages: alerts.slice(p * quarter, (p + 1) * quarter) })) }],
    }).encode();

  // A fetched batch of stock events as a broker returns it (encoded once, decoded every round).
  const fetched = (
    await RecordBatch({
      firstOffset: Long.fromNumber(1_000_000),
      firstTimestamp: 1_764_000_000_000,
      maxTimestamp: 1_764_000_000_000 + RECORDS_PER_BATCH,
      lastOffsetDelta: RECORDS_PER_BATCH - 1,
      records: stocks.slice(0, RECORDS_PER_BATCH).map((e, i) => Record({ offsetDelta: i, timestampDelta: i, key: e.symbol, value: JSON.stringify(e) })),
    })
  ).buffer as Buffer;
  const fetch = () => decodeBatch(new Decoder(fetched));

  return { encode: await perRecord(ALERTS_PER_REQUEST, produce), decode: await perRecord(RECORDS_PER_BATCH, fetch) };
}

async function main() {
  const stocks = loadStocks();
  const original = copyOriginalKafkajs(mkdtempSync(join(tmpdir(), 'cepheus-kafkajs-original-')));
  try {
    // Interleaved, twice each, so that neither side gets a warmer machine.
    const runs: Array<{ name: string; encode: number; decode: number }> = [];
    for (let i = 0; i < 2; i++) {
      runs.push({ name: 'original', ...(await measure(original, stocks)) });
      runs.push({ name: 'patched', ...(await measure(KAFKAJS, stocks)) });
    }
    const best = (name: string, k: 'encode' | 'decode') => Math.min(...runs.filter((r) => r.name === name).map((r) => r[k]));
    const fmt = (v: number) => v.toFixed(2);
    console.log(`kafkajs codec benchmark (node ${process.version}, ${new Date().toISOString()}): µs per record, best of 2 interleaved runs of ${ROUNDS} rounds\n`);
    console.log('| kafkajs 2.2.4 | produce request: encode an alert (2,000 per request, 4 partitions) | fetch: decode a stock event (batches of 8,000) |');
    console.log('|---|---:|---:|');
    for (const name of ['original', 'patched']) console.log(`| ${name} | ${fmt(best(name, 'encode'))} | ${fmt(best(name, 'decode'))} |`);
    console.log(`| saved | ${fmt(best('original', 'encode') - best('patched', 'encode'))} | ${fmt(best('original', 'decode') - best('patched', 'decode'))} |`);
  } finally {
    rmSync(original, { recursive: true, force: true });
  }
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
