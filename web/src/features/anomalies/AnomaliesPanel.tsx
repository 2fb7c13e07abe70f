import { useState } from 'react';
import type { Anomaly } from '../../shared/api/types';
import { ReadOnlyHint, useCanEdit } from '../../shared/auth/ReadOnlyHint';
import { Empty, ErrorState, Skeleton } from '../../shared/components/States';
import { markAnomaly } from '../../shared/hooks/useAnomalyFeed';
import { formatMoney } from '../../shared/lib/decimal';
import { useAnomalyStore } from '../../shared/store/anomalyStore';
import { useUiStore } from '../../shared/store/uiStore';
import { feedbackText, formatWindow, kindLabel, seriesLabel, topCauses } from './anomalyFormat';
import './anomalies.css';

function AnomalyRow({ a, tenant }: { a: Anomaly; tenant: string }) {
  const [busy, setBusy] = useState<boolean | null>(null);
  const [error, setError] = useState<string | null>(null);
  // Read-only roles still see the recorded feedback (the pressed state), but cannot change it.
  const editable = useCanEdit();
  const mark = (expected: boolean) => {
    setBusy(expected);
    setError(null);
    markAnomaly(tenant, a.id, expected)
      .catch((e: Error) => setError(`Saving feedback failed: ${e.message}`))
      .finally(() => setBusy(null));
  };
  const sev = a.severity.toLowerCase();
  return (
    <li className={`anomaly-row sev-${sev}`} data-testid="anomaly-row" data-anomaly-id={a.id}>
      <div className="anomaly-head">
        <span className={`badge sev-${sev}`} data-testid="anomaly-severity" data-severity={a.severity}>
          {a.severity.charAt(0) + a.severity.slice(1).toLowerCase()}
        </span>
        <strong>{kindLabel(a.kind)}</strong>
        <span className="anomaly-series">{seriesLabel(a.series)}</span>
        <time className="muted small anomaly-window" dateTime={a.windowStart}>
          {formatWindow(a.windowStart, a.windowEnd)}
        </time>
      </div>
      <div className="anomaly-amounts" data-testid="anomaly-amounts">
        expected {formatMoney(a.expected.amount, a.expected.currency)} → actual{' '}
        <strong>{formatMoney(a.actual.amount, a.actual.currency)}</strong>
      </div>
      {a.rootCause.length > 0 && (
        <div className="anomaly-causes small" data-testid="anomaly-causes">
          Root cause:{' '}
          {topCauses(a).map((c, i) => (
            <span key={i} className="anomaly-cause">
              {c.name} <span className="muted">{c.share}</span>
            </span>
          ))}
        </div>
      )}
      <div className="anomaly-actions">
        <button type="button" data-testid="anomaly-expected" aria-pressed={a.feedback?.expected === true} disabled={busy !== null || !editable} onClick={() => mark(true)}>
          {busy === true ? 'Saving…' : 'Expected'}
        </button>
        <button type="button" data-testid="anomaly-unexpected" aria-pressed={a.feedback?.expected === false} disabled={busy !== null || !editable} onClick={() => mark(false)}>
          {busy === false ? 'Saving…' : 'Not expected'}
        </button>
        {a.feedback && (
          <span className="muted small" data-testid="anomaly-feedback" data-expected={String(a.feedback.expected)}>
            {feedbackText(a.feedback)}
          </span>
        )}
      </div>
      {error && (
        <p className="field-error" role="alert">
          {error}
        </p>
      )}
    </li>
  );
}

/** The anomalies of the selected range (plus live ones), newest first, with expected / not expected feedback. */
export function AnomaliesPanel() {
  const tenant = useUiStore((s) => s.tenant);
  const { tenant: storeTenant, anomalies, error, loaded, bumpResync } = useAnomalyStore();
  const shown = storeTenant === tenant ? anomalies : [];

  let body: React.ReactNode;
  if (!tenant) body = <Empty>Select a tenant.</Empty>;
  else if (error && !shown.length) body = <ErrorState message={error} onRetry={bumpResync} />;
  else if (!loaded && !shown.length) body = <Skeleton lines={3} />;
  else if (!shown.length) body = <Empty>No anomalies in this period.</Empty>;
  else
    body = (
      <ul className="anomalies" aria-label="Anomalies">
        {shown.map((a) => (
          <AnomalyRow key={a.id} a={a} tenant={tenant} />
        ))}
      </ul>
    );

  return (
    <section className="panel anomalies-panel" data-testid="anomalies-panel">
      <div className="toolbar">
        <h2>Anomalies</h2>
        <ReadOnlyHint />
        <span className="muted small">{shown.length ? `${shown.length} in this period` : ''}</span>
      </div>
      {error && shown.length > 0 && <ErrorState message={error} onRetry={bumpResync} />}
      {body}
    </section>
  );
}
