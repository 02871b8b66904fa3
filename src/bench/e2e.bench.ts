/**
 * npm run bench:e2e — the service end to end on a real Kafka topic with Redis checkpointing.
 *
 *   KAFKA_BROKERS=… REDIS_URL=… npm run bench:e2e     # use running servers
 *   npm run bench:e2e                                  # starts its own Kafka and Redis (scripts/infra)
 *
 * Phases (each on fresh topics and a fresh consumer group):
 *  1. throughput: the stock dataset (224,473 trades, BENCH_PASSES times) is produced into a topic keyed by symbol, then one
 *     replica (`node dist/main.js`, REDIS_URL set) consumes it with a set of rules; events/s is measured from
 *     the group's committed offsets, over the window where the replica has its partitions. Printed with it:
 *     Redis commands per batch (INFO commandstats) and the replica's peak RSS (VmHWM);
 *  2. baseline: a kafkajs consumer (eachBatch) in this process that only parses each record's JSON, on the
 *     same records; the service's ratio to it;
 *  3. latency: a fresh replica, events produced at a fixed 5,000/s; for each alert, the time from the produce
 *     call of its last event to the alert's arrival on the alerts topic (p50/p99/max);
 *  4. scaling: two replicas in one group on the pre-produced topic.
 *
 * Phases 1 and 2 run BENCH_REPEAT times (default 3), interleaved, and the median run of each is printed.
 *
 * The topic holds the day BENCH_PASSES times (default 3), each pass's timestamps moved past the previous
 * pass, so each symbol's event time keeps increasing. One pass lasts under 3 s through the service, about a
 * second of which went to warming up (JIT compilation, the first fetches): the passes make the figure the
 * sustained rate the issue asks for, for the service and the baseline alike.
 *
 * Environment: BENCH_PARTITIONS (default 4), BENCH_LATENCY_EVENTS (default 100000), BENCH_RATE (5000),
 * BENCH_REPEAT (3), BENCH_PASSES (3), BENCH_ONLY=throughput (phases 1 and 2 only), BENCH_REPLICA_NODE_ARGS (node
 * arguments for the replicas, e.g. `--cpu-prof --cpu-prof-dir=/tmp/prof`).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import Redis from 'ioredis';
import { Kafka, logLevel, Partitioners, type Admin } from 'kafkajs';
import { loadStocks, type StockEvent } from './stocks';

const ROOT = resolve(__dirname, '..', '..');
const MAIN = join(ROOT, 'dist', 'main.js');
const PARTITIONS = Number(process.env.BENCH_PARTITIONS ?? 4);
const LATENCY_EVENTS = Number(process.env.BENCH_LATENCY_EVENTS ?? 100_000);
const RATE = Number(process.env.BENCH_RATE ?? 5000);
const REPEAT = Math.max(1, Number(process.env.BENCH_REPEAT ?? 3));
const PASSES = Math.max(1, Number(process.env.BENCH_PASSES ?? 3));
/** Extra node arguments for the replicas (e.g. `--cpu-prof --cpu-prof-dir=/tmp/prof`), split on spaces. */
const REPLICA_NODE_ARGS = (process.env.BENCH_REPLICA_NODE_ARGS ?? '').split(' ').filter((a) => a !== '');
/** BENCH_ONLY=throughput runs phases 1 and 2 only. */
const ONLY_THROUGHPUT = process.env.BENCH_ONLY === 'throughput';

/** The day `passes` times in a row, each pass shifted in event time by the day's span plus a minute. */
function repeatDay(day: readonly StockEvent[], passes: number): StockEvent[] {
  let min = Infinity;
  let max = -Infinity;
  for (const e of day) {
    if (e.timestamp < min) min = e.timestamp;
    if (e.timestamp > max) max = e.timestamp;
  }
  const shift = max - min + 60_000;
  const out: StockEvent[] = [];
  for (let p = 0; p < passes; p++) for (const e of day) out.push(p === 0 ? e : { ...e, timestamp: e.timestamp + p * shift });
  return out;
}

const RULES = (source: string) => `
id: seq2-within
source: ${source}
partitionBy: symbol
keyedBy: symbol
pattern: every a=BUY -> b=SELL(price > a.price) where timer:within(1 sec)
emit:
  buy: a.price
  sell: b.price
---
id: seq3-within
source: ${source}
partitionBy: symbol
keyedBy: symbol
pattern: every a=BUY -> (b=SELL(price > a.price) -> c=BUY(price > b.price)) where timer:within(2 sec)
---
id: every-every-bounded
source: ${source}
partitionBy: symbol
keyedBy: symbol
pattern: every a=BUY -> (every b=SELL(price > a.price)) where timer:within(500 msec)
`;

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));
const fmt = (n: number) => Math.round(n).toLocaleString('en-US');
const log = (s: string) => process.stderr.write(`[bench] ${s}\n`);

async function until<T>(check: () => T | Promise<T>, timeoutMs: number, what: string, everyMs = 50): Promise<NonNullable<T>> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await check();
    if (v) return v as NonNullable<T>;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(everyMs);
  }
}

interface Infra {
  brokers: string;
  redisUrl: string;
  stop(): Promise<void>;
}

async function infra(): Promise<Infra> {
  const brokers = process.env.KAFKA_BROKERS;
  const redisUrl = process.env.REDIS_URL;
  if (brokers && redisUrl) return { brokers, redisUrl, stop: async () => undefined };
  // scripts/infra is plain CommonJS outside src/ (not in the image): loaded at run time, typed here.
  interface Started {
    kafka?: { brokers: string };
    redis?: { url: string };
  }
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const lib = require(join(ROOT, 'scripts', 'infra')) as {
    startInfra(o: { kafka: object | false; redis: object | false }): Promise<Started>;
    stopInfra(i: Started): Promise<void>;
  };
  log('starting Kafka and/or Redis (scripts/infra)');
  const started = await lib.startInfra({ kafka: brokers ? false : {}, redis: redisUrl ? false : { appendonly: true } });
  const b = brokers ?? started.kafka!.brokers;
  const r = redisUrl ?? started.redis!.url;
  return { brokers: b, redisUrl: r, stop: () => lib.stopInfra(started) };
}

class Replica {
  lines: Array<Record<string, unknown>> = [];
  port = 0;
  private constructor(readonly child: ChildProcess) {
    let buf = '';
    child.stdout!.on('data', (c: Buffer) => {
      buf += c.toString();
      let nl: number;
      while ((nl = buf.indexOf('\n')) >= 0) {
        const line = buf.slice(0, nl);
        buf = buf.slice(nl + 1);
        try {
          this.lines.push(JSON.parse(line) as Record<string, unknown>);
        } catch {
          // not a log line
        }
      }
    });
    child.stderr!.on('data', (c: Buffer) => process.stderr.write(c));
  }

  static async start(env: Record<string, string>): Promise<Replica> {
    const child = spawn(process.execPath, [...REPLICA_NODE_ARGS, MAIN], {
      env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '/tmp', PORT: '0', HOST: '127.0.0.1', LOG_LEVEL: 'info', ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const r = new Replica(child);
    const line = await until(() => r.lines.find((l) => typeof l.port === 'number'), 30_000, 'the replica to start');
    r.port = line.port as number;
    return r;
  }

  async ready(): Promise<void> {
    await until(async () => (await fetch(`http://127.0.0.1:${this.port}/health/ready`).catch(() => undefined))?.status === 200, 30_000, 'readiness', 100);
  }

  owns(topic: string): boolean {
    for (let i = this.lines.length - 1; i >= 0; i--) {
      if (this.lines[i].msg === 'partitions assigned') return ((this.lines[i].assigned as Record<string, number[]>)[topic] ?? []).length > 0;
    }
    return false;
  }

  async metric(name: string): Promise<number> {
    const text = await (await fetch(`http://127.0.0.1:${this.port}/metrics`)).text();
    const m = new RegExp(`^${name}(?:\\{[^}]*\\})? ([0-9.e+-]+)$`, 'm').exec(text);
    return m ? Number(m[1]) : 0;
  }

  /** CPU time (user + system) the replica process has used, seconds. */
  cpuSeconds(): number {
    return processCpuSeconds(this.child.pid!);
  }

  /** Peak resident set (VmHWM), MiB. */
  peakRssMiB(): number {
    const m = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${this.child.pid}/status`, 'utf8'));
    return m ? Number(m[1]) / 1024 : NaN;
  }

  async stop(): Promise<void> {
    if (this.child.exitCode !== null) return;
    const exited = new Promise((r) => this.child.once('exit', r));
    this.child.kill('SIGTERM');
    await Promise.race([exited, sleep(20_000)]);
    if (this.child.exitCode === null) this.child.kill('SIGKILL');
  }
}

function toMessages(events: readonly StockEvent[]) {
  return events.map((e) => ({ key: e.symbol, value: JSON.stringify(e) }));
}

async function produceAll(kafka: Kafka, topic: string, events: readonly StockEvent[]): Promise<number> {
  const producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1, createPartitioner: Partitioners.DefaultPartitioner });
  await producer.connect();
  const t0 = Date.now();
  const messages = toMessages(events);
  for (let i = 0; i < messages.length; i += 10_000) await producer.send({ topic, messages: messages.slice(i, i + 10_000), acks: -1 });
  await producer.disconnect();
  return (Date.now() - t0) / 1000;
}

/** /proc reports CPU time in USER_HZ ticks, 100 per second on Linux. */
const USER_HZ = 100;

function processCpuSeconds(pid: number): number {
  // Fields after the command name (which may contain spaces): utime and stime are the 12th and 13th.
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) / USER_HZ;
}

/** CPU time all cores spent busy (everything but idle and iowait) since boot, seconds. */
function machineBusySeconds(): number {
  const cpu = readFileSync('/proc/stat', 'utf8').split('\n')[0].trim().split(/\s+/).slice(1).map(Number);
  const [user, nice, system, , , irq, softirq, steal] = cpu;
  return (user + nice + system + irq + softirq + (steal ?? 0)) / USER_HZ;
}

/** CPU used over a window: by the measured process(es) and by the whole machine. */
interface CpuWindow {
  process: number;
  machine: number;
}

function cpuProbe(processSeconds: () => number): { start(): void; stop(): CpuWindow } {
  let p0 = 0;
  let m0 = 0;
  return {
    start() {
      p0 = processSeconds();
      m0 = machineBusySeconds();
    },
    stop: () => ({ process: processSeconds() - p0, machine: machineBusySeconds() - m0 }),
  };
}

/** CPU per event of the measured process(es), and how busy the whole machine (broker and Redis too) was. */
function cpuLine(w: CpuWindow, events: number, seconds: number): string {
  return `${((w.process / events) * 1e6).toFixed(1)} µs per event; all processes: ${(w.machine / seconds).toFixed(2)} of ${cpus().length} cores busy`;
}

async function committed(admin: Admin, group: string, topic: string): Promise<number> {
  const got = await admin.fetchOffsets({ groupId: group, topics: [topic] });
  return got[0].partitions.reduce((n, p) => n + Math.max(0, Number(p.offset)), 0);
}

/** Polls the group's committed offsets: events/s over the window starting when `steady()` first holds. */
async function measureConsumption(
  admin: Admin,
  group: string,
  topic: string,
  total: number,
  steady: () => boolean,
  processSeconds: () => number,
): Promise<{ rate: number; seconds: number; from: number; cpu: CpuWindow }> {
  let t0 = 0;
  let c0 = 0;
  const cpu = cpuProbe(processSeconds);
  for (;;) {
    const now = Date.now();
    const c = await committed(admin, group, topic);
    if (t0 === 0 && steady()) {
      t0 = now;
      c0 = c;
      cpu.start();
    }
    if (c >= total) {
      const seconds = (now - t0) / 1000;
      return { rate: (total - c0) / seconds, seconds, from: c0, cpu: cpu.stop() };
    }
    await sleep(50);
  }
}

async function redisCommandStats(redis: Redis): Promise<Map<string, number>> {
  const text = (await redis.info('commandstats')) as string;
  const out = new Map<string, number>();
  for (const m of text.matchAll(/^cmdstat_([^:]+):calls=(\d+)/gm)) out.set(m[1], Number(m[2]));
  return out;
}

function diffStats(a: Map<string, number>, b: Map<string, number>): Map<string, number> {
  const out = new Map<string, number>();
  for (const [k, v] of b) {
    const d = v - (a.get(k) ?? 0);
    if (d > 0) out.set(k, d);
  }
  return out;
}

/** The run with the median rate (the lower middle one for an even count). */
function median<T extends { rate: number }>(runs: T[]): T {
  const sorted = [...runs].sort((a, b) => a.rate - b.rate);
  return sorted[Math.floor((sorted.length - 1) / 2)];
}

function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))];
}

async function main(): Promise<void> {
  const inf = await infra();
  const kafka = new Kafka({ clientId: 'cepheus-bench', brokers: inf.brokers.split(','), logLevel: logLevel.ERROR });
  process.env.KAFKAJS_NO_PARTITIONER_WARNING = '1';
  const admin = kafka.admin();
  await admin.connect();
  const redis = new Redis(inf.redisUrl, { maxRetriesPerRequest: 1 });
  const run = `bench-${randomBytes(4).toString('hex')}`;
  const rulesDir = mkdtempSync(join(tmpdir(), 'cepheus-bench-'));
  const replicas: Replica[] = [];
  const replicaEnv = (source: string, group: string, alerts: string): Record<string, string> => {
    writeFileSync(join(rulesDir, 'rules.yaml'), RULES(source));
    return {
      RULES_DIR: rulesDir,
      KAFKA_BROKERS: inf.brokers,
      REDIS_URL: inf.redisUrl,
      KAFKA_GROUP_ID: group,
      ALERTS_TOPIC: alerts,
      DLQ_TOPIC: `${run}-dlq`,
      KAFKA_SOURCES: JSON.stringify({ '*': { idleTimeout: 'off' } }),
      KAFKA_MAX_WAIT_MS: '100',
      KAFKA_SESSION_TIMEOUT_MS: '10000',
      KAFKA_HEARTBEAT_INTERVAL_MS: '1000',
    };
  };

  try {
    const day = loadStocks();
    const events = repeatDay(day, PASSES);
    const results: string[] = [];
    const out = (s: string) => {
      results.push(s);
      console.log(s);
    };
    out(`e2e benchmark: ${fmt(events.length)} events (${fmt(day.length)} stock trades × ${PASSES} passes), ${PARTITIONS} partitions keyed by symbol, rules: seq2-within, seq3-within, every-every-bounded (node ${process.version}, ${new Date().toISOString()})`);

    const topic = `${run}-trades`;
    await admin.createTopics({
      topics: [topic, `${run}-alerts-1`, `${run}-alerts-lat`, `${run}-alerts-2`, `${run}-dlq`].map((t) => ({ topic: t, numPartitions: t === topic ? PARTITIONS : 1, replicationFactor: 1 })),
      waitForLeaders: true,
    });
    const produceSeconds = await produceAll(kafka, topic, events);
    log(`produced ${fmt(events.length)} events in ${produceSeconds.toFixed(1)} s`);

    // 1 and 2, interleaved REPEAT times so both see the same machine: one replica with Redis checkpoints,
    // then the parse-only baseline. The median run of each is reported.
    const serviceRun = async (i: number) => {
      const before = await redisCommandStats(redis);
      const r1 = await Replica.start(replicaEnv(topic, `${run}-one-${i}`, `${run}-alerts-1`));
      replicas.push(r1);
      const window = await measureConsumption(admin, `${run}-one-${i}`, topic, events.length, () => r1.owns(topic), () => r1.cpuSeconds());
      const after = await redisCommandStats(redis);
      const batches = await r1.metric('cep_kafka_batch_records_count');
      const alertsAtEnd = await r1.metric('cep_alerts_produced_total');
      await sleep(1500);
      const alerts = await r1.metric('cep_alerts_produced_total');
      const rss = r1.peakRssMiB();
      await r1.stop();
      return { ...window, stats: diffStats(before, after), batches, alertsAtEnd, alerts, rss };
    };
    const baselineRun = async (i: number) => {
      const consumer = kafka.consumer({ groupId: `${run}-baseline-${i}`, maxWaitTimeInMs: 100 });
      await consumer.connect();
      await consumer.subscribe({ topics: [topic], fromBeginning: true });
      let n = 0;
      let t0 = 0;
      let sink = 0;
      const cpu = cpuProbe(() => {
        const u = process.cpuUsage();
        return (u.user + u.system) / 1e6;
      });
      let done!: () => void;
      const finished = new Promise<void>((r) => (done = r));
      await consumer.run({
        autoCommit: false,
        eachBatch: async ({ batch, resolveOffset }) => {
          if (t0 === 0) {
            t0 = Date.now();
            cpu.start();
          }
          for (const m of batch.messages) {
            const e = JSON.parse(m.value!.toString('utf8')) as StockEvent;
            sink += e.volume;
            resolveOffset(m.offset);
          }
          n += batch.messages.length;
          if (n >= events.length) done();
        },
      });
      await finished;
      const seconds = (Date.now() - t0) / 1000;
      const used = cpu.stop();
      await consumer.disconnect();
      return { rate: events.length / seconds, seconds, sink, cpu: used };
    };
    const serviceRuns: Array<Awaited<ReturnType<typeof serviceRun>>> = [];
    const baselineRuns: Array<Awaited<ReturnType<typeof baselineRun>>> = [];
    for (let i = 0; i < REPEAT; i++) {
      serviceRuns.push(await serviceRun(i));
      baselineRuns.push(await baselineRun(i));
      const s = serviceRuns[i];
      const b = baselineRuns[i];
      const us = (w: CpuWindow, n: number) => ((w.process / n) * 1e6).toFixed(1);
      log(`run ${i + 1}/${REPEAT}: service ${fmt(s.rate)} events/s (${us(s.cpu, events.length - s.from)} µs CPU per event), baseline ${fmt(b.rate)} events/s (${us(b.cpu, events.length)} µs)`);
    }
    const one = median(serviceRuns);
    const baseline = median(baselineRuns);
    const { stats, batches, alertsAtEnd: alerts1, alerts: alertsOne, rss: rss1 } = one;
    const scripts = (stats.get('evalsha') ?? 0) + (stats.get('eval') ?? 0);
    const all = [...stats.values()].reduce((a, b) => a + b, 0);
    const top = [...stats.entries()].sort((a, b) => b[1] - a[1]).slice(0, 8).map(([k, v]) => `${k} ${fmt(v)}`).join(', ');
    const rates = (xs: Array<{ rate: number }>) => xs.map((x) => fmt(x.rate)).join(' / ');

    out('');
    out('| measure | value |');
    out('|---|---|');
    out(`| service, 1 replica, Redis checkpoints: events/s (median of ${REPEAT}) | ${fmt(one.rate)} (${fmt(events.length - one.from)} events in ${one.seconds.toFixed(2)} s; runs ${rates(serviceRuns)}) |`);
    out(`| baseline kafkajs consumer, JSON.parse only: events/s (median of ${REPEAT}) | ${fmt(baseline.rate)} (${baseline.seconds.toFixed(2)} s; runs ${rates(baselineRuns)}) |`);
    out(`| ratio service / baseline (medians) | ${(one.rate / baseline.rate).toFixed(2)} |`);
    out(`| CPU of the service replica over its window | ${cpuLine(one.cpu, events.length - one.from, one.seconds)} |`);
    out(`| CPU of the baseline consumer over its window | ${cpuLine(baseline.cpu, events.length, baseline.seconds)} |`);
    out(`| batches (cep_kafka_batch_records_count) | ${fmt(batches)} (${fmt(events.length / batches)} records per batch) |`);
    out(`| Redis script calls (EVALSHA+EVAL) per batch | ${(scripts / batches).toFixed(2)} |`);
    out(`| Redis commands per batch, all (scripts' inner commands included) | ${(all / batches).toFixed(1)} (${top}) |`);
    out(`| alerts (acknowledged by Kafka) | ${fmt(alertsOne)} (${fmt(alerts1)} when the last offset was committed) |`);
    out(`| peak RSS of the replica (VmHWM) | ${rss1.toFixed(0)} MiB |`);

    if (ONLY_THROUGHPUT) return;

    // 3. Latency at a fixed rate.
    const latTopic = `${run}-trades-lat`;
    await admin.createTopics({ topics: [{ topic: latTopic, numPartitions: PARTITIONS, replicationFactor: 1 }], waitForLeaders: true });
    const rl = await Replica.start(replicaEnv(latTopic, `${run}-lat`, `${run}-alerts-lat`));
    replicas.push(rl);
    await rl.ready();
    await until(() => rl.owns(latTopic), 30_000, 'the latency replica to own its partitions');
    const latEvents = events.slice(0, Math.min(LATENCY_EVENTS, events.length));
    const producedAt = new Map<string, number>();
    const latencies: number[] = [];
    const reader = kafka.consumer({ groupId: `${run}-lat-reader`, maxWaitTimeInMs: 20 });
    await reader.connect();
    await reader.subscribe({ topics: [`${run}-alerts-lat`], fromBeginning: true });
    let joined!: () => void;
    const readerJoined = new Promise<void>((r) => (joined = r));
    reader.on(reader.events.GROUP_JOIN, () => joined());
    await reader.run({
      eachMessage: async ({ message }) => {
        const now = Date.now();
        const alert = JSON.parse(message.value!.toString('utf8')) as { events: Record<string, StockEvent | StockEvent[] | null> };
        let last = 0;
        for (const v of Object.values(alert.events)) {
          for (const e of v === null ? [] : Array.isArray(v) ? v : [v]) last = Math.max(last, producedAt.get(`${e.symbol}/${e.seq}`) ?? 0);
        }
        if (last > 0) latencies.push(now - last);
      },
    });
    await readerJoined;
    const producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1, createPartitioner: Partitioners.DefaultPartitioner });
    await producer.connect();
    const chunk = Math.max(1, Math.round(RATE / 100)); // every 10 ms
    const t0 = Date.now();
    let behind = 0;
    for (let i = 0; i < latEvents.length; i += chunk) {
      const due = t0 + (i / RATE) * 1000;
      const wait = due - Date.now();
      if (wait > 0) await sleep(wait);
      else behind = Math.max(behind, -wait);
      const slice = latEvents.slice(i, i + chunk);
      const now = Date.now();
      for (const e of slice) producedAt.set(`${e.symbol}/${e.seq}`, now);
      await producer.send({ topic: latTopic, messages: toMessages(slice), acks: -1 });
    }
    const produceRate = latEvents.length / ((Date.now() - t0) / 1000);
    await producer.disconnect();
    const expectAlerts = await until(
      async () => {
        const c = await committed(admin, `${run}-lat`, latTopic);
        return c >= latEvents.length ? true : undefined;
      },
      60_000,
      'the latency run to be consumed',
      100,
    );
    void expectAlerts;
    await sleep(3000);
    await reader.disconnect();
    const rssLat = rl.peakRssMiB();
    await rl.stop();
    latencies.sort((a, b) => a - b);
    out(`| alert latency at ${fmt(produceRate)} events/s (${fmt(latEvents.length)} events, ${fmt(latencies.length)} alerts): p50 / p99 / max | ${percentile(latencies, 50)} / ${percentile(latencies, 99)} / ${latencies[latencies.length - 1]} ms (producer at most ${behind} ms behind schedule) |`);
    out(`| peak RSS of the latency replica | ${rssLat.toFixed(0)} MiB |`);

    // 4. Two replicas on the pre-produced topic.
    const env2 = replicaEnv(topic, `${run}-two`, `${run}-alerts-2`);
    const [a, b] = await Promise.all([Replica.start(env2), Replica.start(env2)]);
    replicas.push(a, b);
    const two = await measureConsumption(admin, `${run}-two`, topic, events.length, () => a.owns(topic) && b.owns(topic), () => a.cpuSeconds() + b.cpuSeconds());
    const rssTwo = [a.peakRssMiB(), b.peakRssMiB()];
    await Promise.all([a.stop(), b.stop()]);
    out(`| service, 2 replicas (one group): events/s | ${fmt(two.rate)} (${fmt(events.length - two.from)} events in ${two.seconds.toFixed(2)} s, after both owned partitions) |`);
    out(`| scaling 2 replicas / 1 replica | ${(two.rate / one.rate).toFixed(2)} |`);
    out(`| CPU of the 2 replicas over their window | ${cpuLine(two.cpu, events.length - two.from, two.seconds)} |`);
    out(`| peak RSS of the 2 replicas | ${rssTwo.map((r) => r.toFixed(0)).join(' / ')} MiB |`);
  } finally {
    await Promise.all(replicas.map((r) => r.stop()));
    await admin.disconnect().catch(() => undefined);
    redis.disconnect();
    rmSync(rulesDir, { recursive: true, force: true });
    await inf.stop();
  }
}

main().then(
  () => process.exit(0),
  (e) => {
    console.error(e);
    process.exit(1);
  },
);
