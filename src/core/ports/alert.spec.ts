import { alertJson, truncateAlert, type Alert } from './alert';

const alert = (): Alert => ({
  id: 'a1',
  rule: 'r',
  ruleVersion: 2,
  key: 'k',
  time: 10,
  events: { a: { price: 1 } },
  fields: { buy: 1 },
  severity: 'warning',
  labels: { team: 'x' },
});

describe('alertJson', () => {
  it('is the alert JSON, computed once and reused for the same object', () => {
    const a = alert();
    const first = alertJson(a);
    expect(first).toBe(JSON.stringify(alert()));
    expect(alertJson(a)).toBe(first);
    // The cached text is invisible to JSON, to keys and to spreads.
    expect(JSON.stringify(a)).toBe(first);
    expect(Object.keys({ ...a })).toEqual(Object.keys(alert()));
  });

  it('a truncated or copied alert gets its own JSON, not the cached text of the original', () => {
    const a = alert();
    alertJson(a);
    const truncated = truncateAlert(a);
    expect(JSON.parse(alertJson(truncated))).toMatchObject({ id: 'a1', events: null, truncated: true });
    const copy = { ...a, severity: 'critical' as const };
    expect(JSON.parse(alertJson(copy)).severity).toBe('critical');
  });
});
