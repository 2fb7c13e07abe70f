import { create } from 'zustand';
import type { LiveStatus } from '../api/ws';
import { MAX_DRILL } from '../lib/drill';
import type { RangeSpec } from '../lib/range';

export type Theme = 'light' | 'dark';
/** The views of the navigation; budgets, alerts and recommendations are labelled places for their issues. */
export type View = 'overview' | 'utilization' | 'budgets' | 'alerts' | 'recommendations';

export interface UiState {
  tenant: string | null;
  range: RangeSpec;
  currency: string;
  /**
   * The drill filter every breakdown view follows: [] → categories, [category] → sub-kinds,
   * [category, subKind] → services, [category, subKind, service] → resources.
   */
  drill: string[];
  theme: Theme;
  view: View;
  live: LiveStatus;
  retryInMs: number | null;
  /** Bumped (debounced) on every costUpdates push or reconnect; data hooks refetch on change. */
  liveVersion: number;
}

export interface UiActions {
  setTenant(t: string): void;
  setRange(r: RangeSpec): void;
  setCurrency(c: string): void;
  drillInto(key: string): void;
  drillTo(depth: number): void;
  /** Replaces the whole drill path (cut to the deepest level), e.g. from a treemap or Sankey click. */
  setDrill(path: string[]): void;
  toggleTheme(): void;
  setView(v: View): void;
  setLive(s: LiveStatus, retryInMs?: number): void;
  bumpLive(): void;
}

function initialTheme(): Theme {
  try {
    const saved = localStorage.getItem('costwatch.theme');
    if (saved === 'light' || saved === 'dark') return saved;
    return window.matchMedia?.('(prefers-color-scheme: dark)').matches ? 'dark' : 'light';
  } catch {
    return 'light';
  }
}

export const useUiStore = create<UiState & UiActions>((set) => ({
  tenant: null,
  range: { kind: 'preset', days: 30 },
  currency: 'USD',
  drill: [],
  theme: initialTheme(),
  view: 'overview',
  live: 'connecting',
  retryInMs: null,
  liveVersion: 0,
  // A new tenant starts at the top of the breakdown; range and currency keep the drill filter.
  setTenant: (tenant) => set((s) => (s.tenant === tenant ? s : { tenant, drill: [] })),
  setRange: (range) => set({ range }),
  setCurrency: (currency) => set({ currency }),
  drillInto: (key) => set((s) => (s.drill.length >= MAX_DRILL ? s : { drill: [...s.drill, key] })),
  drillTo: (depth) => set((s) => ({ drill: s.drill.slice(0, depth) })),
  setDrill: (path) => set({ drill: path.slice(0, MAX_DRILL) }),
  toggleTheme: () =>
    set((s) => {
      const theme = s.theme === 'light' ? 'dark' : 'light';
      try {
        localStorage.setItem('costwatch.theme', theme);
      } catch {
        /* private mode */
      }
      return { theme };
    }),
  setView: (view) => set({ view }),
  setLive: (live, retryInMs) => set({ live, retryInMs: retryInMs ?? null }),
  bumpLive: () => set((s) => ({ liveVersion: s.liveVersion + 1 })),
}));
