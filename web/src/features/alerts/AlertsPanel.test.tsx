import { act, fireEvent, render, screen, waitFor, within } from '@testing-library/react';
import { useAuthStore } from '../../shared/auth/authStore';
import { makeToken } from '../../shared/auth/fixtures';
import { decodeClaims } from '../../shared/auth/jwt';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { Alert } from '../../shared/api/types';
import { useUiStore } from '../../shared/store/uiStore';
import { AlertsPanel } from './AlertsPanel';
import { OpenAlertsBadge } from './OpenAlertsBadge';
import { initialAlertState, useAlertStore } from './alertStore';
import { alert, moved } from './fixtures';
import { useAlertFeed } from './useAlertFeed';

type Sink = { next: (v: { data?: { alerts: Alert } }) => void };
const live = vi.hoisted(() => ({ subs: [] as { variables: Record<string, unknown>; sink: Sink }[] }));
vi.mock('../../shared/api/ws', () => ({
  createLiveClient: () => ({
    subscribe: (payload: { variables: Record<string, unknown> }, sink: Sink) => {
      const entry = { variables: payload.variables, sink };
      live.subs.push(entry);
      return () => void live.subs.splice(live.subs.indexOf(entry), 1);
    },
    dispose: () => Promise.resolve(),
  }),
}));

function answer(body: unknown) {
  return Promise.resolve(new Response(JSON.stringify(body), { status: 200, headers: { 'content-type': 'application/json' } }));
}

function Harness() {
  useAlertFeed(useUiStore((s) => s.tenant));
  return (
    <>
      <OpenAlertsBadge />
      <AlertsPanel />
    </>
  );
}

const A1 = alert('a1', { triggeredAt: '2026-01-20T10:00:00Z', severity: 'CRITICAL' });
const A0 = alert('a0', { triggeredAt: '2026-01-19T10:00:00Z', state: 'RESOLVED', updatedAt: '2026-01-19T12:00:00Z' });

describe('AlertsPanel', () => {
  let calls: { query: string; variables: Record<string, unknown> }[] = [];
  const fetchMock = vi.fn((_url: string, init: RequestInit) => {
    const { query, variables } = JSON.parse(String(init.body));
    calls.push({ query, variables });
    if (query.includes('query Alerts')) {
      const all = [A1, A0].filter((a) => !variables.state || a.state === variables.state);
      return answer({ data: { alerts: all } });
    }
    if (query.includes('acknowledgeAlert')) return answer({ data: { acknowledgeAlert: moved(A1, 'ACKNOWLEDGED', '2026-01-20T11:00:00Z') } });
    if (query.includes('resolveAlert')) return answer({ data: { resolveAlert: moved(A1, 'RESOLVED', '2026-01-20T11:00:00Z') } });
    return answer({ errors: [{ message: 'unexpected' }] });
  });
  const rows = () => screen.getAllByTestId('alert-row');

  beforeEach(() => {
    calls = [];
    live.subs.length = 0;
    vi.stubGlobal('fetch', fetchMock);
    useAlertStore.setState(initialAlertState);
    useUiStore.setState({ tenant: 'acme' });
  });
  afterEach(() => vi.unstubAllGlobals());

  it('lists alerts newest first with severity, state and history, and counts the open ones', async () => {
    render(<Harness />);
    await waitFor(() => expect(rows()).toHaveLength(2));
    expect(rows().map((r) => [r.dataset.alertId, r.dataset.state])).toEqual([
      ['a1', 'TRIGGERED'],
      ['a0', 'RESOLVED'],
    ]);
    expect(within(rows()[0]).getByTestId('alert-severity')).toHaveTextContent('Critical');
    expect(rows()[0]).toHaveTextContent('Budget a1 at 80%');
    expect(rows()[0]).toHaveTextContent('2026-01-20 10:00 UTC');
    expect(within(rows()[0]).getByText('History (1)')).toBeInTheDocument();
    expect(within(rows()[1]).queryByTestId('alert-resolve')).toBeNull();
    expect(screen.getByTestId('alerts-open-count')).toHaveTextContent('1');
    expect(live.subs[0].variables).toEqual({ tenant: 'acme' });
  });

  it('acknowledges through the mutation and shows the new state', async () => {
    render(<Harness />);
    await waitFor(() => expect(rows()).toHaveLength(2));
    fireEvent.click(within(rows()[0]).getByTestId('alert-ack'));
    await waitFor(() => expect(rows()[0]).toHaveAttribute('data-state', 'ACKNOWLEDGED'));
    const ack = calls.filter((c) => c.query.includes('acknowledgeAlert'));
    expect(ack).toHaveLength(1);
    expect(ack[0].variables).toEqual({ tenant: 'acme', id: 'a1' });
    expect(within(rows()[0]).queryByTestId('alert-ack')).toBeNull();
    expect(within(rows()[0]).getByTestId('alert-resolve')).toBeInTheDocument();
    expect(screen.getByTestId('alerts-open-count')).toHaveTextContent('0');
  });

  it('shows live alerts at the top without a reload, once per id', async () => {
    render(<Harness />);
    await waitFor(() => expect(rows()).toHaveLength(2));
    const fresh = alert('a2', { triggeredAt: '2026-01-21T08:00:00Z', title: 'Spike in api' });
    act(() => live.subs[0].sink.next({ data: { alerts: fresh } }));
    act(() => live.subs[0].sink.next({ data: { alerts: fresh } })); // re-delivered
    expect(rows().map((r) => r.dataset.alertId)).toEqual(['a2', 'a1', 'a0']);
    expect(screen.getByTestId('alerts-open-count')).toHaveTextContent('2');
    act(() => live.subs[0].sink.next({ data: { alerts: moved(fresh, 'RESOLVED', '2026-01-21T09:00:00Z') } }));
    expect(rows()[0]).toHaveAttribute('data-state', 'RESOLVED');
    expect(screen.getByTestId('alerts-open-count')).toHaveTextContent('1');
  });

  it('filters by state with the query variable', async () => {
    render(<Harness />);
    await waitFor(() => expect(rows()).toHaveLength(2));
    fireEvent.click(screen.getByTestId('alerts-filter-resolved'));
    await waitFor(() => expect(rows().map((r) => r.dataset.alertId)).toEqual(['a0']));
    expect(calls.some((c) => c.query.includes('query Alerts') && c.variables.state === 'RESOLVED')).toBe(true);
  });

  it('a tenant-viewer gets no Acknowledge / Resolve', async () => {
    useAuthStore.setState({ claims: decodeClaims(makeToken({ role: 'tenant-viewer', tenants: ['acme'] })) });
    try {
      render(<Harness />);
      await waitFor(() => expect(rows()).toHaveLength(2));
      expect(screen.getByTestId('read-only-hint')).toHaveTextContent('read-only (tenant-viewer)');
      expect(screen.queryByTestId('alert-ack')).toBeNull();
      expect(screen.queryByTestId('alert-resolve')).toBeNull();
    } finally {
      useAuthStore.setState({ claims: null });
    }
  });
});
