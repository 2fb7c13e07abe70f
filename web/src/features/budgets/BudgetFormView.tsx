import { useId, useState } from 'react';
import type { Budget, BudgetRecommendation, ThresholdBasis } from '../../shared/api/types';
import { formatMoney } from '../../shared/lib/decimal';
import { FieldError, recommendBudget, saveBudget } from './budgetApi';
import { AllocationsEditor, LabelsEditor } from './ListEditors';
import {
  emptyForm,
  FIELD_LABELS,
  fieldFromPath,
  formFromBudget,
  PERIODS,
  toBudgetInput,
  validateBudgetForm,
  type BudgetForm,
  type FieldErrors,
  type FieldKey,
} from './budgetForm';

const CURRENCIES = ['USD', 'EUR', 'GBP'];
type Text = Exclude<keyof BudgetForm, 'thresholds' | 'labels' | 'allocations' | 'period'>;
/** Scope parts share the scope's error (shown once, under the scope fieldset). */
const errKey = (k: Text): FieldKey => (k === 'category' || k === 'provider' || k === 'service' ? 'scope' : k);

/** Create (`budget` null) or edit form. Client checks run first; server errors land on the field they name. */
export function BudgetFormView({
  tenant,
  budget,
  defaultCurrency,
  onSaved,
  onCancel,
}: {
  tenant: string;
  budget: Budget | null;
  defaultCurrency: string;
  onSaved: (b: Budget) => void;
  onCancel: () => void;
}) {
  const uid = useId();
  const [f, setF] = useState<BudgetForm>(() => (budget ? formFromBudget(budget) : emptyForm(defaultCurrency)));
  const [errors, setErrors] = useState<FieldErrors>({});
  const [saving, setSaving] = useState(false);
  const [rec, setRec] = useState<BudgetRecommendation | null>(null);
  const [recError, setRecError] = useState<string | null>(null);
  const set = (patch: Partial<BudgetForm>) => setF((prev) => ({ ...prev, ...patch }));
  const currencies = CURRENCIES.includes(f.currency) ? CURRENCIES : [f.currency, ...CURRENCIES];

  const errId = (k: FieldKey) => `${uid}-${k}-error`;
  const a11y = (k: FieldKey) => (errors[k] ? { 'aria-invalid': true as const, 'aria-describedby': errId(k) } : {});
  const fieldError = (k: FieldKey) =>
    errors[k] && (
      <span className="field-error" id={errId(k)} data-testid={`budget-error-${k}`}>
        {errors[k]}
      </span>
    );
  const text = (k: Text, label: string, testId: string, extra: React.InputHTMLAttributes<HTMLInputElement> = {}) => (
    <label className="field">
      <span>{label}</span>
      <input data-testid={testId} value={f[k]} onChange={(e) => set({ [k]: e.target.value })} {...a11y(errKey(k))} {...extra} />
      {errKey(k) === k && fieldError(errKey(k))}
    </label>
  );

  async function submit(e: React.FormEvent) {
    e.preventDefault();
    const found = validateBudgetForm(f);
    setErrors(found);
    if (Object.keys(found).length) return;
    setSaving(true);
    try {
      onSaved(await saveBudget(tenant, budget?.id ?? null, toBudgetInput(f)));
    } catch (err) {
      const k = err instanceof FieldError ? fieldFromPath(err.field) : 'form';
      setErrors({ [k]: k === 'form' ? (err as Error).message : `${FIELD_LABELS[k]}: ${(err as Error).message}` });
    } finally {
      setSaving(false);
    }
  }

  async function suggest() {
    setRecError(null);
    try {
      const scope = toBudgetInput(f).scope ?? {};
      const r = await recommendBudget(tenant, f.period, f.currency, scope);
      setRec(r);
      set({ amount: r.amount.amount, currency: r.amount.currency });
    } catch (err) {
      setRecError((err as Error).message);
    }
  }

  const setThreshold = (i: number, patch: Partial<{ percent: string; basis: ThresholdBasis }>) =>
    set({ thresholds: f.thresholds.map((t, j) => (j === i ? { ...t, ...patch } : t)) });
  const messages = Object.values(errors);

  return (
    <form className="budget-form" data-testid="budget-form" onSubmit={submit} noValidate aria-label={budget ? `Edit ${budget.name}` : 'New budget'}>
      {text('name', 'Name', 'budget-name', { maxLength: 200 })}
      <div className="field">
        <label htmlFor={`${uid}-amount`}>Amount</label>
        <div className="inline">
          <input
            id={`${uid}-amount`}
            data-testid="budget-amount"
            inputMode="decimal"
            placeholder="1500.00"
            value={f.amount}
            onChange={(e) => set({ amount: e.target.value })}
            {...a11y('amount')}
          />
          <button type="button" data-testid="budget-suggest" onClick={suggest} title="Suggest an amount from past spend">
            Suggest
          </button>
        </div>
        {fieldError('amount')}
      </div>
      <label className="field">
        <span>Currency</span>
        <select data-testid="budget-currency" value={f.currency} onChange={(e) => set({ currency: e.target.value })} {...a11y('currency')}>
          {currencies.map((c) => (
            <option key={c}>{c}</option>
          ))}
        </select>
        {fieldError('currency')}
      </label>
      <label className="field">
        <span>Period</span>
        <select data-testid="budget-period" value={f.period} onChange={(e) => set({ period: e.target.value as BudgetForm['period'] })} {...a11y('period')}>
          {PERIODS.map((p) => (
            <option key={p} value={p}>
              {p.charAt(0) + p.slice(1).toLowerCase()}
            </option>
          ))}
        </select>
        {fieldError('period')}
      </label>
      {f.period === 'CUSTOM' && (
        <>
          {text('customStart', 'Start', 'budget-start', { type: 'date' })}
          {text('customEnd', 'End (exclusive)', 'budget-end', { type: 'date' })}
        </>
      )}
      {(rec || recError) && (
        <div className="budget-rec wide-field" data-testid="budget-recommendation" role="status">
          {recError ? (
            <span className="field-error">Suggestion failed: {recError}</span>
          ) : (
            rec && (
              <>
                <strong>Suggested {formatMoney(rec.amount.amount, rec.amount.currency)}</strong>{' '}
                <span className="muted small">(from {rec.basedOnPeriods} past periods)</span>
                <ul data-testid="budget-reasoning">
                  {rec.reasoning.map((r, i) => (
                    <li key={i}>{r}</li>
                  ))}
                </ul>
              </>
            )
          )}
        </div>
      )}
      <fieldset className="wide-field">
        <legend>Scope (empty = whole tenant)</legend>
        <div className="inline">
          {text('category', 'Category', 'budget-category')}
          {text('provider', 'Provider', 'budget-provider')}
          {text('service', 'Service', 'budget-service')}
        </div>
        <LabelsEditor labels={f.labels} onChange={(labels) => set({ labels })} a11y={a11y('scope')} />
        {fieldError('scope')}
      </fieldset>
      <fieldset className="wide-field" data-testid="budget-thresholds">
        <legend>Thresholds (% of amount)</legend>
        {f.thresholds.map((t, i) => (
          <div className="inline threshold-row" key={i}>
            <input
              aria-label={`Threshold ${i + 1} percent`}
              inputMode="decimal"
              value={t.percent}
              onChange={(e) => setThreshold(i, { percent: e.target.value })}
              {...a11y('thresholds')}
            />
            <select aria-label={`Threshold ${i + 1} basis`} value={t.basis} onChange={(e) => setThreshold(i, { basis: e.target.value as ThresholdBasis })}>
              <option value="ACTUAL">actual</option>
              <option value="FORECAST">forecast</option>
            </select>
            <button type="button" aria-label={`Remove threshold ${i + 1}`} onClick={() => set({ thresholds: f.thresholds.filter((_, j) => j !== i) })}>
              ×
            </button>
          </div>
        ))}
        <button type="button" onClick={() => set({ thresholds: [...f.thresholds, { percent: '', basis: 'ACTUAL' }] })}>
          + Threshold
        </button>
        {fieldError('thresholds')}
      </fieldset>
      {text('owner', 'Owner', 'budget-owner', { placeholder: 'team or e-mail' })}
      <AllocationsEditor
        rows={f.allocations}
        amount={f.amount}
        currency={f.currency}
        onChange={(allocations) => set({ allocations })}
        a11y={a11y('allocations')}
        error={fieldError('allocations')}
      />
      {messages.length > 0 && (
        <div className="error wide-field" role="alert" data-testid="budget-error">
          <ul>
            {messages.map((m) => (
              <li key={m}>{m}</li>
            ))}
          </ul>
        </div>
      )}
      <div className="inline wide-field">
        <button type="submit" data-testid="budget-save" disabled={saving}>
          {saving ? 'Saving…' : budget ? 'Save changes' : 'Create budget'}
        </button>
        <button type="button" onClick={onCancel}>
          Cancel
        </button>
      </div>
    </form>
  );
}
