import { gql } from '../../shared/api/graphql';
import { BUDGETS } from '../../shared/api/queries';
import type { Budget } from '../../shared/api/types';
import { useCachedQuery } from '../../shared/hooks/useCachedQuery';
import { formatMoney } from '../../shared/lib/decimal';
import { useUiStore } from '../../shared/store/uiStore';
import { mostUsedBudget } from './budgetUtilization';

const fetchBudgets = (tenant: string) => gql<{ budgets: Budget[] }>(BUDGETS, { tenant }).then((d) => d.budgets);

/**
 * Budget utilization on the overview: the most used budget's percent of its limit in its current
 * period (the server's exact figure), refetched on live cost updates like every cached query.
 */
export function BudgetUtilization() {
  const tenant = useUiStore((s) => s.tenant);
  const setView = useUiStore((s) => s.setView);
  const q = useCachedQuery(tenant ? JSON.stringify(['budgets', tenant]) : null, () => fetchBudgets(tenant!));
  const budgets = q.data ?? [];
  const top = mostUsedBudget(budgets);
  return (
    <div className="stat" data-testid="budget-utilization">
      <div className="stat-label">Budget utilization</div>
      {top ? (
        <>
          <div className={`stat-value status-${top.status.toLowerCase()}`} data-testid="budget-utilization-percent" data-percent={top.percentSpent}>
            {top.percentSpent}%
          </div>
          <div className="muted small">
            {top.name}: {formatMoney(top.spent.amount, top.spent.currency)} of {formatMoney(top.amount.amount, top.amount.currency)}
            {budgets.length > 1 && ` · ${budgets.length} budgets`}
          </div>
        </>
      ) : (
        <button type="button" className="link small" onClick={() => setView('budgets')} data-testid="budget-utilization-none">
          {q.loading ? '…' : 'No budget yet'}
        </button>
      )}
    </div>
  );
}
