import type { CostPoint } from '../../shared/api/types';
import { dayBuckets, type TimeRange } from '../../shared/lib/range';
import { movingAverage } from '../../shared/lib/movingAverage';

export interface TrendSeries {
  days: string[];
  groups: { name: string; values: number[] }[];
  totals: number[];
  average: number[];
}

/** Pivots daily points into one zero-filled series per group, plus the 7-day moving average of the daily total. */
export function buildTrendSeries(points: CostPoint[], range: TimeRange): TrendSeries {
  const buckets = dayBuckets(range);
  const index = new Map(buckets.map((t, i) => [t, i]));
  const byGroup = new Map<string, number[]>();
  for (const p of points) {
    const i = index.get(Date.parse(p.bucket));
    if (i === undefined) continue;
    const key = p.keys[0] ?? 'total';
    if (!byGroup.has(key)) byGroup.set(key, new Array(buckets.length).fill(0));
    byGroup.get(key)![i] += Number(p.amount.amount); // chart geometry only
  }
  const totals = buckets.map((_, i) => [...byGroup.values()].reduce((s, v) => s + v[i], 0));
  return {
    days: buckets.map((t) => new Date(t).toISOString().slice(0, 10)),
    groups: [...byGroup.entries()].map(([name, values]) => ({ name, values })),
    totals,
    average: movingAverage(totals, 7),
  };
}
