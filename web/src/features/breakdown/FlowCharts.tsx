import { useMemo, useState } from 'react';
import { gql } from '../../shared/api/graphql';
import { COST_BREAKDOWN } from '../../shared/api/queries';
import type { CostGroup, Dimension } from '../../shared/api/types';
import { cacheKey } from '../../shared/cache/offlineCache';
import { EChart, type ChartClick } from '../../shared/components/EChart';
import { Empty, ErrorState, Skeleton, StaleNote } from '../../shared/components/States';
import { useCachedQuery } from '../../shared/hooks/useCachedQuery';
import { formatMoney } from '../../shared/lib/decimal';
import { drillFilter, extendDrill, levelsBelow } from '../../shared/lib/drill';
import { resolveRange } from '../../shared/lib/range';
import { useUiStore } from '../../shared/store/uiStore';
import { buildSankey, buildTree, sankeyDrill } from './hierarchy';

/**
 * costBreakdown by `groupBy` under the current drill filter, refetched on live updates and kept
 * for offline viewing.
 */
function useGroups(chart: string, groupBy: Dimension[]) {
  const { tenant, range, currency, drill } = useUiStore();
  const key = tenant ? cacheKey(chart, { tenant, range, currency, drill }, groupBy) : null;
  return useCachedQuery<CostGroup[]>(key, async () => {
    const d = await gql<{ costBreakdown: CostGroup[] }>(COST_BREAKDOWN, {
      tenant,
      currency,
      range: resolveRange(range),
      groupBy,
      filter: drillFilter(drill),
    });
    return d.costBreakdown;
  });
}

/** Error, loading and empty states shared by both charts; null when there is something to draw. */
function frame(q: ReturnType<typeof useGroups>): React.ReactNode | null {
  if (q.error && !q.data) return <ErrorState message={q.error} onRetry={q.retry} />;
  if (!q.data) return <Skeleton height={320} />;
  if (!q.data.length) return <Empty>No costs to break down.</Empty>;
  return null;
}

function Notes({ q }: { q: ReturnType<typeof useGroups> }) {
  if (q.staleAt !== null) return <StaleNote at={q.staleAt} onRetry={q.retry} />;
  if (q.error && q.data) return <ErrorState message={q.error} onRetry={q.retry} />;
  return null;
}

/** The hierarchy below the drill path (down to resources) as nested rectangles; a click drills there. */
export function BreakdownTreemap() {
  const drill = useUiStore((s) => s.drill);
  const setDrill = useUiStore((s) => s.setDrill);
  const dark = useUiStore((s) => s.theme === 'dark');
  const currency = useUiStore((s) => s.currency);
  const groupBy = useMemo(() => levelsBelow(drill), [drill]);
  const q = useGroups('treemap', groupBy);
  const tree = useMemo(() => buildTree(q.data ?? []), [q.data]);
  const option = useMemo(
    () => ({
      tooltip: {
        formatter: (p: { data: { amount?: string }; treePathInfo: { name: string }[] }) => {
          const path = [...drill, ...p.treePathInfo.slice(1).map((x) => x.name)].join(' › ');
          return `${path}<br/>${p.data.amount ? formatMoney(p.data.amount, currency, true) : ''}`;
        },
      },
      series: [
        {
          name: 'Cost',
          type: 'treemap',
          data: tree,
          roam: false,
          // Clicks drill the whole dashboard (below); the chart itself does not zoom.
          nodeClick: false,
          breadcrumb: { show: false },
          top: 4,
          bottom: 4,
          left: 0,
          right: 0,
          upperLabel: { show: true, height: 20 },
          label: { formatter: '{b}' },
          levels: [
            { itemStyle: { borderWidth: 2, gapWidth: 2 } },
            { itemStyle: { borderWidth: 2, gapWidth: 1 }, upperLabel: { show: true } },
            { colorSaturation: [0.35, 0.6], itemStyle: { gapWidth: 1, borderColorSaturation: 0.6 } },
            { colorSaturation: [0.3, 0.5], itemStyle: { gapWidth: 1, borderColorSaturation: 0.5 } },
          ],
        },
      ],
    }),
    [tree, currency, drill],
  );
  const onClick = (p: ChartClick) => {
    const below = (p.treePathInfo ?? []).slice(1).map((x) => x.name);
    const next = extendDrill(drill, below);
    if (next.length > drill.length) setDrill(next);
  };
  return (
    <>
      <Notes q={q} />
      {frame(q) ?? <EChart name="treemap" testId="treemap-chart" option={option} dark={dark} onClick={onClick} height={360} />}
    </>
  );
}

const SANKEY_BY: Dimension[] = ['CATEGORY', 'SUB_KIND', 'SERVICE'];

/** Cost flow from the tenant through its categories to services, under the drill filter; a click drills there. */
export function BreakdownSankey() {
  const q = useGroups('sankey', SANKEY_BY);
  const dark = useUiStore((s) => s.theme === 'dark');
  const currency = useUiStore((s) => s.currency);
  const tenant = useUiStore((s) => s.tenant) ?? '';
  const setDrill = useUiStore((s) => s.setDrill);
  const [ambiguous, setAmbiguous] = useState<string | null>(null);
  const sankey = useMemo(() => buildSankey(tenant, q.data ?? []), [tenant, q.data]);
  const option = useMemo(() => {
    const labels = new Map(sankey.nodes.map((n) => [n.name, n.label]));
    return {
      tooltip: {
        trigger: 'item',
        formatter: (p: { dataType: string; name: string; data: { source?: string; target?: string; amount?: string } }) =>
          p.dataType === 'edge'
            ? `${labels.get(p.data.source ?? '')} → ${labels.get(p.data.target ?? '')}<br/>${formatMoney(p.data.amount ?? '0', currency, true)}`
            : `${labels.get(p.name)}`,
      },
      series: [
        {
          type: 'sankey',
          data: sankey.nodes.map((n) => ({ name: n.name, depth: n.depth })),
          links: sankey.links,
          nodeAlign: 'left',
          left: 8,
          right: 110,
          top: 10,
          bottom: 10,
          emphasis: { focus: 'adjacency' },
          lineStyle: { color: 'gradient', curveness: 0.5, opacity: 0.35 },
          label: { formatter: (p: { name: string }) => labels.get(p.name) ?? p.name },
        },
      ],
    };
  }, [sankey, currency]);
  const onClick = (p: ChartClick) => {
    const next = sankeyDrill(sankey, p);
    setAmbiguous(next === null ? p.name.slice(2) : null);
    if (next !== null) setDrill(next);
  };
  return (
    <>
      <Notes q={q} />
      {frame(q) ?? (
        <div>
          <EChart name="sankey" testId="sankey-chart" option={option} dark={dark} onClick={onClick} height={360} />
          {ambiguous && (
            <p className="muted small" role="status">
              {ambiguous} is reached from several categories: click one of its flows to drill down.
            </p>
          )}
          <p className="muted small" data-testid="sankey-total" data-amount={sankey.total}>
            {tenant}: {formatMoney(sankey.total, currency, true)} in {sankey.links.length} flows
          </p>
        </div>
      )}
    </>
  );
}
