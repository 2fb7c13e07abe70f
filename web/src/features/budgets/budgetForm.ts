import type { Budget, BudgetInput, BudgetPeriod, Label, Threshold } from '../../shared/api/types';
import { compareDecimals, sumDecimals } from '../../shared/lib/decimal';
import { isPositiveDecimal } from './budgetMath';

/** What the create/edit form edits. Dates are `YYYY-MM-DD` (midnight UTC); empty strings mean "not set". */
export interface BudgetForm {
  name: string;
  amount: string;
  currency: string;
  period: BudgetPeriod;
  customStart: string;
  customEnd: string;
  category: string;
  provider: string;
  service: string;
  owner: string;
  thresholds: Threshold[];
  labels: Label[];
  /** Amounts are decimal strings in the budget's currency. */
  allocations: AllocationRow[];
}

export interface AllocationRow {
  category: string;
  amount: string;
}

/** Cost categories an allocation can name (the API's category strings). */
export const CATEGORIES = ['api', 'hosting', 'database', 'third_party', 'other'];

export type FieldKey = 'name' | 'amount' | 'currency' | 'period' | 'customStart' | 'customEnd' | 'scope' | 'thresholds' | 'owner' | 'allocations' | 'form';
export type FieldErrors = Partial<Record<FieldKey, string>>;

export const FIELD_LABELS: Record<FieldKey, string> = {
  name: 'Name',
  amount: 'Amount',
  currency: 'Currency',
  period: 'Period',
  customStart: 'Custom start',
  customEnd: 'Custom end',
  scope: 'Scope',
  thresholds: 'Thresholds',
  owner: 'Owner',
  allocations: 'Allocations',
  form: 'Budget',
};

export const PERIODS: BudgetPeriod[] = ['MONTHLY', 'QUARTERLY', 'YEARLY', 'CUSTOM'];

/** The server's default when none are given, shown explicitly so they can be edited. */
export const DEFAULT_THRESHOLDS: Threshold[] = [
  { percent: '50', basis: 'ACTUAL' },
  { percent: '80', basis: 'ACTUAL' },
  { percent: '100', basis: 'ACTUAL' },
  { percent: '100', basis: 'FORECAST' },
];

export function emptyForm(currency = 'USD'): BudgetForm {
  return {
    name: '',
    amount: '',
    currency,
    period: 'MONTHLY',
    customStart: '',
    customEnd: '',
    category: '',
    provider: '',
    service: '',
    owner: '',
    thresholds: DEFAULT_THRESHOLDS.map((t) => ({ ...t })),
    labels: [],
    allocations: [],
  };
}

export function formFromBudget(b: Budget): BudgetForm {
  const custom = b.period === 'CUSTOM';
  return {
    name: b.name,
    amount: b.amount.amount,
    currency: b.amount.currency,
    period: b.period,
    customStart: custom ? b.periodStart.slice(0, 10) : '',
    customEnd: custom ? b.periodEnd.slice(0, 10) : '',
    category: b.scope.category ?? '',
    provider: b.scope.provider ?? '',
    service: b.scope.service ?? '',
    owner: b.owner ?? '',
    thresholds: b.thresholds.map((t) => ({ ...t })),
    labels: b.scope.labels.map((l) => ({ ...l })),
    allocations: b.allocations.map((a) => ({ category: a.category, amount: a.amount.amount })),
  };
}

const DATE = /^\d{4}-\d{2}-\d{2}$/;

/** Client-side checks; each message names its field. An empty object means the form can be sent. */
export function validateBudgetForm(f: BudgetForm): FieldErrors {
  const e: FieldErrors = {};
  if (!f.name.trim()) e.name = 'Name is required';
  else if (f.name.trim().length > 200) e.name = 'Name must be at most 200 characters';
  if (!isPositiveDecimal(f.amount)) e.amount = 'Amount must be a positive decimal number, e.g. 1500 or 1500.50';
  if (!/^[A-Z]{3}$/.test(f.currency.trim())) e.currency = 'Currency must be a 3-letter ISO 4217 code, e.g. USD';
  if (f.period === 'CUSTOM') {
    if (!DATE.test(f.customStart)) e.customStart = 'Custom start date is required for a custom period';
    if (!DATE.test(f.customEnd)) e.customEnd = 'Custom end date is required for a custom period';
    else if (DATE.test(f.customStart) && f.customStart >= f.customEnd) e.customEnd = 'Custom end must be after the custom start';
  }
  const seen = new Set<string>();
  for (const [i, t] of f.thresholds.entries()) {
    const p = t.percent.trim();
    if (!/^\d+(\.\d+)?$/.test(p) || compareDecimals(p, '1') < 0 || compareDecimals(p, '1000') > 0) {
      e.thresholds = `Threshold ${i + 1}: percent must be a number from 1 to 1000`;
      break;
    }
    const key = `${p.replace(/(\.\d*?)0+$/, '$1').replace(/\.$/, '')}/${t.basis}`;
    if (seen.has(key)) {
      e.thresholds = `Threshold ${i + 1}: ${p}% ${t.basis} is listed twice`;
      break;
    }
    seen.add(key);
  }
  const labelError = validateLabels(f.labels);
  if (labelError) e.scope = labelError;
  const allocError = allocationSummary(f.allocations, f.amount).error;
  if (allocError) e.allocations = allocError;
  return e;
}

/** First problem with the scope labels (empty or duplicate key), or null. */
export function validateLabels(labels: Label[]): string | null {
  const seen = new Set<string>();
  for (const [i, l] of labels.entries()) {
    const key = l.key.trim();
    if (!key) return `Label ${i + 1}: key is required`;
    if (seen.has(key)) return `Label ${i + 1}: key "${key}" is listed twice`;
    seen.add(key);
  }
  return null;
}

/** Exact sum of the allocations and the first problem with them (bad amount, duplicate category, sum ≠ amount). */
export function allocationSummary(rows: AllocationRow[], amount: string): { allocated: string; error: string | null } {
  const valid = rows.filter((r) => isPositiveDecimal(r.amount)).map((r) => r.amount.trim());
  const allocated = sumDecimals(valid);
  const seen = new Set<string>();
  for (const [i, r] of rows.entries()) {
    if (!CATEGORIES.includes(r.category)) return { allocated, error: `Allocation ${i + 1}: choose a category` };
    if (!isPositiveDecimal(r.amount)) return { allocated, error: `Allocation ${i + 1}: amount must be a positive decimal number` };
    if (seen.has(r.category)) return { allocated, error: `Allocation ${i + 1}: category ${r.category} is listed twice` };
    seen.add(r.category);
  }
  if (rows.length && isPositiveDecimal(amount) && compareDecimals(allocated, amount.trim()) !== 0)
    return { allocated, error: `Allocations add up to ${allocated}, not the amount ${amount.trim()}` };
  return { allocated, error: null };
}

const orNull = (s: string) => (s.trim() ? s.trim() : null);

/** The mutation input for a valid form. */
export function toBudgetInput(f: BudgetForm): BudgetInput {
  const custom = f.period === 'CUSTOM';
  const scope = { category: orNull(f.category), provider: orNull(f.provider), service: orNull(f.service), labels: f.labels.map((l) => ({ key: l.key.trim(), value: l.value })) };
  return {
    name: f.name.trim(),
    amount: f.amount.trim(),
    currency: f.currency.trim(),
    period: f.period,
    customStart: custom ? `${f.customStart}T00:00:00Z` : null,
    customEnd: custom ? `${f.customEnd}T00:00:00Z` : null,
    scope,
    thresholds: f.thresholds.map((t) => ({ percent: t.percent.trim(), basis: t.basis })),
    allocations: f.allocations.length ? f.allocations.map((a) => ({ category: a.category, amount: a.amount.trim() })) : null,
    owner: orNull(f.owner),
  };
}

/** The form field for a server error's `extensions.field` ("input.amount", "input.thresholds[1].percent", "input.scope.category"). */
export function fieldFromPath(path: string | undefined | null): FieldKey {
  if (!path) return 'form';
  const head = path.replace(/^input\./, '').split(/[.[]/)[0];
  return head in FIELD_LABELS ? (head as FieldKey) : 'form';
}
