import { RULE_DEFAULTS } from '../rules/rule';
import { EventClassifier, MAX_EVENT_DEPTH, nestingExceeds, parseRecordValue, valueDepth, type EventShape } from './classify';

const shape = (partitionBy?: string, event = RULE_DEFAULTS.event): EventShape => ({ event, ...(partitionBy ? { partitionBy } : {}) });

describe('parseRecordValue', () => {
  it('checks the size first, then parses JSON', () => {
    expect(parseRecordValue('{"a":1}', 7, 7)).toEqual({ ok: true, value: { a: 1 } });
    expect(parseRecordValue('{"a":1}', 8, 7)).toEqual({ ok: false, reason: 'oversize' });
    expect(parseRecordValue('{"a":', 5, 100)).toEqual({ ok: false, reason: 'invalid_json' });
    expect(parseRecordValue(null, 0, 100)).toEqual({ ok: false, reason: 'invalid_json' });
  });

  it(`refuses values nested more than ${MAX_EVENT_DEPTH} levels deep as too_deep, without parsing them`, () => {
    const nested = (depth: number) => `{"type":"A","x":${'['.repeat(depth - 1)}${']'.repeat(depth - 1)}}`;
    expect(parseRecordValue(nested(MAX_EVENT_DEPTH), 0, Infinity)).toMatchObject({ ok: true });
    expect(parseRecordValue(nested(MAX_EVENT_DEPTH + 1), 0, Infinity)).toEqual({ ok: false, reason: 'too_deep' });
    // 200,000 levels: JSON.parse accepts it, and serializing it again would overflow the stack.
    expect(parseRecordValue(nested(200_000), 0, Infinity)).toEqual({ ok: false, reason: 'too_deep' });
  });
});

describe('nesting depth', () => {
  it('counts brackets outside strings only, escapes included', () => {
    const brackets = '['.repeat(600);
    expect(nestingExceeds(JSON.stringify({ text: brackets }), 10)).toBe(false);
    expect(nestingExceeds(JSON.stringify({ text: `\\"${brackets}` }), 10)).toBe(false);
    expect(nestingExceeds(`{"a":[[[1]]], "pad":"${'x'.repeat(40)}"}`, 3)).toBe(true);
    expect(nestingExceeds(`{"a":[[1]], "b":[[2]], "pad":"${'x'.repeat(40)}"}`, 3)).toBe(false);
    // Short texts cannot be deep enough: not scanned at all.
    expect(nestingExceeds('[[[[', 2)).toBe(false);
  });

  it('measures a parsed value without recursion', () => {
    expect(valueDepth(1)).toBe(0);
    expect(valueDepth({ a: [1, { b: [] }] })).toBe(4);
    let deep: unknown = [];
    for (let i = 0; i < 100_000; i++) deep = [deep];
    expect(valueDepth(deep)).toBe(100_001);
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

  it('refuses a time after the latest allowed (the wall clock plus EVENT_MAX_FUTURE) as future_time', () => {
    expect(c.classify({ type: 'a', timestamp: 1000, user: 'u' }, 1000)).toMatchObject({ ok: true, time: 1000 });
    expect(c.classify({ type: 'a', timestamp: 1001, user: 'u' }, 1000)).toEqual({ ok: false, reason: 'future_time' });
    expect(c.classify({ type: 'a', timestamp: '9999-12-31T23:59:59Z', user: 'u' }, Date.now())).toEqual({ ok: false, reason: 'future_time' });
    // Processing time has no event time to check.
    expect(new EventClassifier([shape('user')], 'processing').classify({ type: 'a', timestamp: 1e15, user: 'u' }, 0)).toMatchObject({ ok: true });
  });

  it('does not need a time in processing-time mode', () => {
    const p = new EventClassifier([shape('user')], 'processing');
    const r = p.classify({ type: 'a', user: 'u' });
    expect(r.ok).toBe(true);
    expect(r.ok && Number.isNaN(r.time)).toBe(true);
  });
});
