import { createHash } from 'node:crypto';
import { parseSourceSettings } from './settings';
import { declaredKeyField, planTopology, repartitionTopic, subscribedTopics, type RuleInfo } from './topology';

const hash = (s: string) => createHash('sha256').update(s).digest('hex');
const rule = (id: string, source: string, partitionBy?: string, keyedBy?: string): RuleInfo => ({
  id,
  source,
  ...(partitionBy ? { partitionBy } : {}),
  ...(keyedBy ? { keyedBy } : {}),
});

describe('planTopology', () => {
  const partitions = new Map([
    ['auth', 3],
    ['shop', 2],
    ['single', 1],
  ]);

  it('reads a source keyed by the partition field directly, and repartitions otherwise', () => {
    const t = planTopology(
      [rule('keyed', 'auth', 'user', 'user'), rule('unkeyed', 'shop', 'session'), rule('other-field', 'auth', 'ip', 'user')],
      { groupId: 'g', partitions, hash },
    );
    expect(t.sources.get('auth')).toMatchObject({ rules: ['keyed', 'other-field'], direct: ['keyed'], targets: [{ field: 'ip', topic: 'g-auth-by-ip-repartition', partitions: 3 }] });
    expect(t.sources.get('shop')).toMatchObject({ direct: [], targets: [{ field: 'session', topic: 'g-shop-by-session-repartition', partitions: 2 }] });
    expect(t.streams.get('auth')).toMatchObject({ kind: 'direct', rules: ['keyed'] });
    expect(t.streams.get('g-shop-by-session-repartition')).toMatchObject({ kind: 'repartitioned', source: 'shop', field: 'session', rules: ['unkeyed'] });
    expect(subscribedTopics(t)).toEqual(['auth', 'g-auth-by-ip-repartition', 'g-shop-by-session-repartition', 'shop']);
  });

  it('takes keyedBy from the source settings', () => {
    const { table } = parseSourceSettings({ shop: { keyedBy: 'session' } });
    const t = planTopology([rule('r', 'shop', 'session')], { groupId: 'g', partitions, hash, settings: table });
    expect(t.sources.get('shop')!.direct).toEqual(['r']);
    expect(t.internal).toEqual([]);
  });

  it('reads one topic once for several rules, and shares repartition topics by field', () => {
    const t = planTopology([rule('a', 'shop', 'session'), rule('b', 'shop', 'session'), rule('c', 'shop', 'session', 'session')], {
      groupId: 'g',
      partitions,
      hash,
    });
    expect(t.internal).toHaveLength(1);
    expect(t.streams.get('g-shop-by-session-repartition')!.rules).toEqual(['a', 'b']);
    expect(subscribedTopics(t)).toEqual(['g-shop-by-session-repartition', 'shop']);
  });

  it('gives unpartitioned rules one engine: directly on a one-partition topic, else a global topic', () => {
    const t = planTopology([rule('u1', 'single'), rule('u2', 'auth')], { groupId: 'g', partitions, hash });
    expect(t.sources.get('single')!.direct).toEqual(['u1']);
    expect(t.sources.get('auth')!.targets).toEqual([{ field: null, topic: 'g-auth-global-repartition', partitions: 1 }]);
  });

  it('reads a one-partition topic directly, whatever the partition field', () => {
    const t = planTopology([rule('a', 'single', 'user'), rule('b', 'single', 'session', 'user')], { groupId: 'g', partitions, hash });
    expect(t.sources.get('single')!.direct).toEqual(['a', 'b']);
    expect(t.internal).toEqual([]);
  });

  it('lists sources that do not exist, and leaves their rules out', () => {
    const t = planTopology([rule('x', 'nope', 'k')], { groupId: 'g', partitions, hash });
    expect(t.missing).toEqual(['nope']);
    expect(subscribedTopics(t)).toEqual([]);
  });

  it('names internal topics safely', () => {
    expect(repartitionTopic('g', 's', 'user.id', hash)).toBe('g-s-by-user.id-repartition');
    const odd = repartitionTopic('g', 's', 'user/id', hash);
    expect(odd).toMatch(/^g-s-by-[0-9a-f]{12}-repartition$/);
    const long = repartitionTopic('g', 'x'.repeat(240), 'f', hash);
    expect(long.length).toBeLessThanOrEqual(249);
    expect(long).toMatch(/^g-[0-9a-f]{24}-repartition$/);
  });
});

describe('declaredKeyField', () => {
  const { table } = parseSourceSettings({ auth: { keyedBy: 'user' } });

  it.each([
    ['no rule or setting declares a key', [rule('a', 'shop', 'session')], undefined, 'shop', { field: null }],
    ['a rule declares it', [rule('a', 'shop', 'session', 'session'), rule('b', 'shop')], undefined, 'shop', { field: 'session' }],
    ['the settings declare it for the topic', [rule('a', 'auth', 'user'), rule('b', 'auth')], table, 'auth', { field: 'user' }],
    ['the rules agree', [rule('a', 'shop', 'session', 'session'), rule('b', 'shop', 'session', 'session')], undefined, 'shop', { field: 'session' }],
    ['only rules of other topics declare one', [rule('a', 'auth', 'user', 'user'), rule('b', 'shop')], undefined, 'shop', { field: null }],
    [
      'two rules declare different fields',
      [rule('a', 'shop', 'session', 'session'), rule('b', 'shop', 'user', 'user')],
      undefined,
      'shop',
      { conflict: [{ rule: 'a', field: 'session' }, { rule: 'b', field: 'user' }] },
    ],
    [
      "a rule's keyedBy differs from the topic's",
      [rule('a', 'auth', 'ip', 'ip'), rule('b', 'auth', 'user')],
      table,
      'auth',
      { conflict: [{ rule: 'a', field: 'ip' }, { rule: 'b', field: 'user' }] },
    ],
  ])('when %s', (_what, rules, settings, topic, expected) => {
    expect(declaredKeyField(rules, settings, topic)).toEqual(expected);
  });
});
