import { useEffect, useRef } from 'react';
import type { Client } from 'graphql-ws';
import { gql } from '../api/graphql';
import { ANOMALIES, ANOMALY_DETECTED, MARK_ANOMALY } from '../api/queries';
import type { Anomaly } from '../api/types';
import { createLiveClient } from '../api/ws';
import { resolveRange } from '../lib/range';
import { ANOMALY_LIMIT, useAnomalyStore } from '../store/anomalyStore';
import { useUiStore } from '../store/uiStore';

/** Queries the tenant's anomalies whose window lies in the selected range into the store. */
export async function loadAnomalies(tenant: string, from: string, to: string, signal?: AbortSignal): Promise<void> {
  const sentAt = Date.now();
  try {
    const { anomalies } = await gql<{ anomalies: Anomaly[] }>(ANOMALIES, { tenant, from, to, limit: ANOMALY_LIMIT }, signal);
    useAnomalyStore.getState().reconcile(tenant, anomalies, sentAt);
  } catch (e) {
    if ((e as Error).name !== 'AbortError') useAnomalyStore.getState().fail(tenant, (e as Error).message);
  }
}

/** Records whether an anomaly was expected; the answer (with its feedback) goes into the store. */
export async function markAnomaly(tenant: string, id: string, expected: boolean, note?: string): Promise<Anomaly> {
  const { markAnomaly: a } = await gql<{ markAnomaly: Anomaly }>(MARK_ANOMALY, { tenant, id, expected, note: note ?? null });
  useAnomalyStore.getState().receive(a);
  return a;
}

/**
 * Keeps the anomaly store current for the whole app (trends markers, the anomalies panel): loads
 * the selected range's anomalies when the tenant or range changes and after each reconnect, and
 * adds every `anomalyDetected` push. Error states retry with the store's `bumpResync()`.
 */
export function useAnomalyFeed(tenant: string | null): void {
  const range = useUiStore((s) => s.range);
  const resync = useAnomalyStore((s) => s.resync);
  const client = useRef<Client | null>(null);

  useEffect(() => {
    let wasOffline = false;
    client.current = createLiveClient((status) => {
      if (status === 'offline') wasOffline = true;
      if (status === 'live' && wasOffline) {
        wasOffline = false;
        useAnomalyStore.getState().bumpResync(); // anomalies may have been missed while disconnected
      }
    });
    return () => {
      void client.current?.dispose();
      client.current = null;
    };
  }, []);

  useEffect(() => {
    useAnomalyStore.getState().setTenant(tenant);
  }, [tenant]);

  useEffect(() => {
    if (!tenant) return;
    const abort = new AbortController();
    const { from, to } = resolveRange(range);
    void loadAnomalies(tenant, from, to, abort.signal);
    return () => abort.abort();
  }, [tenant, range, resync]);

  useEffect(() => {
    const c = client.current;
    if (!c || !tenant) return;
    return c.subscribe<{ anomalyDetected: Anomaly }>(
      { query: ANOMALY_DETECTED, variables: { tenant } },
      {
        next: (msg) => {
          if (msg.data?.anomalyDetected) useAnomalyStore.getState().receive(msg.data.anomalyDetected);
        },
        error: () => undefined,
        complete: () => undefined,
      },
    );
  }, [tenant]);
}
