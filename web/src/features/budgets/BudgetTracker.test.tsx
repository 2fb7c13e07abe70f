import { fireEvent, render, screen, waitFor, within } from '@testing-library/react';
import { useAuthStore } from '../../shared/auth/authStore';
import { makeToken } from '../../shared/auth/fixtures';
import { decodeClaims } from '../../shared/auth/jwt';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { OfflineCache, memoryStore, setOfflineCache } from '../../shared/cache/offlineCache';
import { useUiStore } from '../../shared/store/uiStore';
import { BudgetTracker } from './BudgetTracker';
import { BUDGET } from './fixtures';

function answer(body: unknown) {
  return Promise.resolve(new Response(JSON.stringify(body), { status: 200, headers: { 'content-type': 'application/json' } }));
}

describe('BudgetTracker', () => {
  let calls: { query: string; variables: Record<string, unknown> }[] = [];
  let onMutation: (query: string, variables: Record<string, unknown>) => unknown = () => ({ data: {} });
  const fetchMock = vi.fn((_url: string, init: RequestInit) => {
    const { query, variables } = JSON.parse(String(init.body));
    calls.push({ query, variables });
    if (query.includes('query Budgets')) return answer({ data: { budgets: [BUDGET] } });
    return answer(onMutation(query, variables));
  });
  const sent = (name: string) => calls.filter((c) => c.query.includes(name));

  beforeEach(() => {
    calls = [];
    onMutation = () => ({ data: {} });
    fetchMock.mockClear();
    vi.stubGlobal('fetch', fetchMock);
    setOfflineCache(new OfflineCache(memoryStore(), () => Date.parse('2026-01-20T10:00:00Z')));
    useUiStore.setState({ tenant: 'acme', currency: 'USD' });
  });
  afterEach(() => vi.unstubAllGlobals());

  it('renders a budget with its bar, threshold markers, forecast and status', async () => {
    render(<BudgetTracker />);
    const row = await screen.findByTestId('budget-row');
    expect(row).toHaveAttribute('data-budget-id', 'b1');
    expect(sent('query Budgets')[0].variables).toEqual({ tenant: 'acme' });
    const spent = within(row).getByTestId('budget-spent');
    expect(spent).toHaveAttribute('data-amount', '80.00');
    expect(spent).toHaveTextContent('$80.00');
    expect(within(row).getByTestId('budget-status')).toHaveAttribute('data-status', 'AT_RISK');
    expect(within(row).getByTestId('budget-status')).toHaveTextContent('At risk');
    expect(within(row).getByTestId('budget-bar-spent').style.width).toBe('64%');
    const marks = within(row).getAllByTestId('budget-threshold');
    expect(marks.map((el) => [el.dataset.percent, el.dataset.basis, el.dataset.crossed, el.style.left])).toEqual([
      ['50', 'ACTUAL', 'true', '40%'],
      ['80', 'ACTUAL', 'true', '64%'],
      ['100', 'ACTUAL', 'false', '80%'],
      ['100', 'FORECAST', 'true', '80%'],
    ]);
    expect(marks[3]).toHaveClass('forecast');
    expect(within(row).getByTestId('budget-forecast').style.left).toBe('96%');
    expect(within(row).getByTestId('budget-forecast-text')).toHaveTextContent('Forecast $120.00 (80%: $110.00 – $125.00)');
    expect(within(row).getByTestId('budget-depletion')).toHaveTextContent('Runs out 2026-01-26');
    expect(within(row).getByTestId('budget-window')).toHaveTextContent('2026-01-01 – 2026-01-31');
  });

  it('names the invalid fields and sends nothing', async () => {
    render(<BudgetTracker />);
    await screen.findByTestId('budget-row');
    fireEvent.click(screen.getByTestId('budget-new'));
    const form = screen.getByTestId('budget-form');
    fireEvent.change(within(form).getByTestId('budget-amount'), { target: { value: '-3' } });
    fireEvent.change(within(form).getByTestId('budget-period'), { target: { value: 'CUSTOM' } });
    fireEvent.change(within(form).getByTestId('budget-start'), { target: { value: '2026-03-01' } });
    fireEvent.change(within(form).getByTestId('budget-end'), { target: { value: '2026-02-01' } });
    fireEvent.change(within(form).getByLabelText('Threshold 1 percent'), { target: { value: '2000' } });
    fireEvent.click(within(form).getByTestId('budget-save'));
    const error = await screen.findByTestId('budget-error');
    expect(error).toHaveTextContent('Name is required');
    expect(error).toHaveTextContent('Amount must be a positive decimal');
    expect(error).toHaveTextContent('Custom end must be after the custom start');
    expect(error).toHaveTextContent('Threshold 1: percent must be a number from 1 to 1000');
    expect(within(form).getByTestId('budget-amount')).toHaveAttribute('aria-invalid', 'true');
    expect(screen.getByTestId('budget-error-amount')).toHaveTextContent(/^Amount /);
    expect(sent('createBudget')).toHaveLength(0);
  });

  it('creates a budget, shows a server error on the field it names, then refetches on success', async () => {
    onMutation = () => ({ errors: [{ message: 'currency XYZ is not supported', extensions: { code: 'BAD_USER_INPUT', field: 'input.currency' } }] });
    render(<BudgetTracker />);
    await screen.findByTestId('budget-row');
    fireEvent.click(screen.getByTestId('budget-new'));
    fireEvent.change(screen.getByTestId('budget-name'), { target: { value: 'Data' } });
    fireEvent.change(screen.getByTestId('budget-amount'), { target: { value: '250.5' } });
    fireEvent.click(screen.getByTestId('budget-save'));
    expect(await screen.findByTestId('budget-error-currency')).toHaveTextContent('Currency: currency XYZ is not supported');
    expect(screen.getByTestId('budget-error')).toHaveTextContent('Currency: currency XYZ is not supported');
    const create = sent('createBudget')[0].variables as { tenant: string; input: Record<string, unknown> };
    expect(create.tenant).toBe('acme');
    expect(create.input).toMatchObject({ name: 'Data', amount: '250.5', currency: 'USD', period: 'MONTHLY' });

    onMutation = () => ({ data: { createBudget: { ...BUDGET, id: 'b2', name: 'Data' } } });
    const before = sent('query Budgets').length;
    fireEvent.click(screen.getByTestId('budget-save'));
    await waitFor(() => expect(screen.queryByTestId('budget-form')).toBeNull());
    await waitFor(() => expect(sent('query Budgets').length).toBe(before + 1));
  });

  it('fills the amount from the suggestion and shows its reasoning', async () => {
    onMutation = () => ({
      data: { budgetRecommendation: { amount: { amount: '1320.00', currency: 'USD' }, basedOnPeriods: 3, reasoning: ['p90 of 3 months', '+10% headroom'] } },
    });
    render(<BudgetTracker />);
    await screen.findByTestId('budget-row');
    fireEvent.click(screen.getByTestId('budget-edit'));
    fireEvent.click(screen.getByTestId('budget-suggest'));
    await waitFor(() => expect(screen.getByTestId('budget-amount')).toHaveValue('1320.00'));
    expect(screen.getByTestId('budget-reasoning')).toHaveTextContent('p90 of 3 months');
    expect(sent('budgetRecommendation')[0].variables).toMatchObject({ tenant: 'acme', period: 'MONTHLY', currency: 'USD', scope: { category: 'hosting' } });
  });

  it('deletes after confirming, and refetches when an alert arrives', async () => {
    onMutation = () => ({ data: { deleteBudget: true } });
    const view = render(<BudgetTracker alertVersion={0} />);
    await screen.findByTestId('budget-row');
    fireEvent.click(screen.getByTestId('budget-delete'));
    expect(sent('deleteBudget')).toHaveLength(0);
    fireEvent.click(screen.getByTestId('budget-delete-confirm'));
    await waitFor(() => expect(sent('deleteBudget')[0]?.variables).toEqual({ tenant: 'acme', id: 'b1' }));
    await waitFor(() => expect(sent('query Budgets')).toHaveLength(2));
    view.rerender(<BudgetTracker alertVersion={1} />);
    await waitFor(() => expect(sent('query Budgets')).toHaveLength(3));
  });

  it('edits labels and allocations and sends them', async () => {
    onMutation = () => ({ data: { createBudget: { ...BUDGET, id: 'b2' } } });
    render(<BudgetTracker />);
    await screen.findByTestId('budget-row');
    fireEvent.click(screen.getByTestId('budget-new'));
    fireEvent.change(screen.getByTestId('budget-name'), { target: { value: 'Split' } });
    fireEvent.change(screen.getByTestId('budget-amount'), { target: { value: '100' } });
    fireEvent.click(screen.getByTestId('budget-add-label'));
    fireEvent.change(screen.getByLabelText('Label 1 key'), { target: { value: 'team' } });
    fireEvent.change(screen.getByLabelText('Label 1 value'), { target: { value: 'core' } });
    fireEvent.click(screen.getByTestId('budget-add-allocation'));
    fireEvent.click(screen.getByTestId('budget-add-allocation'));
    fireEvent.change(screen.getByLabelText('Allocation 1 amount'), { target: { value: '60.5' } });
    fireEvent.change(screen.getByLabelText('Allocation 2 amount'), { target: { value: '39.4' } });
    expect(screen.getByTestId('budget-allocated')).toHaveTextContent('Allocated 99.9 of 100 USD');
    fireEvent.click(screen.getByTestId('budget-save'));
    expect(await screen.findByTestId('budget-error-allocations')).toHaveTextContent('Allocations add up to 99.9, not the amount 100');
    expect(sent('createBudget')).toHaveLength(0);
    fireEvent.change(screen.getByLabelText('Allocation 2 amount'), { target: { value: '39.50' } });
    expect(screen.getByTestId('budget-allocated')).toHaveAttribute('data-ok', 'true');
    fireEvent.click(screen.getByTestId('budget-save'));
    await waitFor(() => expect(sent('createBudget')).toHaveLength(1));
    const input = (sent('createBudget')[0].variables as { input: Record<string, unknown> }).input;
    expect(input.scope).toMatchObject({ labels: [{ key: 'team', value: 'core' }] });
    expect(input.allocations).toEqual([
      { category: 'api', amount: '60.5' },
      { category: 'hosting', amount: '39.50' },
    ]);
  });

  it('a tenant-viewer sees the budgets but no New / Edit / Delete', async () => {
    useAuthStore.setState({ claims: decodeClaims(makeToken({ role: 'tenant-viewer', tenants: ['acme'] })) });
    try {
      render(<BudgetTracker />);
      await screen.findByTestId('budget-row');
      expect(screen.getByTestId('read-only-hint')).toHaveTextContent('read-only (tenant-viewer)');
      expect(screen.queryByTestId('budget-new')).toBeNull();
      expect(screen.queryByTestId('budget-edit')).toBeNull();
      expect(screen.queryByTestId('budget-delete')).toBeNull();
    } finally {
      useAuthStore.setState({ claims: null });
    }
  });

  it('a tenant-admin keeps New / Edit / Delete, without the hint', async () => {
    useAuthStore.setState({ claims: decodeClaims(makeToken({ role: 'tenant-admin', tenants: ['acme'] })) });
    try {
      render(<BudgetTracker />);
      await screen.findByTestId('budget-row');
      expect(screen.queryByTestId('read-only-hint')).toBeNull();
      expect(screen.getByTestId('budget-new')).toBeInTheDocument();
      expect(screen.getByTestId('budget-edit')).toBeInTheDocument();
      expect(screen.getByTestId('budget-delete')).toBeInTheDocument();
    } finally {
      useAuthStore.setState({ claims: null });
    }
  });
});
