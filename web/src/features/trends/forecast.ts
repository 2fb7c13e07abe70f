import type { BudgetScopeInput, ForecastDay } from '../../shared/api/types';

// The forecast drawn after the history: a dotted point line and the 80 % / 95 % intervals as
// stacked translucent areas. ECharts fills a stacked area from the series below it, so the
// nested bands are one stack: an unfilled lower bound (lo95), then the widths lo95→lo80,
// lo80→hi80 and hi80→hi95.

export const FORECAST_NAME = 'Forecast (80 % / 95 %)';
export const FORECAST_HORIZON = 14;
export const FORECAST_COLOR = '#8b5cf6';
const DAY = 86_400_000;

/** The forecast scope of a drill path: its category and service (a sub-kind has no scope field). */
export function forecastScope(drill: string[]): BudgetScopeInput | null {
  if (!drill[0]) return null;
  return drill[2] ? { category: drill[0], service: drill[2] } : { category: drill[0] };
}

/**
 * True when the forecast continues the shown history: it starts no later than the day after the
 * last history day (a range in the past would otherwise stretch the axis to today).
 */
export function forecastFits(history: string[], forecast: ForecastDay[]): boolean {
  const last = history[history.length - 1];
  const first = forecast[0]?.date;
  if (!last || !first) return false;
  return Date.parse(`${first}T00:00:00Z`) - Date.parse(`${last}T00:00:00Z`) <= DAY;
}

/** Every day from the first history day to the last day of either (YYYY-MM-DD, UTC). */
export function chartDays(history: string[], forecast: ForecastDay[]): string[] {
  const all = [...history, ...forecast.map((d) => d.date)].sort();
  if (!all.length) return [];
  const first = Date.parse(`${history[0] ?? all[0]}T00:00:00Z`);
  const last = Date.parse(`${all[all.length - 1]}T00:00:00Z`);
  const out: string[] = [];
  for (let t = first; t <= last; t += DAY) out.push(new Date(t).toISOString().slice(0, 10));
  return out;
}

type Values = (number | null)[];
export interface ForecastSeries {
  point: Values;
  lo80: Values;
  hi80: Values;
  lo95: Values;
  hi95: Values;
  /** The stack: lower bound, then the three band widths (never negative). */
  stack: { lower: Values; low95: Values; mid80: Values; high95: Values };
  /** Forecast days on the axis. */
  count: number;
}

const num = (s: string) => Number(s); // chart geometry only

/** Aligns the forecast days to the chart's `days` (null where there is no forecast). */
export function buildForecastSeries(days: string[], forecast: ForecastDay[]): ForecastSeries {
  const byDate = new Map(forecast.map((d) => [d.date, d.band]));
  const pick = (f: (b: ForecastDay['band']) => string): Values =>
    days.map((d) => {
      const b = byDate.get(d);
      return b ? num(f(b)) : null;
    });
  const [point, lo80, hi80, lo95, hi95] = [pick((b) => b.point.amount), pick((b) => b.lo80.amount), pick((b) => b.hi80.amount), pick((b) => b.lo95.amount), pick((b) => b.hi95.amount)];
  const width = (hi: Values, lo: Values): Values => hi.map((h, i) => (h === null || lo[i] === null ? null : Math.max(0, h - (lo[i] as number))));
  return {
    point,
    lo80,
    hi80,
    lo95,
    hi95,
    stack: { lower: lo95, low95: width(lo80, lo95), mid80: width(hi80, lo80), high95: width(hi95, hi80) },
    count: point.filter((v) => v !== null).length,
  };
}

/** The ECharts series of a forecast: one legend entry (they share a name), the point line on top. */
export function forecastChartSeries(f: ForecastSeries): Record<string, unknown>[] {
  const band = (id: string, data: Values, opacity: number | null) => ({
    id,
    name: FORECAST_NAME,
    type: 'line',
    stack: 'forecast',
    stackStrategy: 'all',
    symbol: 'none',
    silent: true,
    color: FORECAST_COLOR,
    lineStyle: { opacity: 0 },
    areaStyle: opacity === null ? undefined : { opacity, color: FORECAST_COLOR },
    data,
  });
  return [
    band('fc-lower', f.stack.lower, null),
    band('fc-low95', f.stack.low95, 0.12),
    band('fc-mid80', f.stack.mid80, 0.28),
    band('fc-high95', f.stack.high95, 0.12),
    {
      id: 'fc-point',
      name: FORECAST_NAME,
      type: 'line',
      symbol: 'none',
      color: FORECAST_COLOR,
      lineStyle: { type: 'dotted', width: 2 },
      data: f.point,
    },
  ];
}

export interface TooltipParam {
  seriesId?: string;
  seriesName?: string;
  marker?: string;
  value?: unknown;
  dataIndex: number;
  axisValue?: string;
}

const fmt = (v: number | null, currency: string) => (v === null ? '–' : `${(Math.round(v * 100) / 100).toFixed(2)} ${currency}`);

/**
 * The axis tooltip: every history series with a value, and the forecast as one line with its
 * intervals (the band series are only geometry).
 */
export function trendTooltip(params: TooltipParam[], currency: string, f: ForecastSeries | null): string {
  const rows: string[] = [];
  for (const p of params) {
    if (p.seriesId?.startsWith('fc-')) {
      if (p.seriesId !== 'fc-point' || !f || f.point[p.dataIndex] === null) continue;
      const i = p.dataIndex;
      rows.push(
        `${p.marker ?? ''}Forecast: ${fmt(f.point[i], currency)} (80 %: ${fmt(f.lo80[i], currency)} – ${fmt(f.hi80[i], currency)}; 95 %: ${fmt(f.lo95[i], currency)} – ${fmt(f.hi95[i], currency)})`,
      );
    } else if (typeof p.value === 'number') rows.push(`${p.marker ?? ''}${p.seriesName}: ${fmt(p.value, currency)}`);
  }
  return [params[0]?.axisValue ?? '', ...rows].join('<br/>');
}
