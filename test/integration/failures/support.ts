/**
 * Failure tests of the Redis-checkpointed service (issue 5): real replica processes (`node dist/main.js`),
 * a real broker and Redis, events produced at a steady rate while replicas are killed, added and removed,
 * or Redis and the broker restart; the alerts on the alerts topic, de-duplicated by id, are compared with
 * those of a replica that saw no failure (its own consumer group and alerts topic, same source records).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { logLevel, type Consumer, type Kafka, type Producer } from 'kafkajs';
import { ensureBuilt, ROOT } from '../../http/harness';
import { kafkaBrokers, redisUrl } from '../../support/env';
import { eventually } from '../../support/eventually';
import { decode, testKafka, uniqueName } from '../../support/kafka';

export { ensureBuilt };

const MAIN = join(ROOT, 'dist', 'main.js');

export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** `eventually`, polling every 100 ms by default (the checks read replicas' HTTP endpoints). */
export const waitUntil = <T>(check: () => T | Promise<T>, timeoutMs: number, what: string, everyMs = 100): Promise<NonNullable<T>> =>
  eventually(check, timeoutMs, what, everyMs);

export interface ReplicaEnv {
  brokers: string;
  redisUrl?: string;
  group: string;
  alerts: string;
  dlq: string;
  rulesDir: string;
  extra?: Record<string, string>;
}

/** A service replica: `node dist/main.js` as a child process with its own HTTP port. */
export class Replica {
  readonly lines: Array<Record<string, unknown>> = [];
  stderr = '';
  port = 0;
  readonly exited: Promise<number | null>;
  private constructor(
    readonly name: string,
    readonly child: ChildProcess,
  ) {
    let buffer = '';
    child.stdout!.on('data', (chunk: Buffer) => {
      buffer += chunk.toString('utf8');
      let nl: number;
      while ((nl = buffer.indexOf('\n')) >= 0) {
        const line = buffer.slice(0, nl);
        buffer = buffer.slice(nl + 1);
        if (!line.trim()) continue;
        try {
          this.lines.push(JSON.parse(line) as Record<string, unknown>);
        } catch {
          this.lines.push({ msg: line });
        }
      }
    });
    child.stderr!.on('data', (c: Buffer) => {
      this.stderr = (this.stderr + c.toString()).slice(-20_000);
    });
    this.exited = new Promise((resolve) => child.on('exit', (code, signal) => resolve(code ?? (signal ? -1 : null))));
  }

  static async start(name: string, e: ReplicaEnv): Promise<Replica> {
    const env: Record<string, string> = {
      PATH: process.env.PATH ?? '',
      HOME: process.env.HOME ?? '/tmp',
      PORT: '0',
      HOST: '127.0.0.1',
      LOG_LEVEL: 'info',
      RULES_DIR: e.rulesDir,
      KAFKA_BROKERS: e.brokers,
      KAFKA_GROUP_ID: e.group,
      KAFKA_CLIENT_ID: name,
      ALERTS_TOPIC: e.alerts,
      DLQ_TOPIC: e.dlq,
      KAFKA_MAX_WAIT_MS: '100',
      KAFKA_HEARTBEAT_INTERVAL_MS: '500',
      KAFKA_SESSION_TIMEOUT_MS: '6000',
      // Event time only (no wall-clock watermark advance), so the alerts do not depend on timing.
      KAFKA_SOURCES: JSON.stringify({ '*': { idleTimeout: 'off' } }),
      SHUTDOWN_TIMEOUT_MS: '15000',
      ...(e.redisUrl ? { REDIS_URL: e.redisUrl } : {}),
      ...e.extra,
    };
    const child = spawn(process.execPath, [MAIN], { env, stdio: ['ignore', 'pipe', 'pipe'] });
    const r = new Replica(name, child);
    const line = await waitUntil(
      () => r.lines.find((l) => typeof l.port === 'number' && typeof l.url === 'string'),
      30_000,
      `${name}'s startup line (stderr: ${r.stderr.slice(-2000)})`,
    );
    r.port = line.port as number;
    return r;
  }

  get pid(): number {
    return this.child.pid!;
  }

  async health(): Promise<{ status: number; body: Record<string, unknown> }> {
    const res = await fetch(`http://127.0.0.1:${this.port}/health/ready`);
    return { status: res.status, body: (await res.json()) as Record<string, unknown> };
  }

  /** Waits until GET /health/ready says 200 (rules loaded, group joined, Redis up). */
  async ready(timeoutMs = 30_000): Promise<void> {
    await waitUntil(async () => (await this.health()).status === 200, timeoutMs, `${this.name} to be ready`, 200);
  }

  /** Partitions this replica has (from its logs: the last assignment). */
  assigned(topic: string): number[] {
    for (let i = this.lines.length - 1; i >= 0; i--) {
      const a = this.lines[i].assigned as Record<string, number[]> | undefined;
      if (a && this.lines[i].msg === 'partitions assigned') return a[topic] ?? [];
    }
    return [];
  }

  logs(msg: string | RegExp): Array<Record<string, unknown>> {
    return this.lines.filter((l) => (typeof msg === 'string' ? l.msg === msg : msg.test(String(l.msg))));
  }

  kill(signal: NodeJS.Signals = 'SIGKILL'): Promise<number | null> {
    if (this.child.exitCode === null && this.child.signalCode === null) this.child.kill(signal);
    return this.exited;
  }

  /** Graceful stop (SIGTERM): the batch in flight finishes, outboxes drain, the group is left. */
  async stop(): Promise<number | null> {
    return this.kill('SIGTERM');
  }
}

export interface StockLikeEvent {
  type: 'A' | 'B' | 'C';
  user: string;
  x: number;
  seq: number;
  timestamp: number;
}

/**
 * A deterministic stream: `n` events over `users` users, event time 10 ms apart, types and values from a
 * fixed pseudo-random sequence (so partial matches span any crash point).
 */
export function makeEvents(n: number, users: number, t0 = 1_700_000_000_000): StockLikeEvent[] {
  let seed = 12345;
  const rnd = () => {
    seed = (seed * 1103515245 + 12345) & 0x7fffffff;
    return seed / 0x7fffffff;
  };
  return Array.from({ length: n }, (_, i) => {
    const r = rnd();
    return { type: r < 0.45 ? 'A' : r < 0.9 ? 'B' : 'C', user: `u${Math.floor(rnd() * users)}`, x: Math.floor(rnd() * 100), seq: i, timestamp: t0 + i * 10 };
  });
}

/**
 * `keyed`: the rules declare the source keyed by user; otherwise they repartition it (merging its partitions).
 * `timers`: also a rule on the general runtime whose keys wait on a timer (an absence).
 */
export const RULES = (source: string, keyed = true, timers = false) => `
id: rising-pair
source: ${source}
partitionBy: user
${keyed ? 'keyedBy: user' : ''}
severity: critical
pattern: every a=A -> b=B(x >= a.x) where timer:within(2 sec)
emit:
  from: a.x
  to: b.x
---
id: triple
source: ${source}
partitionBy: user
${keyed ? 'keyedBy: user' : ''}
pattern: every a=A -> b=B -> c=C where timer:within(5 sec)
${
  timers
    ? `---
id: unanswered
source: ${source}
partitionBy: user
${keyed ? 'keyedBy: user' : ''}
pattern: every a=A(x > 90) -> (timer:interval(1 sec) and not b=B(x > 90))
`
    : ''
}`;

export function rulesDir(source: string, keyed = true, timers = false): { dir: string; cleanup(): void } {
  const dir = mkdtempSync(join(tmpdir(), 'cepheus-failures-'));
  writeFileSync(join(dir, 'rules.yaml'), RULES(source, keyed, timers));
  return { dir, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

/**
 * Produces events keyed by user at `ratePerSec`, in chunks, with an idempotent producer that retries until
 * the broker acknowledges (a broker restart only delays it). `sent` is the number acknowledged.
 */
export class PacedProducer {
  sent = 0;
  readonly done: Promise<void>;
  private producer: Producer;

  constructor(
    kafka: Kafka,
    readonly topic: string,
    events: readonly StockLikeEvent[],
    ratePerSec: number,
    chunk = 50,
  ) {
    this.producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1, retry: { retries: 30, initialRetryTime: 200, maxRetryTime: 2000 } });
    this.done = this.run(events, ratePerSec, chunk);
  }

  private async run(events: readonly StockLikeEvent[], rate: number, chunk: number): Promise<void> {
    await this.producer.connect();
    const start = Date.now();
    try {
      for (let i = 0; i < events.length; i += chunk) {
        const due = start + (i / rate) * 1000;
        if (due > Date.now()) await sleep(due - Date.now());
        const messages = events.slice(i, i + chunk).map((e) => ({ key: e.user, value: JSON.stringify(e) }));
        for (;;) {
          try {
            await this.producer.send({ topic: this.topic, messages, acks: -1 });
            break;
          } catch {
            await sleep(500);
          }
        }
        this.sent = Math.min(events.length, i + chunk);
      }
    } finally {
      await this.producer.disconnect().catch(() => undefined);
    }
  }
}

export interface AlertRecord {
  id: string;
  value: string;
  partition: number;
  offset: string;
}

/**
 * Reads an alerts topic from the beginning (its own group), keeping every record once per topic position (a
 * re-read after the reader's own restart is not a duplicate on the topic).
 */
export class AlertCollector {
  readonly records: AlertRecord[] = [];
  private readonly positions = new Set<string>();
  private consumer: Consumer | undefined;

  constructor(
    private readonly kafka: Kafka,
    readonly topic: string,
  ) {}

  async start(): Promise<void> {
    const consumer = this.kafka.consumer({ groupId: uniqueName('alerts-reader'), maxWaitTimeInMs: 100, heartbeatInterval: 500, sessionTimeout: 10_000 });
    this.consumer = consumer;
    let joined!: () => void;
    const ready = new Promise<void>((r) => (joined = r));
    consumer.on(consumer.events.GROUP_JOIN, () => joined());
    await consumer.connect();
    await consumer.subscribe({ topics: [this.topic], fromBeginning: true });
    await consumer.run({
      eachBatch: async ({ batch, resolveOffset }) => {
        for (const m of batch.messages) {
          const d = decode(batch.topic, batch.partition, m);
          const position = `${d.partition}/${d.offset}`;
          resolveOffset(m.offset);
          if (this.positions.has(position)) continue;
          this.positions.add(position);
          this.records.push({ id: (JSON.parse(d.value!) as { id: string }).id, value: d.value!, partition: d.partition, offset: d.offset });
        }
      },
    });
    await ready;
  }

  unique(): Map<string, string> {
    const out = new Map<string, string>();
    for (const r of this.records) if (!out.has(r.id)) out.set(r.id, r.value);
    return out;
  }

  get duplicates(): number {
    return this.records.length - this.unique().size;
  }

  async stop(): Promise<void> {
    await this.consumer?.disconnect().catch(() => undefined);
  }
}

export interface Comparison {
  expected: number;
  got: number;
  records: number;
  duplicates: number;
  missing: string[];
  extra: string[];
  different: string[];
}

/** The failure run's alerts (de-duplicated by id) against the no-failure run's. */
export function compare(baseline: AlertCollector, run: AlertCollector): Comparison {
  const want = baseline.unique();
  const got = run.unique();
  const missing = [...want.keys()].filter((id) => !got.has(id));
  const extra = [...got.keys()].filter((id) => !want.has(id));
  const different = [...want.keys()].filter((id) => got.has(id) && got.get(id) !== want.get(id));
  return { expected: want.size, got: got.size, records: run.records.length, duplicates: run.duplicates, missing, extra, different };
}

/** Waits until the failure run has every alert of the baseline and nothing new arrived for `quietMs`. */
export async function settle(baseline: AlertCollector, run: AlertCollector, expectedMin: number, timeoutMs: number, quietMs = 2000): Promise<void> {
  let last = -1;
  let since = Date.now();
  await waitUntil(
    () => {
      const n = run.records.length + baseline.records.length;
      if (n !== last) {
        last = n;
        since = Date.now();
      }
      const want = baseline.unique();
      const got = run.unique();
      return want.size >= expectedMin && [...want.keys()].every((id) => got.has(id)) && Date.now() - since >= quietMs;
    },
    timeoutMs,
    `the alerts to settle (baseline ${baseline.unique().size}, run ${run.unique().size})`,
    200,
  ).catch((e) => {
    // The caller's comparison reports what is missing.
    process.stderr.write(`[failures] ${String(e)}\n`);
  });
}

export interface Topics {
  source: string;
  alertsBase: string;
  alertsRun: string;
  dlq: string;
}

export function topicNames(prefix: string): Topics {
  const run = uniqueName(prefix);
  return { source: `${run}-events`, alertsBase: `${run}-alerts-base`, alertsRun: `${run}-alerts-run`, dlq: `${run}-dlq` };
}

export async function createTopics(kafka: Kafka, specs: Array<{ topic: string; partitions?: number }>): Promise<void> {
  const admin = kafka.admin();
  await admin.connect();
  try {
    await admin.createTopics({ topics: specs.map((s) => ({ topic: s.topic, numPartitions: s.partitions ?? 1, replicationFactor: 1 })), waitForLeaders: true, timeout: 10_000 });
  } finally {
    await admin.disconnect();
  }
}

/** A client for these brokers; quiet unless TEST_KAFKAJS_LOG is set (broker restarts log many retries). */
export function kafkaFor(brokers: string): Kafka {
  return testKafka({ brokers: brokers.split(','), ...(process.env.TEST_KAFKAJS_LOG ? {} : { logLevel: logLevel.NOTHING }) });
}

/** One line per scenario for the test log: what was counted. */
export function report(name: string, c: Comparison, extra: Record<string, unknown> = {}): void {
  process.stderr.write(
    `[failures] ${name}: baseline ${c.expected} alerts; run ${c.got} unique of ${c.records} records, ${c.duplicates} duplicates, ` +
      `${c.missing.length} missing, ${c.extra.length} extra, ${c.different.length} different ${JSON.stringify(extra)}\n`,
  );
}

/** What a failure test starts and must stop again: replica processes, alert collectors, its rules directory. */
export class Fixture {
  readonly replicas: Replica[] = [];
  readonly collectors: AlertCollector[] = [];
  rules: { dir: string; cleanup(): void } | undefined;

  async start(name: string, env: ReplicaEnv): Promise<Replica> {
    const replica = await Replica.start(name, env);
    this.replicas.push(replica);
    return replica;
  }

  async collect(kafka: Kafka, topic: string): Promise<AlertCollector> {
    const collector = new AlertCollector(kafka, topic);
    this.collectors.push(collector);
    await collector.start();
    return collector;
  }

  async stop(): Promise<void> {
    await Promise.all(this.replicas.map((r) => r.kill()));
    await Promise.all(this.collectors.map((c) => c.stop()));
    this.rules?.cleanup();
  }
}

/**
 * The usual scenario on the shared broker: a source topic with `partitions`, one alerts topic for the
 * no-failure baseline group and one for the failure run, the rules, and both replicas' environments.
 */
export async function sharedBrokerScenario(fixture: Fixture, name: string, partitions: number, runRedisUrl = redisUrl(), keyed = true, timers = false) {
  const brokers = kafkaBrokers().join(',');
  const kafka = kafkaFor(brokers);
  const t = topicNames(name);
  await createTopics(kafka, [{ topic: t.source, partitions }, { topic: t.alertsBase }, { topic: t.alertsRun }, { topic: t.dlq }]);
  fixture.rules = rulesDir(t.source, keyed, timers);
  const base: ReplicaEnv = { brokers, redisUrl: redisUrl(), group: `${t.source}-base`, alerts: t.alertsBase, dlq: t.dlq, rulesDir: fixture.rules.dir };
  const run: ReplicaEnv = { ...base, redisUrl: runRedisUrl, group: `${t.source}-run`, alerts: t.alertsRun };
  return { kafka, t, base, run };
}
