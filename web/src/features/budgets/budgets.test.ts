import { describe, expect, it } from 'vitest';
import { emptyForm, fieldFromPath, formFromBudget, toBudgetInput, validateBudgetForm, type BudgetForm } from './budgetForm';
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
