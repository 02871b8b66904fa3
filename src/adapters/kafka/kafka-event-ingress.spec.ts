import type { Message } from 'kafkajs';
import { IngestTargetError } from '../../app/ingest/ingest-target-error';
import { EventClassifier } from '../../core/stream/classify';
import { INGRESS_HEADER, KafkaEventIngress, PRODUCE_CHUNK_BYTES } from './kafka-event-ingress';
import type { EventTarget } from './kafka-streams';

const mapping = { typeField: 'type', timeField: 'timestamp' };
const keyedRules = new EventClassifier([{ event: mapping, partitionBy: 'user' }]);

function ingressTo(target: Partial<EventTarget> | Error, maxEventBytes = 1024, failAtChunk?: number, maxEventFutureMs: number | null = null) {
  const produced: Array<{ topic: string; messages: Message[] }> = [];
  const rejected: Array<Map<string, number>> = [];
  const requested: Array<string | undefined> = [];
  const ingress = new KafkaEventIngress(
    {
      eventTarget: (topic) => {
        requested.push(topic);
        if (target instanceof Error) throw target;
        return { topic: 'auth', keyField: 'user', classifier: keyedRules, ...target };
      },
      produceEvents: async (topic, messages) => {
        if (produced.length === failAtChunk) throw new IngestTargetError('Kafka did not acknowledge the events (some may have been written): boom', 'unavailable');
        produced.push({ topic, messages });
      },
    },
    { maxEventBytes, maxEventFutureMs },
    { rejected: (counts) => rejected.push(new Map(counts)) },
  );
  return { ingress, produced, rejected, requested };
}

const login = (user: unknown, extra: Record<string, unknown> = {}) => ({ event: { type: 'login', user, timestamp: 1000, ...extra } });

describe('KafkaEventIngress (POST /events in Kafka mode)', () => {
  it('produces the usable events in order, keyed by the declared field as a string, marked as coming over HTTP', async () => {
    const { ingress, produced, requested } = ingressTo({});
    const result = await ingress.ingest({ source: 'http', events: [login('alice'), login(42), login(true)] }, { topic: 'auth' });
    expect(result).toEqual({ topic: 'auth', accepted: 3, rejected: [] });
    expect(requested).toEqual(['auth']);
    expect(produced).toHaveLength(1);
    expect(produced[0].topic).toBe('auth');
    expect(produced[0].messages.map((m) => m.key)).toEqual(['alice', '42', 'true']);
    expect(produced[0].messages.map((m) => JSON.parse(String(m.value)))).toEqual([login('alice'), login(42), login(true)].map((e) => e.event));
    for (const m of produced[0].messages) expect(m.headers).toEqual({ [INGRESS_HEADER]: 'http' });
  });

  it('checkTarget asks for the target only, producing nothing, and throws what ingest would', () => {
    const { ingress, produced, requested } = ingressTo({});
    ingress.checkTarget({ topic: 'auth' });
    ingress.checkTarget();
    expect(requested).toEqual(['auth', undefined]);
    expect(produced).toEqual([]);
    const unknown = new IngestTargetError('no running rule reads topic "nope"', 'not_found');
    expect(() => ingressTo(unknown).ingress.checkTarget({ topic: 'nope' })).toThrow(unknown);
  });

  it('splits a large request into produce requests of at most PRODUCE_CHUNK_BYTES of values, in order', async () => {
    const { ingress, produced } = ingressTo({}, 64 * 1024);
    const pad = 'x'.repeat(40 * 1024);
    const events = Array.from({ length: 20 }, (_, i) => login(`u${i}`, { pad }));
    const result = await ingress.ingest({ source: 'http', events });
    expect(result.accepted).toBe(20);
    expect(produced.length).toBeGreaterThan(2);
    for (const p of produced) expect(p.messages.reduce((n, m) => n + Buffer.byteLength(String(m.value)), 0)).toBeLessThanOrEqual(PRODUCE_CHUNK_BYTES);
    expect(produced.flatMap((p) => p.messages.map((m) => m.key))).toEqual(events.map((e) => e.event.user));
  });

  it('a request that fails after some produce requests were acknowledged says how many and from which index to retry', async () => {
    const { ingress, produced, rejected } = ingressTo({}, 64 * 1024, 2);
    const pad = 'x'.repeat(40 * 1024);
    // Index 1 is rejected (no type): indices count in the request, written counts usable events.
    const events = Array.from({ length: 20 }, (_, i) => (i === 1 ? { event: { user: 'u1', timestamp: 1 } } : login(`u${i}`, { pad })));
    const err = await ingress.ingest({ source: 'http', events }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(IngestTargetError);
    const written = produced.reduce((n, p) => n + p.messages.length, 0);
    expect(produced).toHaveLength(2);
    const firstUnwritten = events.findIndex((e, i) => i !== 1 && !produced.some((p) => p.messages.some((m) => m.key === e.event.user)));
    expect((err as IngestTargetError).details).toEqual({ written, retryFrom: firstUnwritten });
    expect((err as IngestTargetError).kind).toBe('unavailable');
    expect((err as Error).message).toContain(`retry from index ${firstUnwritten}`);
    // The rejected events are counted even so.
    expect(rejected).toEqual([new Map([['missing_type', 1]])]);
  });

  it('leaves records unkeyed when the rules declare no key field', async () => {
    const { ingress, produced } = ingressTo({ keyField: null });
    await ingress.ingest({ source: 'http', events: [login('alice')] });
    expect(produced[0].messages[0].key).toBeNull();
  });

  it('rejects what the topic consumer would dead-letter, with the index and reason, counts it, and produces the rest', async () => {
    const { ingress, produced, rejected } = ingressTo({}, 200);
    const result = await ingress.ingest({
      source: 'http',
      events: [
        { unparsable: true },
        { event: [1, 2] },
        login('bob'),
        { event: { user: 'bob', timestamp: 1 } },
        { event: { type: 'login', user: 'bob' } },
        { event: { type: 'login', timestamp: 1 } },
        login('bob', { pad: 'x'.repeat(200) }),
        login({ nested: true }),
      ],
    });
    expect(result.accepted).toBe(1);
    expect(result.rejected).toEqual([
      { index: 0, reason: 'invalid_json' },
      { index: 1, reason: 'not_an_object' },
      { index: 3, reason: 'missing_type' },
      { index: 4, reason: 'missing_time' },
      { index: 5, reason: 'missing_key' },
      { index: 6, reason: 'oversize' },
      { index: 7, reason: 'missing_key' },
    ]);
    expect(produced[0].messages.map((m) => m.key)).toEqual(['bob']);
    expect(rejected).toEqual([
      new Map([
        ['invalid_json', 1],
        ['not_an_object', 1],
        ['missing_type', 1],
        ['missing_time', 1],
        ['missing_key', 2],
        ['oversize', 1],
      ]),
    ]);
  });

  it('rejects an event nested too deep and one too far ahead of the clock, as the consumer would', async () => {
    const { ingress, produced, rejected } = ingressTo({}, 1024, undefined, 60_000);
    const result = await ingress.ingest({
      source: 'http',
      events: [{ tooDeep: true }, login('bob', { timestamp: Date.now() + 3_600_000 }), login('bob')],
    });
    expect(result.rejected).toEqual([
      { index: 0, reason: 'too_deep' },
      { index: 1, reason: 'future_time' },
    ]);
    expect(result.accepted).toBe(1);
    expect(produced[0].messages).toHaveLength(1);
    expect(rejected).toEqual([
      new Map([
        ['too_deep', 1],
        ['future_time', 1],
      ]),
    ]);
  });

  it('produces nothing when every event is rejected', async () => {
    const { ingress, produced } = ingressTo({});
    const result = await ingress.ingest({ source: 'http', events: [{ unparsable: true }] });
    expect(result).toEqual({ topic: 'auth', accepted: 0, rejected: [{ index: 0, reason: 'invalid_json' }] });
    expect(produced).toEqual([]);
  });

  it("passes the target's refusal on, producing and counting nothing", async () => {
    const { ingress, produced, rejected } = ingressTo(new IngestTargetError('no running rule reads topic "x"', 'not_found'));
    await expect(ingress.ingest({ source: 'http', events: [{ unparsable: true }, login('a')] }, { topic: 'x' })).rejects.toThrow(
      'no running rule reads topic "x"',
    );
    expect(produced).toEqual([]);
    expect(rejected).toEqual([]);
  });
});
