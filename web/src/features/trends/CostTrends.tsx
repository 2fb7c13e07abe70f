import { useMemo, useState } from 'react';
import { EChart } from '../../shared/components/EChart';
import { Empty, ErrorState, Skeleton, StaleNote } from '../../shared/components/States';
import { useCoarsePointer } from '../../shared/hooks/useCoarsePointer';
import { useAnomalyStore } from '../../shared/store/anomalyStore';
import { useCostStore } from '../../shared/store/costStore';
import { useUiStore } from '../../shared/store/uiStore';
import { buildForecastSeries, chartDays, forecastFits, forecastChartSeries, trendTooltip, type TooltipParam } from './forecast';
import { AnnotationForm } from './AnnotationForm';
import { annotationLines, annotationSeries } from './annotations';
import { anomalyMarks, anomalySeries, trendSummary } from './markers';
import { buildTrendSeries } from './series';
import { useAnnotations } from './useAnnotations';
import { useForecast } from './useForecast';

export function CostTrends({ onRetry }: { onRetry: () => void }) {
  const points = useCostStore((s) => s.historicalCosts);
  const range = useCostStore((s) => s.currentCosts?.range);
  const loading = useCostStore((s) => s.loading.history);
  const error = useCostStore((s) => s.error.history);
  const stale = useCostStore((s) => s.stale.history);
  const anomalies = useAnomalyStore((s) => s.anomalies);
  const { theme, currency, drill } = useUiStore();
  const [stacked, setStacked] = useState(true);
  const [showForecast, setShowForecast] = useState(true);
  const forecast = useForecast(showForecast);
  const touch = useCoarsePointer();
  const annotations = useAnnotations(range);

  const series = useMemo(() => (range ? buildTrendSeries(points, range) : null), [points, range]);
  const fcDays = forecast.forecast?.days;
  const chart = useMemo(() => {
    if (!series) return null;
    const fits = !!fcDays && forecastFits(series.days, fcDays);
    const days = chartDays(series.days, fits ? fcDays : []);
    const fc = fits ? buildForecastSeries(days, fcDays) : null;
    const marks = anomalyMarks(anomalies, series.days, series.totals);
    const notes = annotationLines(annotations.notes, days);
    return { days, fc, marks, notes, outside: !!fcDays?.length && !fits };
  }, [series, fcDays, anomalies, annotations.notes]);

  const option = useMemo(() => {
    if (!series || !chart) return {};
    const { days, fc, marks, notes } = chart;
    return {
      tooltip: { trigger: 'axis', formatter: (p: TooltipParam[]) => trendTooltip(p, currency, fc) },
      legend: { type: 'scroll', top: 0 },
      grid: { left: 50, right: 20, top: 40, bottom: 70 },
      xAxis: { type: 'category', data: days, boundaryGap: false },
      yAxis: { type: 'value', name: currency },
      // On a touch screen, dragging inside the chart would zoom instead of scrolling the page: slider only.
      dataZoom: touch ? [{ type: 'slider', bottom: 10 }] : [{ type: 'inside' }, { type: 'slider', bottom: 10 }],
      series: [
        ...series.groups.map((g) => ({
          name: g.name,
          type: 'line',
          stack: stacked ? 'total' : undefined,
          areaStyle: stacked ? {} : undefined,
          showSymbol: false,
          emphasis: { focus: 'series' },
          data: g.values,
        })),
        { name: '7-day average', type: 'line', showSymbol: false, lineStyle: { type: 'dashed', width: 2 }, data: series.average },
        ...(fc ? forecastChartSeries(fc) : []),
        ...(marks.length ? [anomalySeries(marks)] : []),
        ...(notes.length ? [annotationSeries(notes)] : []),
      ],
    };
  }, [series, chart, stacked, currency, touch]);

  let body: React.ReactNode;
  if (error) body = <ErrorState message={error} onRetry={onRetry} />;
  else if (!series) body = loading ? <Skeleton height={320} /> : <Empty>Select a tenant.</Empty>;
  else if (!series.groups.length) body = <Empty>No costs in this period.</Empty>;
  else body = <EChart name="trends" testId="trends-chart" option={option} dark={theme === 'dark'} height={340} />;

  const fcCount = chart?.fc?.count ?? null;
  return (
    <div className="trends">
      <div className="toolbar">
        <span className="muted small">Daily cost{drill.length ? ` — filtered: ${drill.join(' › ')}` : ''}</span>
        <label className="small">
          <input type="checkbox" checked={stacked} onChange={(e) => setStacked(e.target.checked)} /> stacked area
        </label>
        <label className="small">
          <input type="checkbox" data-testid="trends-show-forecast" checked={showForecast} onChange={(e) => setShowForecast(e.target.checked)} /> show forecast
        </label>
      </div>
      {stale !== null && !error && <StaleNote at={stale} onRetry={onRetry} />}
      {body}
      {series && series.groups.length > 0 && (
        <p className="muted small" data-testid="trends-summary" aria-live="polite">
          {trendSummary(chart?.marks.length ?? 0, fcCount)}
        </p>
      )}
      {range && <AnnotationForm annotations={annotations} defaultDay={range.to.slice(0, 10)} />}
      {showForecast && chart?.outside && (
        <p className="muted small" data-testid="forecast-note">
          The forecast starts after the selected range; pick a range ending today to see it.
        </p>
      )}
      {showForecast && forecast.error && (
        <p className="muted small" data-testid="forecast-note">
          Forecast unavailable: {forecast.error}
        </p>
      )}
    </div>
  );
}
