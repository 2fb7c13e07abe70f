import { describe, expect, it } from 'vitest';
import type { CostSummary } from '../api/types';
import { costReducer, initialCostState } from './costStore';
import { useUiStore } from './uiStore';

const money = (amount: string) => ({ amount, currency: 'USD' });
const summary = { total: money('1'), projectedMonthEnd: money('9') } as CostSummary;

describe('costReducer', () => {
  it('tracks loading, data and errors per section', () => {
    let s = costReducer(initialCostState, { type: 'start', section: 'summary' });
    expect(s.loading.summary).toBe(true);
    expect(s.loading.breakdown).toBe(false);
    s = costReducer(s, { type: 'summary', data: summary, at: 42 });
    expect(s.loading.summary).toBe(false);
    expect(s.currentCosts).toBe(summary);
    expect(s.projections).toEqual({ monthEnd: money('9') });
    expect(s.lastUpdated).toBe(42);
    s = costReducer(s, { type: 'fail', section: 'summary', message: 'boom' });
    expect(s.error.summary).toBe('boom');
    expect(s.currentCosts).toBe(summary); // stale data stays visible
    s = costReducer(s, { type: 'summary', data: summary, at: 43 });
    expect(s.error.summary).toBeNull();
  });
  it('stores breakdown groups as resources and history as historicalCosts', () => {
    const g = [{ keys: ['api'], amount: money('2'), events: 1, percentage: '100' }];
    let s = costReducer(initialCostState, { type: 'breakdown', data: g, at: 1 });
    expect(s.resources).toBe(g);
    const p = [{ bucket: '2026-01-01T00:00:00Z', keys: ['api'], amount: money('2') }];
    s = costReducer(s, { type: 'history', data: p, at: 2 });
    expect(s.historicalCosts).toBe(p);
    expect(costReducer(s, { type: 'reset' })).toEqual(initialCostState);
    expect(s.budgets).toEqual([]);
    expect(s.alerts).toEqual([]);
  });
});

describe('uiStore drill', () => {
  it('drills at most to a service, goes back, and resets on tenant change', () => {
    const ui = useUiStore.getState();
    ui.setTenant('acme');
    ui.drillInto('hosting');
    ui.drillInto('compute');
    ui.drillInto('ec2');
    ui.drillInto('i-0abc');
    expect(useUiStore.getState().drill).toEqual(['hosting', 'compute', 'ec2']);
    ui.setCurrency('EUR');
    expect(useUiStore.getState().drill).toEqual(['hosting', 'compute', 'ec2']);
    ui.setDrill(['api', 'requests', 'api-gateway', 'gw/public']);
    expect(useUiStore.getState().drill).toEqual(['api', 'requests', 'api-gateway']);
    ui.setDrill(['hosting', 'compute']);
    ui.drillTo(1);
    expect(useUiStore.getState().drill).toEqual(['hosting']);
    ui.setTenant('globex');
    expect(useUiStore.getState().drill).toEqual([]);
  });
});
