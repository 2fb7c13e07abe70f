import type { RangeSpec } from '../lib/range';

/** The little a cache needs from storage; IndexedDB in the browser, a Map in tests or when IndexedDB is missing. */
export interface KeyValueStore {
  get<T>(key: string): Promise<T | undefined>;
  set(key: string, value: unknown): Promise<void>;
}

export interface CachedEntry<T> {
  data: T;
  /** Epoch ms when the data was fetched. */
  at: number;
}

const DB = 'costwatch';
const STORE = 'offline-cache';

function req<T>(r: IDBRequest<T>): Promise<T> {
  return new Promise((resolve, reject) => {
    r.onsuccess = () => resolve(r.result);
    r.onerror = () => reject(r.error);
  });
}

/** A key-value store in one IndexedDB object store (raw API, no dependency). */
export function idbStore(factory: IDBFactory = indexedDB, dbName = DB, storeName = STORE): KeyValueStore {
  let db: Promise<IDBDatabase> | null = null;
  const open = () => {
    if (!db) {
      const r = factory.open(dbName, 1);
      r.onupgradeneeded = () => r.result.createObjectStore(storeName);
      db = req(r).catch((e) => {
        db = null;
        throw e;
      });
    }
    return db;
  };
  return {
    async get<T>(key: string) {
      const d = await open();
      return (await req(d.transaction(storeName, 'readonly').objectStore(storeName).get(key))) as T | undefined;
    },
    async set(key, value) {
      const d = await open();
      const tx = d.transaction(storeName, 'readwrite');
      tx.objectStore(storeName).put(value, key);
      await new Promise<void>((resolve, reject) => {
        tx.oncomplete = () => resolve();
        tx.onerror = () => reject(tx.error);
        tx.onabort = () => reject(tx.error);
      });
    },
  };
}

export function memoryStore(): KeyValueStore {
  const m = new Map<string, unknown>();
  return {
    get: async <T,>(key: string) => structuredClone(m.get(key)) as T | undefined,
    set: async (key, value) => void m.set(key, structuredClone(value)),
  };
}

/** Presets are cached by their length (their exact ends move every minute); custom ranges by their dates. */
export function rangeKey(r: RangeSpec): string {
  return r.kind === 'preset' ? `last-${r.days}d` : `${r.from}..${r.to}`;
}

export interface CacheScope {
  tenant: string;
  range: RangeSpec;
  currency: string;
  /** The breakdown drill path (summary ignores it). */
  drill?: string[];
}

/** One cache entry per view section and scope; `extra` separates variants of a section (e.g. a chart's grouping). */
export function cacheKey(section: string, s: CacheScope, extra?: unknown): string {
  const parts: unknown[] = [section, s.tenant, rangeKey(s.range), s.currency, section === 'summary' ? [] : (s.drill ?? [])];
  if (extra !== undefined) parts.push(extra);
  return JSON.stringify(parts);
}

/**
 * The last successful answer per section and scope. Storage failures are swallowed: the cache
 * is a fallback and must never break a load that worked.
 */
export class OfflineCache {
  constructor(private readonly store: KeyValueStore, private readonly now: () => number = Date.now) {}

  async put<T>(key: string, data: T): Promise<void> {
    try {
      await this.store.set(key, { data, at: this.now() } satisfies CachedEntry<T>);
    } catch {
      /* quota, private mode … */
    }
  }

  async get<T>(key: string): Promise<CachedEntry<T> | undefined> {
    try {
      const e = await this.store.get<CachedEntry<T>>(key);
      return e && typeof e.at === 'number' && 'data' in e ? e : undefined;
    } catch {
      return undefined;
    }
  }
}

let shared: OfflineCache | null = null;

/** The app's cache: IndexedDB when there is one, else memory. */
export function offlineCache(): OfflineCache {
  if (!shared) shared = new OfflineCache(typeof indexedDB === 'undefined' ? memoryStore() : idbStore());
  return shared;
}

/** For tests: swap the shared cache. */
export function setOfflineCache(c: OfflineCache | null): void {
  shared = c;
}

export function formatStaleTime(at: number): string {
  return new Date(at).toLocaleString(undefined, { dateStyle: 'medium', timeStyle: 'short' });
}

/** How old cached data is, in words: "just now", "5 min ago", "3 h ago", "2 days ago". */
export function formatAge(at: number, now: number): string {
  const minutes = Math.floor(Math.max(0, now - at) / 60_000);
  if (minutes < 1) return 'just now';
  if (minutes < 60) return `${minutes} min ago`;
  const hours = Math.floor(minutes / 60);
  if (hours < 48) return `${hours} h ago`;
  return `${Math.floor(hours / 24)} days ago`;
}
