#!/usr/bin/env node
/**
 * Runs after `npm ci` / `npm install` (the `postinstall` script): replaces a few files of kafkajs 2.2.4 with
 * the faster versions in scripts/patches/kafkajs/ (kafkajs has had no release since 2.2.4). Each patched file
 * produces exactly what the original does; test/deploy/patch-dependencies.spec.ts proves it against the
 * originals, byte for byte and record for record.
 *
 * - producer/groupMessagesPerPartition.js: the producer grouped a send's messages per partition with
 *   `[...current, message]` for every message, quadratic in the messages of one send (8,000 messages to 4
 *   partitions: ~32 ms and ~64 MB of garbage). Upstream's open pull request tulios/kafkajs#1576.
 * - protocol/encoder.js, recordBatch/record/v0/index.js, requests/produce/v3/request.js, crc32C/crc32C.js:
 *   encoding one produced record cost ~10 µs (a zero-filled 512-byte buffer per record and per header, an array
 *   and a Buffer.from per varint, BigInt arithmetic per varlong, a spread copy per message, a byte-at-a-time
 *   CRC); now ~2.3 µs. This was an eighth of a replica's CPU in bench:e2e, most of it garbage collection.
 *   partitioners/default/murmur2.js hashed each message key with BigInt-backed Longs; now 32-bit Math.imul.
 * - recordBatch/record/v0/decoder.js: each fetched record's offset and timestamp went through BigInt parsing
 *   and printing, and its headers through a spread copy per header (0.75 → 0.55 µs per record);
 *   consumer/batch.js: a fetch's messages were filtered by offset with a BigInt-backed Long per message.
 *
 * A file is replaced only when it is byte-for-byte the known 2.2.4 original, which is kept beside it as
 * `<file>.orig` (the tests compare against it); a file already patched is left alone; anything else (another
 * kafkajs version, a changed file) fails the install loudly, so a patch never lands on code it was not written
 * for. `--check` only reports (exit 1 when something is not patched). `--root DIR` patches DIR's node_modules.
 */
'use strict';

const crypto = require('crypto');
const fs = require('fs');
const path = require('path');

const PATCHES = path.join(__dirname, 'patches', 'kafkajs');

/** Each patched file of kafkajs, with the sha256 of its 2.2.4 original. */
const FILES = {
  'src/producer/groupMessagesPerPartition.js': 'ea72357721fbf67770b5e06b9bf4260faa1e60f3affb556bff2cc7892c1881fb',
  'src/protocol/encoder.js': '9977889e184a9e910e4f6098c36ec6a0ca36c183aa6ead0f24191b6aa1c9a777',
  'src/protocol/recordBatch/record/v0/index.js': 'ffbc628c1f35f5de8ba798165616b1009d9af1c27ca959999a10e6e3c18f8215',
  'src/protocol/recordBatch/record/v0/decoder.js': '86d740054c8be29b02873bf2871eb43ba5004af94324610541dbab2d9fabcc65',
  'src/protocol/recordBatch/crc32C/crc32C.js': '1c09c7a44e7a207f2dabb920e6bf9f6b1b3fd9cc023e959a9e91ba83e5b6f61a',
  'src/protocol/requests/produce/v3/request.js': '993a3db997827088f5acb08cacf3c67a99ec2886303ff465d244329b8a1c7f99',
  'src/consumer/batch.js': '04ee8657247441599f200af5871ce6b3c4463abe941b97405502f8f5f683face',
  'src/producer/partitioners/default/murmur2.js': '82c3a52a692c32b2c62e4e91adc553b4572b9abbd53d237255bf33cf132e1f98',
};

const sha256 = (text) => crypto.createHash('sha256').update(text).digest('hex');

function main() {
  const rootArg = process.argv.indexOf('--root');
  const root = rootArg > 0 ? path.resolve(process.argv[rootArg + 1]) : path.resolve(__dirname, '..');
  const check = process.argv.includes('--check');
  const kafkajs = path.join(root, 'node_modules', 'kafkajs');
  if (!fs.existsSync(path.join(kafkajs, 'package.json'))) {
    // kafkajs not installed (e.g. an install that omits it): nothing to patch.
    console.error('patch-dependencies: kafkajs is not installed');
    process.exit(check ? 1 : 0);
  }
  const version = JSON.parse(fs.readFileSync(path.join(kafkajs, 'package.json'), 'utf8')).version;

  // Every file is checked before any is written: a refused install changes nothing.
  const todo = [];
  for (const [file, originalSha256] of Object.entries(FILES)) {
    const target = path.join(kafkajs, file);
    const shown = path.relative(root, target);
    const patched = fs.readFileSync(path.join(PATCHES, file), 'utf8');
    const current = fs.existsSync(target) ? fs.readFileSync(target, 'utf8') : undefined;
    if (current === patched && fs.existsSync(`${target}.orig`)) continue;
    if (check) {
      console.error(`patch-dependencies: ${shown} is not patched (run npm ci)`);
      process.exit(1);
    }
    if (current === patched) {
      console.error(`patch-dependencies: ${shown} is patched but its original (.orig) is missing; reinstall with npm ci`);
      process.exit(1);
    }
    const original = current;
    if (version !== '2.2.4' || original === undefined || sha256(original) !== originalSha256) {
      console.error(
        `patch-dependencies: kafkajs ${version}'s ${shown} is not the 2.2.4 original this patch was written for ` +
          `(sha256 ${original === undefined ? 'none' : sha256(original)}); review scripts/patch-dependencies.js`,
      );
      process.exit(1);
    }
    todo.push({ target, shown, original, patched });
  }
  for (const { target, shown, original, patched } of todo) {
    fs.writeFileSync(`${target}.orig`, original);
    fs.writeFileSync(target, patched);
    console.error(`patch-dependencies: patched ${shown} (original kept as ${path.basename(target)}.orig)`);
  }
}

/** Copies the installed kafkajs into `dir` with every patched file put back to its original (tests, benchmarks). */
function copyOriginalKafkajs(dir, root = path.resolve(__dirname, '..')) {
  const kafkajs = path.join(root, 'node_modules', 'kafkajs');
  fs.cpSync(kafkajs, dir, { recursive: true });
  for (const file of Object.keys(FILES)) fs.renameSync(path.join(dir, `${file}.orig`), path.join(dir, file));
  return dir;
}

if (require.main === module) main();

module.exports = { FILES, PATCHES, copyOriginalKafkajs };
