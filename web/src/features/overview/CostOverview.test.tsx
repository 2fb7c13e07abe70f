import { cleanup, render, screen, waitFor, fireEvent } from '@testing-library/react';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { OfflineCache, memoryStore, setOfflineCache } from '../../shared/cache/offlineCache';
import { useCostMonitoring } from '../../shared/hooks/useCostMonitoring';
import { initialCostState, useCostStore } from '../../shared/store/costStore';
import { useUiStore } from '../../shared/store/uiStore';
import { CostOverview } from './CostOverview';

const m = (amount: string) => ({ amount, currency: 'USD' });
const SUMMARY = {
  tenant: 'acme',
  range: { from: '2026-01-01T00:00:00+00:00', to: '2026-01-31T00:00:00+00:00' },
  total: m('1234.50000000503'),
  dailyAverage: m('41.15'),
  previousPeriodTotal: m('1000'),
  changePercent: '23.45',
  events: 3,
  projectedMonthEnd: m('2000'),
  billed: m('1000'),
  estimated: m('234.50000000503'),
  replacedEstimate: m('12.25'),
  categories: [
    { category: 'hosting', amount: m('1234.5'), percentage: '100.00', trend: 'UP', change: m('234.5'), previous: m('1000') },
    { category: 'api', amount: m('0.00000000503'), percentage: '0.00', trend: 'FLAT', change: m('0'), previous: m('0') },
  ],
};

const BUDGETS = [
  { id: 'b1', name: 'Web tier', percentSpent: '61.7', status: 'ON_TRACK', spent: m('30.85'), amount: m('50') },
  { id: 'b2', name: 'Data', percentSpent: '104.2', status: 'EXCEEDED', spent: m('104.2'), amount: m('100') },
];

function Harness() {
  const { retry } = useCostMonitoring();
  return <CostOverview onRetry={() => retry('summary')} />;
}

function answer(body: unknown) {
  return Promise.resolve(new Response(JSON.stringify(body), { status: 200, headers: { 'content-type': 'application/json' } }));
}

describe('CostOverview', () => {
  let failSummary = false;
  const fetchMock = vi.fn((_url: string, init: RequestInit) => {
    const { query, variables } = JSON.parse(String(init.body));
    if (query.includes('costSummary')) {
      expect(variables.tenant).toBe('acme');
      return failSummary ? answer({ errors: [{ message: 'store unavailable' }] }) : answer({ data: { costSummary: SUMMARY } });
    }
    if (query.includes('costBreakdown')) return answer({ data: { costBreakdown: [] } });
    if (query.includes('budgets(')) return answer({ data: { budgets: BUDGETS } });
    return answer({ data: { costHistory: [] } });
  });

  beforeEach(() => {
    failSummary = false;
    fetchMock.mockClear();
    vi.stubGlobal('fetch', fetchMock);
    useCostStore.setState(initialCostState);
    setOfflineCache(new OfflineCache(memoryStore(), () => Date.parse('2026-01-31T10:00:00Z')));
    useUiStore.setState({ tenant: 'acme', currency: 'USD', drill: [] });
  });
  afterEach(() => vi.unstubAllGlobals());

  it('renders the server totals from a mocked fetch', async () => {
    render(<Harness />);
    expect(screen.getByLabelText('Loading')).toBeInTheDocument();
    const total = await screen.findByTestId('total-amount');
    expect(total).toHaveAttribute('data-amount', '1234.50000000503');
    expect(total).toHaveTextContent('$1,234.50');
    expect(screen.getByTestId('total-exact')).toHaveTextContent('$1,234.50000000503');
    expect(screen.getByTestId('daily-average')).toHaveTextContent('$41.15');
    expect(screen.getByTestId('change-percent')).toHaveTextContent('+23.45%');
    expect(screen.getByTestId('projected')).toHaveTextContent('$2,000.00');
    expect(screen.getByTestId('billed-split')).toHaveTextContent(
      'billed $1,000.00 · estimated $234.50 · $12.25 of estimates replaced by the bill',
    );
    expect(screen.getByText('hosting')).toBeInTheDocument();
    expect(screen.getByText('api')).toBeInTheDocument();
    // Summary, breakdown, history, and the budgets for the utilization stat.
    expect(fetchMock).toHaveBeenCalledTimes(4);
    await waitFor(() => expect(screen.getByTestId('budget-utilization-percent').dataset.percent).toBe('104.2'));
    expect(screen.getByTestId('budget-utilization').textContent).toContain('Data');
  });

  it('shows an error with a Retry button that refetches', async () => {
    failSummary = true;
    render(<Harness />);
    expect(await screen.findByRole('alert')).toHaveTextContent('store unavailable');
    failSummary = false;
    fireEvent.click(screen.getByRole('button', { name: 'Retry' }));
    await waitFor(() => expect(screen.getByTestId('total-amount')).toHaveAttribute('data-amount', '1234.50000000503'));
  });

  it('shows the last cached summary, marked offline, when fetching fails', async () => {
    const first = render(<Harness />);
    await waitFor(() => expect(screen.getByTestId('total-amount')).toHaveAttribute('data-amount', '1234.50000000503'));
    expect(screen.queryByTestId('offline-note')).toBeNull();
    await new Promise((r) => setTimeout(r, 0)); // let the cache write finish
    first.unmount();
    cleanup();

    useCostStore.setState(initialCostState);
    failSummary = true;
    render(<Harness />);
    const note = await screen.findByTestId('offline-note');
    expect(note).toHaveTextContent(/^offline — showing data from /);
    expect(note).toHaveAttribute('data-at', String(Date.parse('2026-01-31T10:00:00Z')));
    expect(screen.getByTestId('total-amount')).toHaveAttribute('data-amount', '1234.50000000503');
    expect(screen.queryByRole('alert')).toBeNull();

    // Back online: the note goes away.
    failSummary = false;
    fireEvent.click(screen.getByRole('button', { name: 'Retry' }));
    await waitFor(() => expect(screen.queryByTestId('offline-note')).toBeNull());
  });

  it('does not show another tenant\'s cache', async () => {
    const first = render(<Harness />);
    await screen.findByTestId('total-amount');
    await new Promise((r) => setTimeout(r, 0));
    first.unmount();
    useCostStore.setState(initialCostState);
    useUiStore.setState({ currency: 'EUR' });
    failSummary = true;
    render(<Harness />);
    expect(await screen.findByRole('alert')).toHaveTextContent('store unavailable');
    expect(screen.queryByTestId('offline-note')).toBeNull();
  });
});
