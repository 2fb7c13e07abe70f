import { useMemo, useState } from 'react';
import { EChart } from '../../shared/components/EChart';
import { Empty, ErrorState, Skeleton, StaleNote } from '../../shared/components/States';
import { downloadCsv } from '../../shared/lib/csv';
import { useSwipe } from '../../shared/hooks/useSwipe';
import { formatMoney } from '../../shared/lib/decimal';
import { canDrill, drillQuery, extendDrill } from '../../shared/lib/drill';
import { neighbour } from '../../shared/lib/swipe';
import { useCostStore } from '../../shared/store/costStore';
import { useUiStore } from '../../shared/store/uiStore';
import { breakdownCsv } from './csvExport';
import { BreakdownSankey, BreakdownTreemap } from './FlowCharts';

export type BreakdownMode = 'donut' | 'treemap' | 'sankey';
const MODES: { mode: BreakdownMode; label: string }[] = [
  { mode: 'donut', label: 'Donut' },
  { mode: 'treemap', label: 'Treemap' },
  { mode: 'sankey', label: 'Sankey' },
];

function ModeTabs({ mode, onChange }: { mode: BreakdownMode; onChange: (m: BreakdownMode) => void }) {
  return (
    <div className="tabs" role="tablist" aria-label="Breakdown chart">
      {MODES.map((m) => (
        <button
          key={m.mode}
          type="button"
          role="tab"
          aria-selected={mode === m.mode}
          data-testid={`breakdown-mode-${m.mode}`}
          onClick={() => onChange(m.mode)}
        >
          {m.label}
        </button>
      ))}
    </div>
  );
}

function Breadcrumb() {
  const drill = useUiStore((s) => s.drill);
  const drillTo = useUiStore((s) => s.drillTo);
  return (
    <nav className="breadcrumb" aria-label="Breakdown path" data-testid="breadcrumb">
      <button type="button" className="link" onClick={() => drillTo(0)} disabled={!drill.length}>
        All categories
      </button>
      {drill.map((step, i) => (
        <span key={i}>
          {' › '}
          <button type="button" className="link" onClick={() => drillTo(i + 1)} disabled={i === drill.length - 1}>
            {step}
          </button>
        </span>
      ))}
    </nav>
  );
}

/**
 * Swiping the breakdown sideways (or the ‹ › buttons) moves to the previous or next category,
 * in the overview's order (largest first); the drill filter follows to the new category.
 */
function CategoryPager({ categories }: { categories: string[] }) {
  const drill = useUiStore((s) => s.drill);
  const setDrill = useUiStore((s) => s.setDrill);
  if (!drill.length || categories.length < 2) return null;
  const prev = neighbour(categories, drill[0], 'right');
  const next = neighbour(categories, drill[0], 'left');
  return (
    <div className="pager" role="group" aria-label="Switch category">
      <button type="button" disabled={!prev} onClick={() => prev && setDrill([prev])} data-testid="category-prev" aria-label={`Previous category${prev ? `: ${prev}` : ''}`}>
        ‹ {prev ?? ''}
      </button>
      <span className="muted small">swipe to switch category</span>
      <button type="button" disabled={!next} onClick={() => next && setDrill([next])} data-testid="category-next" aria-label={`Next category${next ? `: ${next}` : ''}`}>
        {next ?? ''} ›
      </button>
    </div>
  );
}

/** Categories in the overview's order; before the summary arrives, the top-level breakdown's. */
function useCategoryOrder(): string[] {
  const summary = useCostStore((s) => s.currentCosts);
  const groups = useCostStore((s) => s.resources);
  const drill = useUiStore((s) => s.drill);
  return useMemo(() => {
    if (summary?.categories.length) return summary.categories.map((c) => c.category);
    return drill.length ? [] : groups.map((g) => g.keys[0]);
  }, [summary, groups, drill.length]);
}

export function CostBreakdown({ onRetry }: { onRetry: () => void }) {
  const [mode, setMode] = useState<BreakdownMode>('donut');
  const categories = useCategoryOrder();
  const drill = useUiStore((s) => s.drill);
  const setDrill = useUiStore((s) => s.setDrill);
  const swipe = useSwipe((dir) => {
    const to = neighbour(categories, drill[0], dir);
    if (to) setDrill([to]);
  });
  return (
    <div className="breakdown" data-testid="breakdown" {...swipe}>
      <div className="toolbar">
        <ModeTabs mode={mode} onChange={setMode} />
        <Breadcrumb />
      </div>
      <CategoryPager categories={categories} />
      {mode === 'treemap' ? <BreakdownTreemap /> : mode === 'sankey' ? <BreakdownSankey /> : <DonutBreakdown onRetry={onRetry} />}
    </div>
  );
}

function DonutBreakdown({ onRetry }: { onRetry: () => void }) {
  const groups = useCostStore((s) => s.resources);
  const loading = useCostStore((s) => s.loading.breakdown);
  const error = useCostStore((s) => s.error.breakdown);
  const loaded = useCostStore((s) => s.lastUpdated !== null);
  const stale = useCostStore((s) => s.stale.breakdown);
  const { drill, setDrill, theme, tenant } = useUiStore();
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
        onClick={(p) => {
          const next = extendDrill(drill, [p.name]);
          if (next.length > drill.length) setDrill(next);
        }}
      />
    );

  return (
    <>
      <div className="toolbar">
        <span className="muted small">by {label.toLowerCase()}{canDrill(drill) ? ' — click a slice to drill down' : ''}</span>
        <button type="button" onClick={exportCsv} disabled={!groups.length} data-testid="export-csv">
          Export CSV
        </button>
      </div>
      {stale !== null && !error && <StaleNote at={stale} onRetry={onRetry} />}
      {body}
    </>
  );
}
