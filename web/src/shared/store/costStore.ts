import { create } from 'zustand';
import type { CostGroup, CostPoint, CostSummary, Money } from '../api/types';

export type Section = 'summary' | 'breakdown' | 'history';

export interface CostState {
  /** The summary of the selected period (total, average, change, per category). */
  currentCosts: CostSummary | null;
  /** Daily history points of the selected period. */
  historicalCosts: CostPoint[];
  /** Not in this slice (issue: budgets). */
  budgets: never[];
  /** Not in this slice (issue: alerts). */
  alerts: never[];
  /** Groups of the current breakdown level. */
  resources: CostGroup[];
  projections: { monthEnd: Money } | null;
  loading: Record<Section, boolean>;
  error: Record<Section, string | null>;
  /** Epoch ms of the last successful load of any section. */
  lastUpdated: number | null;
  /** When a section shows cached data because its fetch failed: the epoch ms that data is from. */
  stale: Record<Section, number | null>;
}

type FreshAction =
  | { type: 'summary'; data: CostSummary; at: number }
  | { type: 'breakdown'; data: CostGroup[]; at: number }
  | { type: 'history'; data: CostPoint[]; at: number };

export type CostAction =
  | { type: 'start'; section: Section }
  | { type: 'summary'; data: CostSummary; at: number }
  | { type: 'breakdown'; data: CostGroup[]; at: number }
  | { type: 'history'; data: CostPoint[]; at: number }
  | { type: 'fail'; section: Section; message: string }
  /** A fetch failed and the offline cache had this section's last answer (fetched at `inner.at`). */
  | { type: 'cached'; inner: FreshAction }
  | { type: 'reset' };

export const initialCostState: CostState = {
  currentCosts: null,
  historicalCosts: [],
  budgets: [],
  alerts: [],
  resources: [],
  projections: null,
  loading: { summary: false, breakdown: false, history: false },
  error: { summary: null, breakdown: null, history: null },
  lastUpdated: null,
  stale: { summary: null, breakdown: null, history: null },
};

function done(s: CostState, section: Section, at: number): Partial<CostState> {
  return {
    loading: { ...s.loading, [section]: false },
    error: { ...s.error, [section]: null },
    lastUpdated: at,
    stale: { ...s.stale, [section]: null },
  };
}

/** Pure reducer; the store below only applies it. */
export function costReducer(s: CostState, a: CostAction): CostState {
  switch (a.type) {
    case 'start':
      return { ...s, loading: { ...s.loading, [a.section]: true } };
    case 'summary':
      return { ...s, ...done(s, 'summary', a.at), currentCosts: a.data, projections: { monthEnd: a.data.projectedMonthEnd } };
    case 'breakdown':
      return { ...s, ...done(s, 'breakdown', a.at), resources: a.data };
    case 'history':
      return { ...s, ...done(s, 'history', a.at), historicalCosts: a.data };
    case 'fail':
      return { ...s, loading: { ...s.loading, [a.section]: false }, error: { ...s.error, [a.section]: a.message } };
    case 'cached': {
      const next = costReducer(s, a.inner);
      return { ...next, lastUpdated: s.lastUpdated ?? a.inner.at, stale: { ...next.stale, [a.inner.type]: a.inner.at } };
    }
    case 'reset':
      return initialCostState;
  }
}

export const useCostStore = create<CostState & { dispatch: (a: CostAction) => void }>((set) => ({
  ...initialCostState,
  dispatch: (a) => set((s) => costReducer(s, a)),
}));
