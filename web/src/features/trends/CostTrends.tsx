import { useMemo, useState } from 'react';
import { EChart } from '../../shared/components/EChart';
import { Empty, ErrorState, Skeleton, StaleNote } from '../../shared/components/States';
import { useCoarsePointer } from '../../shared/hooks/useCoarsePointer';
import { useCostStore } from '../../shared/store/costStore';
import { useUiStore } from '../../shared/store/uiStore';
import { buildTrendSeries } from './series';

const round = (v: number) => Math.round(v * 100) / 100;

export function CostTrends({ onRetry }: { onRetry: () => void }) {
  const points = useCostStore((s) => s.historicalCosts);
  const range = useCostStore((s) => s.currentCosts?.range);
  const loading = useCostStore((s) => s.loading.history);
  const error = useCostStore((s) => s.error.history);
  const stale = useCostStore((s) => s.stale.history);
  const { theme, currency, drill } = useUiStore();
  const [stacked, setStacked] = useState(true);
  const touch = useCoarsePointer();

  const series = useMemo(() => (range ? buildTrendSeries(points, range) : null), [points, range]);
  const option = useMemo(() => {
    if (!series) return {};
    return {
      tooltip: { trigger: 'axis', valueFormatter: (v: number) => `${round(v).toFixed(2)} ${currency}` },
      legend: { type: 'scroll', top: 0 },
      grid: { left: 50, right: 20, top: 40, bottom: 70 },
      xAxis: { type: 'category', data: series.days, boundaryGap: false },
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
      ],
    };
  }, [series, stacked, currency, touch]);

  let body: React.ReactNode;
  if (error) body = <ErrorState message={error} onRetry={onRetry} />;
  else if (!series) body = loading ? <Skeleton height={320} /> : <Empty>Select a tenant.</Empty>;
  else if (!series.groups.length) body = <Empty>No costs in this period.</Empty>;
  else body = <EChart name="trends" testId="trends-chart" option={option} dark={theme === 'dark'} height={340} />;

  return (
    <div className="trends">
      <div className="toolbar">
        <span className="muted small">Daily cost{drill.length ? ` — filtered: ${drill.join(' › ')}` : ''}</span>
        <label className="small">
          <input type="checkbox" checked={stacked} onChange={(e) => setStacked(e.target.checked)} /> stacked area
        </label>
      </div>
      {stale !== null && !error && <StaleNote at={stale} onRetry={onRetry} />}
      {body}
    </div>
  );
}
