import { useEffect, useRef, useState } from 'react';
import type { Budget, BudgetStatus } from '../../shared/api/types';
import { ReadOnlyHint, useCanEdit } from '../../shared/auth/ReadOnlyHint';
import { Empty, ErrorState, Skeleton, StaleNote } from '../../shared/components/States';
import { useCachedQuery } from '../../shared/hooks/useCachedQuery';
import { formatMoney } from '../../shared/lib/decimal';
import { useUiStore } from '../../shared/store/uiStore';
import { BudgetBar } from './BudgetBar';
import { BudgetFormView } from './BudgetFormView';
import { deleteBudget, fetchBudgets } from './budgetApi';
import { elapsedPercent, formatWindow } from './budgetMath';
import './budgets.css';

const STATUS_TEXT: Record<BudgetStatus, string> = { ON_TRACK: 'On track', AT_RISK: 'At risk', EXCEEDED: 'Exceeded' };

function scopeText(b: Budget): string {
  const parts = [b.scope.category, b.scope.provider, b.scope.service].filter(Boolean) as string[];
  parts.push(...b.scope.labels.map((l) => `${l.key}=${l.value}`));
  return parts.length ? parts.join(' · ') : 'whole tenant';
}

/** `onEdit`/`onDelete` are absent for a read-only role: the row then has no Edit / Delete. */
function BudgetRow({ b, onEdit, onDelete }: { b: Budget; onEdit?: () => void; onDelete?: () => Promise<void> }) {
  const [confirm, setConfirm] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const cur = b.amount.currency;
  const remove = () => onDelete?.().catch((e: Error) => setError(e.message));
  return (
    <li className="budget-row" data-testid="budget-row" data-budget-id={b.id} data-status={b.status}>
      <div className="budget-head">
        <strong className="budget-name">{b.name}</strong>
        <span className={`badge status-${b.status.toLowerCase()}`} data-testid="budget-status" data-status={b.status}>
          {STATUS_TEXT[b.status]}
        </span>
        <span className="muted small" data-testid="budget-window" data-start={b.periodStart} data-end={b.periodEnd}>
          {b.period.toLowerCase()} · {formatWindow(b.periodStart, b.periodEnd)} · {Math.round(elapsedPercent(b.periodStart, b.periodEnd))}% elapsed
        </span>
        <span className="budget-actions">
          {!onEdit || !onDelete ? null : confirm ? (
            <>
              <span className="small">Delete “{b.name}”?</span>
              <button type="button" className="danger" data-testid="budget-delete-confirm" onClick={remove}>
                Delete
              </button>
              <button type="button" onClick={() => setConfirm(false)}>
                Keep
              </button>
            </>
          ) : (
            <>
              <button type="button" data-testid="budget-edit" onClick={onEdit}>
                Edit
              </button>
              <button type="button" data-testid="budget-delete" onClick={() => setConfirm(true)}>
                Delete
              </button>
            </>
          )}
        </span>
      </div>
      <BudgetBar budget={b} />
      <div className="budget-figures">
        <span>
          <span className="num strong" data-testid="budget-spent" data-amount={b.spent.amount} data-currency={b.spent.currency} title={`${b.spent.amount} ${b.spent.currency}`}>
            {formatMoney(b.spent.amount, b.spent.currency)}
          </span>{' '}
          of{' '}
          <span className="num" data-testid="budget-limit" data-amount={b.amount.amount} title={`${b.amount.amount} ${cur}`}>
            {formatMoney(b.amount.amount, cur)}
          </span>{' '}
          <span className="muted">({b.percentSpent}%)</span>
        </span>
        <span className="muted small exact">
          exactly {formatMoney(b.spent.amount, b.spent.currency, true)} of {formatMoney(b.amount.amount, cur, true)}
        </span>
        <span className="small" data-testid="budget-forecast-text" data-amount={b.forecast.amount}>
          Forecast {formatMoney(b.forecast.amount, b.forecast.currency)}{' '}
          <span className="muted">
            (80%: {formatMoney(b.forecastLow.amount, cur)} – {formatMoney(b.forecastHigh.amount, cur)})
          </span>
        </span>
        {b.depletionDate && (
          <span className="small depletion" data-testid="budget-depletion" data-at={b.depletionDate}>
            Runs out {b.depletionDate.slice(0, 10)}
          </span>
        )}
        <span className="muted small">
          Scope: {scopeText(b)}
          {b.owner ? ` · owner ${b.owner}` : ''}
        </span>
      </div>
      {error && (
        <p className="field-error" role="alert">
          Delete failed: {error}
        </p>
      )}
    </li>
  );
}

/**
 * The tenant's budgets, each as a budget-vs-actual bar with threshold and forecast markers, plus
 * the create/edit form. Refetches after every change, on live cost updates and when an alert
 * arrives (`alertVersion` changes).
 */
export function BudgetTracker({ alertVersion = 0 }: { alertVersion?: number }) {
  const tenant = useUiStore((s) => s.tenant);
  const currency = useUiStore((s) => s.currency);
  const q = useCachedQuery(tenant ? JSON.stringify(['budgets', tenant]) : null, () => fetchBudgets(tenant!));
  const [editing, setEditing] = useState<Budget | 'new' | null>(null);
  const editable = useCanEdit();
  const retry = useRef(q.retry);
  retry.current = q.retry;

  useEffect(() => {
    if (alertVersion) retry.current();
  }, [alertVersion]);
  useEffect(() => setEditing(null), [tenant]);

  let body: React.ReactNode;
  if (!tenant) body = <Empty>Select a tenant.</Empty>;
  else if (q.error && !q.data) body = <ErrorState message={q.error} onRetry={q.retry} />;
  else if (!q.data) body = <Skeleton lines={4} />;
  else if (!q.data.length) body = <Empty>No budgets yet. Create one to track spend against a limit.</Empty>;
  else
    body = (
      <ul className="budgets" aria-label="Budgets">
        {q.data.map((b) => (
          <BudgetRow
            key={b.id}
            b={b}
            onEdit={editable ? () => setEditing(b) : undefined}
            onDelete={
              editable
                ? async () => {
                    await deleteBudget(tenant, b.id);
                    if (editing !== 'new' && editing?.id === b.id) setEditing(null);
                    q.retry();
                  }
                : undefined
            }
          />
        ))}
      </ul>
    );

  return (
    <section className="panel budget-tracker" data-testid="budget-tracker">
      <div className="toolbar">
        <h2>Budgets</h2>
        <ReadOnlyHint />
        {tenant && !editing && editable && (
          <button type="button" data-testid="budget-new" onClick={() => setEditing('new')}>
            + New budget
          </button>
        )}
      </div>
      {q.staleAt !== null && <StaleNote at={q.staleAt} onRetry={q.retry} />}
      {tenant && editing && editable && (
        <BudgetFormView
          key={editing === 'new' ? 'new' : editing.id}
          tenant={tenant}
          budget={editing === 'new' ? null : editing}
          defaultCurrency={currency}
          onCancel={() => setEditing(null)}
          onSaved={() => {
            setEditing(null);
            q.retry();
          }}
        />
      )}
      {body}
    </section>
  );
}
