import { useCallback, useEffect, useRef, useState } from 'react';
import { isAccessError } from '../api/graphql';
import { offlineCache } from '../cache/offlineCache';
import { useUiStore } from '../store/uiStore';

export interface CachedQuery<T> {
  data: T | null;
  /** The last fetch's error, when there is nothing (not even cached data) to show for this key. */
  error: string | null;
  loading: boolean;
  /** When `data` comes from the offline cache because the fetch failed: the epoch ms it was fetched. */
  staleAt: number | null;
  retry: () => void;
}

interface Answer<T> {
  key: string;
  data: T | null;
  error: string | null;
  staleAt: number | null;
}

/**
 * Runs `fetcher` whenever `key` changes and on every live update, and keeps each answer in the
 * offline cache under `key`. When a fetch fails, the last cached answer for the same key is shown,
 * marked with its time, instead of an error. A null key (no tenant yet) fetches nothing.
 *
 * `key` must change whenever what `fetcher` asks for changes: it is the only dependency.
 */
export function useCachedQuery<T>(key: string | null, fetcher: () => Promise<T>): CachedQuery<T> {
  const liveVersion = useUiStore((s) => s.liveVersion);
  const [answer, setAnswer] = useState<Answer<T> | null>(null);
  const [loading, setLoading] = useState(false);
  const fetchRef = useRef(fetcher);
  fetchRef.current = fetcher;
  const seq = useRef(0);

  const load = useCallback(async () => {
    if (key === null) return;
    const id = ++seq.current;
    const cache = offlineCache();
    setLoading(true);
    try {
      const data = await fetchRef.current();
      if (id === seq.current) setAnswer({ key, data, error: null, staleAt: null });
      void cache.put(key, data);
    } catch (e) {
      // A refusal (401 / FORBIDDEN) is not an outage: the cached answer is not for this caller.
      const hit = isAccessError(e) ? undefined : await cache.get<T>(key);
      if (id !== seq.current) return;
      // A failed refresh of the same key keeps what is shown; only the marker or error changes.
      setAnswer((prev) => {
        if (hit) return { key, data: hit.data, error: null, staleAt: hit.at };
        const kept = prev?.key === key ? prev.data : null;
        return { key, data: kept, error: (e as Error).message, staleAt: prev?.key === key ? prev.staleAt : null };
      });
    } finally {
      if (id === seq.current) setLoading(false);
    }
  }, [key]);

  useEffect(() => {
    void load();
  }, [load, liveVersion]);

  // Another key's answer is never shown (a different tenant, range or drill path).
  const current = answer && answer.key === key ? answer : null;
  return {
    data: current?.data ?? null,
    error: current?.error ?? null,
    loading: loading || (key !== null && !current),
    staleAt: current?.staleAt ?? null,
    retry: () => void load(),
  };
}
