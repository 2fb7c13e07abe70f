import type { ReactNode } from 'react';
import type { Label } from '../../shared/api/types';
import { allocationSummary, CATEGORIES, type AllocationRow } from './budgetForm';

type A11y = { 'aria-invalid'?: true; 'aria-describedby'?: string };

/** Key/value rows for a budget's scope labels. */
export function LabelsEditor({ labels, onChange, a11y }: { labels: Label[]; onChange: (labels: Label[]) => void; a11y: A11y }) {
  const setRow = (i: number, patch: Partial<Label>) => onChange(labels.map((l, j) => (j === i ? { ...l, ...patch } : l)));
  return (
    <div data-testid="budget-labels">
      {labels.map((l, i) => (
        <div className="inline label-row" key={i}>
          <input aria-label={`Label ${i + 1} key`} value={l.key} onChange={(e) => setRow(i, { key: e.target.value })} {...a11y} />
          <input aria-label={`Label ${i + 1} value`} value={l.value} onChange={(e) => setRow(i, { value: e.target.value })} />
          <button type="button" aria-label={`Remove label ${i + 1}`} onClick={() => onChange(labels.filter((_, j) => j !== i))}>
            ×
          </button>
        </div>
      ))}
      <button type="button" data-testid="budget-add-label" onClick={() => onChange([...labels, { key: '', value: '' }])}>
        + Label
      </button>
    </div>
  );
}

/** Category/amount rows; the live line shows the exact allocated sum against the budget amount. */
export function AllocationsEditor({
  rows,
  amount,
  currency,
  onChange,
  a11y,
  error,
}: {
  rows: AllocationRow[];
  amount: string;
  currency: string;
  onChange: (rows: AllocationRow[]) => void;
  a11y: A11y;
  error: ReactNode;
}) {
  const setRow = (i: number, patch: Partial<AllocationRow>) => onChange(rows.map((r, j) => (j === i ? { ...r, ...patch } : r)));
  const { allocated, error: problem } = allocationSummary(rows, amount);
  const free = CATEGORIES.find((c) => !rows.some((r) => r.category === c)) ?? CATEGORIES[0];
  return (
    <fieldset className="wide-field" data-testid="budget-allocations">
      <legend>Allocations (optional; must add up exactly to the amount)</legend>
      {rows.map((r, i) => (
        <div className="inline allocation-row" key={i}>
          <select aria-label={`Allocation ${i + 1} category`} value={r.category} onChange={(e) => setRow(i, { category: e.target.value })} {...a11y}>
            {CATEGORIES.map((c) => (
              <option key={c} value={c}>
                {c}
              </option>
            ))}
          </select>
          <input
            aria-label={`Allocation ${i + 1} amount`}
            inputMode="decimal"
            value={r.amount}
            onChange={(e) => setRow(i, { amount: e.target.value })}
            {...a11y}
          />
          <button type="button" aria-label={`Remove allocation ${i + 1}`} onClick={() => onChange(rows.filter((_, j) => j !== i))}>
            ×
          </button>
        </div>
      ))}
      <button type="button" data-testid="budget-add-allocation" onClick={() => onChange([...rows, { category: free, amount: '' }])}>
        + Allocation
      </button>
      {rows.length > 0 && (
        <p className={problem ? 'field-error small' : 'muted small'} data-testid="budget-allocated" data-ok={!problem}>
          Allocated {allocated} of {amount.trim() || '?'} {currency}
          {problem ? ` — ${problem}` : ''}
        </p>
      )}
      {error}
    </fieldset>
  );
}
