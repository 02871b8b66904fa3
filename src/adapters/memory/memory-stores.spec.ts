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
    expect((await store.versions('r', { limit: 10 }))!.versions.map((x) => x.version)).toEqual([2, 1]);
    expect((await store.list()).map((x) => x.id)).toEqual(['r']);
  });

  it('deletes, and never reuses a version number', async () => {
    const store = new MemoryRuleStore();
    await store.append('r', v('one'), null);
    await expect(store.delete('r', 7)).rejects.toBeInstanceOf(RuleStoreConflictError);
    await store.delete('r', 1);
    expect(await store.get('r')).toBeUndefined();
    expect(await store.versions('r', { limit: 10 })).toBeUndefined();
    expect(await store.version('r', 1)).toBeUndefined();
    expect(await store.list()).toEqual([]);
    expect((await store.append('r', v('back'), null)).version).toBe(2);
    expect(await store.versions('r', { limit: 10 })).toEqual({
      versions: [expect.objectContaining({ version: 2, text: 'back' })],
      more: false,
      history: { first: 2, oldest: 2, newest: 2 },
    });
  });

  it('keeps the newest versions of a rule only (it kept every one); numbers go on growing', async () => {
    const store = new MemoryRuleStore(undefined, 3);
    await store.append('r', v('t1'), null);
    for (let n = 2; n <= 10; n++) await store.append('r', { ...v(`t${n}`), change: 'update' }, n - 1);
    const page = await store.versions('r', { limit: 100 });
    expect(page!.versions.map((x) => [x.version, x.text])).toEqual([
      [10, 't10'],
      [9, 't9'],
      [8, 't8'],
    ]);
    expect(page!.history).toEqual({ first: 1, oldest: 8, newest: 10 });
    expect(await store.version('r', 7)).toBeUndefined();
    expect((await store.version('r', 8))!.text).toBe('t8');
    expect((await store.append('r', { ...v('t11'), change: 'update' }, 10)).version).toBe(11);
  });

  it('pages versions newest first: at most limit, those below before, saying whether older ones are kept', async () => {
    const store = new MemoryRuleStore();
    await store.append('r', v('t1'), null);
    for (let n = 2; n <= 5; n++) await store.append('r', { ...v(`t${n}`), change: 'update' }, n - 1);
    const numbers = async (query: { limit: number; before?: number }) => {
      const page = (await store.versions('r', query))!;
      return [page.versions.map((x) => x.version), page.more];
    };
    expect(await numbers({ limit: 2 })).toEqual([[5, 4], true]);
    expect(await numbers({ limit: 2, before: 4 })).toEqual([[3, 2], true]);
    expect(await numbers({ limit: 2, before: 2 })).toEqual([[1], false]);
    expect(await numbers({ limit: 5 })).toEqual([[5, 4, 3, 2, 1], false]);
    expect(await numbers({ limit: 3, before: 99 })).toEqual([[5, 4, 3], true]);
    expect(await numbers({ limit: 3, before: 1 })).toEqual([[], false]);
  });
});
