import type { Alert } from '../../core/ports/alert';
import { RuleStoreConflictError } from '../../core/ports/rule-store';
import { MemoryAlertStore } from './memory-alert-store';
import { MemoryRuleStore } from './memory-rule-store';

const alert = (id: string, rule = 'r'): Alert => ({
  id,
  rule,
  key: null,
  time: 0,
  events: {},
  fields: {},
  ruleVersion: 1,
  severity: 'info',
  labels: {},
});

describe('MemoryAlertStore', () => {
  it('keeps the newest `capacity` alerts, newest last, filtered by rule and limited', async () => {
    const store = new MemoryAlertStore(3);
    await store.publish([alert('a'), alert('b', 'x')]);
    await store.publish([alert('c'), alert('d', 'x'), alert('e')]);
    expect(store.recent({ limit: 10 }).map((a) => a.id)).toEqual(['c', 'd', 'e']);
    expect(store.recent({ limit: 2 }).map((a) => a.id)).toEqual(['d', 'e']);
    expect(store.recent({ limit: 10, rule: 'x' }).map((a) => a.id)).toEqual(['d']);
    await store.publish([alert('f'), alert('g'), alert('h'), alert('i')]);
    expect(store.recent({ limit: 10 }).map((a) => a.id)).toEqual(['g', 'h', 'i']);
  });

  it('tells subscribers, and finds the alerts after an id', async () => {
    const store = new MemoryAlertStore(10);
    const seen: string[] = [];
    const unsubscribe = store.subscribe((as) => seen.push(...as.map((a) => a.id)));
    store.subscribe(() => {
      throw new Error('a broken subscriber does not stop the others');
    });
    await store.publish([alert('a'), alert('b')]);
    unsubscribe();
    await store.publish([alert('c')]);
    expect(seen).toEqual(['a', 'b']);
    expect(store.after('a')!.map((a) => a.id)).toEqual(['b', 'c']);
    expect(store.after('c')).toEqual([]);
    expect(store.after('zzz')).toBeUndefined();
  });
});

describe('MemoryRuleStore', () => {
  const v = (text: string) => ({ change: 'create' as const, format: 'yaml' as const, text, enabled: true });

  it('appends versions with optimistic concurrency', async () => {
    const store = new MemoryRuleStore(() => new Date(0));
    const v1 = await store.append('r', v('one'), null);
    expect(v1).toEqual({ id: 'r', version: 1, createdAt: '1970-01-01T00:00:00.000Z', change: 'create', format: 'yaml', text: 'one', enabled: true });
    await expect(store.append('r', v('again'), null)).rejects.toBeInstanceOf(RuleStoreConflictError);
    await store.append('r', { ...v('two'), change: 'update' }, 1);
    await expect(store.append('r', v('stale'), 1)).rejects.toThrow(/expected version 1, found 2/);
    expect((await store.get('r'))!.text).toBe('two');
    expect((await store.versions('r')).map((x) => x.version)).toEqual([1, 2]);
    expect((await store.list()).map((x) => x.id)).toEqual(['r']);
  });

  it('deletes, and never reuses a version number', async () => {
    const store = new MemoryRuleStore();
    await store.append('r', v('one'), null);
    await expect(store.delete('r', 7)).rejects.toBeInstanceOf(RuleStoreConflictError);
    await store.delete('r', 1);
    expect(await store.get('r')).toBeUndefined();
    expect(await store.versions('r')).toEqual([]);
    expect(await store.list()).toEqual([]);
    expect((await store.append('r', v('back'), null)).version).toBe(2);
    expect((await store.versions('r')).map((x) => x.version)).toEqual([2]);
  });
});
