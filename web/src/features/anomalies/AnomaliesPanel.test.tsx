import { act, fireEvent, render, screen, waitFor, within } from '@testing-library/react';
import { useAuthStore } from '../../shared/auth/authStore';
import { makeToken } from '../../shared/auth/fixtures';
import { decodeClaims } from '../../shared/auth/jwt';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { Anomaly } from '../../shared/api/types';
import { useAnomalyFeed } from '../../shared/hooks/useAnomalyFeed';
import { anomaly } from '../../shared/lib/anomalyFixtures';
import { initialAnomalyState, useAnomalyStore } from '../../shared/store/anomalyStore';
import { useUiStore } from '../../shared/store/uiStore';
import { AnomaliesPanel } from './AnomaliesPanel';

type Sink = { next: (v: { data?: { anomalyDetected: Anomaly } }) => void };
const live = vi.hoisted(() => ({ subs: [] as { query: string; variables: Record<string, unknown>; sink: Sink }[] }));
vi.mock('../../shared/api/ws', () => ({
  createLiveClient: () => ({
    subscribe: (payload: { query: string; variables: Record<string, unknown> }, sink: Sink) => {
      const entry = { query: payload.query, variables: payload.variables, sink };
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
  useAnomalyFeed(useUiStore((s) => s.tenant));
  return <AnomaliesPanel />;
}

const OLD = anomaly('old', { windowStart: '2026-01-19T06:00:00Z', severity: 'WARNING', kind: 'LEVEL_SHIFT' });
const NEW = anomaly('new', { windowStart: '2026-01-20T06:00:00Z' });
const FEEDBACK = { expected: true, note: null, by: null, at: '2026-01-20T08:00:00Z' };

describe('AnomaliesPanel', () => {
  let calls: { query: string; variables: Record<string, unknown> }[] = [];
  const fetchMock = vi.fn((_url: string, init: RequestInit) => {
    const { query, variables } = JSON.parse(String(init.body));
    calls.push({ query, variables });
    if (query.includes('query Anomalies')) return answer({ data: { anomalies: [OLD, NEW] } });
    if (query.includes('markAnomaly')) return answer({ data: { markAnomaly: { ...NEW, feedback: { ...FEEDBACK, expected: variables.expected } } } });
    return answer({ errors: [{ message: 'unexpected' }] });
  });
  const rows = () => screen.getAllByTestId('anomaly-row');

  beforeEach(() => {
    calls = [];
    live.subs.length = 0;
    vi.stubGlobal('fetch', fetchMock);
    useAnomalyStore.setState(initialAnomalyState);
    useUiStore.setState({ tenant: 'acme', range: { kind: 'preset', days: 30 } });
  });
  afterEach(() => vi.unstubAllGlobals());

  it('lists the range’s anomalies newest first with amounts and the top 3 root causes', async () => {
    render(<Harness />);
    await waitFor(() => expect(rows()).toHaveLength(2));
    expect(rows().map((r) => r.dataset.anomalyId)).toEqual(['new', 'old']);
    const first = rows()[0];
    expect(first).toHaveTextContent('Spike');
    expect(first).toHaveTextContent('service ec2 (USD)');
    expect(first).toHaveTextContent('2026-01-20 06:00–07:00 UTC');
    expect(within(first).getByTestId('anomaly-amounts')).toHaveTextContent('expected $3.50 → actual $12.50');
    const causes = within(first).getByTestId('anomaly-causes');
    expect(causes).toHaveTextContent('r-spiky 96.5 %');
    expect(causes).toHaveTextContent('label:team=web 1 %');
    expect(causes).not.toHaveTextContent('r-c');
    expect(within(rows()[1]).getByTestId('anomaly-severity')).toHaveAttribute('data-severity', 'WARNING');
    const q = calls.find((c) => c.query.includes('query Anomalies'))!;
    expect(q.variables).toMatchObject({ tenant: 'acme', limit: 100 });
    expect(Date.parse(String(q.variables.to)) - Date.parse(String(q.variables.from))).toBe(30 * 86_400_000);
    expect(live.subs[0].variables).toEqual({ tenant: 'acme' });
    expect(live.subs[0].query).toContain('anomalyDetected');
  });

  it('records "Expected" through markAnomaly and shows the feedback', async () => {
    render(<Harness />);
    await waitFor(() => expect(rows()).toHaveLength(2));
    fireEvent.click(within(rows()[0]).getByTestId('anomaly-expected'));
    await waitFor(() => expect(within(rows()[0]).getByTestId('anomaly-feedback')).toHaveTextContent('Marked expected · 2026-01-20 08:00 UTC'));
    const mark = calls.filter((c) => c.query.includes('markAnomaly'));
    expect(mark.map((c) => c.variables)).toEqual([{ tenant: 'acme', id: 'new', expected: true, note: null }]);
    expect(within(rows()[0]).getByTestId('anomaly-expected')).toHaveAttribute('aria-pressed', 'true');
  });

  it('adds live anomalies at the top, once per id, and ignores other tenants', async () => {
    render(<Harness />);
    await waitFor(() => expect(rows()).toHaveLength(2));
    const fresh = anomaly('fresh', { windowStart: '2026-01-21T06:00:00Z' });
    act(() => live.subs[0].sink.next({ data: { anomalyDetected: fresh } }));
    act(() => live.subs[0].sink.next({ data: { anomalyDetected: fresh } }));
    act(() => live.subs[0].sink.next({ data: { anomalyDetected: { ...fresh, id: 'other', tenant: 'globex' } } }));
    expect(rows().map((r) => r.dataset.anomalyId)).toEqual(['fresh', 'new', 'old']);
  });

  it('a tenant-viewer sees the feedback but cannot change it', async () => {
    useAuthStore.setState({ claims: decodeClaims(makeToken({ role: 'tenant-viewer', tenants: ['acme'] })) });
    try {
      render(<Harness />);
      await waitFor(() => expect(rows()).toHaveLength(2));
      expect(screen.getByTestId('read-only-hint')).toHaveTextContent('read-only (tenant-viewer)');
      expect(within(rows()[0]).getByTestId('anomaly-expected')).toBeDisabled();
      expect(within(rows()[0]).getByTestId('anomaly-unexpected')).toBeDisabled();
    } finally {
      useAuthStore.setState({ claims: null });
    }
  });
});
