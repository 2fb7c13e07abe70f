import { useEffect, useState } from 'react';
import { gql } from '../../shared/api/graphql';
import { FORECAST } from '../../shared/api/queries';
import type { CostForecast } from '../../shared/api/types';
import { useUiStore } from '../../shared/store/uiStore';
import { FORECAST_HORIZON, forecastScope } from './forecast';

interface ForecastState {
  key: string;
  forecast: CostForecast | null;
  error: string | null;
}

/**
 * The selected tenant's forecast for the next FORECAST_HORIZON days, scoped by the drill path
 * (when `enabled`). An error (e.g. too little history) is returned, never thrown.
 */
export function useForecast(enabled: boolean): { forecast: CostForecast | null; error: string | null; loading: boolean } {
  const tenant = useUiStore((s) => s.tenant);
  const drill = useUiStore((s) => s.drill);
  const currency = useUiStore((s) => s.currency);
  const scope = forecastScope(drill);
  const key = JSON.stringify([tenant, scope, currency]);
  const [state, setState] = useState<ForecastState>({ key: '', forecast: null, error: null });

  useEffect(() => {
    if (!enabled || !tenant) return;
    const abort = new AbortController();
    const vars = { tenant, scope: JSON.parse(key)[1], horizonDays: FORECAST_HORIZON, currency };
    gql<{ forecast: CostForecast }>(FORECAST, vars, abort.signal).then(
      (d) => setState({ key, forecast: d.forecast, error: null }),
      (e: Error) => {
        if (e.name !== 'AbortError') setState({ key, forecast: null, error: e.message });
      },
    );
    return () => abort.abort();
  }, [enabled, tenant, currency, key]);

  if (!enabled || !tenant || state.key !== key) return { forecast: null, error: null, loading: enabled && !!tenant };
  return { forecast: state.forecast, error: state.error, loading: false };
}
