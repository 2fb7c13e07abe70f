import type { Budget } from '../../shared/api/types';
import { formatMoney } from '../../shared/lib/decimal';
import { barGeometry } from './budgetMath';

const pct = (n: number) => `${n.toFixed(3)}%`;

/**
 * Budget vs actual on one horizontal bar: the spent fill, a tick at the budget amount, one marker per
 * threshold (forecast thresholds hollow), and the forecast at period end with its 80% interval as
 * a shaded band and a dotted projection from today's spend to it.
 */
export function BudgetBar({ budget }: { budget: Budget }) {
  const g = barGeometry(budget);
  const cur = budget.amount.currency;
  const money = (a: string) => formatMoney(a, cur);
  const forecastText = `forecast ${money(budget.forecast.amount)} at period end (80%: ${money(budget.forecastLow.amount)} – ${money(budget.forecastHigh.amount)})`;
  return (
    <div>
      <div
        className="budget-bar"
        role="img"
        aria-label={`${budget.percentSpent}% of ${money(budget.amount.amount)} spent; ${forecastText}`}
        data-testid="budget-bar"
        data-scale={g.scale}
      >
        <div className="bb-band" style={{ left: pct(g.bandLow), width: pct(Math.max(0, g.bandHigh - g.bandLow)) }} title={`80% interval: ${forecastText}`} />
        <div className={`bb-spent ${budget.status.toLowerCase()}`} data-testid="budget-bar-spent" style={{ width: pct(g.spentPos) }} />
        {g.forecastPos > g.spentPos && (
          <div className="bb-projection" style={{ left: pct(g.spentPos), width: pct(g.forecastPos - g.spentPos) }} aria-hidden />
        )}
        <div className="bb-forecast" data-testid="budget-forecast" data-amount={budget.forecast.amount} style={{ left: pct(g.forecastPos) }} title={forecastText} />
        <div className="bb-amount" style={{ left: pct(g.amountPos) }} title={`budget ${formatMoney(budget.amount.amount, cur, true)}`} />
        {g.marks.map(
          (m) =>
            m.pos !== null && (
              <div
                key={`${m.percent}/${m.basis}`}
                className={`bb-mark ${m.basis.toLowerCase()}${m.crossed ? ' crossed' : ''}`}
                data-testid="budget-threshold"
                data-percent={m.percent}
                data-basis={m.basis}
                data-crossed={m.crossed}
                data-at={m.at}
                style={{ left: pct(m.pos) }}
                title={`${m.percent}% ${m.basis === 'FORECAST' ? 'forecast' : 'actual'} threshold at ${formatMoney(m.at, cur, true)}${m.crossed ? ' — crossed' : ''}`}
              />
            ),
        )}
      </div>
      <ul className="bb-legend small muted" aria-label="Thresholds">
        {g.marks.map((m) => (
          <li key={`${m.percent}/${m.basis}`} className={`${m.basis.toLowerCase()}${m.crossed ? ' crossed' : ''}`}>
            <span className="bb-key" aria-hidden /> {m.percent}% {m.basis === 'FORECAST' ? 'forecast' : 'actual'}
            {m.crossed ? ' (crossed)' : ''}
            {m.pos === null ? ` (${money(m.at)}, beyond the bar)` : ''}
          </li>
        ))}
      </ul>
    </div>
  );
}
