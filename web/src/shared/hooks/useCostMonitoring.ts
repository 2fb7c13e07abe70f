import { useCallback, useEffect, useRef } from 'react';
import { drillQuery } from '../lib/drill';
import { gql, isAccessError } from '../api/graphql';
import { COST_BREAKDOWN, COST_HISTORY, COST_SUMMARY } from '../api/queries';
import type { CostGroup, CostPoint, CostSummary } from '../api/types';
import { cacheKey, offlineCache } from '../cache/offlineCache';
import { resolveRange } from '../lib/range';
import { useCostStore, type Section } from '../store/costStore';
import { useUiStore } from '../store/uiStore';

/**
 * Loads the summary, breakdown and history of the selected tenant, range, currency and drill
 * path into the cost store, again whenever any of them changes or a live update arrives.
 * Returns `retry(section)` for error states.
 */
export function useCostMonitoring(): { retry: (s: Section) => void } {
  const { tenant, range, currency, drill, liveVersion } = useUiStore();
  const dispatch = useCostStore((s) => s.dispatch);
  const seq = useRef<Record<Section, number>>({ summary: 0, breakdown: 0, history: 0 });

  const load = useCallback(
    async (section: Section) => {
      if (!tenant) return;
      const id = ++seq.current[section];
      const fresh = () => seq.current[section] === id;
      const vars = { tenant, range: resolveRange(range), currency };
      const { groupBy, filter } = drillQuery(drill);
      const cache = offlineCache();
      const key = cacheKey(section, { tenant, range, currency, drill });
      dispatch({ type: 'start', section });
      try {
        let data: CostSummary | CostGroup[] | CostPoint[];
        if (section === 'summary') {
          data = (await gql<{ costSummary: CostSummary }>(COST_SUMMARY, vars)).costSummary;
          if (fresh()) dispatch({ type: 'summary', data, at: Date.now() });
        } else if (section === 'breakdown') {
          data = (await gql<{ costBreakdown: CostGroup[] }>(COST_BREAKDOWN, { ...vars, groupBy: [groupBy], filter })).costBreakdown;
          if (fresh()) dispatch({ type: 'breakdown', data, at: Date.now() });
        } else {
          data = (
            await gql<{ costHistory: CostPoint[] }>(COST_HISTORY, {
              ...vars,
              granularity: 'DAY',
              groupBy: [groupBy],
              filter,
            })
          ).costHistory;
          if (fresh()) dispatch({ type: 'history', data, at: Date.now() });
        }
        void cache.put(key, data);
      } catch (e) {
        // Fall back to the last answer for the same tenant, range, currency (and drill path).
        // Not when refused (401 / FORBIDDEN): the cached answer is not for this caller.
        const hit = isAccessError(e) ? undefined : await cache.get<never>(key); // typed by `section` below
        if (!fresh()) return;
        if (hit) dispatch({ type: 'cached', inner: { type: section, data: hit.data, at: hit.at } });
        else dispatch({ type: 'fail', section, message: (e as Error).message });
      }
    },
    [tenant, range, currency, drill, dispatch],
  );

  useEffect(() => {
    void load('summary');
    void load('breakdown');
    void load('history');
  }, [load, liveVersion]);

  return { retry: (s) => void load(s) };
}
