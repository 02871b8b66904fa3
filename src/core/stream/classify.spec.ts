import { RULE_DEFAULTS } from '../rules/rule';
import { EventClassifier, parseRecordValue, type EventShape } from './classify';

const shape = (partitionBy?: string, event = RULE_DEFAULTS.event): EventShape => ({ event, ...(partitionBy ? { partitionBy } : {}) });

describe('parseRecordValue', () => {
  it('checks the size first, then parses JSON', () => {
    expect(parseRecordValue('{"a":1}', 7, 7)).toEqual({ ok: true, value: { a: 1 } });
    expect(parseRecordValue('{"a":1}', 8, 7)).toEqual({ ok: false, reason: 'oversize' });
    expect(parseRecordValue('{"a":', 5, 100)).toEqual({ ok: false, reason: 'invalid_json' });
    expect(parseRecordValue(null, 0, 100)).toEqual({ ok: false, reason: 'invalid_json' });
  });
});

describe('EventClassifier', () => {
  const c = new EventClassifier([shape('user'), shape('account')]);

  it('accepts an event with a type, a time and a key of some rule', () => {
    expect(c.classify({ type: 'a', timestamp: 5, user: 'u1' })).toEqual({ ok: true, event: { type: 'a', timestamp: 5, user: 'u1' }, time: 5 });
    expect(c.classify({ type: 'a', timestamp: '2025-01-01T00:00:00Z', account: 7 })).toMatchObject({ ok: true, time: 1735689600000 });
  });

  it('names what is wrong', () => {
    expect(c.classify([1])).toEqual({ ok: false, reason: 'not_an_object' });
    expect(c.classify('x')).toEqual({ ok: false, reason: 'not_an_object' });
    expect(c.classify({ timestamp: 5, user: 'u' })).toEqual({ ok: false, reason: 'missing_type' });
    expect(c.classify({ type: '', timestamp: 5, user: 'u' })).toEqual({ ok: false, reason: 'missing_type' });
    expect(c.classify({ type: 7, timestamp: 5, user: 'u' })).toEqual({ ok: false, reason: 'missing_type' });
    expect(c.classify({ type: 'a', user: 'u' })).toEqual({ ok: false, reason: 'missing_time' });
    expect(c.classify({ type: 'a', timestamp: true, user: 'u' })).toEqual({ ok: false, reason: 'missing_time' });
    expect(c.classify({ type: 'a', timestamp: 'yesterday', user: 'u' })).toEqual({ ok: false, reason: 'missing_time' });
    expect(c.classify({ type: 'a', timestamp: 5 })).toEqual({ ok: false, reason: 'missing_key' });
    expect(c.classify({ type: 'a', timestamp: 5, user: { id: 1 } })).toEqual({ ok: false, reason: 'missing_key' });
  });

  it('needs no key when some rule is unpartitioned', () => {
    const u = new EventClassifier([shape('user'), shape()]);
    expect(u.classify({ type: 'a', timestamp: 5 })).toMatchObject({ ok: true });
  });

  it('uses each rule group its own fields, the first usable time wins', () => {
    const m = new EventClassifier([shape('user', { typeField: 'kind', timeField: 'ts' }), shape('user')]);
    expect(m.classify({ type: 'a', timestamp: 5, ts: 9, user: 'u' })).toMatchObject({ ok: true, time: 5 });
    expect(m.classify({ kind: 'a', type: 'b', timestamp: 5, ts: 9, user: 'u' })).toMatchObject({ ok: true, time: 9 });
    expect(m.timeFields).toEqual(['ts', 'timestamp']);
  });

  it('does not need a time in processing-time mode', () => {
    const p = new EventClassifier([shape('user')], 'processing');
    const r = p.classify({ type: 'a', user: 'u' });
    expect(r.ok).toBe(true);
    expect(r.ok && Number.isNaN(r.time)).toBe(true);
  });
});
