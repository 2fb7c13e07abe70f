import { describe, expect, it } from 'vitest';
import { allocationSummary, emptyForm, fieldFromPath, validateLabels, formFromBudget, toBudgetInput, validateBudgetForm, type BudgetForm } from './budgetForm';
import { BUDGET, m } from './fixtures';
import { barGeometry, elapsedPercent, formatWindow, isPositiveDecimal, mulDecimals, percentOf, thresholdAmount } from './budgetMath';

describe('budget decimals', () => {
  it('computes percentages exactly', () => {
    expect(percentOf('80.00', '100')).toBe('80');
    expect(percentOf('1', '3')).toBe('33.33');
    expect(percentOf('2', '3')).toBe('66.67');
    expect(percentOf('0.00000000503', '100')).toBe('0');
    expect(percentOf('150', '100')).toBe('150');
    expect(percentOf('99.995', '100', 2)).toBe('100'); // 99.995 rounds half-up
    expect(percentOf('1', '0')).toBeNull();
  });
  it('multiplies and places thresholds exactly', () => {
    expect(mulDecimals('0.1', '0.2')).toBe('0.02');
    expect(mulDecimals('-1.5', '2')).toBe('-3');
    expect(thresholdAmount('100', '80')).toBe('80');
    expect(thresholdAmount('1234.56', '12.5')).toBe('154.32');
    expect(thresholdAmount('0.3', '100')).toBe('0.3');
  });
  it('accepts only positive plain decimals as amounts', () => {
    for (const ok of ['1', '0.01', '1500.50', '007']) expect(isPositiveDecimal(ok)).toBe(true);
    for (const bad of ['0', '0.00', '-1', '1e3', '1,5', '', '.5', '5.', 'abc', ' ']) expect(isPositiveDecimal(bad)).toBe(false);
  });
});

describe('barGeometry', () => {
  it('scales to the largest of amount, spent and forecast high, and marks thresholds', () => {
    const g = barGeometry(BUDGET);
    expect(g.scale).toBe('125');
    expect(g.percent).toBe('80');
    expect(g.spentPos).toBeCloseTo(64);
    expect(g.amountPos).toBeCloseTo(80);
    expect(g.forecastPos).toBeCloseTo(96);
    expect([g.bandLow, g.bandHigh]).toEqual([88, 100]);
    expect(g.over).toBe(false);
    expect(g.marks.map((t) => [t.percent, t.basis, t.at, t.crossed])).toEqual([
      ['50', 'ACTUAL', '50', true],
      ['80', 'ACTUAL', '80', true], // "80.00" spent of 80 is crossed: exact, not float
      ['100', 'ACTUAL', '100', false],
      ['100', 'FORECAST', '100', true],
    ]);
  });
  it('leaves thresholds beyond the bar off it and clamps positions', () => {
    const g = barGeometry({ ...BUDGET, thresholds: [{ percent: '1000', basis: 'ACTUAL' }], spent: m('0.1'), forecast: m('0.2'), forecastLow: m('0'), forecastHigh: m('0.3') });
    expect(g.scale).toBe('100');
    expect(g.marks[0].pos).toBeNull();
    expect(g.marks[0].at).toBe('1000');
    const over = barGeometry({ ...BUDGET, spent: m('300.000000001') });
    expect(over.over).toBe(true);
    expect(over.spentPos).toBe(100);
  });
});

describe('period window', () => {
  it('shows an exclusive midnight end as the day before', () => {
    expect(formatWindow('2026-01-01T00:00:00Z', '2026-02-01T00:00:00Z')).toBe('2026-01-01 – 2026-01-31');
    expect(formatWindow('2026-01-01T00:00:00Z', '2026-01-15T12:00:00Z')).toBe('2026-01-01 – 2026-01-15');
  });
  it('measures elapsed time', () => {
    expect(elapsedPercent('2026-01-01T00:00:00Z', '2026-01-11T00:00:00Z', Date.parse('2026-01-06T00:00:00Z'))).toBe(50);
    expect(elapsedPercent('2026-01-01T00:00:00Z', '2026-01-11T00:00:00Z', Date.parse('2027-01-01T00:00:00Z'))).toBe(100);
  });
});

describe('budget form', () => {
  const valid: BudgetForm = { ...emptyForm('EUR'), name: 'Cloud', amount: '1500.50' };
  it('accepts a valid form and builds the input', () => {
    expect(validateBudgetForm(valid)).toEqual({});
    expect(toBudgetInput({ ...valid, category: ' hosting ', owner: '' })).toEqual({
      name: 'Cloud',
      amount: '1500.50',
      currency: 'EUR',
      period: 'MONTHLY',
      customStart: null,
      customEnd: null,
      scope: { category: 'hosting', provider: null, service: null, labels: [] },
      thresholds: [
        { percent: '50', basis: 'ACTUAL' },
        { percent: '80', basis: 'ACTUAL' },
        { percent: '100', basis: 'ACTUAL' },
        { percent: '100', basis: 'FORECAST' },
      ],
      allocations: null,
      owner: null,
    });
  });
  it('names the field in each error', () => {
    const e = validateBudgetForm({ ...valid, name: ' ', amount: '0', currency: 'eu' });
    expect(e.name).toMatch(/^Name /);
    expect(e.amount).toMatch(/^Amount must be a positive decimal/);
    expect(e.currency).toMatch(/^Currency /);
    expect(validateBudgetForm({ ...valid, amount: '-5' }).amount).toBeDefined();
    expect(validateBudgetForm({ ...valid, amount: '12,50' }).amount).toBeDefined();
  });
  it('requires start < end for a custom period', () => {
    const custom = { ...valid, period: 'CUSTOM' as const };
    expect(validateBudgetForm(custom)).toMatchObject({ customStart: expect.stringMatching(/^Custom start/), customEnd: expect.stringMatching(/^Custom end/) });
    expect(validateBudgetForm({ ...custom, customStart: '2026-02-01', customEnd: '2026-02-01' }).customEnd).toBe('Custom end must be after the custom start');
    expect(validateBudgetForm({ ...custom, customStart: '2026-02-02', customEnd: '2026-02-01' }).customEnd).toBeDefined();
    expect(validateBudgetForm({ ...custom, customStart: '2026-02-01', customEnd: '2026-03-01' })).toEqual({});
    expect(toBudgetInput({ ...custom, customStart: '2026-02-01', customEnd: '2026-03-01' })).toMatchObject({
      customStart: '2026-02-01T00:00:00Z',
      customEnd: '2026-03-01T00:00:00Z',
    });
  });
  it('keeps thresholds between 1 and 1000 percent, without repeats', () => {
    const t = (percent: string) => validateBudgetForm({ ...valid, thresholds: [{ percent: '50', basis: 'ACTUAL' }, { percent, basis: 'ACTUAL' }] }).thresholds;
    expect(t('1')).toBeUndefined();
    expect(t('1000')).toBeUndefined();
    expect(t('0.5')).toBe('Threshold 2: percent must be a number from 1 to 1000');
    expect(t('1000.01')).toBeDefined();
    expect(t('')).toBeDefined();
    expect(t('abc')).toBeDefined();
    expect(t('50.0')).toMatch(/^Threshold 2: .* listed twice/);
    expect(validateBudgetForm({ ...valid, thresholds: [] })).toEqual({});
  });
  it('maps server error paths to fields and round-trips a budget', () => {
    expect(fieldFromPath('input.amount')).toBe('amount');
    expect(fieldFromPath('input.thresholds[1].percent')).toBe('thresholds');
    expect(fieldFromPath('input.thresholds.1.percent')).toBe('thresholds');
    expect(fieldFromPath('input.scope.category')).toBe('scope');
    expect(fieldFromPath('input.customEnd')).toBe('customEnd');
    expect(fieldFromPath('tenant')).toBe('form');
    expect(fieldFromPath(null)).toBe('form');
    const f = formFromBudget(BUDGET);
    expect(f).toMatchObject({ name: 'Cloud', amount: '100', currency: 'USD', category: 'hosting', owner: 'ops', customStart: '' });
    expect(validateBudgetForm(f)).toEqual({});
  });
});

describe('labels and allocations', () => {
  const rows = (...amounts: string[]) => amounts.map((amount, i) => ({ category: ['api', 'hosting', 'database'][i], amount }));

  it('sums allocations exactly', () => {
    expect(allocationSummary(rows('33.33', '33.33', '33.34'), '100')).toEqual({ allocated: '100', error: null });
    expect(allocationSummary(rows('0.1', '0.2'), '0.3').error).toBeNull();
    const short = allocationSummary(rows('33.33', '33.33', '33.33'), '100');
    expect(short.allocated).toBe('99.99');
    expect(short.error).toBe('Allocations add up to 99.99, not the amount 100');
    expect(allocationSummary([], '100')).toEqual({ allocated: '0', error: null });
  });

  it('rejects duplicate categories and bad amounts', () => {
    expect(allocationSummary([{ category: 'api', amount: '50' }, { category: 'api', amount: '50' }], '100').error).toBe('Allocation 2: category api is listed twice');
    expect(allocationSummary([{ category: 'api', amount: 'x' }], '100').error).toBe('Allocation 1: amount must be a positive decimal number');
    expect(allocationSummary([{ category: 'misc', amount: '100' }], '100').error).toBe('Allocation 1: choose a category');
  });

  it('names empty and duplicate label keys on the scope', () => {
    expect(validateLabels([{ key: 'team', value: 'a' }])).toBeNull();
    expect(validateLabels([{ key: ' ', value: 'a' }])).toBe('Label 1: key is required');
    expect(validateLabels([{ key: 'team', value: 'a' }, { key: 'team ', value: 'b' }])).toBe('Label 2: key "team" is listed twice');
    const f: BudgetForm = { ...emptyForm(), name: 'x', amount: '100', labels: [{ key: '', value: 'v' }], allocations: rows('33.33', '33.33', '33.33') };
    const e = validateBudgetForm(f);
    expect(e.scope).toBe('Label 1: key is required');
    expect(e.allocations).toMatch(/99.99/);
  });

  it('sends edited labels and allocations', () => {
    const f = formFromBudget({ ...BUDGET, scope: { ...BUDGET.scope, labels: [{ key: 'team', value: 'core' }] }, allocations: [{ category: 'api', amount: m('100') }] });
    expect(f.allocations).toEqual([{ category: 'api', amount: '100' }]);
    const input = toBudgetInput({ ...f, labels: [...f.labels, { key: ' env ', value: 'prod' }] });
    expect(input.scope?.labels).toEqual([{ key: 'team', value: 'core' }, { key: 'env', value: 'prod' }]);
    expect(input.allocations).toEqual([{ category: 'api', amount: '100' }]);
  });
});
