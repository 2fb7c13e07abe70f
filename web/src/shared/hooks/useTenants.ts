import { useCallback, useEffect, useState } from 'react';
import { gql, isAccessError } from '../api/graphql';
import { offlineCache } from '../cache/offlineCache';
import { TENANTS } from '../api/queries';
import { useUiStore } from '../store/uiStore';

const TENANTS_KEY = '["tenants"]';

/** The tenant list; refreshed on live updates and, while empty, every 5 s. Picks the first tenant if none is selected. */
export function useTenants(): { tenants: string[]; error: string | null; reload: () => void } {
  const [tenants, setTenants] = useState<string[]>([]);
  const [error, setError] = useState<string | null>(null);
  const liveVersion = useUiStore((s) => s.liveVersion);
  const live = useUiStore((s) => s.live);

  const reload = useCallback(() => {
    gql<{ tenants: string[] }>(TENANTS)
      .then((d) => {
        setTenants(d.tenants);
        setError(null);
        // The server lists only the tenants this token may see: a tenant picked before signing in
        // as someone else (or one that is gone) gives way to the first one offered.
        const { tenant, setTenant } = useUiStore.getState();
        if ((!tenant || !d.tenants.includes(tenant)) && d.tenants.length) setTenant(d.tenants[0]);
        void offlineCache().put(TENANTS_KEY, d.tenants);
      })
      .catch(async (e: Error) => {
        setError(e.message);
        // Refused (not offline): the cached list may be another user's, so it is not offered.
        if (isAccessError(e)) return;
        // Offline: the last known list lets the cached costs of a tenant be shown.
        const hit = await offlineCache().get<string[]>(TENANTS_KEY);
        if (!hit?.data.length) return;
        setTenants((t) => (t.length ? t : hit.data));
        const { tenant, setTenant } = useUiStore.getState();
        if (!tenant) setTenant(hit.data[0]);
      });
  }, []);

  useEffect(reload, [reload, liveVersion, live === 'live']);
  useEffect(() => {
    if (tenants.length) return;
    const t = setInterval(reload, 5000);
    return () => clearInterval(t);
  }, [tenants.length, reload]);

  return { tenants, error, reload };
}
