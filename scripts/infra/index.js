'use strict';
/**
 * Real test infrastructure for Cepheus: a single-node Apache Kafka broker (KRaft,
 * jars from Maven Central via scripts/infra/pom.xml) and a Debian `redis-server`,
 * both bound to 127.0.0.1 on free ports. Plain CommonJS so it runs without a build
 * (jest global setup, `npm run infra:up`, and failure tests that need their own
 * broker all require it directly).
 *
 *   const infra = require('./scripts/infra');
 *   const redis = await infra.startRedis();            // { url, port, dir, stop(), restart() }
 *   const kafka = await infra.startKafka();            // { brokers, port, dir, stop(), restart() }
 *   await kafka.restart({ hard: true });               // SIGKILL + start again, same port and data
 *
 * Every server runs in its own process group (spawned detached) and is stopped by
 * signalling the whole group. Unless started with `detached: true` (infra:up), each
 * server also gets a tiny `sh` watchdog that kills the group as soon as the owning
 * node process is gone, so a jest run that crashes or is killed with SIGKILL does
 * not leave brokers behind.
 */
const { spawn, spawnSync } = require('node:child_process');
const crypto = require('node:crypto');
const fs = require('node:fs');
const net = require('node:net');
const os = require('node:os');
const path = require('node:path');
const { fillDirOnce } = require('./fill-dir-once');

const ROOT = path.resolve(__dirname, '..', '..');
const CACHE_DIR = path.join(ROOT, '.cache');
const KAFKA_LIBS = path.join(CACHE_DIR, 'kafka', 'libs');
const POM = path.join(__dirname, 'pom.xml');
/** Must match <kafka.version> in pom.xml; override with CEPHEUS_KAFKA_VERSION. */
const DEFAULT_KAFKA_VERSION = '4.1.2';

const log = (...args) => {
  if (process.env.CEPHEUS_INFRA_QUIET !== '1') process.stderr.write(`[infra] ${args.join(' ')}\n`);
};
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

// ---------------------------------------------------------------------------
// process-group bookkeeping
// ---------------------------------------------------------------------------

/** Process groups owned by this node process; SIGTERMed synchronously on exit. */
const owned = new Set();
let exitHookInstalled = false;
function installExitHook() {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  process.on('exit', () => {
    for (const pgid of owned) signalGroup(pgid, 'SIGTERM');
  });
}

function signalGroup(pgid, signal) {
  try {
    process.kill(-pgid, signal);
    return true;
  } catch (e) {
    if (e.code === 'ESRCH') return false;
    throw e;
  }
}

/**
 * True while a non-zombie process of group `pgid` exists. Zombies count as gone: a
 * server detached by `infra:up` is reparented to pid 1, which may reap it late.
 */
function groupAlive(pgid) {
  if (!signalGroup(pgid, 0)) return false;
  let entries;
  try {
    entries = fs.readdirSync('/proc');
  } catch {
    return true; // no procfs: trust kill(0)
  }
  for (const name of entries) {
    if (!/^\d+$/.test(name)) continue;
    let stat;
    try {
      stat = fs.readFileSync(`/proc/${name}/stat`, 'utf8');
    } catch {
      continue;
    }
    // pid (comm) state ppid pgrp ...; comm may contain spaces/parens
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    if (Number(fields[2]) === pgid && fields[0] !== 'Z') return true;
  }
  return false;
}

/**
 * Watchdog: a detached `sh` that polls the owner pid and, once the owner is gone,
 * TERMs then KILLs the server's process group and removes its temp dir (if it
 * made one and KEEP_INFRA_DIRS is not 1). It exits by itself when the group
 * disappears while the owner lives (normal stop/restart), so it never outlives
 * the server by more than ~1 s.
 */
const WATCHDOG = `
owner=$1; pg=$2; tmpdir=$3
while kill -0 "$owner" 2>/dev/null; do
  kill -0 "-$pg" 2>/dev/null || exit 0
  sleep 1
done
if kill -TERM "-$pg" 2>/dev/null; then
  i=0
  while [ $i -lt 20 ] && kill -0 "-$pg" 2>/dev/null; do
    sleep 0.5
    i=$((i+1))
  done
  kill -KILL "-$pg" 2>/dev/null
fi
[ -n "$tmpdir" ] && rm -rf "$tmpdir"
exit 0
`;

function spawnWatchdog(pgid, tmpDir) {
  const w = spawn('sh', ['-c', WATCHDOG, 'cepheus-infra-watchdog', String(process.pid), String(pgid), tmpDir || ''], {
    detached: true,
    stdio: 'ignore',
  });
  w.unref();
}

/**
 * Spawns `cmd` as the leader of a new process group with stdout/stderr appended to
 * `outFile`. Returns { child, pid, exited: Promise<{code, signal}> }.
 */
function spawnServer(cmd, args, { outFile, cwd, env, detached, tmpDir }) {
  const fd = fs.openSync(outFile, 'a');
  let child;
  try {
    child = spawn(cmd, args, { cwd, env: env || process.env, detached: true, stdio: ['ignore', fd, fd] });
  } finally {
    fs.closeSync(fd);
  }
  const exited = new Promise((resolve) => {
    child.once('exit', (code, signal) => resolve({ code, signal }));
    child.once('error', (err) => resolve({ code: null, signal: null, error: err }));
  });
  child.unref();
  if (child.pid && !detached) {
    owned.add(child.pid);
    installExitHook();
    spawnWatchdog(child.pid, process.env.KEEP_INFRA_DIRS === '1' ? '' : tmpDir);
  }
  return { child, pid: child.pid, exited };
}

/**
 * Stops a process group: `signal` (SIGTERM unless hard) to the group, then SIGKILL
 * after `timeoutMs`. Resolves once no process of the group is left.
 */
async function stopGroup(pid, { hard = false, timeoutMs = 15000 } = {}) {
  if (!pid) return;
  owned.delete(pid);
  if (!signalGroup(pid, hard ? 'SIGKILL' : 'SIGTERM')) return;
  const deadline = Date.now() + timeoutMs;
  while (groupAlive(pid)) {
    if (Date.now() > deadline) {
      log(`process group ${pid} did not stop within ${timeoutMs} ms, sending SIGKILL`);
      signalGroup(pid, 'SIGKILL');
      const killDeadline = Date.now() + 5000;
      while (groupAlive(pid) && Date.now() < killDeadline) await sleep(50);
      break;
    }
    await sleep(50);
  }
}

// ---------------------------------------------------------------------------
// helpers
// ---------------------------------------------------------------------------

/**
 * Polls `probe` until it resolves true; throws if the server process exits first
 * or `deadline` (epoch ms) passes. The caller kills the process on failure.
 */
async function waitForServer(proc, deadline, probe, what) {
  let exited = null;
  proc.exited.then((r) => (exited = r));
  for (;;) {
    if (exited) {
      const how = exited.error ? String(exited.error) : `code ${exited.code}, signal ${exited.signal}`;
      throw new Error(`${what}: process exited during start (${how})`);
    }
    if (await probe()) return;
    if (exited) continue;
    if (Date.now() > deadline) throw new Error(`${what}: not ready before the start timeout`);
    await sleep(100);
  }
}

/** The kernel's range of ephemeral ports (the local ports of outgoing connections), or null when unknown. */
function ephemeralRange() {
  try {
    const [low, high] = fs.readFileSync('/proc/sys/net/ipv4/ip_local_port_range', 'utf8').trim().split(/\s+/).map(Number);
    return Number.isInteger(low) && Number.isInteger(high) ? { low, high } : null;
  } catch {
    return null;
  }
}

function tryListen(port) {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.unref();
    srv.on('error', (e) => (port !== 0 && e.code === 'EADDRINUSE' ? resolve(null) : reject(e)));
    srv.listen(port, '127.0.0.1', () => {
      const { port: bound } = srv.address();
      srv.close(() => resolve(bound));
    });
  });
}

/**
 * A TCP port on 127.0.0.1 that was free a moment ago, below the ephemeral range when there is room: a server
 * restarted on its port (the Redis and broker restart tests) must find it free, and while it is down a client
 * reconnecting to it can be given that very port as its local one (a TCP self-connection), which happened.
 */
async function freePort() {
  const range = ephemeralRange();
  if (range && range.low > 11000) {
    for (let i = 0; i < 50; i++) {
      const port = 10000 + Math.floor(Math.random() * (range.low - 10000));
      const bound = await tryListen(port);
      if (bound !== null) return bound;
    }
  }
  return tryListen(0);
}

function tail(file, lines = 40) {
  try {
    const text = fs.readFileSync(file, 'utf8');
    return text.split('\n').slice(-lines - 1).join('\n');
  } catch {
    return `(no ${file})`;
  }
}

function mkTmp(prefix) {
  return fs.mkdtempSync(path.join(os.tmpdir(), prefix));
}

/** Runs a command to completion (not as a server), collecting stdout+stderr. */
function run(cmd, args, { cwd, timeoutMs = 60000 } = {}) {
  return new Promise((resolve) => {
    const child = spawn(cmd, args, { cwd, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.on('data', (d) => (output += d));
    child.stderr.on('data', (d) => (output += d));
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.on('error', (e) => {
      clearTimeout(timer);
      resolve({ code: null, signal: null, output: output + String(e) });
    });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, output });
    });
  });
}

function whichSync(bin) {
  const r = spawnSync('sh', ['-c', `command -v ${bin}`], { encoding: 'utf8' });
  return r.status === 0 ? r.stdout.trim() : null;
}

// ---------------------------------------------------------------------------
// Redis
// ---------------------------------------------------------------------------

/** One RESP PING over a raw socket; resolves true on +PONG. */
function redisPing(port) {
  return new Promise((resolve) => {
    const sock = net.connect({ host: '127.0.0.1', port });
    let buf = '';
    const done = (ok) => {
      sock.destroy();
      resolve(ok);
    };
    sock.setTimeout(1000, () => done(false));
    sock.on('error', () => done(false));
    sock.on('connect', () => sock.write('PING\r\n'));
    sock.on('data', (d) => {
      buf += d.toString();
      if (buf.includes('\r\n')) done(buf.startsWith('+PONG'));
    });
  });
}

/**
 * Starts `redis-server` on 127.0.0.1.
 * @param {object} [opts]
 * @param {number} [opts.port]        fixed port (default: a free one)
 * @param {string} [opts.dir]         data dir (default: new temp dir); kept by restart()
 * @param {boolean} [opts.appendonly] enable AOF persistence (default false)
 * @param {string} [opts.save]        RDB save policy, e.g. '1 1' (default '' = off)
 * @param {string[]} [opts.args]      extra redis-server arguments, e.g. ['--maxmemory', '64mb']
 * @param {boolean} [opts.detached]   no watchdog: survives this node process (infra:up)
 * @param {number} [opts.timeoutMs]   start timeout (default 15000)
 * @returns {Promise<{url: string, port: number, dir: string, pid: number, logFile: string,
 *   stop(o?: {hard?: boolean}): Promise<void>, restart(o?: {hard?: boolean}): Promise<void>}>}
 */
async function startRedis(opts = {}) {
  const bin = opts.bin || whichSync('redis-server');
  if (!bin) throw new Error('redis-server not found on PATH (Debian: apt-get install -y redis-server)');
  const port = opts.port || (await freePort());
  const dir = opts.dir || mkTmp('cepheus-redis-');
  const tmpDir = opts.dir ? undefined : dir;
  fs.mkdirSync(dir, { recursive: true });
  const logFile = path.join(dir, 'redis.log');
  const outFile = path.join(dir, 'redis.out');
  const args = [
    '--port', String(port),
    '--bind', '127.0.0.1',
    '--dir', dir,
    '--save', opts.save === undefined ? '' : String(opts.save),
    '--appendonly', opts.appendonly ? 'yes' : 'no',
    '--logfile', logFile,
    '--daemonize', 'no',
    '--databases', '16',
    ...(opts.args || []),
  ];
  const timeoutMs = opts.timeoutMs || 15000;

  const handle = {
    url: `redis://127.0.0.1:${port}`,
    port,
    dir,
    pid: 0,
    logFile,
    stop,
    restart,
  };
  let proc = null;

  async function launch() {
    const t0 = Date.now();
    proc = spawnServer(bin, args, { outFile, cwd: dir, detached: opts.detached, tmpDir });
    handle.pid = proc.pid;
    try {
      await waitForServer(proc, t0 + timeoutMs, () => redisPing(port), `redis-server on port ${port} (PING)`);
    } catch (e) {
      const p = proc;
      proc = null;
      await stopGroup(p.pid, { hard: true });
      e.message += `\n--- ${outFile} ---\n${tail(outFile)}\n--- ${logFile} ---\n${tail(logFile)}`;
      throw e;
    }
    log(`redis up at ${handle.url} (pid ${proc.pid}, ${Date.now() - t0} ms, dir ${dir})`);
  }

  /** Stops the server (SIGTERM; `hard: true` = SIGKILL, i.e. a crash). Keeps the data dir. */
  async function stop({ hard = false } = {}) {
    if (!proc) return;
    const p = proc;
    proc = null;
    await stopGroup(p.pid, { hard, timeoutMs: 10000 });
  }

  /** stop() then start again on the same port with the same data dir and options. */
  async function restart({ hard = false } = {}) {
    await stop({ hard });
    await launch();
  }

  await launch();
  return handle;
}

// ---------------------------------------------------------------------------
// Kafka
// ---------------------------------------------------------------------------

function kafkaVersion() {
  return process.env.CEPHEUS_KAFKA_VERSION || DEFAULT_KAFKA_VERSION;
}

/**
 * Where the jars of `version` live: .cache/kafka/libs for the default version,
 * .cache/kafka/<version>/libs for an override (CEPHEUS_KAFKA_VERSION), so trying
 * another version never disturbs runs that use the default one.
 */
function kafkaLibsDir(version = kafkaVersion()) {
  return version === DEFAULT_KAFKA_VERSION ? KAFKA_LIBS : path.join(CACHE_DIR, 'kafka', version, 'libs');
}

/**
 * Makes sure the broker jars for `version` are in kafkaLibsDir(version), running
 * `mvn dependency:copy-dependencies` only when they are not there yet (a stamp file
 * marks a complete copy). Downloads into a temp dir that is renamed into place, so
 * concurrent callers never see a half-filled directory. Returns the libs dir.
 */
function ensureKafkaJars({ version = kafkaVersion() } = {}) {
  const libs = kafkaLibsDir(version);
  const stampName = `.complete-${version}`;
  if (fs.existsSync(path.join(libs, stampName))) return libs;
  if (!whichSync('mvn')) throw new Error('mvn not found on PATH: needed once to fetch the Kafka broker jars');
  if (!whichSync('java')) throw new Error('java not found on PATH: needed to run the Kafka broker');
  log(`fetching Kafka ${version} jars from Maven Central into ${path.relative(ROOT, libs)} ...`);
  const t0 = Date.now();
  fillDirOnce(libs, stampName, (tmp) => {
    const r = spawnSync(
      'mvn',
      ['-B', '-q', '-f', POM, 'dependency:copy-dependencies', `-Dkafka.version=${version}`, `-Dkafka.libs.dir=${tmp}`],
      { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] },
    );
    if (r.status !== 0) {
      throw new Error(`mvn dependency:copy-dependencies failed (exit ${r.status})\n${(r.stdout || '') + (r.stderr || '')}`);
    }
    if (!fs.existsSync(path.join(tmp, `kafka_2.13-${version}.jar`))) {
      throw new Error(`mvn finished but kafka_2.13-${version}.jar is missing from ${tmp}`);
    }
  });
  log(`Kafka ${version} jars ready (${Date.now() - t0} ms)`);
  return libs;
}

/** A random Kafka cluster id: 16 random bytes, base64url without padding, not starting with '-'. */
function newClusterId() {
  for (;;) {
    const id = crypto.randomBytes(16).toString('base64url');
    if (!id.startsWith('-')) return id;
  }
}

function serverProperties({ port, controllerPort, dataDir, extra }) {
  const props = {
    'node.id': '1',
    'process.roles': 'broker,controller',
    listeners: `PLAINTEXT://127.0.0.1:${port},CONTROLLER://127.0.0.1:${controllerPort}`,
    'advertised.listeners': `PLAINTEXT://127.0.0.1:${port}`,
    'listener.security.protocol.map': 'PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT',
    'controller.listener.names': 'CONTROLLER',
    'inter.broker.listener.name': 'PLAINTEXT',
    'controller.quorum.voters': `1@127.0.0.1:${controllerPort}`,
    'log.dirs': dataDir,
    'num.partitions': '1',
    'default.replication.factor': '1',
    'min.insync.replicas': '1',
    'offsets.topic.replication.factor': '1',
    'offsets.topic.num.partitions': '10',
    'transaction.state.log.replication.factor': '1',
    'transaction.state.log.min.isr': '1',
    'transaction.state.log.num.partitions': '4',
    'share.coordinator.state.topic.replication.factor': '1',
    'share.coordinator.state.topic.min.isr': '1',
    'group.initial.rebalance.delay.ms': '0',
    // A restarted (or crashed) broker can only re-register once its old session expired;
    // the default 9 s would make every restart() take >10 s.
    'broker.session.timeout.ms': '4000',
    'broker.heartbeat.interval.ms': '1000',
    'auto.create.topics.enable': 'true',
    'delete.topic.enable': 'true',
    'num.network.threads': '2',
    'num.io.threads': '4',
    'num.recovery.threads.per.data.dir': '1',
    'log.retention.hours': '24',
    'log.segment.bytes': String(64 * 1024 * 1024),
    ...(extra || {}),
  };
  return Object.entries(props).map(([k, v]) => `${k}=${v}`).join('\n') + '\n';
}

function log4j2Properties(logFile) {
  return [
    'status = warn',
    'name = cepheus-test-kafka',
    'appender.file.type = File',
    'appender.file.name = FILE',
    `appender.file.fileName = ${logFile}`,
    'appender.file.layout.type = PatternLayout',
    'appender.file.layout.pattern = [%d] %p %m (%c)%n',
    'rootLogger.level = INFO',
    'rootLogger.appenderRef.file.ref = FILE',
    'logger.request.name = kafka.request.logger',
    'logger.request.level = WARN',
    'logger.statechange.name = state.change.logger',
    'logger.statechange.level = WARN',
    '',
  ].join('\n');
}

/** Resolves true once kafkajs can fetch metadata (listTopics) from the broker. */
async function kafkaReady(brokers) {
  const { Kafka, logLevel } = require('kafkajs');
  const kafka = new Kafka({
    clientId: 'cepheus-infra-probe',
    brokers,
    logLevel: logLevel.NOTHING,
    connectionTimeout: 1000,
    requestTimeout: 3000,
    retry: { retries: 0 },
  });
  const admin = kafka.admin();
  try {
    await admin.connect();
    await admin.listTopics();
    return true;
  } catch {
    return false;
  } finally {
    await admin.disconnect().catch(() => {});
  }
}

/**
 * Waits (kafkajs retrying silently) until an idempotent producer gets a producer id
 * and a consumer group coordinator answers.
 */
async function warmUp(brokers, timeoutMs) {
  const { Kafka, logLevel } = require('kafkajs');
  const kafka = new Kafka({
    clientId: 'cepheus-infra-warmup',
    brokers,
    logLevel: logLevel.NOTHING,
    connectionTimeout: 2000,
    retry: { retries: 30, initialRetryTime: 100, maxRetryTime: 1000 },
  });
  const producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1 });
  const admin = kafka.admin();
  let timer;
  const deadline = Date.now() + timeoutMs;
  const work = (async () => {
    await producer.connect();
    await admin.connect();
    // admin.fetchOffsets does not retry NOT_COORDINATOR / COORDINATOR_LOAD_IN_PROGRESS itself.
    for (;;) {
      try {
        await admin.fetchOffsets({ groupId: 'cepheus-infra-warmup', topics: [] });
        return;
      } catch (e) {
        if (!e.retriable || Date.now() > deadline) throw e;
        await sleep(100);
      }
    }
  })();
  try {
    await Promise.race([
      work,
      new Promise((_, reject) => {
        timer = setTimeout(() => reject(new Error(`broker warm-up did not finish within ${timeoutMs} ms`)), timeoutMs);
      }),
    ]);
  } finally {
    clearTimeout(timer);
    work.catch(() => {});
    await Promise.all([producer.disconnect().catch(() => {}), admin.disconnect().catch(() => {})]);
  }
}

/**
 * Starts a single-node Kafka broker in KRaft combined mode (broker+controller).
 * @param {object} [opts]
 * @param {number} [opts.port]            client (PLAINTEXT) port (default: free)
 * @param {number} [opts.controllerPort]  controller port (default: free)
 * @param {string} [opts.dir]             working dir holding server.properties, data/ and logs (default: new temp dir); kept by restart()
 * @param {Record<string,string>} [opts.properties] extra/overriding server.properties entries
 * @param {string} [opts.heap]            -Xmx value (default '512m')
 * @param {boolean} [opts.detached]       no watchdog: survives this node process (infra:up)
 * @param {number} [opts.timeoutMs]       start timeout (default 120000)
 * @returns {Promise<{brokers: string, port: number, controllerPort: number, dir: string, pid: number, logFile: string,
 *   stop(o?: {hard?: boolean}): Promise<void>, restart(o?: {hard?: boolean}): Promise<void>}>}
 */
async function startKafka(opts = {}) {
  const libs = ensureKafkaJars();
  if (!whichSync('java')) throw new Error('java not found on PATH: needed to run the Kafka broker');
  const port = opts.port || (await freePort());
  let controllerPort = opts.controllerPort || (await freePort());
  while (controllerPort === port) controllerPort = await freePort();
  const dir = opts.dir || mkTmp('cepheus-kafka-');
  const tmpDir = opts.dir ? undefined : dir;
  const dataDir = path.join(dir, 'data');
  const logFile = path.join(dir, 'server.log');
  const outFile = path.join(dir, 'kafka.out');
  const propsFile = path.join(dir, 'server.properties');
  const log4jFile = path.join(dir, 'log4j2.properties');
  fs.mkdirSync(dataDir, { recursive: true });
  fs.writeFileSync(propsFile, serverProperties({ port, controllerPort, dataDir, extra: opts.properties }));
  fs.writeFileSync(log4jFile, log4j2Properties(logFile));
  const timeoutMs = opts.timeoutMs || 120000;
  const jvm = [
    `-Xmx${opts.heap || '512m'}`,
    '-Xms128m',
    '-XX:+UseG1GC',
    '-XX:MaxGCPauseMillis=20',
    '-XX:+ExitOnOutOfMemoryError',
    '-Djava.awt.headless=true',
    `-Dlog4j2.configurationFile=${log4jFile}`,
    `-Dkafka.logs.dir=${dir}`,
    '-cp', path.join(libs, '*'),
  ];

  const brokers = `127.0.0.1:${port}`;
  const handle = { brokers, port, controllerPort, dir, pid: 0, logFile, stop, restart };
  let proc = null;

  // Format the KRaft storage once per data dir (a restart reuses it).
  if (!fs.existsSync(path.join(dataDir, 'meta.properties'))) {
    const t0 = Date.now();
    const r = await run(
      'java',
      [...jvm.filter((a) => !a.startsWith('-Xms')), 'kafka.tools.StorageTool', 'format', '-t', newClusterId(), '-c', propsFile, '--ignore-formatted'],
      { cwd: dir, timeoutMs: 60000 },
    );
    if (r.code !== 0) {
      throw new Error(`kafka StorageTool format failed (exit ${r.code}, signal ${r.signal})\n${r.output}\n--- ${logFile} ---\n${tail(logFile)}`);
    }
    log(`kafka storage formatted (${Date.now() - t0} ms)`);
  }

  async function launch() {
    const t0 = Date.now();
    proc = spawnServer('java', [...jvm, 'kafka.Kafka', propsFile], { outFile, cwd: dir, detached: opts.detached, tmpDir });
    handle.pid = proc.pid;
    const logs = () => `\n--- ${outFile} ---\n${tail(outFile, 20)}\n--- ${logFile} ---\n${tail(logFile)}`;
    try {
      await waitForServer(proc, t0 + timeoutMs, () => kafkaReady([brokers]), `kafka broker at ${brokers} (kafkajs listTopics)`);
      // The first idempotent producer and the first group coordinator lookup make the broker
      // allocate producer ids and create/load __consumer_offsets; doing it here means tests
      // do not start against "coordinator is loading" (retriable, but noisy and slow).
      await warmUp([brokers], Math.max(5000, t0 + timeoutMs - Date.now()));
    } catch (e) {
      const p = proc;
      proc = null;
      await stopGroup(p.pid, { hard: true });
      e.message += logs();
      throw e;
    }
    handle.startMs = Date.now() - t0;
    log(`kafka up at ${brokers} (pid ${proc.pid}, ${handle.startMs} ms, dir ${dir})`);
  }

  /** Stops the broker (SIGTERM = controlled shutdown; `hard: true` = SIGKILL, i.e. a crash). Keeps the data dir. */
  async function stop({ hard = false } = {}) {
    if (!proc) return;
    const p = proc;
    proc = null;
    await stopGroup(p.pid, { hard, timeoutMs: 20000 });
  }

  /** stop() then start again on the same ports with the same data dir. */
  async function restart({ hard = false } = {}) {
    await stop({ hard });
    await launch();
  }

  await launch();
  return handle;
}

// ---------------------------------------------------------------------------
// both at once
// ---------------------------------------------------------------------------

/**
 * Starts Kafka and Redis in parallel. `opts.kafka` / `opts.redis` are the options
 * for startKafka / startRedis, or `false` to skip one.
 * @returns {Promise<{kafka?: object, redis?: object, env: {KAFKA_BROKERS?: string, REDIS_URL?: string}}>}
 */
async function startInfra(opts = {}) {
  const started = {};
  const [k, r] = await Promise.allSettled([
    opts.kafka === false ? null : startKafka(opts.kafka || {}).then((h) => (started.kafka = h)),
    opts.redis === false ? null : startRedis(opts.redis || {}).then((h) => (started.redis = h)),
  ]);
  const failed = [k, r].filter((x) => x.status === 'rejected');
  if (failed.length) {
    await stopInfra(started);
    throw failed[0].reason;
  }
  const env = {};
  if (started.kafka) env.KAFKA_BROKERS = started.kafka.brokers;
  if (started.redis) env.REDIS_URL = started.redis.url;
  return { ...started, env };
}

/**
 * Stops whatever startInfra returned (and removes their temp dirs unless
 * `keepDirs`). Never throws; safe to call twice.
 */
async function stopInfra(infra, { keepDirs = false } = {}) {
  if (!infra) return;
  await Promise.all(
    [infra.kafka, infra.redis].filter(Boolean).map(async (h) => {
      try {
        await h.stop();
      } catch (e) {
        log(`stop failed: ${e && e.message}`);
      }
      if (!keepDirs && h.dir && h.dir.startsWith(os.tmpdir())) fs.rmSync(h.dir, { recursive: true, force: true });
    }),
  );
}

module.exports = {
  startRedis,
  startKafka,
  startInfra,
  stopInfra,
  ensureKafkaJars,
  kafkaLibsDir,
  freePort,
  stopGroup,
  groupAlive,
  KAFKA_LIBS,
  CACHE_DIR,
  DEFAULT_KAFKA_VERSION,
};
