import { renderHook, waitFor } from '@testing-library/react';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { OfflineCache, memoryStore, setOfflineCache } from '../cache/offlineCache';
import { useUiStore } from '../store/uiStore';
import { useTenants } from './useTenants';

const json = (body: unknown) => Promise.resolve(new Response(JSON.stringify(body), { status: 200, headers: { 'content-type': 'application/json' } }));

describe('useTenants', () => {
  let cache: OfflineCache;
  beforeEach(() => {
    cache = new OfflineCache(memoryStore());
    setOfflineCache(cache);
  });
  afterEach(() => {
    vi.unstubAllGlobals();
    setOfflineCache(null);
  });

  it("offers only the server's tenants, leaving a selected tenant the token may not see", async () => {
    vi.stubGlobal('fetch', vi.fn(() => json({ data: { tenants: ['globex'] } })));
    useUiStore.setState({ tenant: 'acme' });
    const { result } = renderHook(() => useTenants());
    await waitFor(() => expect(result.current.tenants).toEqual(['globex']));
    expect(useUiStore.getState().tenant).toBe('globex');
  });

  it('does not offer the cached list when the server refuses the request', async () => {
    await cache.put('["tenants"]', ['acme', 'globex']);
    vi.stubGlobal('fetch', vi.fn(() => json({ data: null, errors: [{ message: 'ingest may not read costs', extensions: { code: 'FORBIDDEN' } }] })));
    useUiStore.setState({ tenant: null });
    const { result } = renderHook(() => useTenants());
    await waitFor(() => expect(result.current.error).toBe('ingest may not read costs'));
    await new Promise((r) => setTimeout(r, 10));
    expect(result.current.tenants).toEqual([]);
    expect(useUiStore.getState().tenant).toBeNull();
  });
});
