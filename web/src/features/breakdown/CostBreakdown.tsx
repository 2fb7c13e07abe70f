import { useMemo } from 'react';
import { EChart } from '../../shared/components/EChart';
import { Empty, ErrorState, Skeleton } from '../../shared/components/States';
import { downloadCsv } from '../../shared/lib/csv';
import { formatMoney } from '../../shared/lib/decimal';
import { useCostStore } from '../../shared/store/costStore';
import { useUiStore } from '../../shared/store/uiStore';
import { breakdownCsv } from './csvExport';
import { canDrill, drillQuery } from './drill';

function Breadcrumb() {
  const drill = useUiStore((s) => s.drill);
  const drillTo = useUiStore((s) => s.drillTo);
  return (
    <nav className="breadcrumb" aria-label="Breakdown path" data-testid="breadcrumb">
      <button type="button" className="link" onClick={() => drillTo(0)} disabled={!drill.length}>
        All categories
      </button>
      {drill.map((step, i) => (
        <span key={step}>
          {' › '}
          <button type="button" className="link" onClick={() => drillTo(i + 1)} disabled={i === drill.length - 1}>
            {step}
          </button>
        </span>
      ))}
    </nav>
  );
}

export function CostBreakdown({ onRetry }: { onRetry: () => void }) {
  const groups = useCostStore((s) => s.resources);
  const loading = useCostStore((s) => s.loading.breakdown);
  const error = useCostStore((s) => s.error.breakdown);
  const loaded = useCostStore((s) => s.lastUpdated !== null);
  const { drill, drillInto, theme, tenant } = useUiStore();
  const { label } = drillQuery(drill);

  const option = useMemo(
    () => ({
      tooltip: {
        trigger: 'item',
        formatter: (p: { dataIndex: number }) => {
          const g = groups[p.dataIndex];
          return g ? `${g.keys[0]}<br/>${formatMoney(g.amount.amount, g.amount.currency)} (${g.percentage ?? '—'}%)` : '';
        },
      },
      legend: { type: 'scroll', bottom: 0 },
      series: [
        {
          name: label,
          type: 'pie',
          radius: ['35%', '70%'],
          center: ['50%', '45%'],
          data: groups.map((g) => ({ name: g.keys[0], value: Number(g.amount.amount) })),
          label: { formatter: '{b}: {d}%' },
        },
      ],
    }),
    [groups, label],
  );

  const exportCsv = () => downloadCsv(`costwatch-${tenant}-${[...drill, label].join('-').toLowerCase()}.csv`, breakdownCsv(drill, groups));

  let body: React.ReactNode;
  if (error) body = <ErrorState message={error} onRetry={onRetry} />;
  else if (loading && !loaded) body = <Skeleton height={320} />;
  else if (!groups.length) body = <Empty>No costs to break down.</Empty>;
  else
    body = (
      <EChart
        name="breakdown"
        testId="breakdown-chart"
        option={option}
        dark={theme === 'dark'}
        onClick={(p) => canDrill(drill) && drillInto(p.name)}
      />
    );

  return (
    <div className="breakdown">
      <div className="toolbar">
        <Breadcrumb />
        <span className="muted small">by {label.toLowerCase()}{canDrill(drill) ? ' — click a slice to drill down' : ''}</span>
        <button type="button" onClick={exportCsv} disabled={!groups.length} data-testid="export-csv">
          Export CSV
        </button>
      </div>
      {body}
    </div>
  );
}
