import { DEFAULT_STREAM_SETTINGS, parseDuration, parseSourceSettings, settingsFor } from './settings';

describe('stream settings', () => {
  it('parses durations as ms numbers or text with units', () => {
    expect(parseDuration(1500)).toBe(1500);
    expect(parseDuration('1500')).toBe(1500);
    expect(parseDuration('500ms')).toBe(500);
    expect(parseDuration('5s')).toBe(5000);
    expect(parseDuration('5 sec')).toBe(5000);
    expect(parseDuration('1.5 min')).toBe(90_000);
    expect(parseDuration('2m')).toBe(120_000);
    expect(parseDuration('1h')).toBe(3_600_000);
    expect(parseDuration('2d')).toBe(172_800_000);
    expect(parseDuration('30 days')).toBe(2_592_000_000);
    for (const bad of ['', 'soon', '5 weeks', -1, '−3s', Number.NaN, '1e3', null, {}]) expect(parseDuration(bad)).toBeUndefined();
    // Names of Object.prototype are no units (they were looked up there; only the NaN check kept them out).
    for (const bad of ['5 constructor', '1 __proto__', '2 valueOf', '3 toString']) expect(parseDuration(bad)).toBeUndefined();
    expect(parseDuration('31 days')).toBeUndefined();
  });

  it('defaults: no disorder, no lateness, 30 s idle timeout, event time', () => {
    expect(DEFAULT_STREAM_SETTINGS).toEqual({ maxOutOfOrderness: 0, allowedLateness: 0, idleTimeout: 30_000, timeMode: 'event' });
    expect(settingsFor(undefined, 'x')).toEqual(DEFAULT_STREAM_SETTINGS);
  });

  it('reads a table with "*" defaults that topics inherit', () => {
    const { table, errors } = parseSourceSettings({
      '*': { idleTimeout: '5s', maxOutOfOrderness: 100 },
      'user-events': { keyedBy: 'user_id', maxOutOfOrderness: '2s', allowedLateness: '1 min' },
      clicks: { timeMode: 'processing', idleTimeout: 'off' },
    });
    expect(errors).toEqual([]);
    expect(settingsFor(table, 'user-events')).toEqual({
      keyedBy: 'user_id',
      maxOutOfOrderness: 2000,
      allowedLateness: 60_000,
      idleTimeout: 5000,
      timeMode: 'event',
    });
    expect(settingsFor(table, 'clicks')).toEqual({ maxOutOfOrderness: 100, allowedLateness: 0, idleTimeout: null, timeMode: 'processing' });
    expect(settingsFor(table, 'other')).toEqual({ maxOutOfOrderness: 100, allowedLateness: 0, idleTimeout: 5000, timeMode: 'event' });
  });

  it('reports every bad entry by topic and key', () => {
    const { table, errors } = parseSourceSettings({
      'bad topic': {},
      t: { keyedBy: 'a b', maxOutOfOrderness: 'later', idleTimeout: 0, timeMode: 'wall', maxOutOfOrdernes: 1 },
      u: 5,
    });
    expect(table).toBeUndefined();
    expect(errors).toEqual([
      '"bad topic": not a Kafka topic name',
      't.keyedBy: expected an event field name, found "a b"',
      't.maxOutOfOrderness: expected a duration such as 5000, "5s" or "1 min", found "later"',
      't.idleTimeout: expected a positive duration such as "30s", or "off", found 0',
      't.timeMode: expected "event" or "processing", found "wall"',
      "t: unknown key 'maxOutOfOrdernes' (expected keyedBy, maxOutOfOrderness, allowedLateness, idleTimeout, timeMode)",
      'u: expected an object with keyedBy, maxOutOfOrderness, allowedLateness, idleTimeout, timeMode',
    ]);
    expect(parseSourceSettings([]).errors).toEqual(['expected a JSON object of topic name (or "*") to settings']);
  });
});
