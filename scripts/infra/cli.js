#!/usr/bin/env node
'use strict';
/**
 * Local-development infrastructure (the `npm run infra:*` scripts).
 *
 *   node scripts/infra/cli.js up      start Kafka + Redis detached; stdout gets exactly
 *                                     KAFKA_BROKERS=127.0.0.1:PORT
 *                                     REDIS_URL=redis://127.0.0.1:PORT
 *                                     (everything else goes to stderr); pids, ports and
 *                                     dirs are recorded in .cache/infra/state.json.
 *                                     Already running -> prints the same two lines again.
 *   node scripts/infra/cli.js down    stop what `up` started, remove its temp dirs.
 *   node scripts/infra/cli.js status  print the state, exit 1 when nothing is running.
 *   node scripts/infra/cli.js jars    only fetch the Kafka jars into .cache/kafka/libs.
 *
 * Fixed ports for `up`: CEPHEUS_KAFKA_PORT, CEPHEUS_REDIS_PORT (default: free ports).
 */
const fs = require('node:fs');
const path = require('node:path');
const infra = require('./index');

const STATE_DIR = path.join(infra.CACHE_DIR, 'infra');
const STATE_FILE = path.join(STATE_DIR, 'state.json');

/** Expected command-line marker per service, so a recycled pid is never killed. */
const MARKERS = { kafka: 'kafka.Kafka', redis: 'redis-server' };

function readState() {
  try {
    return JSON.parse(fs.readFileSync(STATE_FILE, 'utf8'));
  } catch {
    return null;
  }
}

function isOurs(service, pid) {
  if (!pid) return false;
  try {
    const cmdline = fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8').replace(/\0/g, ' ');
    return cmdline.includes(MARKERS[service]);
  } catch {
    return false;
  }
}

function printEnv(state) {
  process.stdout.write(`KAFKA_BROKERS=${state.kafka.brokers}\nREDIS_URL=${state.redis.url}\n`);
}

async function up() {
  const existing = readState();
  if (existing && isOurs('kafka', existing.kafka && existing.kafka.pid) && isOurs('redis', existing.redis && existing.redis.pid)) {
    process.stderr.write(`[infra] already running (see ${path.relative(process.cwd(), STATE_FILE)})\n`);
    printEnv(existing);
    return;
  }
  if (existing) await down({ quiet: true }); // half-dead leftovers

  const t0 = Date.now();
  const env = process.env;
  const started = await infra.startInfra({
    kafka: { detached: true, port: env.CEPHEUS_KAFKA_PORT ? Number(env.CEPHEUS_KAFKA_PORT) : undefined },
    redis: { detached: true, port: env.CEPHEUS_REDIS_PORT ? Number(env.CEPHEUS_REDIS_PORT) : undefined },
  });
  const state = {
    startedAt: new Date().toISOString(),
    kafka: {
      pid: started.kafka.pid,
      brokers: started.kafka.brokers,
      port: started.kafka.port,
      controllerPort: started.kafka.controllerPort,
      dir: started.kafka.dir,
      logFile: started.kafka.logFile,
    },
    redis: {
      pid: started.redis.pid,
      url: started.redis.url,
      port: started.redis.port,
      dir: started.redis.dir,
      logFile: started.redis.logFile,
    },
  };
  fs.mkdirSync(STATE_DIR, { recursive: true });
  fs.writeFileSync(STATE_FILE, JSON.stringify(state, null, 2) + '\n');
  process.stderr.write(`[infra] up in ${Date.now() - t0} ms; stop with: npm run infra:down\n`);
  printEnv(state);
}

async function down({ quiet = false } = {}) {
  const state = readState();
  if (!state) {
    if (!quiet) process.stderr.write('[infra] nothing to stop (no .cache/infra/state.json)\n');
    return;
  }
  for (const service of ['kafka', 'redis']) {
    const s = state[service];
    if (!s) continue;
    if (isOurs(service, s.pid)) {
      const t0 = Date.now();
      await infra.stopGroup(s.pid, { timeoutMs: 20000 });
      process.stderr.write(`[infra] stopped ${service} (pid ${s.pid}, ${Date.now() - t0} ms)\n`);
    } else if (!quiet) {
      process.stderr.write(`[infra] ${service} (pid ${s.pid}) was not running\n`);
    }
    if (s.dir && path.basename(s.dir).startsWith('cepheus-')) fs.rmSync(s.dir, { recursive: true, force: true });
  }
  fs.rmSync(STATE_FILE, { force: true });
}

function status() {
  const state = readState();
  const alive = state && ['kafka', 'redis'].filter((s) => state[s] && isOurs(s, state[s].pid));
  if (!state || !alive.length) {
    process.stderr.write('[infra] not running\n');
    process.exitCode = 1;
    return;
  }
  process.stderr.write(`[infra] running: ${alive.join(', ')} (since ${state.startedAt})\n`);
  if (alive.length === 2) printEnv(state);
  else process.exitCode = 1;
}

const commands = {
  up,
  down,
  status,
  jars: () => infra.ensureKafkaJars(),
};
const cmd = process.argv[2];
if (!commands[cmd]) {
  process.stderr.write('usage: node scripts/infra/cli.js up|down|status|jars\n');
  process.exit(2);
}
Promise.resolve()
  .then(() => commands[cmd]())
  .then(
    () => process.exit(process.exitCode || 0),
    (e) => {
      process.stderr.write(`[infra] ${cmd} failed: ${e && e.stack ? e.stack : e}\n`);
      process.exit(1);
    },
  );
