import { create } from 'zustand';
import type { Anomaly } from '../api/types';
import { mergeAnomaly, reconcileAnomalies } from '../lib/anomalyList';

/** How many anomalies one query asks for (the server's default). */
export const ANOMALY_LIMIT = 100;

export interface AnomalyStoreState {
  tenant: string | null;
  /** One entry per id, newest window first: the selected range's anomalies plus live ones. */
  anomalies: Anomaly[];
  /** The last query's error (null after a success). */
  error: string | null;
  /** True once a query answer for the current tenant arrived. */
  loaded: boolean;
  /** Epoch ms each id was last received (pushed or marked); a query sent before that keeps it. */
  receivedAt: Record<string, number>;
  /** Bumped after a reconnect or a retry: the range is queried again. */
  resync: number;
  bumpResync(): void;
  setTenant(tenant: string | null): void;
  /** A live push or a `markAnomaly` answer. Ignored when it is another tenant's. */
  receive(anomaly: Anomaly): void;
  /** Takes a query answer sent at `sentAt` (epoch ms). */
  reconcile(tenant: string, answer: Anomaly[], sentAt: number): void;
  fail(tenant: string, message: string): void;
}

export const initialAnomalyState: Pick<AnomalyStoreState, 'tenant' | 'anomalies' | 'error' | 'loaded' | 'receivedAt' | 'resync'> = {
  tenant: null,
  anomalies: [],
  error: null,
  loaded: false,
  receivedAt: {},
  resync: 0,
};

export const useAnomalyStore = create<AnomalyStoreState>((set) => ({
  ...initialAnomalyState,
  setTenant: (tenant) => set((s) => (s.tenant === tenant ? s : { ...initialAnomalyState, tenant, resync: s.resync })),
  bumpResync: () => set((s) => ({ resync: s.resync + 1 })),
  receive: (anomaly) =>
    set((s) =>
      anomaly.tenant !== s.tenant
        ? s
        : { anomalies: mergeAnomaly(s.anomalies, anomaly), receivedAt: { ...s.receivedAt, [anomaly.id]: Date.now() } },
    ),
  reconcile: (tenant, answer, sentAt) =>
    set((s) => {
      if (tenant !== s.tenant) return s;
      const keep = new Set(Object.keys(s.receivedAt).filter((id) => s.receivedAt[id] >= sentAt));
      return { anomalies: reconcileAnomalies(s.anomalies, answer, keep), error: null, loaded: true };
    }),
  fail: (tenant, message) => set((s) => (tenant !== s.tenant ? s : { error: message })),
}));
