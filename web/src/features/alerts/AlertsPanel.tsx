import { useEffect, useState } from 'react';
import type { Alert, AlertSeverity, AlertState } from '../../shared/api/types';
import { ReadOnlyHint, useCanEdit } from '../../shared/auth/ReadOnlyHint';
import { Empty, ErrorState, Skeleton } from '../../shared/components/States';
import { formatMoney } from '../../shared/lib/decimal';
import { useUiStore } from '../../shared/store/uiStore';
import { loadAlerts, transitionAlert, type AlertAction } from './alertApi';
import { filterAlerts, formatTime } from './alertList';
import { useAlertStore } from './alertStore';
import './alerts.css';

const FILTERS: { state: AlertState | null; label: string }[] = [
  { state: null, label: 'All' },
  { state: 'TRIGGERED', label: 'Open' },
  { state: 'ACKNOWLEDGED', label: 'Acknowledged' },
  { state: 'RESOLVED', label: 'Resolved' },
];
const SEVERITY: Record<AlertSeverity, string> = { INFO: 'Info', WARNING: 'Warning', CRITICAL: 'Critical' };
const STATE: Record<AlertState, string> = { TRIGGERED: 'Open', ACKNOWLEDGED: 'Acknowledged', RESOLVED: 'Resolved' };

function AlertRow({ a, tenant }: { a: Alert; tenant: string }) {
  const [busy, setBusy] = useState<AlertAction | null>(null);
  const [error, setError] = useState<string | null>(null);
  const editable = useCanEdit();
  const act = (action: AlertAction) => {
    setBusy(action);
    setError(null);
    transitionAlert(tenant, a.id, action)
      .catch((e: Error) => setError(`${action === 'acknowledge' ? 'Acknowledge' : 'Resolve'} failed: ${e.message}`))
      .finally(() => setBusy(null));
  };
  return (
    <li className={`alert-row sev-${a.severity.toLowerCase()}`} data-testid="alert-row" data-alert-id={a.id} data-state={a.state}>
      <div className="alert-head">
        <span className={`badge sev-${a.severity.toLowerCase()}`} data-testid="alert-severity" data-severity={a.severity}>
          {SEVERITY[a.severity]}
        </span>
        <strong className="alert-title">{a.title}</strong>
        <span className={`alert-state state-${a.state.toLowerCase()}`}>{STATE[a.state]}</span>
      </div>
      <p className="alert-message">{a.message}</p>
      <div className="alert-meta muted small">
        <time dateTime={a.triggeredAt} title={a.triggeredAt}>
          {formatTime(a.triggeredAt)}
        </time>
        <span>{a.kind.toLowerCase().replace(/_/g, ' ')}</span>
        {a.actual && (
          <span title={`${a.actual.amount} ${a.actual.currency}`}>
            actual {formatMoney(a.actual.amount, a.actual.currency)}
            {a.threshold && ` / threshold ${formatMoney(a.threshold.amount, a.threshold.currency)}`}
          </span>
        )}
        {a.owner && <span>owner {a.owner}</span>}
      </div>
      {a.history.length > 0 && (
        <details className="alert-history">
          <summary>History ({a.history.length})</summary>
          <ol>
            {a.history.map((h, i) => (
              <li key={i}>
                {STATE[h.state]} · <time dateTime={h.at}>{formatTime(h.at)}</time>
                {h.by && ` · by ${h.by}`}
                {h.note && ` · ${h.note}`}
              </li>
            ))}
          </ol>
        </details>
      )}
      {/* Acknowledging and resolving change the alert: not for read-only roles. */}
      {a.state !== 'RESOLVED' && editable && (
        <div className="alert-actions">
          {a.state === 'TRIGGERED' && (
            <button type="button" data-testid="alert-ack" disabled={busy !== null} onClick={() => act('acknowledge')}>
              {busy === 'acknowledge' ? 'Acknowledging…' : 'Acknowledge'}
            </button>
          )}
          <button type="button" data-testid="alert-resolve" disabled={busy !== null} onClick={() => act('resolve')}>
            {busy === 'resolve' ? 'Resolving…' : 'Resolve'}
          </button>
        </div>
      )}
      {error && (
        <p className="field-error" role="alert">
          {error}
        </p>
      )}
    </li>
  );
}

/**
 * The tenant's alerts, newest first, filtered by state. Live transitions (from `useAlertFeed`)
 * land in the list without a reload; Acknowledge / Resolve call the mutations.
 */
export function AlertsPanel() {
  const tenant = useUiStore((s) => s.tenant);
  const storeTenant = useAlertStore((s) => s.tenant);
  const alerts = useAlertStore((s) => s.alerts);
  const resync = useAlertStore((s) => s.resync);
  const [filter, setFilter] = useState<AlertState | null>(null);
  const [loaded, setLoaded] = useState<string | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [attempt, setAttempt] = useState(0);
  const key = `${tenant}/${filter}`;

  useEffect(() => {
    if (!tenant) return;
    const abort = new AbortController();
    setError(null);
    loadAlerts(tenant, filter, abort.signal)
      .then(() => setLoaded(key))
      .catch((e: Error) => {
        if (e.name !== 'AbortError') setError(e.message);
      });
    return () => abort.abort();
  }, [tenant, filter, key, resync, attempt]);

  const shown = storeTenant === tenant ? filterAlerts(alerts, filter) : [];
  let body: React.ReactNode;
  if (!tenant) body = <Empty>Select a tenant.</Empty>;
  else if (error && loaded !== key) body = <ErrorState message={error} onRetry={() => setAttempt((n) => n + 1)} />;
  else if (loaded !== key && !shown.length) body = <Skeleton lines={3} />;
  else if (!shown.length) body = <Empty>{filter ? `No ${STATE[filter].toLowerCase()} alerts.` : 'No alerts.'}</Empty>;
  else
    body = (
      <ul className="alerts" aria-label="Alerts">
        {shown.map((a) => (
          <AlertRow key={a.id} a={a} tenant={tenant} />
        ))}
      </ul>
    );

  return (
    <section className="panel alerts-panel" data-testid="alerts-panel">
      <div className="toolbar">
        <h2>Alerts</h2>
        <ReadOnlyHint />
        <div className="tabs" role="tablist" aria-label="Alert state">
          {FILTERS.map((f) => (
            <button
              key={f.label}
              type="button"
              role="tab"
              aria-selected={filter === f.state}
              data-testid={`alerts-filter-${(f.state ?? 'all').toLowerCase()}`}
              onClick={() => setFilter(f.state)}
            >
              {f.label}
            </button>
          ))}
        </div>
      </div>
      {error && loaded === key && <ErrorState message={error} onRetry={() => setAttempt((n) => n + 1)} />}
      {body}
    </section>
  );
}
