import type { CategoryCost, Money, Trend } from '../../shared/api/types';
import { ErrorState, Skeleton, Empty, StaleNote } from '../../shared/components/States';
import { formatMoney, isNegative } from '../../shared/lib/decimal';
import { useCostStore } from '../../shared/store/costStore';
import { AnomalyBadge } from './AnomalyBadge';
import { BudgetUtilization } from './BudgetUtilization';

const ARROW: Record<Trend, string> = { UP: '▲', DOWN: '▼', FLAT: '▬' };

function Stat({ label, money, testId, children }: { label: string; money?: Money; testId?: string; children?: React.ReactNode }) {
  return (
    <div className="stat">
      <div className="stat-label">{label}</div>
      {money && (
        <div className="stat-value" title={`${money.amount} ${money.currency}`} data-testid={testId}>
          {formatMoney(money.amount, money.currency)}
        </div>
      )}
      {children}
    </div>
  );
}

function CategoryRow({ c }: { c: CategoryCost }) {
  const cls = c.trend === 'UP' ? 'up' : c.trend === 'DOWN' ? 'down' : 'flat';
  return (
    <li className="category-row">
      <span className="category-name">{c.category}</span>
      <span className="bar" aria-hidden>
        <span style={{ width: `${Math.min(100, Number(c.percentage ?? 0))}%` }} />
      </span>
      <span className="num">{formatMoney(c.amount.amount, c.amount.currency)}</span>
      <span className="num muted">{c.percentage ?? '—'}%</span>
      <span className={`trend ${cls}`} title={`previous ${formatMoney(c.previous.amount, c.previous.currency)}`}>
        {ARROW[c.trend]} {isNegative(c.change.amount) ? '' : '+'}
        {formatMoney(c.change.amount, c.change.currency)}
      </span>
    </li>
  );
}

export function CostOverview({ onRetry }: { onRetry: () => void }) {
  const summary = useCostStore((s) => s.currentCosts);
  const loading = useCostStore((s) => s.loading.summary);
  const error = useCostStore((s) => s.error.summary);
  const stale = useCostStore((s) => s.stale.summary);

  if (error && !summary) return <ErrorState message={error} onRetry={onRetry} />;
  if (!summary) return loading ? <Skeleton lines={4} /> : <Empty>Select a tenant.</Empty>;

  const { total, changePercent } = summary;
  const changeCls = changePercent === null ? 'flat' : changePercent.startsWith('-') ? 'down' : 'up';
  return (
    <div className="overview">
      {error && <ErrorState message={error} onRetry={onRetry} />}
      {stale !== null && <StaleNote at={stale} onRetry={onRetry} />}
      <div className="stats">
        <div className="stat total">
          <div className="stat-label">Total for the period</div>
          <div
            className="stat-value big"
            data-testid="total-amount"
            data-amount={total.amount}
            data-currency={total.currency}
            data-from={summary.range.from}
            data-to={summary.range.to}
            title={`${total.amount} ${total.currency}`}
          >
            {formatMoney(total.amount, total.currency)}
          </div>
          <AnomalyBadge />
          <div className="muted small exact" data-testid="total-exact">
            exactly {formatMoney(total.amount, total.currency, true)} · {String(summary.events)} events
          </div>
          {/* A summary cached offline by an older version has no split. */}
          {summary.billed && summary.estimated && (
            <div className="muted small" data-testid="billed-split" title="Billing data replaces the rate-card estimate of its provider, service and day">
              billed {formatMoney(summary.billed.amount, summary.billed.currency)} · estimated{' '}
              {formatMoney(summary.estimated.amount, summary.estimated.currency)}
              {summary.replacedEstimate && summary.replacedEstimate.amount !== '0' &&
                ` · ${formatMoney(summary.replacedEstimate.amount, summary.replacedEstimate.currency)} of estimates replaced by the bill`}
            </div>
          )}
        </div>
        <Stat label="Daily average" money={summary.dailyAverage} testId="daily-average" />
        <Stat label="Change vs previous period" testId="change">
          <div className={`stat-value trend ${changeCls}`} data-testid="change-percent">
            {changePercent === null ? 'n/a' : `${changePercent.startsWith('-') ? '' : '+'}${changePercent}%`}
          </div>
          <div className="muted small">
            previous {formatMoney(summary.previousPeriodTotal.amount, summary.previousPeriodTotal.currency)}
          </div>
        </Stat>
        <Stat label="Projected month-end" money={summary.projectedMonthEnd} testId="projected" />
        <BudgetUtilization />
      </div>
      {summary.categories.length ? (
        <ul className="categories" aria-label="Cost per category">
          {summary.categories.map((c) => (
            <CategoryRow key={c.category} c={c} />
          ))}
        </ul>
      ) : (
        <Empty>No costs in this period.</Empty>
      )}
    </div>
  );
}
