import { useEffect, useRef } from 'react';
import type { Client } from 'graphql-ws';
import { ALERT_UPDATES } from '../../shared/api/queries';
import type { Alert } from '../../shared/api/types';
import { createLiveClient } from '../../shared/api/ws';
import { loadAlerts } from './alertApi';
import { useAlertStore } from './alertStore';

/**
 * Keeps the alert store current for the whole app (the navigation badge, the alerts panel, budget
 * refetches): subscribes to the tenant's `alerts` on its own reconnecting WebSocket, and loads the
 * open (TRIGGERED) alerts when the tenant changes and after each reconnect (`resync`).
 */
export function useAlertFeed(tenant: string | null): void {
  const client = useRef<Client | null>(null);
  const resync = useAlertStore((s) => s.resync);

  useEffect(() => {
    let wasOffline = false;
    client.current = createLiveClient((status) => {
      if (status === 'offline') wasOffline = true;
      if (status === 'live' && wasOffline) {
        wasOffline = false;
        useAlertStore.getState().bumpResync(); // transitions may have been missed while disconnected
      }
    });
    return () => {
      void client.current?.dispose();
      client.current = null;
    };
  }, []);

  useEffect(() => {
    useAlertStore.getState().setTenant(tenant);
  }, [tenant]);

  useEffect(() => {
    if (!tenant) return;
    const abort = new AbortController();
    loadAlerts(tenant, 'TRIGGERED', abort.signal).catch(() => undefined); // the panel shows errors; the badge keeps its count
    return () => abort.abort();
  }, [tenant, resync]);

  useEffect(() => {
    const c = client.current;
    if (!c || !tenant) return;
    return c.subscribe<{ alerts: Alert }>(
      { query: ALERT_UPDATES, variables: { tenant } },
      {
        next: (msg) => {
          if (msg.data?.alerts) useAlertStore.getState().receive(msg.data.alerts);
        },
        error: () => undefined,
        complete: () => undefined,
      },
    );
  }, [tenant]);
}
