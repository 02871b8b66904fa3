'use strict';
/**
 * Protocol compatibility check between the pinned kafkajs and a running broker.
 *
 * kafkajs picks min(its highest implemented version, broker's max version) for each
 * API and never looks at the broker's *minimum* version, so a broker that dropped old
 * protocol versions (Kafka 4.0, KIP-896) would answer UNSUPPORTED_VERSION at run time.
 * This asks the broker for its ApiVersions and reports, for every API kafkajs
 * implements, the version kafkajs will use and whether the broker accepts it.
 *
 *   node scripts/infra/kafka-api-versions.js 127.0.0.1:39092   # prints the table, exit 1 on a mismatch
 *
 * Uses kafkajs internals (src/cluster, src/protocol/requests); kafkajs is pinned to
 * 2.2.4 in package.json, re-check this file when that changes.
 */
const path = require('node:path');

function kafkajsInternals() {
  const base = path.dirname(require.resolve('kafkajs/package.json'));
  return {
    Cluster: require(path.join(base, 'src/cluster')),
    socketFactory: require(path.join(base, 'src/network/socketFactory')),
    requests: require(path.join(base, 'src/protocol/requests')).requests,
    apiKeys: require(path.join(base, 'src/protocol/requests/apiKeys')),
    version: require(path.join(base, 'package.json')).version,
  };
}

/**
 * @param {string[]} brokers
 * @returns {Promise<{kafkajs: string, rows: Array<{api: string, key: number, clientMax: number,
 *   brokerMin: number|null, brokerMax: number|null, used: number|null, ok: boolean}>}>}
 */
async function checkKafkajsApiVersions(brokers) {
  const { Kafka, logLevel } = require('kafkajs');
  const { Cluster, socketFactory, requests, apiKeys, version } = kafkajsInternals();
  const logger = new Kafka({ brokers, logLevel: logLevel.NOTHING }).logger();
  const cluster = new Cluster({
    logger,
    brokers,
    socketFactory: socketFactory(),
    connectionTimeout: 3000,
    retry: { retries: 3 },
  });
  await cluster.connect();
  try {
    const versions = cluster.brokerPool.versions;
    const rows = [];
    for (const [api, key] of Object.entries(apiKeys)) {
      const def = requests[api];
      if (!def || !def.versions.length) continue; // not implemented by kafkajs
      const clientMax = Math.max(...def.versions.map(Number));
      const b = versions[key];
      if (!b) {
        rows.push({ api, key, clientMax, brokerMin: null, brokerMax: null, used: null, ok: false });
        continue;
      }
      const used = Math.min(clientMax, b.maxVersion);
      rows.push({ api, key, clientMax, brokerMin: b.minVersion, brokerMax: b.maxVersion, used, ok: used >= b.minVersion });
    }
    return { kafkajs: version, rows };
  } finally {
    await cluster.disconnect();
  }
}

function formatRows(rows) {
  return rows
    .map((r) =>
      r.brokerMax === null
        ? `FAIL ${r.api}(${r.key}): kafkajs <= v${r.clientMax}, broker does not offer this API`
        : `${r.ok ? 'ok  ' : 'FAIL'} ${r.api}(${r.key}): kafkajs <= v${r.clientMax}, broker v${r.brokerMin}-v${r.brokerMax} -> v${r.used}`,
    )
    .join('\n');
}

module.exports = { checkKafkajsApiVersions, formatRows };

if (require.main === module) {
  const brokers = (process.argv[2] || process.env.KAFKA_BROKERS || '').split(',').filter(Boolean);
  if (!brokers.length) {
    console.error('usage: node scripts/infra/kafka-api-versions.js HOST:PORT (or set KAFKA_BROKERS)');
    process.exit(2);
  }
  checkKafkajsApiVersions(brokers).then(
    ({ kafkajs, rows }) => {
      console.log(`kafkajs ${kafkajs} against ${brokers.join(',')}:`);
      console.log(formatRows(rows));
      process.exit(rows.every((r) => r.ok) ? 0 : 1);
    },
    (e) => {
      console.error(e);
      process.exit(1);
    },
  );
}
