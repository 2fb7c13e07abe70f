import type { CostGroup, CostPoint } from '../../shared/api/types';
import { compareDecimals, sumDecimals } from '../../shared/lib/decimal';
import type { TimeRange } from '../../shared/lib/range';

/** Rows of the heat map, Monday first (ISO weekday order). */
export const WEEKDAYS = ['Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat', 'Sun'];
export const HOURS = Array.from({ length: 24 }, (_, h) => String(h).padStart(2, '0'));

export interface HeatCell {
  /** 0 = Monday … 6 = Sunday (UTC). */
  weekday: number;
  /** 0–23 (UTC). */
  hour: number;
  /** Exact decimal sum of every bucket falling on this weekday and hour. */
  amount: string;
  /** Usage events of those buckets (exact: summed as integers, not floats). */
  events: string;
  /** How many hourly buckets contributed. */
  buckets: number;
}

export interface HeatMap {
  /** 168 cells, weekday-major: index = weekday * 24 + hour. */
  cells: HeatCell[];
  /** Largest cell amount, as a number for the colour scale. */
  max: number;
  /** Largest cell event count, for the colour scale of the usage view. */
  maxEvents: number;
  /** Exact sum of every cell. */
  total: string;
}

/** Sums hourly cost points into a UTC weekday × hour-of-day grid, exactly. */
export function bucketByWeekdayHour(points: CostPoint[]): HeatMap {
  const amounts: string[][] = Array.from({ length: 168 }, () => []);
  const events: string[][] = Array.from({ length: 168 }, () => []);
  for (const p of points) {
    const t = new Date(p.bucket);
    if (Number.isNaN(t.getTime())) continue;
    const i = ((t.getUTCDay() + 6) % 7) * 24 + t.getUTCHours();
    amounts[i].push(p.amount.amount);
    events[i].push(String(p.events ?? 0));
  }
  const cells = amounts.map((a, i) => ({
    weekday: Math.floor(i / 24),
    hour: i % 24,
    amount: sumDecimals(a),
    events: sumDecimals(events[i]),
    buckets: a.length,
  }));
  return {
    cells,
    max: cells.reduce((m, c) => Math.max(m, Number(c.amount)), 0),
    maxEvents: cells.reduce((m, c) => Math.max(m, Number(c.events)), 0),
    total: sumDecimals(cells.map((c) => c.amount)),
  };
}

/** The API answers at most 10080 buckets per query; longer hourly ranges are asked for in pieces. */
export const MAX_HOURS_PER_QUERY = 10_000;

const HOUR = 3_600_000;

/**
 * Splits a range into consecutive pieces of at most `maxHours` hourly buckets. The API answers
 * whole buckets from the one holding `from`, so the pieces meet on hour boundaries: a boundary
 * inside an hour would put that hour's bucket in both pieces and count it twice.
 */
export function splitRange(range: TimeRange, maxHours = MAX_HOURS_PER_QUERY): TimeRange[] {
  const from = Date.parse(range.from);
  const end = Date.parse(range.to);
  const out: TimeRange[] = [];
  let start = from;
  let boundary = Math.floor(from / HOUR) * HOUR + maxHours * HOUR;
  while (start < end) {
    const stop = Math.min(boundary, end);
    out.push({ from: new Date(start).toISOString(), to: new Date(stop).toISOString() });
    start = stop;
    boundary += maxHours * HOUR;
  }
  return out;
}

export type SortDir = 'desc' | 'asc';

/** Groups ordered by exact amount; ties keep the first key's alphabetical order. */
export function sortByAmount(groups: CostGroup[], dir: SortDir): CostGroup[] {
  const sign = dir === 'desc' ? -1 : 1;
  return [...groups].sort(
    (a, b) => sign * compareDecimals(a.amount.amount, b.amount.amount) || (a.keys[0] ?? '').localeCompare(b.keys[0] ?? ''),
  );
}
