import type { Alert } from '../../core/ports/alert';
import {
  alertMessage,
  eventsOf,
  parseBatch,
  parseValue,
  deadLetterMessage,
  idleMark,
  parsePosition,
  rawRecord,
  repartitionMessage,
  truncatedAlertMessage,
  watermarkMark,
} from './kafka-records';

const message = (over: Record<string, unknown> = {}) =>
  ({
    key: Buffer.from('k1'),
    value: Buffer.from('{"type":"A"}'),
    headers: { trace: Buffer.from('t-1') },
    timestamp: '1700000000000',
    offset: '42',
    attributes: 0,
    ...over,
  }) as never;

const alert: Alert = {
  id: 'abc',
  rule: 'r',
  key: 'u1',
  time: 5,
  events: { a: { type: 'A' } },
  fields: { x: 1 },
  ruleVersion: 2,
  severity: 'critical',
  labels: {},
};

describe('Kafka records', () => {
  it('alerts: the /alerts record as JSON, keyed by the rule key, with rule and severity headers', () => {
    expect(alertMessage(alert)).toEqual({ key: 'u1', value: JSON.stringify(alert), headers: { rule: 'r', severity: 'critical' } });
    expect(alertMessage({ ...alert, key: null }).key).toBeNull();
    expect(JSON.parse(String(truncatedAlertMessage(alert).value))).toMatchObject({ id: 'abc', events: null, truncated: true });
  });

  it('dead letters: original key, bytes and headers, with the reason and the source position', () => {
    const raw = rawRecord('src', 3, message());
    expect(deadLetterMessage(raw, 'missing_time', 'why')).toEqual({
      key: Buffer.from('k1'),
      value: Buffer.from('{"type":"A"}'),
      headers: {
        trace: Buffer.from('t-1'),
        'cepheus.reason': 'missing_time',
        'cepheus.source.topic': 'src',
        'cepheus.source.partition': '3',
        'cepheus.source.offset': '42',
        'cepheus.source.timestamp': '1700000000000',
        'cepheus.error': 'why',
      },
    });
  });

  it('repartitioned records keep bytes, headers and timestamp, and carry their origin back', () => {
    const raw = rawRecord('src', 3, message());
    const out = repartitionMessage(raw, 'user-7');
    expect(out).toEqual({
      key: 'user-7',
      value: Buffer.from('{"type":"A"}'),
      headers: { trace: Buffer.from('t-1'), 'cepheus.origin': 'src/3/42' },
      timestamp: '1700000000000',
    });
    expect(repartitionMessage(raw, null).partition).toBe(0);
    // Read back from the repartition topic: the source position is the origin, the header is gone.
    const back = rawRecord('g-src-by-user-repartition', 1, message({ offset: '7', headers: out.headers }), true);
    expect(back.source).toEqual({ topic: 'src', partition: 3, offset: '42' });
    expect(back.headers).toEqual({ trace: Buffer.from('t-1') });
    // A source topic's own record is never taken for a repartitioned one.
    expect(rawRecord('src', 3, message({ headers: out.headers })).source).toEqual({ topic: 'src', partition: 3, offset: '42' });
  });

  it('watermark marks name the source partition and its largest event time', () => {
    expect(watermarkMark({ topic: 'src', partition: 1, offset: '9' }, 1234, 2)).toEqual({
      key: null,
      value: null,
      partition: 2,
      headers: { 'cepheus.origin': 'src/1/9', 'cepheus.watermark': '1234' },
    });
    expect(parsePosition('a.b-c/0/123')).toEqual({ topic: 'a.b-c', partition: 0, offset: '123' });
    expect(parsePosition('bad topic/0/1')).toBeUndefined();
  });

  it('the events of a batch (to reload their keys first): from the next offset, objects only, marks and oversize records left out', () => {
    const at = (offset: number, value: string | null, extra: Record<string, unknown> = {}) =>
      message({ offset: String(offset), value: value === null ? null : Buffer.from(value), ...extra });
    const position = { topic: 'src', partition: 0, offset: '7' };
    const mark = (m: { value: unknown; headers?: unknown }, offset: number) => message({ offset: String(offset), value: null, headers: m.headers });
    const messages = [
      at(1, '{"user":"old"}'),
      at(2, '{"user":"u1"}'),
      at(3, 'not json'),
      at(4, '[1,2]'),
      at(5, null),
      at(6, `{"user":"big","pad":"${'x'.repeat(100)}"}`),
      mark(watermarkMark(position, 5, 0), 7),
      mark(idleMark(position, 0), 8),
      at(9, '{"user":"u2"}'),
    ];
    expect(eventsOf(parseBatch(messages, 2, false, 64))).toEqual([{ user: 'u1' }, { user: 'u2' }]);
    // Repartition topics: any size (checked at the source), marks skipped.
    expect(eventsOf(parseBatch(messages, 2, true, 64)).map((e) => e.user)).toEqual(['u1', 'big', 'u2']);
    // Aligned with the messages, parsed as the batch loop parses them (so the loop can reuse them).
    const parsed = parseBatch(messages, 2, false, 64);
    expect(parsed.map((p) => (p === undefined ? 'skipped' : p.ok ? 'ok' : p.reason))).toEqual([
      'skipped',
      'ok',
      'invalid_json',
      'ok',
      'invalid_json',
      'oversize',
      'invalid_json',
      'invalid_json',
      'ok',
    ]);
    expect(parseBatch(messages, 2, true, 64).map((p) => p === undefined)).toEqual([true, false, false, false, false, false, true, true, false]);
  });

  it('a value that is not valid UTF-8 is invalid_json (decoding it would replace the bad bytes and merge keys)', () => {
    const bytes = (b: number[]) =>
      message({ offset: '0', value: Buffer.concat([Buffer.from('{"type":"login","user_id":"'), Buffer.from(b), Buffer.from('","timestamp":1}')]) });
    expect(parseValue(bytes([0xff, 0xfe, 0xc3]), false, 1024)).toEqual({ ok: false, reason: 'invalid_json' });
    expect(parseValue(bytes([0xed, 0xa0, 0x80]), false, 1024)).toEqual({ ok: false, reason: 'invalid_json' }); // a UTF-16 surrogate
    expect(parseValue(bytes([0xc3, 0xa9]), false, 1024)).toEqual({ ok: true, value: { type: 'login', user_id: 'é', timestamp: 1 } });
    // Too large is said first (and costs no scan of the bytes).
    expect(parseValue(bytes([0xff, 0xfe, 0xc3]), false, 16)).toEqual({ ok: false, reason: 'oversize' });
  });
});
