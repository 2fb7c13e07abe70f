import { IDBFactory } from 'fake-indexeddb';
import { describe, expect, it } from 'vitest';
import { OfflineCache, cacheKey, idbStore, memoryStore, rangeKey, type KeyValueStore } from './offlineCache';
import { costReducer, initialCostState } from '../store/costStore';

describe('idbStore (fake-indexeddb)', () => {
  it('round-trips values through IndexedDB and survives reopening', async () => {
    const factory = new IDBFactory();
    const a = idbStore(factory, 'test-db');
    expect(await a.get('missing')).toBeUndefined();
    await a.set('k', { data: [{ amount: '0.00000000503' }], at: 5 });
    await a.set('k2', 'x');
    expect(await a.get('k')).toEqual({ data: [{ amount: '0.00000000503' }], at: 5 });
    const b = idbStore(factory, 'test-db'); // a second connection sees the same data
    expect(await b.get('k2')).toBe('x');
    await b.set('k2', 'y');
    expect(await a.get('k2')).toBe('y');
  });
});

describe('OfflineCache', () => {
  it('stores data with its fetch time, per key', async () => {
    let now = 1000;
    const c = new OfflineCache(idbStore(new IDBFactory()), () => now);
    await c.put('a', { total: '1.5' });
    now = 2000;
    await c.put('b', [1, 2]);
    expect(await c.get('a')).toEqual({ data: { total: '1.5' }, at: 1000 });
    expect(await c.get('b')).toEqual({ data: [1, 2], at: 2000 });
    expect(await c.get('c')).toBeUndefined();
  });
  it('swallows storage failures and ignores malformed entries', async () => {
    const broken: KeyValueStore = {
      get: () => Promise.reject(new Error('gone')),
      set: () => Promise.reject(new Error('quota')),
    };
    const c = new OfflineCache(broken);
    await expect(c.put('a', 1)).resolves.toBeUndefined();
    expect(await c.get('a')).toBeUndefined();
    const m = memoryStore();
    await m.set('x', { nope: true });
    expect(await new OfflineCache(m).get('x')).toBeUndefined();
  });
});

describe('cache keys', () => {
  const scope = { tenant: 'acme', range: { kind: 'preset', days: 30 } as const, currency: 'USD', drill: ['hosting'] };
  it('key presets by length and custom ranges by date', () => {
    expect(rangeKey({ kind: 'preset', days: 7 })).toBe('last-7d');
    expect(rangeKey({ kind: 'custom', from: '2026-01-01', to: '2026-01-31' })).toBe('2026-01-01..2026-01-31');
  });
  it('separate tenant, range, currency and (except for the summary) drill path', () => {
    const k = cacheKey('breakdown', scope);
    expect(cacheKey('breakdown', { ...scope, tenant: 'globex' })).not.toBe(k);
    expect(cacheKey('breakdown', { ...scope, currency: 'EUR' })).not.toBe(k);
    expect(cacheKey('breakdown', { ...scope, range: { kind: 'preset', days: 7 } })).not.toBe(k);
    expect(cacheKey('breakdown', { ...scope, drill: [] })).not.toBe(k);
    expect(cacheKey('history', scope)).not.toBe(k);
    expect(cacheKey('summary', scope)).toBe(cacheKey('summary', { ...scope, drill: [] }));
  });
});

describe('costReducer cached', () => {
  it('shows cached data marked with its time until a fresh load', () => {
    const g = [{ keys: ['api'], amount: { amount: '2', currency: 'USD' }, events: 1, percentage: '100' }];
    let s = costReducer(initialCostState, { type: 'start', section: 'breakdown' });
    s = costReducer(s, { type: 'cached', inner: { type: 'breakdown', data: g, at: 77 } });
    expect(s.resources).toBe(g);
    expect(s.stale.breakdown).toBe(77);
    expect(s.loading.breakdown).toBe(false);
    expect(s.error.breakdown).toBeNull();
    s = costReducer(s, { type: 'breakdown', data: [], at: 99 });
    expect(s.stale.breakdown).toBeNull();
    expect(s.lastUpdated).toBe(99);
  });
});
