import type { Budget } from '../../shared/api/types';

// Test data shared by the budget tests.
export const m = (amount: string) => ({ amount, currency: 'USD' });
export const BUDGET: Budget = {
  id: 'b1',
  tenant: 'acme',
  name: 'Cloud',
  amount: m('100'),
  period: 'MONTHLY',
  periodStart: '2026-01-01T00:00:00Z',
  periodEnd: '2026-02-01T00:00:00Z',
  scope: { category: 'hosting', provider: null, service: null, labels: [] },
  thresholds: [
    { percent: '100', basis: 'FORECAST' },
    { percent: '50', basis: 'ACTUAL' },
    { percent: '80', basis: 'ACTUAL' },
    { percent: '100', basis: 'ACTUAL' },
  ],
  allocations: [],
  owner: 'ops',
  spent: m('80.00'),
  forecast: m('120'),
  forecastLow: m('110'),
  forecastHigh: m('125'),
  percentSpent: '80',
  status: 'AT_RISK',
  depletionDate: '2026-01-26T00:00:00Z',
  createdAt: '2026-01-01T00:00:00Z',
  updatedAt: '2026-01-20T00:00:00Z',
};
