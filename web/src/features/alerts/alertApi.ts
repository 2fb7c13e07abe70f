import { gql } from '../../shared/api/graphql';
import { ACKNOWLEDGE_ALERT, ALERTS, RESOLVE_ALERT } from '../../shared/api/queries';
import type { Alert, AlertState } from '../../shared/api/types';
import { ALERT_LIMIT, useAlertStore } from './alertStore';

export const fetchAlerts = (tenant: string, state: AlertState | null, signal?: AbortSignal) =>
  gql<{ alerts: Alert[] }>(ALERTS, { tenant, state, limit: ALERT_LIMIT }, signal).then((d) => d.alerts);

/** Queries the alerts in `state` and reconciles them into the store. */
export async function loadAlerts(tenant: string, state: AlertState | null, signal?: AbortSignal): Promise<void> {
  const sentAt = Date.now();
  const answer = await fetchAlerts(tenant, state, signal);
  useAlertStore.getState().reconcile(tenant, answer, state, sentAt);
}

export type AlertAction = 'acknowledge' | 'resolve';

/** Acknowledges or resolves an alert; the answer (its new state) goes into the store right away. */
export async function transitionAlert(tenant: string, id: string, action: AlertAction): Promise<Alert> {
  const alert =
    action === 'acknowledge'
      ? (await gql<{ acknowledgeAlert: Alert }>(ACKNOWLEDGE_ALERT, { tenant, id })).acknowledgeAlert
      : (await gql<{ resolveAlert: Alert }>(RESOLVE_ALERT, { tenant, id })).resolveAlert;
  useAlertStore.getState().receive(alert, false);
  return alert;
}
