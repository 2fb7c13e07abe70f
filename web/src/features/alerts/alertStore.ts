import { create } from 'zustand';
import type { Alert, AlertState } from '../../shared/api/types';
import { mergeAlert, openCount, reconcileAlerts } from './alertList';

/** How many alerts one query asks for (the server's default). */
export const ALERT_LIMIT = 100;

export interface AlertStoreState {
  tenant: string | null;
  /** One entry per alert id, newest first: query answers merged with live transitions. */
  alerts: Alert[];
  /** TRIGGERED alerts among them (the navigation badge). */
  open: number;
  /** Bumped on every live alert (budgets refetch on it). */
  version: number;
  /** Bumped after the live connection comes back: everything shown is queried again. */
  resync: number;
  /** Epoch ms each id was last received (pushed or a mutation's answer); a query sent before that cannot drop it. */
  pushedAt: Record<string, number>;
  setTenant(tenant: string | null): void;
  bumpResync(): void;
  /** A live push (`live`) or a mutation's answer. Ignored when it is another tenant's. */
  receive(alert: Alert, live?: boolean): void;
  /** Takes a query answer for `state`, sent at `sentAt` (epoch ms). */
  reconcile(tenant: string, answer: Alert[], state: AlertState | null, sentAt: number): void;
}

export const initialAlertState: Pick<AlertStoreState, 'tenant' | 'alerts' | 'open' | 'version' | 'resync' | 'pushedAt'> = { tenant: null, alerts: [], open: 0, version: 0, resync: 0, pushedAt: {} };

export const useAlertStore = create<AlertStoreState>((set) => ({
  ...initialAlertState,
  setTenant: (tenant) => set((s) => (s.tenant === tenant ? s : { tenant, alerts: [], open: 0, pushedAt: {} })),
  bumpResync: () => set((s) => ({ resync: s.resync + 1 })),
  receive: (alert, live = true) =>
    set((s) => {
      if (alert.tenant !== s.tenant) return s;
      const alerts = mergeAlert(s.alerts, alert);
      return {
        alerts,
        open: openCount(alerts),
        version: live ? s.version + 1 : s.version,
        pushedAt: { ...s.pushedAt, [alert.id]: Date.now() },
      };
    }),
  reconcile: (tenant, answer, state, sentAt) =>
    set((s) => {
      if (tenant !== s.tenant) return s;
      const keep = new Set(Object.keys(s.pushedAt).filter((id) => s.pushedAt[id] >= sentAt));
      const alerts = reconcileAlerts(s.alerts, answer, state, keep, ALERT_LIMIT);
      return { alerts, open: openCount(alerts) };
    }),
}));
