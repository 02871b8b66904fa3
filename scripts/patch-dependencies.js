#!/usr/bin/env node
/**
 * Runs after `npm ci` / `npm install` (the `postinstall` script): fixes one function of kafkajs 2.2.4.
 *
 * kafkajs' producer groups a send's messages per partition with `[...current, message]` for every message,
 * which copies the partition's list each time: quadratic in the messages of one send (8,000 messages to 4
 * partitions: ~32 ms and ~64 MB of garbage; to 1 partition ~4 times that). Cepheus sends whole batches at once
 * (re-partitioned records, dead letters, the outbox relay's alerts), so this was a tenth of a re-partitioning
 * replica's CPU. The fix is upstream's open pull request tulios/kafkajs#1576 (kafkajs has had no release
 * since 2.2.4): the same grouping, built in one pass.
 *
 * The file is replaced only when it is byte-for-byte the known 2.2.4 original; when it is already patched
 * nothing happens; anything else (another kafkajs version) fails the install loudly, so the patch is never
 * applied to code it was not written for. `--check` only reports (exit 1 when not patched).
 * test/deploy/patch-dependencies.spec.ts proves the patched function groups exactly like the original.
 */
'use strict';

const crypto = require('crypto');
const fs = require('fs');
const path = require('path');

// `--root DIR`: patch the node_modules under DIR instead of the project's (tests).
const rootArg = process.argv.indexOf('--root');
const root = rootArg > 0 ? path.resolve(process.argv[rootArg + 1]) : path.resolve(__dirname, '..');
const target = path.join(root, 'node_modules', 'kafkajs', 'src', 'producer', 'groupMessagesPerPartition.js');

const ORIGINAL_SHA256 = 'ea72357721fbf67770b5e06b9bf4260faa1e60f3affb556bff2cc7892c1881fb';

const PATCHED = `// Patched by cepheus scripts/patch-dependencies.js: one pass instead of copying the list per message
// (tulios/kafkajs#1576). Same result as kafkajs 2.2.4's reduce.
module.exports = ({ topic, partitionMetadata, messages, partitioner }) => {
  if (partitionMetadata.length === 0) {
    return {}
  }

  const result = {}
  for (const message of messages) {
    const partition = partitioner({ topic, partitionMetadata, message })
    const current = result[partition]
    if (current) current.push(message)
    else result[partition] = [message]
  }
  return result
}
`;

const sha256 = (text) => crypto.createHash('sha256').update(text).digest('hex');

function main() {
  const check = process.argv.includes('--check');
  if (!fs.existsSync(target)) {
    // kafkajs not installed (e.g. an install that omits it): nothing to patch.
    console.error(`patch-dependencies: ${path.relative(root, target)} not found; kafkajs is not installed`);
    process.exit(check ? 1 : 0);
  }
  const current = fs.readFileSync(target, 'utf8');
  if (current === PATCHED) return;
  if (check) {
    console.error(`patch-dependencies: ${path.relative(root, target)} is not patched (run npm ci)`);
    process.exit(1);
  }
  const version = require(path.join(root, 'node_modules', 'kafkajs', 'package.json')).version;
  if (version !== '2.2.4' || sha256(current) !== ORIGINAL_SHA256) {
    console.error(
      `patch-dependencies: kafkajs ${version}'s ${path.relative(root, target)} is not the 2.2.4 original this patch was written for ` +
        `(sha256 ${sha256(current)}); review scripts/patch-dependencies.js`,
    );
    process.exit(1);
  }
  fs.writeFileSync(target, PATCHED);
  console.error(`patch-dependencies: patched ${path.relative(root, target)} (linear grouping, tulios/kafkajs#1576)`);
}

main();
