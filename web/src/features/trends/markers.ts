import type { Anomaly, AnomalyKind, AnomalySeverity } from '../../shared/api/types';
import { formatMoney } from '../../shared/lib/decimal';

export const SEVERITY_COLORS: Record<AnomalySeverity, string> = { INFO: '#3b82f6', WARNING: '#f59e0b', CRITICAL: '#ef4444' };
const KIND: Record<AnomalyKind, string> = { SPIKE: 'Spike', LEVEL_SHIFT: 'Level shift', TREND_CHANGE: 'Trend change', UNUSUAL_PATTERN: 'Unusual pattern' };
/** Pins of the same day stack upwards by this many pixels. */
const STEP = 26;

export interface AnomalyMark {
  name: string;
  coord: [string, number];
  symbolOffset: [number, number];
  itemStyle: { color: string };
  /** The tooltip's text (HTML, escaped). */
  tip: string;
}

const esc = (s: string) => s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

/** "resource=r-spiky" → "r-spiky"; labels stay as they are. */
export function causeName(key: string): string {
  return key.startsWith('resource=') ? key.slice('resource='.length) : key;
}

export function anomalyTip(a: Anomaly): string {
  const top = a.rootCause[0];
  const cause = top ? `${causeName(top.key)}${top.sharePercent !== null ? ` (${top.sharePercent} %)` : ''}` : 'unknown';
  return [
    `<b>${KIND[a.kind] ?? a.kind}</b> · ${a.severity.toLowerCase()} · ${esc(a.series)}`,
    `${esc(a.windowStart.slice(0, 16).replace('T', ' '))} UTC`,
    `expected ${formatMoney(a.expected.amount, a.expected.currency)} → actual ${formatMoney(a.actual.amount, a.actual.currency)}`,
    `top cause: ${esc(cause)}`,
  ].join('<br/>');
}

/**
 * One pin per anomaly at its window's UTC day, on top of that day's total (`totals`, aligned to
 * `days`); anomalies outside the days are left out. Same-day pins stack, the most severe lowest.
 */
export function anomalyMarks(anomalies: Anomaly[], days: string[], totals: number[]): AnomalyMark[] {
  const rank: Record<AnomalySeverity, number> = { CRITICAL: 0, WARNING: 1, INFO: 2 };
  const sorted = [...anomalies].sort((a, b) => rank[a.severity] - rank[b.severity] || a.windowStart.localeCompare(b.windowStart) || a.id.localeCompare(b.id));
  const perDay = new Map<string, number>();
  const out: AnomalyMark[] = [];
  for (const a of sorted) {
    const t = Date.parse(a.windowStart);
    if (Number.isNaN(t)) continue;
    const day = new Date(t).toISOString().slice(0, 10);
    const i = days.indexOf(day);
    if (i < 0) continue;
    const k = perDay.get(day) ?? 0;
    perDay.set(day, k + 1);
    out.push({
      name: a.id,
      coord: [day, totals[i] ?? 0],
      symbolOffset: [0, k ? -STEP * k : 0],
      itemStyle: { color: SEVERITY_COLORS[a.severity] },
      tip: anomalyTip(a),
    });
  }
  return out;
}

/** The carrier series of the pins (no line of its own; its legend entry toggles them). */
export function anomalySeries(marks: AnomalyMark[]): Record<string, unknown> {
  return {
    id: 'anomalies',
    name: 'Anomalies',
    type: 'line',
    data: [],
    color: SEVERITY_COLORS.CRITICAL,
    markPoint: {
      symbol: 'pin',
      symbolSize: 34,
      label: { formatter: '!', fontWeight: 'bold' },
      tooltip: { trigger: 'item', formatter: (p: { data?: { tip?: string } }) => p.data?.tip ?? '' },
      data: marks,
    },
  };
}

export function trendSummary(marks: number, forecastDays: number | null): string {
  const a = `${marks} ${marks === 1 ? 'anomaly' : 'anomalies'} marked`;
  return forecastDays === null ? `${a}; no forecast` : `${a}; forecast ${forecastDays} days`;
}
