import { useMemo, useState } from 'react';
import { gql } from '../../shared/api/graphql';
import { COST_BREAKDOWN, COST_HISTORY } from '../../shared/api/queries';
import type { CostGroup, CostPoint } from '../../shared/api/types';
import { cacheKey } from '../../shared/cache/offlineCache';
import { EChart } from '../../shared/components/EChart';
import { Section } from '../../shared/components/Section';
import { Empty, ErrorState, Skeleton, StaleNote } from '../../shared/components/States';
import { useCachedQuery } from '../../shared/hooks/useCachedQuery';
import { useCoarsePointer } from '../../shared/hooks/useCoarsePointer';
import { formatMoney } from '../../shared/lib/decimal';
import { resolveRange } from '../../shared/lib/range';
import { useUiStore } from '../../shared/store/uiStore';
import { HOURS, WEEKDAYS, bucketByWeekdayHour, sortByAmount, splitRange, type HeatMap, type SortDir } from './heatmap';

interface UtilizationData {
  /** Hourly history points of the range (bucketed into the heat map when shown). */
  points: CostPoint[];
  resources: CostGroup[];
}

type Metric = 'cost' | 'events';

/** Hourly history and the per-resource breakdown of the selected tenant, range and currency (kept for offline viewing). */
function useUtilization() {
  const { tenant, range, currency } = useUiStore();
  const key = tenant ? cacheKey('utilization', { tenant, range, currency }) : null;
  return useCachedQuery<UtilizationData>(key, async () => {
    const resolved = resolveRange(range);
    const vars = { tenant, currency };
    const [history, breakdown] = await Promise.all([
      Promise.all(
        splitRange(resolved).map((r) => gql<{ costHistory: CostPoint[] }>(COST_HISTORY, { ...vars, range: r, granularity: 'HOUR', groupBy: [] })),
      ),
      gql<{ costBreakdown: CostGroup[] }>(COST_BREAKDOWN, { ...vars, range: resolved, groupBy: ['RESOURCE', 'SERVICE', 'PROVIDER'] }),
    ]);
    return { points: history.flatMap((h) => h.costHistory), resources: breakdown.costBreakdown };
  });
}

function Heat({ heat, metric, currency, dark }: { heat: HeatMap; metric: Metric; currency: string; dark: boolean }) {
  const touch = useCoarsePointer();
  const option = useMemo(
    () => ({
      tooltip: {
        position: 'top',
        formatter: (p: { data: [number, number, number] }) => {
          const c = heat.cells[p.data[1] * 24 + p.data[0]];
          return `${WEEKDAYS[c.weekday]} ${HOURS[c.hour]}:00 UTC<br/>${formatMoney(c.amount, currency, true)} · ${c.events} events (${c.buckets} h)`;
        },
      },
      grid: { left: 44, right: 12, top: 10, bottom: 96 },
      xAxis: { type: 'category', data: HOURS, splitArea: { show: true }, name: 'hour (UTC)', nameLocation: 'middle', nameGap: 24 },
      yAxis: { type: 'category', data: WEEKDAYS, inverse: true, splitArea: { show: true } },
      visualMap: {
        min: 0,
        max: (metric === 'cost' ? heat.max : heat.maxEvents) || 1,
        // Dragging the range handles fights page scrolling on a touch screen.
        calculable: !touch,
        orient: 'horizontal',
        left: 'center',
        bottom: 0,
        itemHeight: 160,
        formatter: (v: number) => (metric === 'cost' ? v.toFixed(2) : String(Math.round(v))),
      },
      series: [
        {
          name: metric === 'cost' ? 'Cost' : 'Events',
          type: 'heatmap',
          // Numbers for the colour scale only; the tooltip shows the exact sums.
          data: heat.cells.map((c) => [c.hour, c.weekday, Number(metric === 'cost' ? c.amount : c.events)]),
          emphasis: { itemStyle: { borderColor: '#333', borderWidth: 1 } },
        },
      ],
    }),
    [heat, metric, currency, touch],
  );
  return <EChart name="utilization" testId="utilization-heatmap" option={option} dark={dark} height={340} />;
}

function ResourceTable({ groups }: { groups: CostGroup[] }) {
  const [dir, setDir] = useState<SortDir>('desc');
  const rows = useMemo(() => sortByAmount(groups, dir), [groups, dir]);
  return (
    <div className="table-wrap">
      <table className="resources" data-testid="resource-table">
        <thead>
          <tr>
            <th scope="col">Resource</th>
            <th scope="col">Service</th>
            <th scope="col">Provider</th>
            <th scope="col" className="num" aria-sort={dir === 'desc' ? 'descending' : 'ascending'}>
              <button
                type="button"
                className="link"
                data-testid="sort-amount"
                onClick={() => setDir((d) => (d === 'desc' ? 'asc' : 'desc'))}
              >
                Amount {dir === 'desc' ? '▼' : '▲'}
              </button>
            </th>
            <th scope="col" className="num">
              %
            </th>
            <th scope="col" className="num">
              Events
            </th>
          </tr>
        </thead>
        <tbody>
          {rows.map((g) => (
            <tr key={g.keys.join('\u0000')}>
              <td>{g.keys[0] || '—'}</td>
              <td>{g.keys[1] || '—'}</td>
              <td>{g.keys[2] || '—'}</td>
              <td className="num exact" data-amount={g.amount.amount} title={formatMoney(g.amount.amount, g.amount.currency)}>
                {formatMoney(g.amount.amount, g.amount.currency, true)}
              </td>
              <td className="num muted">{g.percentage ?? '—'}</td>
              <td className="num muted">{String(g.events)}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}

function MetricTabs({ metric, onChange }: { metric: Metric; onChange: (m: Metric) => void }) {
  return (
    <div className="tabs" role="tablist" aria-label="Heat map metric">
      {(['cost', 'events'] as const).map((m) => (
        <button key={m} type="button" role="tab" aria-selected={metric === m} data-testid={`heat-metric-${m}`} onClick={() => onChange(m)}>
          {m === 'cost' ? 'Cost' : 'Usage events'}
        </button>
      ))}
    </div>
  );
}

export function ResourceUtilization() {
  const q = useUtilization();
  const tenant = useUiStore((s) => s.tenant);
  const currency = useUiStore((s) => s.currency);
  const dark = useUiStore((s) => s.theme === 'dark');
  const [metric, setMetric] = useState<Metric>('cost');
  const heat = useMemo(() => (q.data ? bucketByWeekdayHour(q.data.points) : null), [q.data]);

  let heatBody: React.ReactNode;
  let table: React.ReactNode;
  if (q.error && !q.data) heatBody = table = <ErrorState message={q.error} onRetry={q.retry} />;
  else if (!q.data || !heat) heatBody = table = tenant ? <Skeleton height={320} /> : <Empty>Select a tenant.</Empty>;
  else {
    heatBody = heat.total === '0' && heat.cells.every((c) => c.events === '0') ? <Empty>No costs in this period.</Empty> : <Heat heat={heat} metric={metric} currency={currency} dark={dark} />;
    table = q.data.resources.length ? <ResourceTable groups={q.data.resources} /> : <Empty>No resources in this period.</Empty>;
  }

  return (
    <div className="grid" data-testid="utilization-view">
      {(q.staleAt !== null || (q.error && q.data)) && (
        <div className="wide">
          {q.staleAt !== null ? <StaleNote at={q.staleAt} onRetry={q.retry} /> : <ErrorState message={q.error ?? ''} onRetry={q.retry} />}
        </div>
      )}
      <Section id="utilization-heatmap" title="Usage by hour of day × weekday (UTC)" wide>
        <div className="toolbar">
          <MetricTabs metric={metric} onChange={setMetric} />
          <span className="muted small">summed over the hourly buckets of the range</span>
        </div>
        {heatBody}
      </Section>
      <Section id="utilization-resources" title="Cost per resource" wide>
        {table}
      </Section>
    </div>
  );
}
