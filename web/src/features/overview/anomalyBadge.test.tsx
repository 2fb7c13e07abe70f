import { act, fireEvent, render, screen } from '@testing-library/react';
import { beforeEach, describe, expect, it } from 'vitest';
import type { Anomaly } from '../../shared/api/types';
import { initialAnomalyState, useAnomalyStore } from '../../shared/store/anomalyStore';
import { useUiStore } from '../../shared/store/uiStore';
import { AnomalyBadge } from './AnomalyBadge';
import { openAnomalies } from './anomalyBadge';

const anomaly = (id: string, severity: Anomaly['severity'], expected?: boolean): Anomaly => ({
  id,
  tenant: 'acme',
  series: 'total|USD',
  windowStart: '2026-03-02T10:00:00Z',
  windowEnd: '2026-03-02T11:00:00Z',
  kind: 'SPIKE',
  severity,
  score: 5,
  expected: { amount: '1', currency: 'USD' },
  actual: { amount: '9', currency: 'USD' },
  rootCause: [],
  detectedAt: '2026-03-02T11:00:01Z',
  feedback: expected === undefined ? null : { expected, note: null, by: null, at: '2026-03-02T12:00:00Z' },
});

describe('openAnomalies', () => {
  it('counts anomalies not marked expected and takes the worst severity', () => {
    expect(openAnomalies([])).toEqual({ count: 0, worst: null });
    expect(openAnomalies([anomaly('a', 'INFO'), anomaly('b', 'CRITICAL', true), anomaly('c', 'WARNING', false)])).toEqual({
      count: 2,
      worst: 'WARNING',
    });
    expect(openAnomalies([anomaly('a', 'CRITICAL'), anomaly('b', 'INFO')]).worst).toBe('CRITICAL');
  });
});

describe('AnomalyBadge', () => {
  beforeEach(() => {
    useAnomalyStore.setState({ ...initialAnomalyState, tenant: 'acme' });
    useUiStore.setState({ view: 'overview' });
  });

  it('shows nothing until the anomalies are loaded', () => {
    render(<AnomalyBadge />);
    expect(screen.queryByTestId('anomaly-badge')).toBeNull();
  });

  it('shows the open count, updates on a push and opens the anomalies view', () => {
    act(() => useAnomalyStore.getState().reconcile('acme', [anomaly('a', 'WARNING')], Date.now()));
    render(<AnomalyBadge />);
    const badge = screen.getByTestId('anomaly-badge');
    expect(badge.dataset.count).toBe('1');
    expect(badge.textContent).toContain('1 open anomaly');
    act(() => useAnomalyStore.getState().receive(anomaly('b', 'CRITICAL')));
    expect(screen.getByTestId('anomaly-badge').dataset.count).toBe('2');
    expect(screen.getByTestId('anomaly-badge').dataset.worst).toBe('CRITICAL');
    fireEvent.click(screen.getByTestId('anomaly-badge'));
    expect(useUiStore.getState().view).toBe('alerts');
  });

  it('says so when every anomaly is settled', () => {
    act(() => useAnomalyStore.getState().reconcile('acme', [anomaly('a', 'CRITICAL', true)], Date.now()));
    render(<AnomalyBadge />);
    expect(screen.getByTestId('anomaly-badge').textContent).toBe('No open anomalies');
  });
});
